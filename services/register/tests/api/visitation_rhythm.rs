//! The visitation's rhythm and report in the register: a basispraktijkregister practice visited
//! positively in the year before is registered without a visitation (002), and the report's
//! SHA-256 carried by an outcome is the evidence that the report is uploaded (001 §1.2g).

use praktijkregister_domain::ClientRole;
use serde_json::{json, Value};

use crate::cycle::{
    assess, at, practice_with_therapist, registration, submit, visitation_event, PDF,
};
use crate::helpers::{expect_problem, problem_fields, spawn_app_at, TestApp};
use praktijkregister_platform::clock::ManualClock;

/// Sets the practice's tier through the API.
async fn set_tier(app: &TestApp, agb: &str, tier: &str) {
    let token = app.registrar_token().await;
    let current = app
        .http
        .get(app.url(&format!("/v1/practices/{agb}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let etag = current.headers()["etag"].to_str().unwrap().to_string();
    let updated = app
        .http
        .patch(app.url(&format!("/v1/practices/{agb}")))
        .bearer_auth(&token)
        .header("If-Match", etag)
        .json(&json!({"tier": tier}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
}

/// The practice's plan of `year` submitted on 1 May and approved; the registration as it then is.
async fn approve_plan(app: &TestApp, clock: &ManualClock, agb: &str, year: u16) -> Value {
    clock.set(at(&format!("{year}-05-01T10:00:00Z")));
    let registrar = app.registrar_token().await;
    let plan: Value = submit(app, &registrar, agb, year, PDF)
        .await
        .json()
        .await
        .unwrap();
    let assessed = assess(app, plan["id"].as_str().unwrap(), "approved", None).await;
    assert_eq!(assessed.status(), 200);
    registration(app, agb, year).await
}

/// A positive visitation of `year` on 14 September, with the report's SHA-256 if given.
async fn visited_positively(
    app: &TestApp,
    clock: &ManualClock,
    agb: &str,
    year: u16,
    report_sha256: Option<&str>,
) -> Value {
    clock.set(at(&format!("{year}-09-14T15:00:00Z")));
    let service = app.token_for(ClientRole::Service, "").await;
    let mut outcome = json!({"event_id": uuid::Uuid::new_v4(), "kind": "visitation_outcome",
        "practice_agb": agb, "cycle_year": year, "visitation_date": format!("{year}-09-14"),
        "outcome": "positive"});
    if let Some(hash) = report_sha256 {
        outcome["report_sha256"] = json!(hash);
    }
    let response = visitation_event(app, &service, outcome).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn events(registration: &Value) -> Vec<&str> {
    registration["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event"].as_str().unwrap())
        .collect()
}

// 002: the basispraktijkregister is visited every two years; the praktijkregister every year.
#[tokio::test]
async fn a_basis_practice_visited_last_year_is_registered_without_a_visitation() {
    let (app, clock) = spawn_app_at(at("2025-05-01T10:00:00Z")).await;
    practice_with_therapist(&app, "07000001", "07100001", "kwaliteitsgeregistreerd").await;
    practice_with_therapist(&app, "07000002", "07100002", "kwaliteitsgeregistreerd").await;
    set_tier(&app, "07000001", "basispraktijkregister").await;

    // 2025: both visited positively and registered.
    for agb in ["07000001", "07000002"] {
        assert_eq!(
            approve_plan(&app, &clock, agb, 2025).await["state"],
            "plan_approved"
        );
        assert_eq!(
            visited_positively(&app, &clock, agb, 2025, None).await["state"],
            "registered"
        );
    }

    // 2026: the basis practice is registered on approval, its visitation of 2025 counting; the
    // praktijkregister practice waits for its yearly visitation.
    let basis = approve_plan(&app, &clock, "07000001", 2026).await;
    assert_eq!(basis["state"], "registered", "{basis}");
    assert_eq!(
        events(&basis),
        [
            "applied",
            "plan_submitted",
            "plan_approved",
            "visitation_not_due"
        ]
    );
    let last = basis["history"].as_array().unwrap().last().unwrap();
    assert!(
        last["reason"].as_str().unwrap().contains("2025-09-14"),
        "{last}"
    );
    assert!(basis["visited_on"].is_null());
    assert!(basis["registered_at"].is_string());
    let yearly = approve_plan(&app, &clock, "07000002", 2026).await;
    assert_eq!(yearly["state"], "plan_approved");

    // 2027: the basis practice's last positive visitation is two years back: it is due again.
    let due_again = approve_plan(&app, &clock, "07000001", 2027).await;
    assert_eq!(due_again["state"], "plan_approved", "{due_again}");
    assert_eq!(
        visited_positively(&app, &clock, "07000001", 2027, None).await["state"],
        "registered"
    );
}

// 002 with 000, 001: without a visitation the KP requirement still holds.
#[tokio::test]
async fn a_basis_practice_not_due_waits_for_kp_like_after_a_visitation() {
    let (app, clock) = spawn_app_at(at("2025-05-01T10:00:00Z")).await;
    practice_with_therapist(&app, "07000001", "07100001", "kwaliteitsgeregistreerd").await;
    set_tier(&app, "07000001", "basispraktijkregister").await;
    approve_plan(&app, &clock, "07000001", 2025).await;
    visited_positively(&app, &clock, "07000001", 2025, None).await;

    // A second therapist without KP registration joins before the next year.
    let registrar = app.registrar_token().await;
    let created = app
        .http
        .post(app.url("/v1/therapists"))
        .bearer_auth(&registrar)
        .json(&json!({"agb": "07100002", "name": "B. de Boer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let member = app
        .http
        .put(app.url("/v1/practices/07000001/therapists/07100002"))
        .bearer_auth(&registrar)
        .json(&json!({"start_date": "2026-01-01"}))
        .send()
        .await
        .unwrap();
    assert!(member.status().is_success());

    let waiting = approve_plan(&app, &clock, "07000001", 2026).await;
    assert_eq!(waiting["state"], "awaiting_kp", "{waiting}");
    assert_eq!(waiting["lacking_kp"], json!(["07100002"]));
}

fn criterion<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
}

fn evidence_flag(criterion: &Value, name: &str) -> Value {
    criterion["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["name"] == name)
        .map(|item| item["value"]["value"].clone())
        .unwrap_or(Value::Null)
}

async fn plus_visitation(app: &TestApp, agb: &str, year: u16) -> Value {
    let practice = app.token_for(ClientRole::Practice, agb).await;
    let report: Value = app
        .http
        .get(app.url(&format!(
            "/v1/practices/{agb}/compliance/{year}?criteria=plus"
        )))
        .bearer_auth(&practice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    criterion(&report, "plus.visitation").clone()
}

// 001 §1.2b, g: a positive visitation in Y with its report uploaded.
#[tokio::test]
async fn the_report_of_a_positive_outcome_meets_the_visitation_criterion() {
    let (app, clock) = spawn_app_at(at("2025-05-01T10:00:00Z")).await;
    practice_with_therapist(&app, "07000001", "07100001", "kwaliteitsgeregistreerd").await;
    practice_with_therapist(&app, "07000002", "07100002", "kwaliteitsgeregistreerd").await;
    // Registered in 2025, so 2026 needs no entry visitation.
    for agb in ["07000001", "07000002"] {
        approve_plan(&app, &clock, agb, 2025).await;
        visited_positively(&app, &clock, agb, 2025, None).await;
    }
    approve_plan(&app, &clock, "07000001", 2026).await;
    approve_plan(&app, &clock, "07000002", 2026).await;

    // Before any outcome of 2026 the criterion is not met, and the report is not yet judged.
    let before = plus_visitation(&app, "07000001", 2026).await;
    assert_eq!(before["status"], "not_met", "{before}");
    assert_eq!(evidence_flag(&before, "report_uploaded"), Value::Null);

    // An invalid hash, or a hash on a planning event, is refused and moves nothing.
    let service = app.token_for(ClientRole::Service, "").await;
    clock.set(at("2026-09-14T15:00:00Z"));
    for (kind, outcome, hash, code) in [
        (
            "visitation_outcome",
            Some("positive"),
            "not-a-hash",
            "report_sha256_format",
        ),
        (
            "visitation_planned",
            None,
            &*"ab".repeat(32),
            "report_not_allowed",
        ),
    ] {
        let problem = expect_problem(
            visitation_event(
                &app,
                &service,
                json!({"event_id": uuid::Uuid::new_v4(), "kind": kind, "practice_agb": "07000001",
                       "cycle_year": 2026, "visitation_date": "2026-09-14", "outcome": outcome,
                       "report_sha256": hash}),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(problem_fields(&problem), ["report_sha256"]);
        assert_eq!(problem["errors"][0]["code"], code);
    }
    assert_eq!(
        registration(&app, "07000001", 2026).await["state"],
        "plan_approved"
    );

    // With the report's hash the criterion is met; the hash is kept in lower case.
    let hash = "AB".repeat(32);
    visited_positively(&app, &clock, "07000001", 2026, Some(&hash)).await;
    let met = plus_visitation(&app, "07000001", 2026).await;
    assert_eq!(met["status"], "met", "{met}");
    assert_eq!(evidence_flag(&met, "report_uploaded"), json!(true));
    let mut conn = app.db().connect();
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        visitation_report_sha256: Option<String>,
    }
    let stored: Stored = diesel::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT visitation_report_sha256 FROM registrations \
             WHERE practice_agb = '07000001' AND cycle_year = 2026",
        ),
        &mut conn,
    )
    .unwrap();
    assert_eq!(stored.visitation_report_sha256, Some("ab".repeat(32)));

    // A positive outcome without a report: the report is known not to be uploaded.
    visited_positively(&app, &clock, "07000002", 2026, None).await;
    let without = plus_visitation(&app, "07000002", 2026).await;
    assert_eq!(without["status"], "not_met", "{without}");
    assert_eq!(evidence_flag(&without, "report_uploaded"), json!(false));
    assert!(without["reason"]
        .as_str()
        .unwrap()
        .contains("report is not uploaded"));
}
