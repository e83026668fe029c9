//! The demo seed fills an empty register with practices in every state, and the README's
//! walkthrough works on it: a practice submits its plan, the registrar approves it, the visitation
//! service reports a positive outcome, and the practice appears in the public register.

use chrono::{DateTime, Utc};
use praktijkregister_domain::{CalendarDefaults, ClientRole};
use serde_json::{json, Value};

use crate::helpers::{expect_problem, spawn_app_at};

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

#[tokio::test]
async fn the_demo_covers_every_state_and_the_walkthrough_registers_a_practice() {
    // Late November: past the default deadlines, so the demo opens the year's calendar.
    let now: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
    let (app, _clock) = spawn_app_at(now).await;
    let pool = praktijkregister_platform::db::pool(
        app.db().url(),
        2,
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let summary = praktijkregister_register::demo::seed(&pool, now, &CalendarDefaults::standard())
        .await
        .unwrap();
    assert_eq!(summary.practices, 12);
    assert!(summary.calendar_opened.is_some());

    let registrar = app.registrar_token().await;
    let overview: Value = app
        .http
        .get(app.url("/v1/cycles/2026/overview"))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for state in [
        "applied",
        "plan_submitted",
        "plan_approved",
        "plan_rejected",
        "visitation_planned",
        "awaiting_kp",
        "registered",
        "refused",
        "withdrawn",
    ] {
        assert!(
            overview["counts"][state].as_i64().unwrap() >= 1,
            "no demo practice in {state}: {overview}"
        );
    }
    assert_eq!(overview["awaiting_kp"].as_array().unwrap().len(), 1);

    let public = |agb: &'static str| {
        let (http, url) = (
            app.http.clone(),
            app.url(&format!("/v1/public/practices/{agb}")),
        );
        async move { http.get(url).send().await.unwrap() }
    };
    let registered: Value = public("07000101").await.json().await.unwrap();
    assert_eq!(registered["registered_for"], json!([2026, 2025]));
    expect_problem(public("07000111").await, 404).await;

    // Seeding twice is refused.
    assert!(
        praktijkregister_register::demo::seed(&pool, now, &CalendarDefaults::standard())
            .await
            .is_err()
    );

    let credentials = |role: ClientRole| {
        let client = summary.clients.iter().find(|c| c.role == role).unwrap();
        (client.client_id.clone(), client.client_secret.clone())
    };
    let (practice_id, practice_secret) = credentials(ClientRole::Practice);
    let (service_id, service_secret) = credentials(ClientRole::Service);
    let practice = app.token(&practice_id, &practice_secret, None).await;
    let service = app.token(&service_id, &service_secret, None).await;

    let plan: Value =
        app.http
            .post(app.url(
                "/v1/practices/07000111/annual-plans?cycle_year=2026&filename=jaarplan-2026.pdf",
            ))
            .bearer_auth(&practice)
            .header("Content-Type", "application/pdf")
            .body(PDF)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(plan["status"], "awaiting_assessment", "{plan}");
    let approved = app
        .http
        .post(app.url(&format!(
            "/v1/annual-plans/{}/assessment",
            plan["id"].as_str().unwrap()
        )))
        .bearer_auth(&registrar)
        .json(&json!({"decision": "approved", "remarks": "Helder plan."}))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 200);
    let outcome: Value = app
        .http
        .post(app.url("/v1/internal/visitation-outcomes"))
        .bearer_auth(&service)
        .json(&json!({"event_id": uuid::Uuid::new_v4(), "kind": "visitation_outcome", "practice_agb": "07000111",
                      "cycle_year": 2026, "visitation_date": "2026-11-22", "outcome": "positive"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outcome["state"], "registered", "{outcome}");
    let shown: Value = public("07000111").await.json().await.unwrap();
    assert_eq!(shown["name"], "Praktijk In Beweging Delft");
    assert_eq!(shown["registered_for"], json!([2026]));

    let trail: Value = app
        .http
        .get(app.url("/v1/audit-events?subject_type=registration"))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"registration.visitation_event"),
        "{actions:?}"
    );
    let plans: Value = app
        .http
        .get(app.url(&format!(
            "/v1/audit-events?subject_id={}",
            plan["id"].as_str().unwrap()
        )))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = plans["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["annual_plan.assess", "annual_plan.submit"]);
}

async fn get_json(app: &crate::helpers::TestApp, token: &str, path: &str) -> Value {
    let response = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

fn statuses(report: &Value) -> Vec<(String, String)> {
    report["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn status_of<'a>(statuses: &'a [(String, String)], id: &str) -> &'a str {
    &statuses.iter().find(|(c, _)| c == id).unwrap().1
}

/// The demo's practice data gives mixed compliance, a national benchmark, an insurer's list of
/// practices above its ceiling, and an EPD vendor that can deliver a month for the walkthrough
/// practice but not for the practice that did not authorise it.
#[tokio::test]
async fn the_demo_data_gives_mixed_results_and_the_epd_walkthrough_delivers_a_month() {
    let now: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
    let (app, _clock) = spawn_app_at(now).await;
    let pool = praktijkregister_platform::db::pool(
        app.db().url(),
        2,
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let summary = praktijkregister_register::demo::seed(&pool, now, &CalendarDefaults::standard())
        .await
        .unwrap();
    let roles: Vec<ClientRole> = summary.clients.iter().map(|c| c.role).collect();
    assert_eq!(
        roles,
        [
            ClientRole::Practice,
            ClientRole::Service,
            ClientRole::EpdVendor,
            ClientRole::Insurer
        ]
    );
    let credentials = |role: ClientRole| {
        let client = summary.clients.iter().find(|c| c.role == role).unwrap();
        (client.client_id.clone(), client.client_secret.clone())
    };
    let registrar = app.registrar_token().await;

    // (a) Mixed compliance: the Utrecht practice meets most of Plus, the Tilburg one little.
    let good = statuses(
        &get_json(
            &app,
            &registrar,
            "/v1/practices/07000101/compliance/2026?criteria=plus",
        )
        .await,
    );
    let poor = statuses(
        &get_json(
            &app,
            &registrar,
            "/v1/practices/07000107/compliance/2026?criteria=plus",
        )
        .await,
    );
    for id in [
        "basis.kp_registered",
        "basis.prem_measured",
        "plus.treatment_index",
        "plus.registered",
        "plus.intervision.participation",
        "plus.intervision.physical_meetings",
        "plus.intervision.group_size",
        "plus.intervision.adap",
        "plus.ldo_monthly_upload",
        "plus.ldo_fill_rate",
        "plus.prem_offered",
        "plus.prem_scores",
        "plus.iop",
    ] {
        assert_eq!(status_of(&good, id), "met", "07000101 {id}: {good:?}");
    }
    for id in [
        "basis.prem_measured",
        "plus.treatment_index",
        "plus.registered",
        "plus.intervision.physical_meetings",
        "plus.ldo_fill_rate",
        "plus.prem_offered",
        "plus.iop",
    ] {
        assert_eq!(status_of(&poor, id), "not_met", "07000107 {id}: {poor:?}");
    }
    // A lower confidence bound under the ceiling meets it; an online group of one practice fails.
    let groningen = statuses(
        &get_json(
            &app,
            &registrar,
            "/v1/practices/07000104/compliance/2026?criteria=plus",
        )
        .await,
    );
    assert_eq!(status_of(&groningen, "plus.treatment_index"), "met");
    for id in [
        "basis.kp_registered",
        "plus.intervision.physical_meetings",
        "plus.intervision.group_size",
        "plus.intervision.practices",
        "plus.intervision.facilitator",
        "plus.intervision.adap",
        "plus.prem_scores",
    ] {
        assert_eq!(status_of(&groningen, id), "not_met", "07000104 {id}");
    }
    // The LDO fill rate lies above 90%, between 80% and 90% and below 80% across practices.
    let mut fill_rates = Vec::new();
    for agb in ["07000101", "07000104", "07000107"] {
        let benchmark = get_json(
            &app,
            &registrar,
            &format!("/v1/practices/{agb}/benchmark/2026"),
        )
        .await;
        let ldo = &benchmark["figures"][0];
        assert_eq!(ldo["figure"], "ldo_fill_rate");
        // (b) National quartiles over the demo's practices.
        assert!(
            ldo["national"]["count"].as_i64().unwrap() >= 5,
            "{benchmark}"
        );
        assert!(ldo["national"]["p25"].is_number() && ldo["national"]["p75"].is_number());
        fill_rates.push(ldo["practice"].as_f64().unwrap());
    }
    assert!(fill_rates[0] >= 0.9, "{fill_rates:?}");
    assert!((0.8..0.9).contains(&fill_rates[1]), "{fill_rates:?}");
    assert!(fill_rates[2] < 0.8, "{fill_rates:?}");

    // A month of the Amersfoort practice was delivered twice; the second version counts.
    let versions = get_json(
        &app,
        &registrar,
        "/v1/practices/07000102/deliveries?period=2026-01",
    )
    .await;
    let items = versions["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{versions}");
    assert_eq!(items[0]["version"], 2);
    assert_eq!(items[0]["current"], true);
    assert_eq!(items[1]["report"]["totals"]["rows_rejected"], 1);
    assert_eq!(items[0]["report"]["totals"]["rows_rejected"], 0);
    assert_eq!(items[0]["epd_vendor"], "demo-epd");

    // (c) The insurer sees the consenting practices above its ceiling, with and without a plan.
    let (insurer_id, insurer_secret) = credentials(ClientRole::Insurer);
    let insurer = app.token(&insurer_id, &insurer_secret, None).await;
    let above = get_json(
        &app,
        &insurer,
        "/v1/improvement-plans?insurer=3311&year=2025",
    )
    .await;
    let listed: Vec<(&str, bool)> = above["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["practice_agb"].as_str().unwrap(),
                p["has_plan"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [("07000102", true), ("07000105", false)], "{above}");
    let for_insurer = get_json(&app, &insurer, "/v1/practices/07000102/compliance/2026").await;
    assert_eq!(
        status_of(&statuses(&for_insurer), "plus.consent"),
        "met",
        "{for_insurer}"
    );

    // (d) The EPD walkthrough: the vendor delivers October for Delft, one row wrong.
    let (vendor_id, vendor_secret) = credentials(ClientRole::EpdVendor);
    let vendor = app.token(&vendor_id, &vendor_secret, None).await;
    let good_row = json!({
        "therapist_agb": "07201101", "patients": 31, "treatments": 128, "closed_episodes": 8,
        "treatments_in_closed_episodes": 72, "ldo_records_delivered": 31, "ldo_records_complete": 29,
        "prem_eligible": 10, "prem_offered": 7, "ldo_upload_date": "2026-10-27"
    });
    let mut bad_row = json!({
        "therapist_agb": "07201102", "patients": 36, "treatments": 150, "closed_episodes": 9,
        "treatments_in_closed_episodes": 81, "ldo_records_delivered": 30, "ldo_records_complete": 34,
        "prem_eligible": 11, "prem_offered": 8, "ldo_upload_date": "2026-10-27"
    });
    let push = |agb: &'static str, body: Value| {
        let request = app
            .http
            .put(app.url(&format!("/v1/practices/{agb}/deliveries/2026-10")))
            .bearer_auth(&vendor)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let first = push(
        "07000111",
        json!({"rows": [good_row.clone(), bad_row.clone()]}),
    )
    .await;
    assert_eq!(first.status(), 200);
    let report: Value = first.json().await.unwrap();
    assert_eq!(report["version"], 1, "{report}");
    assert_eq!(report["accepted_rows"], json!(["07201101"]));
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{report}");
    assert_eq!(rejected[0]["therapist_agb"], "07201102");
    assert_eq!(rejected[0]["code"], "complete_exceeds_delivered");
    bad_row["ldo_records_complete"] = json!(28);
    let second = push("07000111", json!({"rows": [good_row.clone(), bad_row]})).await;
    assert_eq!(second.status(), 200);
    let report: Value = second.json().await.unwrap();
    assert_eq!(report["version"], 2, "{report}");
    assert_eq!(report["accepted_rows"], json!(["07201101", "07201102"]));
    assert_eq!(report["rejected"], json!([]));
    // Nijmegen-Oost did not authorise the demo EPD.
    let problem = expect_problem(push("07000112", json!({"rows": [good_row]})).await, 403).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("demo-epd"),
        "{problem}"
    );
}
