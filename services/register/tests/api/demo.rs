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
    let pool =
        praktijkregister_platform::db::pool(app.db.url(), 2, std::time::Duration::from_secs(5))
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
