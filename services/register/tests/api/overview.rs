//! The registrar's overview of a cycle year: counts per state, the lists that need attention, and
//! the days left until the last visitation date on the service's clock.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Nullable, Text};
use diesel::RunQueryDsl as _;
use praktijkregister_domain::ClientRole;
use serde_json::{json, Value};

use crate::helpers::{
    audit_count, expect_problem, problem_fields, spawn_app, spawn_app_at, TestApp,
};

fn at(instant: &str) -> DateTime<Utc> {
    instant.parse().unwrap()
}

/// Stores an annual plan; `assessment` `None` leaves it unassessed. Returns its id.
fn plan(
    app: &TestApp,
    agb: &str,
    year: &str,
    version: &str,
    submitted_at: &str,
    assessment: Option<&str>,
) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::sql_query(
        "INSERT INTO annual_plans (id, practice_agb, cycle_year, version, size_bytes, sha256, \
         submitted_at, submitted_by, assessment, assessed_at, assessed_by) \
         VALUES ($1::uuid, $2, $3::int, $4::int, 1024, repeat('a', 64), $5::timestamptz, 'practice-client', \
         $6, CASE WHEN $6 IS NULL THEN NULL ELSE $5::timestamptz + interval '7 days' END, \
         CASE WHEN $6 IS NULL THEN NULL ELSE 'test-registrar' END)",
    )
    .bind::<Text, _>(&id)
    .bind::<Text, _>(agb)
    .bind::<Text, _>(year)
    .bind::<Text, _>(version)
    .bind::<Text, _>(submitted_at)
    .bind::<Nullable<Text>, _>(assessment)
    .execute(&mut app.db().connect())
    .unwrap();
    id
}

/// Stores a registration of `agb` for `year` in `state`, with the therapists lacking KP.
fn registration(app: &TestApp, agb: &str, year: &str, state: &str, lacking_kp: &str) {
    diesel::sql_query(
        "INSERT INTO registrations (practice_agb, cycle_year, state, lacking_kp) \
         VALUES ($1, $2::int, $3, $4::text[])",
    )
    .bind::<Text, _>(agb)
    .bind::<Text, _>(year)
    .bind::<Text, _>(state)
    .bind::<Text, _>(lacking_kp)
    .execute(&mut app.db().connect())
    .unwrap();
}

async fn overview(app: &TestApp, token: &str, year: &str) -> Value {
    let response = app
        .http
        .get(app.url(&format!("/v1/cycles/{year}/overview")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn agbs(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["agb"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_overview_counts_each_state_and_lists_who_needs_attention() {
    let (app, clock) = spawn_app_at(at("2026-10-05T10:00:00Z")).await;
    for n in 1..=8 {
        app.create_practice(&format!("0700000{n}")).await;
    }
    // 1: plan submitted, not assessed yet.
    let plan_1 = plan(&app, "07000001", "2026", "1", "2026-06-20T09:00:00Z", None);
    registration(&app, "07000001", "2026", "plan_submitted", "{}");
    // 2: plan approved, no visitation planned.
    plan(
        &app,
        "07000002",
        "2026",
        "1",
        "2026-05-01T09:00:00Z",
        Some("approved"),
    );
    registration(&app, "07000002", "2026", "plan_approved", "{}");
    // 3: positive visitation, two therapists lacking KP.
    plan(
        &app,
        "07000003",
        "2026",
        "1",
        "2026-04-01T09:00:00Z",
        Some("approved"),
    );
    registration(
        &app,
        "07000003",
        "2026",
        "awaiting_kp",
        "{07100002,07100001}",
    );
    // 4: registered.
    plan(
        &app,
        "07000004",
        "2026",
        "1",
        "2026-03-01T09:00:00Z",
        Some("approved"),
    );
    registration(&app, "07000004", "2026", "registered", "{}");
    // 5: rejected, then resubmitted earlier in the year than 1 submitted.
    plan(
        &app,
        "07000005",
        "2026",
        "1",
        "2026-05-20T09:00:00Z",
        Some("rejected"),
    );
    let plan_5 = plan(&app, "07000005", "2026", "2", "2026-06-10T09:00:00Z", None);
    registration(&app, "07000005", "2026", "plan_submitted", "{}");
    // 6: nothing. 7: applied, no plan. 8: only last year.
    registration(&app, "07000007", "2026", "applied", "{}");
    plan(&app, "07000008", "2025", "1", "2025-06-01T09:00:00Z", None);
    registration(&app, "07000008", "2025", "plan_approved", "{}");

    let registrar = app.registrar_token().await;
    let body = overview(&app, &registrar, "2026").await;
    assert_eq!(body["cycle_year"], 2026);
    assert_eq!(body["today"], "2026-10-05");
    assert_eq!(
        body["counts"],
        json!({
            "applied": 1, "plan_submitted": 2, "plan_approved": 1, "plan_rejected": 0,
            "visitation_planned": 0, "awaiting_kp": 1, "registered": 1, "refused": 0, "withdrawn": 0,
            "practices_total": 8, "without_registration": 2
        })
    );
    assert_eq!(
        agbs(&body["without_annual_plan"]),
        ["07000006", "07000007", "07000008"]
    );
    assert_eq!(
        body["without_annual_plan"][0]["name"],
        "Oefentherapie 07000006"
    );

    let awaiting = &body["awaiting_assessment"];
    assert_eq!(agbs(awaiting), ["07000005", "07000001"]);
    assert_eq!(awaiting[0]["annual_plan_id"], plan_5.as_str());
    assert_eq!(awaiting[0]["version"], 2);
    assert_eq!(awaiting[0]["name"], "Oefentherapie 07000005");
    assert_eq!(awaiting[1]["annual_plan_id"], plan_1.as_str());
    assert_eq!(awaiting[1]["version"], 1);
    assert_eq!(
        awaiting[1]["submitted_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        at("2026-06-20T09:00:00Z")
    );

    // 10 days from Monday 5 October to 15 October.
    assert_eq!(
        body["approved_without_visitation"],
        json!([{
            "agb": "07000002", "name": "Oefentherapie 07000002",
            "visitation_deadline": "2026-10-15", "days_left": 10
        }])
    );
    assert_eq!(
        body["awaiting_kp"],
        json!([{
            "agb": "07000003", "name": "Oefentherapie 07000003",
            "lacking_kp": ["07100002", "07100001"]
        }])
    );

    // The deadline day is counted in Amsterdam: 22:30 UTC on the 14th is already the 15th there.
    clock.set(at("2026-10-14T22:30:00Z"));
    let body = overview(&app, &registrar, "2026").await;
    assert_eq!(body["today"], "2026-10-15");
    assert_eq!(body["approved_without_visitation"][0]["days_left"], 0);
    // After the deadline the days left go negative.
    clock.set(at("2026-10-20T10:00:00Z"));
    let body = overview(&app, &registrar, "2026").await;
    assert_eq!(body["approved_without_visitation"][0]["days_left"], -5);

    // The year's own calendar counts.
    let response = app
        .http
        .put(app.url("/v1/cycles/2026"))
        .bearer_auth(&registrar)
        .json(&json!({
            "annual_plan_deadline": "2026-07-01", "visitation_deadline": "2026-10-31",
            "entry_visitation_deadline": "2026-11-01", "export_date": "2026-11-01"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = overview(&app, &registrar, "2026").await;
    assert_eq!(
        body["approved_without_visitation"][0]["visitation_deadline"],
        "2026-10-31"
    );
    assert_eq!(body["approved_without_visitation"][0]["days_left"], 11);

    // Last year is a year of its own.
    let body = overview(&app, &registrar, "2025").await;
    assert_eq!(body["counts"]["plan_approved"], 1);
    assert_eq!(body["counts"]["without_registration"], 7);
    assert_eq!(agbs(&body["approved_without_visitation"]), ["07000008"]);
    assert_eq!(agbs(&body["awaiting_assessment"]), ["07000008"]);
    assert_eq!(body["without_annual_plan"].as_array().unwrap().len(), 7);
    assert_eq!(body["approved_without_visitation"][0]["days_left"], -370);

    assert_eq!(audit_count(&app, "cycle.overview.read"), 5);
}

#[tokio::test]
async fn an_empty_year_has_every_count_at_zero() {
    let app = spawn_app().await;
    let body = overview(&app, &app.registrar_token().await, "2030").await;
    let counts = body["counts"].as_object().unwrap();
    assert_eq!(counts.len(), 11);
    assert!(counts.values().all(|n| n == 0), "{counts:?}");
    for list in [
        "without_annual_plan",
        "awaiting_assessment",
        "approved_without_visitation",
        "awaiting_kp",
    ] {
        assert_eq!(body[list], json!([]), "{list}");
    }
}

#[tokio::test]
async fn only_the_registrar_reads_the_overview_of_a_well_formed_year() {
    let app = spawn_app().await;
    app.create_practice("07000001").await;
    let practice = app.token_for(ClientRole::Practice, "07000001").await;
    let response = app
        .http
        .get(app.url("/v1/cycles/2026/overview"))
        .bearer_auth(&practice)
        .send()
        .await
        .unwrap();
    expect_problem(response, 403).await;

    let registrar = app.registrar_token().await;
    for year in ["20x6", "26", "-2026"] {
        let response = app
            .http
            .get(app.url(&format!("/v1/cycles/{year}/overview")))
            .bearer_auth(&registrar)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 422).await;
        assert_eq!(problem_fields(&problem), ["year"], "{year}");
    }
    assert_eq!(audit_count(&app, "cycle.overview.read"), 0);
}
