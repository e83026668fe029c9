//! The yearly cycle end to end: calendar, annual plans, assessment, visitation events, KP data
//! and withdrawal moving a practice's registration (DESIGN §3.2; 000, 001).

use chrono::{DateTime, Utc};
use praktijkregister_domain::ClientRole;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, problem_fields, spawn_app_at, TestApp};

pub(crate) const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

pub(crate) fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

pub(crate) async fn submit(
    app: &TestApp,
    token: &str,
    agb: &str,
    year: u16,
    body: &'static [u8],
) -> reqwest::Response {
    app.http
        .post(app.url(&format!(
            "/v1/practices/{agb}/annual-plans?cycle_year={year}&filename=jaarplan.pdf"
        )))
        .bearer_auth(token)
        .header("Content-Type", "application/pdf")
        .body(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn assess(
    app: &TestApp,
    plan_id: &str,
    decision: &str,
    remarks: Option<&str>,
) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/v1/annual-plans/{plan_id}/assessment")))
        .bearer_auth(app.registrar_token().await)
        .json(&json!({"decision": decision, "remarks": remarks}))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn visitation_event(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.http
        .post(app.url("/v1/internal/visitation-outcomes"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn registration(app: &TestApp, agb: &str, year: u16) -> Value {
    app.http
        .get(app.url(&format!("/v1/practices/{agb}/registrations/{year}")))
        .bearer_auth(app.registrar_token().await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A practice with one therapist whose KP registration runs from `kp_from` to `kp_until`.
pub(crate) async fn practice_with_therapist(
    app: &TestApp,
    agb: &str,
    therapist: &str,
    status: &str,
) {
    app.create_practice(agb).await;
    let token = app.registrar_token().await;
    let created = app
        .http
        .post(app.url("/v1/therapists"))
        .bearer_auth(&token)
        .json(&json!({"agb": therapist, "name": "A. Jansen", "kp_number": format!("1{}", &therapist[2..])}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let member = app
        .http
        .put(app.url(&format!("/v1/practices/{agb}/therapists/{therapist}")))
        .bearer_auth(&token)
        .json(&json!({"start_date": "2020-01-01"}))
        .send()
        .await
        .unwrap();
    assert!(member.status().is_success());
    import_kp(app, therapist, status).await;
}

async fn import_kp(app: &TestApp, therapist: &str, status: &str) {
    let csv = format!(
        "kp_number,agb,name,status,valid_from,valid_until\n1{},{therapist},A. Jansen,{status},2022-01-01,2027-12-31\n",
        &therapist[2..]
    );
    let response = app
        .http
        .post(app.url("/v1/kp-imports"))
        .bearer_auth(app.registrar_token().await)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["totals"]["applied"], 1, "{report}");
}

fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db().connect();
    diesel::RunQueryDsl::get_result::<Count>(diesel::sql_query(sql), &mut conn)
        .unwrap()
        .n
}

#[tokio::test]
async fn the_first_plan_must_arrive_before_1_july_amsterdam_time() {
    // 30 June 23:59:59 in Amsterdam (CEST, +2) is 21:59:59 UTC: in time.
    let (app, clock) = spawn_app_at(at("2026-06-30T21:59:59Z")).await;
    app.create_practice("07000001").await;
    app.create_practice("07000002").await;
    let registrar = app.registrar_token().await;
    let response = submit(&app, &registrar, "07000001", 2026, PDF).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());

    // 1 July 00:00 in Amsterdam is 30 June 22:00 UTC: too late, whatever the server's zone.
    clock.set(at("2026-06-30T22:00:00Z"));
    let late = submit(&app, &registrar, "07000002", 2026, PDF).await;
    let problem = expect_problem(late, 422).await;
    assert_eq!(problem["deadline"], "2026-06-30T22:00:00Z");
    assert!(problem["detail"].as_str().unwrap().contains("2026-07-01"));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM annual_plans WHERE practice_agb = '07000002'"
        ),
        0
    );
    // Nothing half-done: no registration was left behind by the refused plan.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM registrations WHERE practice_agb = '07000002'"
        ),
        0
    );
}

#[tokio::test]
async fn a_year_with_an_overridden_deadline_in_winter_time_uses_cet() {
    let (app, clock) = spawn_app_at(at("2027-02-27T22:59:59Z")).await;
    app.create_practice("07000001").await;
    let registrar = app.registrar_token().await;
    let calendar = app
        .http
        .put(app.url("/v1/cycles/2027"))
        .bearer_auth(&registrar)
        .json(&json!({
            "annual_plan_deadline": "2027-02-28", "visitation_deadline": "2027-10-15",
            "entry_visitation_deadline": "2027-11-01", "export_date": "2027-11-01"
        }))
        .send()
        .await
        .unwrap();
    let calendar: Value = calendar.json().await.unwrap();
    assert_eq!(calendar["source"], "override");
    assert_eq!(calendar["annual_plan_deadline_at"], "2027-02-27T23:00:00Z");
    clock.set(at("2027-02-27T23:00:00Z"));
    let late = submit(&app, &registrar, "07000001", 2027, PDF).await;
    let problem = expect_problem(late, 422).await;
    assert_eq!(problem["deadline"], "2027-02-27T23:00:00Z");
    clock.set(at("2027-02-27T22:59:59Z"));
    assert_eq!(
        submit(&app, &registrar, "07000001", 2027, PDF)
            .await
            .status(),
        201
    );

    let unordered = app
        .http
        .put(app.url("/v1/cycles/2027"))
        .bearer_auth(&registrar)
        .json(&json!({
            "annual_plan_deadline": "2027-11-02", "visitation_deadline": "2027-10-15",
            "entry_visitation_deadline": "2027-11-01", "export_date": "2027-11-01"
        }))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(unordered, 422).await;
    assert!(!problem_fields(&problem).is_empty());
}

#[tokio::test]
async fn after_a_rejection_the_practice_may_resubmit_after_1_july_until_the_visitation_deadline() {
    let (app, clock) = spawn_app_at(at("2026-06-01T10:00:00Z")).await;
    app.create_practice("07000001").await;
    let token = app.token_for(ClientRole::Practice, "07000001").await;
    let plan: Value = submit(&app, &token, "07000001", 2026, PDF)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["status"], "awaiting_assessment");

    // A second plan while the first awaits assessment is refused.
    expect_problem(submit(&app, &token, "07000001", 2026, PDF).await, 409).await;

    // Rejecting needs remarks; then the plan is assessed once.
    expect_problem(
        assess(&app, plan["id"].as_str().unwrap(), "rejected", None).await,
        422,
    )
    .await;
    let rejected = assess(
        &app,
        plan["id"].as_str().unwrap(),
        "rejected",
        Some("Goals are missing."),
    )
    .await;
    let rejected: Value = rejected.json().await.unwrap();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["assessment"]["remarks"], "Goals are missing.");
    expect_problem(
        assess(&app, plan["id"].as_str().unwrap(), "approved", None).await,
        409,
    )
    .await;

    clock.set(at("2026-08-01T10:00:00Z"));
    let token = app.token_for(ClientRole::Practice, "07000001").await;
    let second = submit(&app, &token, "07000001", 2026, PDF).await;
    assert_eq!(second.status(), 201);
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["version"], 2);

    let reg = registration(&app, "07000001", 2026).await;
    let states: Vec<&str> = reg["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "applied",
            "plan_submitted",
            "plan_rejected",
            "plan_submitted"
        ]
    );
    assert_eq!(reg["history"][2]["reason"], "Goals are missing.");

    // After the visitation deadline (15 October, Amsterdam) a rejected plan can no longer be resubmitted.
    let rejected = assess(
        &app,
        second["id"].as_str().unwrap(),
        "rejected",
        Some("Still missing."),
    )
    .await;
    assert_eq!(rejected.status(), 200);
    clock.set(at("2026-10-15T22:00:00Z"));
    let token = app.token_for(ClientRole::Practice, "07000001").await;
    let late = submit(&app, &token, "07000001", 2026, PDF).await;
    let problem = expect_problem(late, 422).await;
    assert_eq!(problem["deadline"], "2026-10-15T22:00:00Z");
    clock.set(at("2026-10-15T21:59:59Z"));
    assert_eq!(
        submit(&app, &token, "07000001", 2026, PDF).await.status(),
        201
    );
}

#[tokio::test]
async fn approval_visitation_and_kp_make_a_registration_and_each_step_is_kept() {
    let (app, clock) = spawn_app_at(at("2026-05-01T10:00:00Z")).await;
    practice_with_therapist(&app, "07000001", "07100001", "kwaliteitsgeregistreerd").await;
    let practice = app.token_for(ClientRole::Practice, "07000001").await;
    let service = app.token_for(ClientRole::Service, "").await;
    let plan: Value = submit(&app, &practice, "07000001", 2026, PDF)
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap();

    // A visitation cannot be planned before the plan is approved: 409 with the allowed next states.
    let early = visitation_event(
        &app,
        &service,
        json!({"event_id": uuid::Uuid::new_v4(), "kind": "visitation_planned", "practice_agb": "07000001",
               "cycle_year": 2026, "visitation_date": "2026-09-14"}),
    )
    .await;
    let problem = expect_problem(early, 409).await;
    assert_eq!(problem["current_state"], "plan_submitted");
    assert_eq!(
        problem["allowed_next_states"],
        json!(["plan_approved", "plan_rejected", "withdrawn"])
    );

    assert_eq!(
        assess(&app, plan_id, "approved", Some("Clear goals."))
            .await
            .status(),
        200
    );

    // A date after the visitation deadline is refused.
    let too_late = visitation_event(
        &app,
        &service,
        json!({"event_id": uuid::Uuid::new_v4(), "kind": "visitation_planned", "practice_agb": "07000001",
               "cycle_year": 2026, "visitation_date": "2026-10-16"}),
    )
    .await;
    let problem = expect_problem(too_late, 422).await;
    assert_eq!(problem["visitation_deadline"], "2026-10-15");

    let planned = visitation_event(
        &app,
        &service,
        json!({"event_id": uuid::Uuid::new_v4(), "kind": "visitation_planned", "practice_agb": "07000001",
               "cycle_year": 2026, "visitation_date": "2026-09-14"}),
    )
    .await;
    let planned: Value = planned.json().await.unwrap();
    assert_eq!(planned["state"], "visitation_planned");
    assert_eq!(planned["visitation_date"], "2026-09-14");

    // The visitation took place: its outcome is reported afterwards, never ahead of the day.
    clock.set(at("2026-09-14T15:00:00Z"));
    let outcome_id = uuid::Uuid::new_v4();
    let outcome = json!({"event_id": outcome_id, "kind": "visitation_outcome", "practice_agb": "07000001",
                         "cycle_year": 2026, "visitation_date": "2026-09-14", "outcome": "positive"});
    let first = visitation_event(&app, &service, outcome.clone()).await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["state"], "registered");

    // The same event again changes nothing and answers the same.
    let again = visitation_event(&app, &service, outcome.clone()).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    let reg = registration(&app, "07000001", 2026).await;
    let states: Vec<&str> = reg["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "applied",
            "plan_submitted",
            "plan_approved",
            "visitation_planned",
            "registered"
        ]
    );
    assert!(reg["registered_at"].as_str().is_some());
    assert_eq!(reg["visited_on"], "2026-09-14");
    assert_eq!(reg["history"][2]["actor_client_id"], "test-registrar");

    // The same id with another body is refused.
    let mut changed = outcome;
    changed["outcome"] = json!("negative");
    let problem = expect_problem(visitation_event(&app, &service, changed).await, 422).await;
    assert_eq!(problem["errors"][0]["code"], "event_id_reused");
    assert_eq!(
        registration(&app, "07000001", 2026).await["state"],
        "registered"
    );

    // Every step is in the audit trail.
    let actions = count(
        &app,
        "SELECT count(DISTINCT action) AS n FROM audit_events WHERE action IN \
         ('annual_plan.submit', 'annual_plan.assess', 'registration.visitation_event')",
    );
    assert_eq!(actions, 3);
}

#[tokio::test]
async fn a_positive_visitation_waits_for_kp_and_registers_when_kp_data_arrives() {
    let (app, clock) = spawn_app_at(at("2026-05-01T10:00:00Z")).await;
    practice_with_therapist(&app, "07000001", "07100001", "diplomageregistreerd").await;
    let registrar = app.registrar_token().await;
    let service = app.token_for(ClientRole::Service, "").await;
    let plan: Value = submit(&app, &registrar, "07000001", 2026, PDF)
        .await
        .json()
        .await
        .unwrap();
    assess(&app, plan["id"].as_str().unwrap(), "approved", None).await;
    clock.set(at("2026-09-14T15:00:00Z"));
    for body in [
        json!({"event_id": uuid::Uuid::new_v4(), "kind": "visitation_planned", "practice_agb": "07000001",
               "cycle_year": 2026, "visitation_date": "2026-09-14"}),
        json!({"event_id": uuid::Uuid::new_v4(), "kind": "visitation_outcome", "practice_agb": "07000001",
               "cycle_year": 2026, "visitation_date": "2026-09-14", "outcome": "positive"}),
    ] {
        assert_eq!(visitation_event(&app, &service, body).await.status(), 200);
    }
    let waiting = registration(&app, "07000001", 2026).await;
    assert_eq!(waiting["state"], "awaiting_kp");
    assert_eq!(waiting["lacking_kp"], json!(["07100001"]));

    import_kp(&app, "07100001", "kwaliteitsgeregistreerd").await;
    let registered = registration(&app, "07000001", 2026).await;
    assert_eq!(registered["state"], "registered");
    assert_eq!(registered["lacking_kp"], json!([]));
    let last = registered["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["event"], "kp_requirement_met");
}

#[tokio::test]
async fn a_negative_visitation_refuses_and_withdrawal_is_final() {
    let (app, clock) = spawn_app_at(at("2026-05-01T10:00:00Z")).await;
    app.create_practice("07000001").await;
    app.create_practice("07000002").await;
    let registrar = app.registrar_token().await;
    let service = app.token_for(ClientRole::Service, "").await;
    for agb in ["07000001", "07000002"] {
        let plan: Value = submit(&app, &registrar, agb, 2026, PDF)
            .await
            .json()
            .await
            .unwrap();
        assess(&app, plan["id"].as_str().unwrap(), "approved", None).await;
    }
    clock.set(at("2026-09-02T10:00:00Z"));
    let refused = visitation_event(
        &app,
        &service,
        json!({"event_id": uuid::Uuid::new_v4(), "kind": "visitation_outcome", "practice_agb": "07000001",
               "cycle_year": 2026, "visitation_date": "2026-09-01", "outcome": "negative"}),
    )
    .await;
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["state"], "refused");

    let practice = app.token_for(ClientRole::Practice, "07000002").await;
    let withdraw = |token: String, agb: &'static str, reason: &'static str| {
        let (http, url) = (
            app.http.clone(),
            app.url(&format!(
                "/v1/practices/{agb}/registrations/2026/withdrawal"
            )),
        );
        async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({"reason": reason}))
                .send()
                .await
                .unwrap()
        }
    };
    expect_problem(withdraw(practice.clone(), "07000002", "  ").await, 422).await;
    // A practice cannot withdraw another practice's registration.
    expect_problem(
        withdraw(practice.clone(), "07000001", "Not mine").await,
        404,
    )
    .await;
    let withdrawn: Value = withdraw(practice.clone(), "07000002", "We stop on 1 October.")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(withdrawn["state"], "withdrawn");
    let again = expect_problem(withdraw(practice, "07000002", "Again").await, 409).await;
    assert_eq!(again["allowed_next_states"], json!([]));
    // A withdrawn registration takes no plan.
    expect_problem(submit(&app, &registrar, "07000002", 2026, PDF).await, 409).await;
    let reg = registration(&app, "07000002", 2026).await;
    assert_eq!(
        reg["history"].as_array().unwrap().last().unwrap()["reason"],
        "We stop on 1 October."
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_pdf_or_too_large_is_refused_and_nothing_is_stored() {
    let (app, _clock) = spawn_app_at(at("2026-05-01T10:00:00Z")).await;
    app.create_practice("07000001").await;
    let registrar = app.registrar_token().await;
    let zip = submit(
        &app,
        &registrar,
        "07000001",
        2026,
        b"PK\x03\x04 this is a zip",
    )
    .await;
    let problem = expect_problem(zip, 422).await;
    assert_eq!(problem["errors"][0]["code"], "not_pdf");
    let wrong_type = app
        .http
        .post(app.url("/v1/practices/07000001/annual-plans?cycle_year=2026"))
        .bearer_auth(&registrar)
        .header("Content-Type", "text/plain")
        .body(PDF)
        .send()
        .await
        .unwrap();
    expect_problem(wrong_type, 415).await;
    let no_year = app
        .http
        .post(app.url("/v1/practices/07000001/annual-plans"))
        .bearer_auth(&registrar)
        .header("Content-Type", "application/pdf")
        .body(PDF)
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem_fields(&expect_problem(no_year, 422).await),
        ["cycle_year"]
    );
    let mut big = PDF.to_vec();
    big.resize(20 * 1024 * 1024 + 1, b' ');
    let too_large = app
        .http
        .post(app.url("/v1/practices/07000001/annual-plans?cycle_year=2026"))
        .bearer_auth(&registrar)
        .header("Content-Type", "application/pdf")
        .body(big)
        .send()
        .await
        .unwrap();
    expect_problem(too_large, 413).await;
    assert_eq!(count(&app, "SELECT count(*) AS n FROM annual_plans"), 0);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM annual_plan_documents"),
        0
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM registrations"), 0);
}

#[tokio::test]
async fn plans_are_stored_with_their_hash_and_hidden_from_other_practices() {
    let (app, _clock) = spawn_app_at(at("2026-05-01T10:00:00Z")).await;
    app.create_practice("07000001").await;
    app.create_practice("07000002").await;
    let own = app.token_for(ClientRole::Practice, "07000001").await;
    let other = app.token_for(ClientRole::Practice, "07000002").await;
    let plan: Value = submit(&app, &own, "07000001", 2026, PDF)
        .await
        .json()
        .await
        .unwrap();
    let id = plan["id"].as_str().unwrap();
    assert_eq!(plan["size_bytes"], PDF.len());
    let expected_hash: String = {
        use sha2::Digest;
        sha2::Sha256::digest(PDF)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(plan["sha256"], expected_hash.as_str());

    let document = app
        .http
        .get(app.url(&format!("/v1/annual-plans/{id}/document")))
        .bearer_auth(&own)
        .send()
        .await
        .unwrap();
    assert_eq!(document.headers()["content-type"], "application/pdf");
    assert_eq!(
        document.headers()["etag"],
        format!("\"{expected_hash}\"").as_str()
    );
    assert_eq!(document.bytes().await.unwrap().as_ref(), PDF);

    for path in [
        format!("/v1/annual-plans/{id}"),
        format!("/v1/annual-plans/{id}/document"),
        "/v1/practices/07000001/annual-plans".into(),
    ] {
        let response = app
            .http
            .get(app.url(&path))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap();
        expect_problem(response, 404).await;
    }
    let list: Value = app
        .http
        .get(app.url("/v1/practices/07000001/annual-plans?cycle_year=2026"))
        .bearer_auth(&own)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // A practice client cannot assess.
    let assess_own = app
        .http
        .post(app.url(&format!("/v1/annual-plans/{id}/assessment")))
        .bearer_auth(&own)
        .json(&json!({"decision": "approved"}))
        .send()
        .await
        .unwrap();
    expect_problem(assess_own, 403).await;
}

#[tokio::test]
async fn deadlines_do_not_depend_on_the_servers_time_zone() {
    // The service reads no local time: a far-off TZ changes nothing.
    std::env::set_var("TZ", "Pacific/Kiritimati");
    let (app, _clock) = spawn_app_at(at("2026-06-30T21:59:59Z")).await;
    app.create_practice("07000001").await;
    let registrar = app.registrar_token().await;
    assert_eq!(
        submit(&app, &registrar, "07000001", 2026, PDF)
            .await
            .status(),
        201
    );
    let calendar: Value = app
        .http
        .get(app.url("/v1/cycles/2026"))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(calendar["annual_plan_deadline_at"], "2026-06-30T22:00:00Z");
    assert_eq!(calendar["treatment_index_year"], 2025);
    assert_eq!(calendar["contract_year"], 2027);
}

#[tokio::test]
async fn a_stored_state_the_domain_does_not_know_is_a_500_never_a_silent_default() {
    let (app, _clock) = spawn_app_at(at("2026-03-02T10:00:00Z")).await;
    app.create_practice("07000001").await;
    let registrar = app.registrar_token().await;
    let response = submit(&app, &registrar, "07000001", 2026, PDF).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    assert_eq!(
        registration(&app, "07000001", 2026).await["state"],
        "plan_submitted"
    );

    // A value written behind the service's back (the constraint dropped, as by an older
    // migration or a hand edit) must not be read as some other state.
    let mut conn = app.db().connect();
    for sql in [
        "ALTER TABLE registrations DROP CONSTRAINT registrations_state_check",
        "UPDATE registrations SET state = 'approved_by_hand' WHERE practice_agb = '07000001'",
    ] {
        diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut conn).unwrap();
    }
    let response = app
        .http
        .get(app.url("/v1/practices/07000001/registrations/2026"))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 500).await;
    assert_eq!(
        problem["type"],
        "https://praktijkregister.vvocm.nl/problems/internal-error"
    );
    // The cause is logged, never shown.
    assert!(
        !problem.to_string().contains("approved_by_hand"),
        "{problem}"
    );
}

/// 000, DESIGN §3.2: a visitation follows the approval of the plan and takes place on or before
/// the visitation deadline; an outcome is reported for a day that has come.
#[tokio::test]
async fn visitation_dates_are_held_to_the_approval_the_deadline_and_today() {
    let (app, clock) = spawn_app_at(at("2026-05-01T10:00:00Z")).await;
    practice_with_therapist(&app, "07000001", "07100001", "kwaliteitsgeregistreerd").await;
    let service = app.token_for(ClientRole::Service, "").await;
    let registrar = app.registrar_token().await;
    let plan: Value = submit(&app, &registrar, "07000001", 2026, PDF)
        .await
        .json()
        .await
        .unwrap();
    // Approved on 20 May (Amsterdam).
    clock.set(at("2026-05-20T08:00:00Z"));
    assess(&app, plan["id"].as_str().unwrap(), "approved", None).await;
    let event = |kind: &str, date: &str| {
        let mut body = json!({"event_id": uuid::Uuid::new_v4(), "kind": kind, "practice_agb": "07000001",
                              "cycle_year": 2026, "visitation_date": date});
        if kind == "visitation_outcome" {
            body["outcome"] = json!("positive");
        }
        body
    };

    // The day before the approval is refused, for a plan and for an outcome.
    clock.set(at("2026-10-20T10:00:00Z"));
    for kind in ["visitation_planned", "visitation_outcome"] {
        let early = visitation_event(&app, &service, event(kind, "2026-05-19")).await;
        let problem = expect_problem(early, 422).await;
        assert_eq!(
            problem["plan_approved_on"], "2026-05-20",
            "{kind}: {problem}"
        );
        assert_eq!(problem["code"], "visitation_before_plan_approval");
    }
    // The day after the deadline is refused, and so is a date in the next year.
    for date in ["2026-10-16", "2027-01-10"] {
        let late = visitation_event(&app, &service, event("visitation_outcome", date)).await;
        let problem = expect_problem(late, 422).await;
        assert_eq!(
            problem["visitation_deadline"], "2026-10-15",
            "{date}: {problem}"
        );
    }
    assert_eq!(
        registration(&app, "07000001", 2026).await["state"],
        "plan_approved"
    );

    // An outcome dated after today is refused; a plan for that day is not.
    clock.set(at("2026-06-01T10:00:00Z"));
    let ahead = visitation_event(&app, &service, event("visitation_outcome", "2026-06-02")).await;
    let problem = expect_problem(ahead, 422).await;
    assert_eq!(problem["code"], "visitation_in_future");
    assert_eq!(
        registration(&app, "07000001", 2026).await["state"],
        "plan_approved"
    );

    // The approval day and the deadline day themselves are allowed.
    let planned = visitation_event(&app, &service, event("visitation_planned", "2026-05-20")).await;
    assert_eq!(planned.status(), 200);
    clock.set(at("2026-10-16T10:00:00Z"));
    let took_place =
        visitation_event(&app, &service, event("visitation_outcome", "2026-10-15")).await;
    assert_eq!(
        took_place.status(),
        200,
        "{}",
        took_place.text().await.unwrap()
    );
    assert_eq!(
        registration(&app, "07000001", 2026).await["state"],
        "registered"
    );
}
