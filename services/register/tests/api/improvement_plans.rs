//! Improvement plans (003): the VGZ example stored and listed; the list of practices above an
//! insurer's ceiling, and what an insurer sees with and without the practice's consent.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::RunQueryDsl as _;
use praktijkregister_domain::ClientRole;
use praktijkregister_platform::clock::ManualClock;
use serde_json::{json, Value};

use crate::helpers::{
    audit_count, expect_problem, http_verifier, problem_fields, spawn_app_at,
    spawn_app_with_dependencies, TestApp,
};

/// The insurer every insurer token of the helpers is bound to.
const INSURER: &str = "3311";
const VGZ: &str = "7095";

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn expect_json(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(actual, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn post_plan(app: &TestApp, token: &str, practice: &str, body: &Value) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/v1/practices/{practice}/improvement-plans")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn put_index(app: &TestApp, token: &str, practice: &str, year: i32, body: Value) {
    let response = app
        .http
        .put(app.url(&format!(
            "/v1/practices/{practice}/treatment-indices/{year}"
        )))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
}

async fn consent(app: &TestApp, token: &str, practice: &str, uzovi: &str, grant: bool) {
    let url = app.url(&format!("/v1/practices/{practice}/consents/{uzovi}"));
    let response = if grant {
        app.http
            .put(url)
            .bearer_auth(token)
            .json(&json!({"granted_on": "2026-09-01"}))
            .send()
            .await
            .unwrap()
    } else {
        app.http
            .delete(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    };
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
}

/// The example plan of 003: VGZ's ceiling 149, the practice at 160, aiming for 130, evaluating
/// after 4, 8 and 12 treatments.
fn vgz_plan(insurer: &str) -> Value {
    json!({
        "insurer_uzovi": insurer, "year": 2025, "measure": "treatment_index",
        "current_value": 160.0, "ceiling": 149.0, "target": 130.0,
        "plan": "Lumbosacraal radiculair syndroom wordt met 18 behandelingen uitbehandeld.",
        "do": "Ik draag mijn adviezen vanaf het eerste contact over en evalueer na 4, 8 en 12 behandelingen met de gewenste klinimetrie.",
        "check": "De cliënt pakt de adviezen op en daardoor hoef ik minder vaak betrokken te zijn.",
        "act": "Indien evaluatie uitwijst dat er geen verandering is, ga ik het gesprek aan en pas ik de interventie aan.",
        "evaluation_points": [4, 8, 12]
    })
}

fn agbs(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["practice_agb"].as_str().unwrap())
        .collect()
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test]
async fn the_vgz_example_of_003_is_stored_and_listed() {
    let (app, _clock) = spawn_app_at(at("2026-11-10T10:00:00Z")).await;
    app.create_practice("07000031").await;
    app.create_practice("07000032").await;
    let practice = app.token_for(ClientRole::Practice, "07000031").await;
    let registrar = app.registrar_token().await;

    let plan = expect_json(
        post_plan(&app, &practice, "07000031", &vgz_plan(VGZ)).await,
        201,
    )
    .await;
    assert_eq!(plan["practice_agb"], "07000031");
    assert_eq!(plan["insurer_uzovi"], VGZ);
    assert_eq!(plan["measure"], "treatment_index");
    assert_eq!(
        (&plan["current_value"], &plan["ceiling"], &plan["target"]),
        (&json!(160.0), &json!(149.0), &json!(130.0))
    );
    assert!(plan["do"].as_str().unwrap().contains("4, 8 en 12"));
    assert_eq!(plan["evaluation_points"], json!([4, 8, 12]));
    let stored = diesel::sql_query(
        "SELECT count(*) AS n FROM improvement_plans WHERE practice_agb = '07000031' AND insurer_uzovi = '7095' \
         AND year = 2025 AND measure = 'treatment_index' AND target = 130 AND ceiling = 149 \
         AND evaluation_points = '{4,8,12}' AND do_text LIKE 'Ik draag%' AND act_text LIKE 'Indien%'",
    )
    .get_result::<Count>(&mut app.db().connect())
    .unwrap();
    assert_eq!(stored.n, 1);

    let listed = expect_json(
        get(&app, &practice, "/v1/practices/07000031/improvement-plans").await,
        200,
    )
    .await;
    assert_eq!(listed["items"], json!([plan]));
    let none = get(
        &app,
        &practice,
        "/v1/practices/07000031/improvement-plans?year=2024",
    )
    .await;
    assert_eq!(expect_json(none, 200).await["items"], json!([]));

    // The registrar sees the practice above VGZ's ceiling, with its plan.
    put_index(
        &app,
        &registrar,
        "07000031",
        2025,
        json!({"value": 160.0, "patient_count": 180, "source": "Vektis"}),
    )
    .await;
    let above = expect_json(
        get(
            &app,
            &registrar,
            "/v1/improvement-plans?insurer=7095&year=2025",
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        above["items"],
        json!([{
            "practice_agb": "07000031", "name": "Oefentherapie 07000031", "year": 2025,
            "value": 160.0, "ci_lower": null, "ceiling": 149.0,
            "has_plan": true, "improvement_plan_id": plan["id"]
        }])
    );

    // The target lies at or under the ceiling and under the current value; the points ascend.
    let mut bad = vgz_plan(VGZ);
    bad["target"] = json!(150.0);
    bad["evaluation_points"] = json!([4, 12, 8]);
    bad["plan"] = json!("  ");
    let problem = expect_problem(post_plan(&app, &practice, "07000031", &bad).await, 422).await;
    assert_eq!(
        problem_fields(&problem),
        vec!["target", "plan", "evaluation_points[2]"]
    );
    let mut long = vgz_plan(VGZ);
    long["check"] = json!("x".repeat(4001));
    long["current_value"] = json!(125.0);
    let problem = expect_problem(post_plan(&app, &practice, "07000031", &long).await, 422).await;
    assert_eq!(problem_fields(&problem), vec!["target", "check"]);
    let mut unknown = vgz_plan(VGZ);
    unknown["measure"] = json!("waiting_time");
    expect_problem(post_plan(&app, &practice, "07000031", &unknown).await, 422).await;

    // Another practice's plans are hidden.
    expect_problem(
        post_plan(&app, &practice, "07000032", &vgz_plan(VGZ)).await,
        404,
    )
    .await;
    expect_problem(
        get(&app, &practice, "/v1/practices/07000032/improvement-plans").await,
        404,
    )
    .await;
    assert_eq!(audit_count(&app, "improvement_plan.create"), 1);
    assert_eq!(audit_count(&app, "improvement_plan.list"), 2);
}

#[tokio::test]
async fn an_insurer_sees_practices_above_its_ceiling_only_with_their_consent() {
    // Insurer 3311 has a ceiling of its own (150), above the default (149).
    let app = spawn_app_with_dependencies(
        http_verifier("", 1000),
        Arc::new(ManualClock::new(at("2026-11-10T10:00:00Z"))),
        |settings| {
            settings
                .register
                .compliance
                .insurer_ceilings
                .insert(INSURER.into(), 150.0);
        },
    )
    .await;
    let registrar = app.registrar_token().await;
    let indices = [
        (
            "07000041",
            json!({"value": 160.0, "patient_count": 200, "source": "Vektis"}),
        ),
        (
            "07000042",
            json!({"value": 155.0, "ci_lower": 151.0, "ci_upper": 159.0, "patient_count": 90, "source": "Vektis"}),
        ),
        (
            "07000043",
            json!({"value": 120.0, "patient_count": 300, "source": "Vektis"}),
        ),
        // Above the ceiling, but its lower confidence bound is not.
        (
            "07000044",
            json!({"value": 155.0, "ci_lower": 140.0, "ci_upper": 170.0, "patient_count": 40, "source": "Vektis"}),
        ),
        // Above the default ceiling, not above the insurer's own.
        (
            "07000045",
            json!({"value": 149.5, "patient_count": 150, "source": "Vektis"}),
        ),
    ];
    for (agb, index) in &indices {
        app.create_practice(agb).await;
        put_index(&app, &registrar, agb, 2025, index.clone()).await;
    }
    // Another year's index does not count for 2025.
    put_index(
        &app,
        &registrar,
        "07000043",
        2024,
        json!({"value": 170.0, "patient_count": 300, "source": "Vektis"}),
    )
    .await;
    let first = app.token_for(ClientRole::Practice, "07000041").await;
    let second = app.token_for(ClientRole::Practice, "07000042").await;
    let plan = expect_json(
        post_plan(&app, &first, "07000041", &vgz_plan(INSURER)).await,
        201,
    )
    .await;
    // A plan for another insurer or another year is not a plan for this list.
    expect_json(
        post_plan(&app, &second, "07000042", &vgz_plan(VGZ)).await,
        201,
    )
    .await;
    let mut earlier = vgz_plan(INSURER);
    earlier["year"] = json!(2024);
    expect_json(post_plan(&app, &second, "07000042", &earlier).await, 201).await;

    let list = "/v1/improvement-plans?insurer=3311&year=2025";
    let page = expect_json(get(&app, &registrar, list).await, 200).await;
    assert_eq!(agbs(&page), vec!["07000041", "07000042"]);
    assert_eq!(page["items"][0]["has_plan"], true);
    assert_eq!(page["items"][0]["improvement_plan_id"], plan["id"]);
    assert_eq!(page["items"][0]["ceiling"], 150.0);
    assert_eq!(page["items"][1]["has_plan"], false);
    assert!(page["items"][1]["improvement_plan_id"].is_null());
    assert_eq!(page["items"][1]["ci_lower"], 151.0);
    assert!(page["next_cursor"].is_null());
    let one = expect_json(get(&app, &registrar, &format!("{list}&limit=1")).await, 200).await;
    assert_eq!(agbs(&one), vec!["07000041"]);
    let cursor = one["next_cursor"].as_str().unwrap();
    let rest = expect_json(
        get(&app, &registrar, &format!("{list}&limit=1&cursor={cursor}")).await,
        200,
    )
    .await;
    assert_eq!(agbs(&rest), vec!["07000042"]);
    let missing = expect_problem(
        get(&app, &registrar, "/v1/improvement-plans?year=2025").await,
        422,
    )
    .await;
    assert_eq!(problem_fields(&missing), vec!["insurer"]);

    // Without consent the insurer sees neither the practice in the list nor its plans.
    let insurer = app.token_for(ClientRole::Insurer, "").await;
    let page = expect_json(get(&app, &insurer, list).await, 200).await;
    assert_eq!(page["items"], json!([]));
    expect_problem(
        get(&app, &insurer, "/v1/practices/07000041/improvement-plans").await,
        404,
    )
    .await;
    // Consent for another insurer is not consent for this one.
    consent(&app, &first, "07000041", VGZ, true).await;
    assert_eq!(
        expect_json(get(&app, &insurer, list).await, 200).await["items"],
        json!([])
    );

    consent(&app, &first, "07000041", INSURER, true).await;
    consent(&app, &second, "07000042", INSURER, true).await;
    let page = expect_json(
        get(&app, &insurer, "/v1/improvement-plans?year=2025").await,
        200,
    )
    .await;
    assert_eq!(agbs(&page), vec!["07000041", "07000042"]);
    assert_eq!(page["items"][0]["improvement_plan_id"], plan["id"]);
    let plans = expect_json(
        get(&app, &insurer, "/v1/practices/07000041/improvement-plans").await,
        200,
    )
    .await;
    assert_eq!(plans["items"], json!([plan]));
    // Of the second practice, only the plans addressed to this insurer.
    let plans = expect_json(
        get(&app, &insurer, "/v1/practices/07000042/improvement-plans").await,
        200,
    )
    .await;
    let years: Vec<i64> = plans["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["year"].as_i64().unwrap())
        .collect();
    assert_eq!(years, vec![2024]);
    assert!(plans["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["insurer_uzovi"] == INSURER));

    // A revoked consent hides the practice again.
    consent(&app, &first, "07000041", INSURER, false).await;
    let page = expect_json(get(&app, &insurer, list).await, 200).await;
    assert_eq!(agbs(&page), vec!["07000042"]);
    expect_problem(
        get(&app, &insurer, "/v1/practices/07000041/improvement-plans").await,
        404,
    )
    .await;

    // Another insurer's list is not this insurer's to read; nor is it a practice's.
    let problem = expect_problem(
        get(
            &app,
            &insurer,
            "/v1/improvement-plans?insurer=7095&year=2025",
        )
        .await,
        403,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains(INSURER));
    expect_problem(get(&app, &first, list).await, 403).await;
    assert_eq!(audit_count(&app, "improvement_plan.above_ceiling.list"), 7);
}
