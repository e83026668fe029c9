//! EPD data end to end: authorisations (machtigingen), monthly deliveries with their processing
//! reports, idempotency, and PREM results (DESIGN §3.1, §3.4, §4, §5; 001 §1.3, §1.5; 004).

use chrono::{DateTime, Utc};
use praktijkregister_domain::ClientRole;
use serde_json::{json, Value};

use crate::helpers::{
    audit_count, create_therapist, expect_problem, problem_fields, spawn_app_at, TestApp,
};

const PRACTICE: &str = "07000001";
const OTHER_PRACTICE: &str = "07000002";
const VENDOR: &str = "acme-epd";
/// Members of the practice throughout October 2026.
const MEMBER_A: &str = "07100001";
const MEMBER_B: &str = "07100002";
const MEMBER_C: &str = "07100004";
/// Left the practice at the end of August 2026.
const FORMER: &str = "07100003";
/// Not in the register.
const UNKNOWN: &str = "07100009";
/// Nine digits that pass the BSN elfproef.
const BSN: &str = "111222333";

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
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

fn deliveries_stored(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) AS n FROM deliveries")
}

/// Figures that break no rule and draw no warning.
fn row(therapist: &str) -> Value {
    json!({
        "therapist_agb": therapist, "patients": 30, "treatments": 100, "closed_episodes": 10,
        "treatments_in_closed_episodes": 60, "ldo_records_delivered": 30, "ldo_records_complete": 29,
        "prem_eligible": 10, "prem_offered": 8, "ldo_upload_date": "2026-10-28"
    })
}

/// 3 November 2026: October has ended, December has not begun.
async fn practice_with_roster() -> (
    TestApp,
    std::sync::Arc<praktijkregister_platform::clock::ManualClock>,
) {
    let (app, clock) = spawn_app_at(at("2026-11-03T09:00:00Z")).await;
    app.create_practice(PRACTICE).await;
    app.create_practice(OTHER_PRACTICE).await;
    let registrar = app.registrar_token().await;
    for (therapist, end_date) in [
        (MEMBER_A, None),
        (MEMBER_B, None),
        (MEMBER_C, None),
        (FORMER, Some("2026-08-31")),
    ] {
        create_therapist(
            &app,
            &registrar,
            json!({"agb": therapist, "name": "A. Jansen"}),
        )
        .await;
        let member = app
            .http
            .put(app.url(&format!("/v1/practices/{PRACTICE}/therapists/{therapist}")))
            .bearer_auth(&registrar)
            .json(&json!({"start_date": "2020-01-01", "end_date": end_date}))
            .send()
            .await
            .unwrap();
        assert_eq!(member.status(), 201);
    }
    (app, clock)
}

async fn deliver(
    app: &TestApp,
    token: &str,
    period: &str,
    body: &Value,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .http
        .put(app.url(&format!("/v1/practices/{PRACTICE}/deliveries/{period}")))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.unwrap()
}

async fn authorise(app: &TestApp, token: &str, vendor: &str) -> reqwest::Response {
    app.http
        .put(app.url(&format!(
            "/v1/practices/{PRACTICE}/epd-authorizations/{vendor}"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let response = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn finding_codes(findings: &Value) -> Vec<(u64, String, String)> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["row"].as_u64().unwrap(),
                f["field"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_delivery_answers_a_processing_report_of_accepted_rejected_and_warned_rows() {
    let (app, _) = practice_with_roster().await;
    let practice = app.token_for(ClientRole::Practice, PRACTICE).await;
    assert_eq!(authorise(&app, &practice, VENDOR).await.status(), 201);
    let vendor = app.token_for(ClientRole::EpdVendor, "").await;

    let mut warned = row(MEMBER_B);
    warned["ldo_upload_date"] = Value::Null;
    warned["treatments_in_closed_episodes"] = json!(0);
    let mut inconsistent = row(MEMBER_C);
    inconsistent["ldo_records_complete"] = json!(31);
    let body = json!({"rows": [row(MEMBER_A), warned, inconsistent, row(FORMER), row(UNKNOWN)]});
    let response = deliver(&app, &vendor, "2026-10", &body, None).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();

    assert_eq!(report["practice_agb"], PRACTICE);
    assert_eq!(report["period"], "2026-10");
    assert_eq!(report["version"], 1);
    assert_eq!(report["accepted_rows"], json!([MEMBER_A, MEMBER_B]));
    assert_eq!(
        finding_codes(&report["warnings"]),
        [
            (
                1,
                "ldo_upload_date".into(),
                "ldo_upload_date_missing".into()
            ),
            (
                1,
                "treatments_in_closed_episodes".into(),
                "closed_episodes_without_treatments".into()
            ),
        ]
    );
    assert_eq!(
        finding_codes(&report["rejected"]),
        [
            (
                2,
                "ldo_records_complete".into(),
                "complete_exceeds_delivered".into()
            ),
            (3, "therapist_agb".into(), "therapist_not_member".into()),
            (4, "therapist_agb".into(), "therapist_not_member".into()),
        ]
    );
    // Messages say what is wrong and what to change.
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected[0]["therapist_agb"], MEMBER_C);
    let message = rejected[0]["message"].as_str().unwrap();
    assert!(
        message.contains("(31)") && message.contains("(30)") && message.contains("correct"),
        "{message}"
    );
    assert!(rejected[1]["message"].as_str().unwrap().contains("2026-10"));
    assert!(rejected[2]["message"]
        .as_str()
        .unwrap()
        .contains("not in the register"));
    assert_eq!(report["totals"]["rows_received"], 5);
    assert_eq!(report["totals"]["rows_accepted"], 2);
    assert_eq!(report["totals"]["rows_rejected"], 3);
    assert_eq!(report["totals"]["warnings"], 2);
    assert_eq!(report["totals"]["treatments"], 200);
    assert_eq!(report["totals"]["ldo_fill_rate"], 0.9667);
    assert_eq!(report["totals"]["ldo_uploaded_in_period"], true);

    // Stored: the accepted rows only, with the report, under the vendor.
    assert_eq!(deliveries_stored(&app), 1);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM delivery_rows"), 2);
    let (status, stored) = get_json(
        &app,
        &vendor,
        &format!("/v1/practices/{PRACTICE}/deliveries/2026-10"),
    )
    .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["version"], 1);
    assert_eq!(stored["current"], true);
    assert_eq!(stored["epd_vendor"], VENDOR);
    assert_eq!(stored["report"], report);
    let rows = stored["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["therapist_agb"], MEMBER_A);
    assert_eq!(rows[0]["treatments"], 100);
    assert_eq!(rows[0]["treatments_per_closed_episode"], 6.0);
    assert_eq!(rows[1]["ldo_upload_date"], Value::Null);
    assert_eq!(audit_count(&app, "delivery.put"), 1);
}

#[tokio::test]
async fn type_errors_name_their_fields_and_a_delivery_without_accepted_rows_is_refused_with_its_report(
) {
    let (app, _) = practice_with_roster().await;
    let registrar = app.registrar_token().await;
    let mut bad = row(MEMBER_A);
    bad["patients"] = json!(-3);
    bad["treatments"] = json!("100");
    bad["ldo_upload_date"] = json!("28-10-2026");
    let response = deliver(&app, &registrar, "2026-10", &json!({"rows": [bad]}), None).await;
    let problem = expect_problem(response, 422).await;
    assert_eq!(
        problem_fields(&problem),
        [
            "rows[0].patients",
            "rows[0].treatments",
            "rows[0].ldo_upload_date"
        ]
    );
    assert_eq!(problem["errors"][0]["code"], "not_a_count");

    let body = json!({"rows": [row(FORMER), row(UNKNOWN)]});
    let response = deliver(&app, &registrar, "2026-10", &body, None).await;
    let problem = expect_problem(response, 422).await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("nothing was stored"));
    let report = &problem["report"];
    assert_eq!(report["accepted_rows"], json!([]));
    assert_eq!(report["delivery_id"], Value::Null);
    assert_eq!(report["version"], Value::Null);
    assert_eq!(finding_codes(&report["rejected"]).len(), 2);
    assert_eq!(deliveries_stored(&app), 0);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM delivery_rows"), 0);
}

#[tokio::test]
async fn a_bsn_key_or_value_refuses_the_whole_delivery_and_stores_nothing() {
    let (app, _) = practice_with_roster().await;
    let registrar = app.registrar_token().await;

    let mut with_key = row(MEMBER_B);
    with_key["bsn"] = json!("whatever");
    let body = json!({"rows": [row(MEMBER_A), with_key]});
    let response = deliver(&app, &registrar, "2026-10", &body, Some("attempt-1")).await;
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem_fields(&problem), ["rows[1].bsn"]);
    assert_eq!(problem["errors"][0]["code"], "patient_data");

    let body = json!({"rows": [row(MEMBER_A), row(BSN)], "extra": {"Patient_Name": "J. Jansen"}});
    let response = deliver(&app, &registrar, "2026-10", &body, Some("attempt-2")).await;
    let problem = expect_problem(response, 422).await;
    let mut fields = problem_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["extra.Patient_Name", "rows[1].therapist_agb"]);
    assert!(problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["code"] == "patient_data" && !e["message"].as_str().unwrap().contains(BSN)));

    // Nothing of either attempt is stored: no delivery, no rows, no answer under the keys, and
    // the audit lines name fields, never values.
    assert_eq!(deliveries_stored(&app), 0);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM delivery_rows"), 0);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM idempotency_keys"), 0);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM audit_events WHERE action = 'delivery.put' AND outcome = 'failed'"),
        2
    );
    assert_eq!(
        count(&app, &format!("SELECT count(*) AS n FROM audit_events WHERE detail::text LIKE '%{BSN}%' OR detail::text LIKE '%J. Jansen%'")),
        0
    );
}

#[tokio::test]
async fn a_later_delivery_is_version_2_and_version_1_stays_readable() {
    let (app, _) = practice_with_roster().await;
    let registrar = app.registrar_token().await;
    let first = json!({"rows": [row(MEMBER_A), row(MEMBER_B)]});
    assert_eq!(
        deliver(&app, &registrar, "2026-10", &first, None)
            .await
            .status(),
        200
    );
    let mut corrected = row(MEMBER_A);
    corrected["treatments"] = json!(120);
    let second = json!({"rows": [corrected]});
    let response = deliver(&app, &registrar, "2026-10", &second, None).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["version"], 2);

    let base = format!("/v1/practices/{PRACTICE}/deliveries");
    let (_, current) = get_json(&app, &registrar, &format!("{base}/2026-10")).await;
    assert_eq!(current["version"], 2);
    assert_eq!(current["current"], true);
    assert_eq!(current["epd_vendor"], Value::Null);
    assert_eq!(current["rows"].as_array().unwrap().len(), 1);
    assert_eq!(current["rows"][0]["treatments"], 120);
    let (status, earlier) = get_json(&app, &registrar, &format!("{base}/2026-10?version=1")).await;
    assert_eq!(status, 200);
    assert_eq!(earlier["version"], 1);
    assert_eq!(earlier["current"], false);
    assert_eq!(earlier["rows"].as_array().unwrap().len(), 2);
    assert_eq!(earlier["rows"][0]["treatments"], 100);
    assert_eq!(earlier["report"]["version"], 1);

    let (_, list) = get_json(&app, &registrar, &format!("{base}?period=2026-10")).await;
    let versions: Vec<(i64, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["version"].as_i64().unwrap(),
                d["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(versions, [(2, true), (1, false)]);
    assert_eq!(deliveries_stored(&app), 2);

    let missing = app
        .http
        .get(app.url(&format!("{base}/2026-10?version=3")))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap();
    expect_problem(missing, 404).await;
    let nothing = app
        .http
        .get(app.url(&format!("{base}/2026-09")))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap();
    expect_problem(nothing, 404).await;
}

#[tokio::test]
async fn an_idempotency_key_repeats_the_first_answer_and_refuses_another_body() {
    let (app, _) = practice_with_roster().await;
    let practice = app.token_for(ClientRole::Practice, PRACTICE).await;
    assert_eq!(authorise(&app, &practice, VENDOR).await.status(), 201);
    let vendor = app.token_for(ClientRole::EpdVendor, "").await;
    let body = json!({"rows": [row(MEMBER_A), row(MEMBER_B)]});

    let first = deliver(&app, &vendor, "2026-10", &body, Some("oct-2026-run-1")).await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("Idempotent-Replayed").is_none());
    let first: Value = first.json().await.unwrap();

    // The same body with its members in another order and other spacing: the same request.
    let reordered = format!(
        "{{ \"rows\" : [ {} , {} ] }}",
        reorder(&row(MEMBER_A)),
        reorder(&row(MEMBER_B))
    );
    let again = app
        .http
        .put(app.url(&format!("/v1/practices/{PRACTICE}/deliveries/2026-10")))
        .bearer_auth(&vendor)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "oct-2026-run-1")
        .body(reordered)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers().get("Idempotent-Replayed").unwrap(), "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(deliveries_stored(&app), 1);
    // The write has one audit line, naming the key; the replay adds none.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_events WHERE action = 'delivery.put' \
             AND outcome = 'success' AND detail->>'idempotency_key' = 'oct-2026-run-1'"
        ),
        1
    );
    assert_eq!(audit_count(&app, "delivery.put"), 1);

    let other = json!({"rows": [row(MEMBER_A)]});
    let reused = deliver(&app, &vendor, "2026-10", &other, Some("oct-2026-run-1")).await;
    let problem = expect_problem(reused, 422).await;
    assert_eq!(problem_fields(&problem), ["Idempotency-Key"]);
    assert_eq!(problem["errors"][0]["code"], "idempotency_key_reused");
    assert_eq!(deliveries_stored(&app), 1);

    // Keys are per client: the registrar's same key is a request of its own.
    let registrar = app.registrar_token().await;
    let own = deliver(&app, &registrar, "2026-10", &other, Some("oct-2026-run-1")).await;
    assert_eq!(own.status(), 200);
    assert_eq!(own.json::<Value>().await.unwrap()["version"], 2);

    let bad_key = deliver(&app, &vendor, "2026-10", &body, Some("with space")).await;
    let problem = expect_problem(bad_key, 422).await;
    assert_eq!(problem["errors"][0]["code"], "idempotency_key_format");
    assert_eq!(deliveries_stored(&app), 2);
}

/// The row's members in reverse order, as JSON text.
fn reorder(row: &Value) -> String {
    let members: Vec<String> = row
        .as_object()
        .unwrap()
        .iter()
        .rev()
        .map(|(k, v)| format!("{}: {v}", Value::String(k.clone())))
        .collect();
    format!("{{{}}}", members.join(", "))
}

#[tokio::test]
async fn only_a_vendor_the_practice_authorised_delivers_and_reads() {
    let (app, _) = practice_with_roster().await;
    let practice = app.token_for(ClientRole::Practice, PRACTICE).await;
    let vendor = app.token_for(ClientRole::EpdVendor, "").await;
    let body = json!({"rows": [row(MEMBER_A)]});
    let list = format!("/v1/practices/{PRACTICE}/deliveries");

    let refused = deliver(&app, &vendor, "2026-10", &body, None).await;
    let problem = expect_problem(refused, 403).await;
    assert!(problem["detail"].as_str().unwrap().contains("authoris"));
    assert_eq!(deliveries_stored(&app), 0);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM audit_events WHERE action = 'delivery.put' AND outcome = 'denied'"),
        1
    );
    assert_eq!(get_json(&app, &vendor, &list).await.0, 403);

    let granted = authorise(&app, &practice, VENDOR).await;
    assert_eq!(granted.status(), 201);
    let granted: Value = granted.json().await.unwrap();
    assert_eq!(granted["active"], true);
    assert_eq!(authorise(&app, &practice, VENDOR).await.status(), 200);
    assert_eq!(
        deliver(&app, &vendor, "2026-10", &body, None)
            .await
            .status(),
        200
    );
    assert_eq!(deliveries_stored(&app), 1);
    let (status, page) = get_json(&app, &vendor, &list).await;
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);

    let revoke = |token: String| {
        let app = &app;
        async move {
            app.http
                .delete(app.url(&format!(
                    "/v1/practices/{PRACTICE}/epd-authorizations/{VENDOR}"
                )))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(revoke(practice.clone()).await.status(), 204);
    expect_problem(revoke(practice.clone()).await, 404).await;
    expect_problem(deliver(&app, &vendor, "2026-11", &body, None).await, 403).await;
    assert_eq!(deliveries_stored(&app), 1);
    assert_eq!(get_json(&app, &vendor, &list).await.0, 403);

    // History: the revoked authorisation stays listed, with who did what and when.
    let (status, authorizations) = get_json(
        &app,
        &practice,
        &format!("/v1/practices/{PRACTICE}/epd-authorizations"),
    )
    .await;
    assert_eq!(status, 200);
    let item = &authorizations["items"][0];
    assert_eq!(item["epd_vendor"], VENDOR);
    assert_eq!(item["active"], false);
    assert!(item["authorized_at"].is_string() && item["authorized_by"].is_string());
    assert!(item["revoked_at"].is_string() && item["revoked_by"].is_string());
    assert_eq!(audit_count(&app, "epd_authorization.grant"), 2);
    assert_eq!(audit_count(&app, "epd_authorization.revoke"), 1);

    // Granting again reactivates it.
    let regranted = authorise(&app, &practice, VENDOR).await;
    assert_eq!(regranted.status(), 201);
    assert_eq!(
        regranted.json::<Value>().await.unwrap()["revoked_at"],
        Value::Null
    );
    assert_eq!(
        deliver(&app, &vendor, "2026-11", &body, None)
            .await
            .status(),
        200
    );

    // Another practice cannot manage this one's authorisations; a vendor id is a slug.
    let other = app.token_for(ClientRole::Practice, OTHER_PRACTICE).await;
    expect_problem(authorise(&app, &other, "rogue").await, 404).await;
    let problem = expect_problem(authorise(&app, &practice, "bad%20vendor").await, 422).await;
    assert_eq!(problem_fields(&problem), ["vendor_id"]);
}

#[tokio::test]
async fn a_month_that_has_not_begun_in_amsterdam_is_refused() {
    let (app, clock) = practice_with_roster().await;
    let registrar = app.registrar_token().await;
    let body = json!({"rows": [row(MEMBER_A)]});
    let problem =
        expect_problem(deliver(&app, &registrar, "2026-12", &body, None).await, 422).await;
    assert_eq!(problem_fields(&problem), ["period"]);
    assert_eq!(problem["errors"][0]["code"], "period_in_future");
    let problem =
        expect_problem(deliver(&app, &registrar, "2026-13", &body, None).await, 422).await;
    assert_eq!(problem["errors"][0]["code"], "period_format");
    assert_eq!(deliveries_stored(&app), 0);

    // 30 November 23:30 UTC is 1 December 00:30 in Amsterdam: December has begun.
    clock.set(at("2026-11-30T23:30:00Z"));
    let response = deliver(&app, &registrar, "2026-12", &body, None).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    // The upload date lies in October: stored, with a warning.
    assert_eq!(report["warnings"][0]["code"], "ldo_upload_outside_period");
    assert_eq!(deliveries_stored(&app), 1);
}

#[tokio::test]
async fn a_practice_reads_its_deliveries_but_cannot_deliver() {
    let (app, _) = practice_with_roster().await;
    let practice = app.token_for(ClientRole::Practice, PRACTICE).await;
    let body = json!({"rows": [row(MEMBER_A)]});
    expect_problem(deliver(&app, &practice, "2026-10", &body, None).await, 403).await;
    assert_eq!(deliveries_stored(&app), 0);

    let registrar = app.registrar_token().await;
    assert_eq!(
        deliver(&app, &registrar, "2026-10", &body, None)
            .await
            .status(),
        200
    );
    let (status, page) = get_json(
        &app,
        &practice,
        &format!("/v1/practices/{PRACTICE}/deliveries"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        page["items"][0]["report"]["accepted_rows"],
        json!([MEMBER_A])
    );
    let (status, delivery) = get_json(
        &app,
        &practice,
        &format!("/v1/practices/{PRACTICE}/deliveries/2026-10"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(delivery["rows"][0]["therapist_agb"], MEMBER_A);
    assert_eq!(audit_count(&app, "delivery.read"), 1);

    let other = app.token_for(ClientRole::Practice, OTHER_PRACTICE).await;
    let hidden = app
        .http
        .get(app.url(&format!("/v1/practices/{PRACTICE}/deliveries")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    expect_problem(hidden, 404).await;
}

async fn put_prem(app: &TestApp, token: &str, period: &str, body: &Value) -> reqwest::Response {
    app.http
        .put(app.url(&format!("/v1/practices/{PRACTICE}/prem-results/{period}")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn prem_results_are_replaced_per_month_and_listed_newest_first() {
    let (app, _) = practice_with_roster().await;
    let practice = app.token_for(ClientRole::Practice, PRACTICE).await;
    let vendor = app.token_for(ClientRole::EpdVendor, "").await;
    let october = json!({
        "responses": 38, "measuring_office": "Meetbureau Voorbeeld",
        "consent_national_processor": true, "consent_zorgkaart": false,
        "domains": [
            {"domain": "communicatie", "responses": 35, "mean_score": 8.7},
            {"domain": "informatie", "responses": 38, "mean_score": 8.2}
        ]
    });
    expect_problem(put_prem(&app, &vendor, "2026-10", &october).await, 403).await;
    assert_eq!(authorise(&app, &practice, VENDOR).await.status(), 201);

    let created = put_prem(&app, &vendor, "2026-10", &october).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["period"], "2026-10");
    assert_eq!(created["domains"].as_array().unwrap().len(), 2);

    let corrected = json!({
        "responses": 40, "consent_national_processor": true, "consent_zorgkaart": true,
        "domains": [{"domain": "communicatie", "responses": 40, "mean_score": 8.9}]
    });
    let replaced = put_prem(&app, &vendor, "2026-10", &corrected).await;
    assert_eq!(replaced.status(), 200);
    let registrar = app.registrar_token().await;
    let september = json!({
        "responses": 12, "consent_national_processor": false, "consent_zorgkaart": false, "domains": []
    });
    assert_eq!(
        put_prem(&app, &registrar, "2026-09", &september)
            .await
            .status(),
        201
    );

    let (status, page) = get_json(
        &app,
        &practice,
        &format!("/v1/practices/{PRACTICE}/prem-results"),
    )
    .await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["period"], "2026-10");
    assert_eq!(items[0]["responses"], 40);
    assert_eq!(items[0]["measuring_office"], Value::Null);
    assert_eq!(items[0]["consent_zorgkaart"], true);
    assert_eq!(
        items[0]["domains"],
        json!([{"domain": "communicatie", "responses": 40, "mean_score": 8.9}])
    );
    assert_eq!(items[1]["period"], "2026-09");
    assert_eq!(items[1]["domains"], json!([]));
    assert_eq!(count(&app, "SELECT count(*) AS n FROM prem_results"), 2);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM prem_domain_scores"),
        1
    );
    assert_eq!(audit_count(&app, "prem_result.put"), 4);

    // A month that has not begun, invalid fields and patient data are refused; nothing changes.
    let problem = expect_problem(put_prem(&app, &vendor, "2026-12", &september).await, 422).await;
    assert_eq!(problem["errors"][0]["code"], "period_in_future");
    let mut invalid = october.clone();
    invalid["domains"][0]["mean_score"] = json!("high");
    invalid["responses"] = json!(-1);
    let problem = expect_problem(put_prem(&app, &vendor, "2026-10", &invalid).await, 422).await;
    assert_eq!(
        problem_fields(&problem),
        ["responses", "domains[0].mean_score"]
    );
    let mut patient = october.clone();
    patient["domains"][0]["patient_id"] = json!(17);
    let problem = expect_problem(put_prem(&app, &vendor, "2026-10", &patient).await, 422).await;
    assert_eq!(problem_fields(&problem), ["domains[0].patient_id"]);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM prem_domain_scores"),
        1
    );
}
