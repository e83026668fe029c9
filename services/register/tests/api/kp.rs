//! Kwaliteitsregister Paramedici: the CSV import (row report, one transaction, dry run) and the
//! verifier against a real local HTTP server standing in for KP.

use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::{NaiveDate, Utc};
use serde_json::{json, Value};

use crate::helpers::{
    audit_count, create_therapist, expect_problem, http_verifier, problem_fields, spawn_app,
    spawn_app_with_verifier, stored_kp, TestApp,
};

const HEADER: &str = "kp_number,agb,name,status,valid_from,valid_until\n";

async fn import(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/v1/kp-imports{query}")))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// `(line, outcome, [(field, code)])` of a report row.
type RowSummary = (u64, String, Vec<(String, String)>);

fn summary(report: &Value) -> Vec<RowSummary> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let reasons = row["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["field"].as_str().unwrap().to_string(),
                        r["code"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            (
                row["line"].as_u64().unwrap(),
                row["outcome"].as_str().unwrap().to_string(),
                reasons,
            )
        })
        .collect()
}

fn row(line: u64, outcome: &str, reasons: &[(&str, &str)]) -> RowSummary {
    (
        line,
        outcome.to_string(),
        reasons
            .iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect(),
    )
}

#[tokio::test]
async fn an_import_applies_only_the_good_rows_and_reports_every_row() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    for (agb, kp) in [
        ("07100001", None),
        ("07100002", Some("222")),
        ("07100003", None),
        ("07100004", Some("444")),
        ("07100008", None),
        ("07100009", None),
    ] {
        create_therapist(
            &app,
            &token,
            json!({"agb": agb, "name": format!("T {agb}"), "kp_number": kp}),
        )
        .await;
    }
    let csv = format!(
        "{HEADER}\
         111,07100001,T. One,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
         222,07100002,T. Two,diplomageregistreerd,2023-05-01,2028-04-30\n\
         333,07100003,T. Three,kwaliteitsgeregistreerd,2024-02-30,2028-12-31\n\
         555,07100005,T. Five,uitgeschreven,2024-01-01,2028-12-31\n\
         666,04100006,F. Six,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
         777,07100007,T. Seven,kwaliteitsgeregistreerd,2028-01-01,2024-01-01\n\
         888,07100001,T. One,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
         999,07199999,Elsewhere,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
         444,07100008,T. Eight,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
         1000,07100009,\"Jansen, A.\nMensendieck\",kwaliteitsgeregistreerd,2025-03-01,2030-02-28\n"
    );
    let response = import(&app, &token, "", "text/csv; charset=utf-8", csv).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["applied"], true);
    assert_eq!(
        report["totals"],
        json!({"rows": 10, "applied": 3, "would_apply": 0, "rejected": 6, "skipped": 1})
    );
    assert_eq!(
        summary(&report),
        vec![
            row(2, "applied", &[]),
            row(3, "applied", &[]),
            row(4, "rejected", &[("valid_from", "date_format")]),
            row(5, "rejected", &[("status", "kp_status")]),
            row(6, "rejected", &[("agb", "agb_zorgsoort")]),
            row(7, "rejected", &[("valid_until", "date_order")]),
            row(8, "rejected", &[("agb", "duplicate_in_file")]),
            row(9, "skipped", &[("agb", "therapist_unknown")]),
            row(10, "rejected", &[("kp_number", "kp_number_taken")]),
            // A quoted name across two lines: the row starts on line 11.
            row(11, "applied", &[]),
        ]
    );
    assert_eq!(report["rows"][4]["agb"], "04100006");
    assert_eq!(report["rows"][4]["kp_number"], "666");

    // The good rows are stored, from the import, verified now.
    let one = stored_kp(&app, "07100001");
    assert_eq!(one.kp_number.as_deref(), Some("111"));
    assert_eq!(one.kp_status.as_deref(), Some("kwaliteitsgeregistreerd"));
    assert_eq!(
        (one.kp_valid_from, one.kp_valid_until),
        (date(2024, 1, 1), date(2028, 12, 31))
    );
    assert_eq!(one.kp_source.as_deref(), Some("import"));
    assert!(one
        .kp_verified_at
        .is_some_and(|at| Utc::now() - at < chrono::Duration::minutes(1)));
    assert_eq!(one.version, 2);
    let two = stored_kp(&app, "07100002");
    assert_eq!(
        (two.kp_number.as_deref(), two.kp_status.as_deref()),
        (Some("222"), Some("diplomageregistreerd"))
    );
    let nine = stored_kp(&app, "07100009");
    assert_eq!(
        (nine.kp_number.as_deref(), nine.kp_valid_until),
        (Some("1000"), date(2030, 2, 28))
    );
    // The rejected rows change nothing.
    for (agb, number) in [
        ("07100003", None),
        ("07100004", Some("444")),
        ("07100008", None),
    ] {
        let stored = stored_kp(&app, agb);
        assert_eq!(stored.kp_number.as_deref(), number, "{agb}");
        assert!(
            stored.kp_status.is_none() && stored.kp_verified_at.is_none(),
            "{agb}"
        );
        assert_eq!(stored.version, 1, "{agb}");
    }
    // The API shows it too.
    let therapist: Value = app
        .http
        .get(app.url("/v1/therapists/07100001"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(therapist["kp"]["status"], "kwaliteitsgeregistreerd");
    assert_eq!(therapist["kp"]["source"], "import");
    assert_eq!(audit_count(&app, "kp.import"), 1);
}

#[tokio::test]
async fn a_dry_run_reports_what_would_apply_and_changes_nothing() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    create_therapist(&app, &token, json!({"agb": "07100001", "name": "T. One"})).await;
    let csv = format!(
        "{HEADER}111,07100001,T. One,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n\
         112,07100002,T. Two,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n"
    );
    let response = import(&app, &token, "?dry_run=true", "text/csv", csv.clone()).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["applied"], false);
    assert_eq!(
        report["totals"],
        json!({"rows": 2, "applied": 0, "would_apply": 1, "rejected": 0, "skipped": 1})
    );
    assert_eq!(
        summary(&report),
        vec![
            row(2, "would_apply", &[]),
            row(3, "skipped", &[("agb", "therapist_unknown")])
        ]
    );
    let stored = stored_kp(&app, "07100001");
    assert!(
        stored.kp_number.is_none() && stored.kp_status.is_none() && stored.kp_verified_at.is_none()
    );
    assert_eq!(stored.version, 1);
    // Dry runs are audited as well.
    assert_eq!(audit_count(&app, "kp.import"), 1);

    // The same file for real applies the row.
    let report: Value = import(&app, &token, "?dry_run=false", "text/csv", csv)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["applied"], true);
    assert_eq!(summary(&report)[0], row(2, "applied", &[]));
    assert_eq!(
        stored_kp(&app, "07100001").kp_status.as_deref(),
        Some("kwaliteitsgeregistreerd")
    );

    // A file without a single valid row writes nothing and says so.
    let report: Value = import(
        &app,
        &token,
        "",
        "text/csv",
        format!("{HEADER}1,07100001,,x,,\n"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(report["applied"], false);
    assert_eq!(report["totals"]["rejected"], 1);
    assert_eq!(stored_kp(&app, "07100001").version, 2);
}

#[tokio::test]
async fn a_file_with_a_wrong_header_type_encoding_or_size_is_refused_whole() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    create_therapist(&app, &token, json!({"agb": "07100001", "name": "T. One"})).await;
    let good_row = "111,07100001,T. One,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n";

    let response = import(
        &app,
        &token,
        "",
        "text/csv",
        format!("kp,agb,name,status,from,until\n{good_row}"),
    )
    .await;
    let problem = expect_problem(response, 422).await;
    assert_eq!(problem_fields(&problem), vec!["header"]);
    assert_eq!(problem["errors"][0]["code"], "header_mismatch");
    let problem = expect_problem(import(&app, &token, "", "text/csv", "").await, 422).await;
    assert_eq!(problem_fields(&problem), vec!["header"]);

    let problem = expect_problem(
        import(
            &app,
            &token,
            "",
            "application/json",
            format!("{HEADER}{good_row}"),
        )
        .await,
        415,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("text/csv"));
    expect_problem(
        import(
            &app,
            &token,
            "",
            "text/plain",
            format!("{HEADER}{good_row}"),
        )
        .await,
        415,
    )
    .await;
    expect_problem(
        import(
            &app,
            &token,
            "",
            "text/csv; charset=iso-8859-1",
            format!("{HEADER}{good_row}"),
        )
        .await,
        415,
    )
    .await;

    let mut latin1 = format!("{HEADER}111,07100001,").into_bytes();
    latin1.extend_from_slice(b"Jos\xe9,kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n");
    let problem = expect_problem(import(&app, &token, "", "text/csv", latin1).await, 422).await;
    assert_eq!(problem["errors"][0]["code"], "encoding");

    let big = vec![b'1'; 10 * 1024 * 1024 + 1];
    let problem = expect_problem(import(&app, &token, "", "text/csv", big).await, 413).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("10485760"),
        "{problem}"
    );

    // Larger than the service's default body limit, within this route's own.
    let mut large = HEADER.to_string();
    for i in 1..=30_000 {
        large.push_str(&format!(
            "{i},07{i:06},Therapist {i},kwaliteitsgeregistreerd,2024-01-01,2028-12-31\n"
        ));
    }
    assert!(large.len() > 2 * 1024 * 1024);
    let response = import(&app, &token, "?dry_run=true", "text/csv", large).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["totals"]["rows"], 30_000);
    assert_eq!(report["totals"]["skipped"], 30_000);
    assert_eq!(report["rows"][29_999]["line"], 30_001);

    // None of it changed anything.
    let stored = stored_kp(&app, "07100001");
    assert!(stored.kp_number.is_none());
    assert_eq!(stored.version, 1);
    // Only the accepted (dry-run) file reached the audit log.
    assert_eq!(audit_count(&app, "kp.import"), 1);
}

/// KP's answer for each number the fake server knows.
async fn kp_registration(number: web::Path<String>) -> HttpResponse {
    match number.as_str() {
        "111" => HttpResponse::Ok().json(json!({
            "kp_number": "111", "status": "kwaliteitsgeregistreerd",
            "valid_from": "2025-01-01", "valid_until": "2029-12-31"
        })),
        "500" => HttpResponse::InternalServerError().body("KP is down"),
        "777" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            HttpResponse::Ok()
                .json(json!({"kp_number": "777", "status": "kwaliteitsgeregistreerd"}))
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

/// Starts a stand-in for KP on a free port; returns its base URL.
fn start_fake_kp() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(|| {
        App::new().route("/registrations/{number}", web::get().to(kp_registration))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    base
}

async fn verify(app: &TestApp, token: &str, agb: &str) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/v1/therapists/{agb}/kp-verification")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn verification_stores_what_kp_reports() {
    let base = start_fake_kp();
    let app = spawn_app_with_verifier(http_verifier(&base, 2_000)).await;
    let token = app.registrar_token().await;
    create_therapist(
        &app,
        &token,
        json!({"agb": "07100001", "name": "T. One", "kp_number": "111"}),
    )
    .await;
    create_therapist(
        &app,
        &token,
        json!({"agb": "07100002", "name": "T. Two", "kp_number": "404"}),
    )
    .await;
    create_therapist(&app, &token, json!({"agb": "07100003", "name": "T. Three"})).await;

    let response = verify(&app, &token, "07100001").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let therapist: Value = response.json().await.unwrap();
    assert_eq!(therapist["kp"]["status"], "kwaliteitsgeregistreerd");
    assert_eq!(therapist["kp"]["valid_from"], "2025-01-01");
    assert_eq!(therapist["kp"]["valid_until"], "2029-12-31");
    assert_eq!(therapist["kp"]["source"], "verifier");
    assert!(therapist["kp"]["verified_at"].is_string());
    let stored = stored_kp(&app, "07100001");
    assert_eq!(stored.kp_status.as_deref(), Some("kwaliteitsgeregistreerd"));
    assert_eq!(stored.kp_valid_until, date(2029, 12, 31));
    assert!(stored
        .kp_verified_at
        .is_some_and(|at| Utc::now() - at < chrono::Duration::minutes(1)));
    assert_eq!(stored.kp_source.as_deref(), Some("verifier"));

    // A number KP does not know is stored as not registered.
    let therapist: Value = verify(&app, &token, "07100002").await.json().await.unwrap();
    assert_eq!(therapist["kp"]["status"], "not_registered");
    assert!(therapist["kp"]["valid_until"].is_null());
    let stored = stored_kp(&app, "07100002");
    assert_eq!(stored.kp_status.as_deref(), Some("not_registered"));
    assert!(stored.kp_verified_at.is_some());

    // Nothing to verify, or nobody to verify.
    let problem = expect_problem(verify(&app, &token, "07100003").await, 422).await;
    assert_eq!(problem_fields(&problem), vec!["kp_number"]);
    expect_problem(verify(&app, &token, "07199999").await, 404).await;
    assert_eq!(audit_count(&app, "kp.verify"), 2);
}

#[tokio::test]
async fn a_slow_or_failing_kp_is_a_gateway_problem_and_changes_nothing() {
    let base = start_fake_kp();
    let app = spawn_app_with_verifier(http_verifier(&base, 300)).await;
    let token = app.registrar_token().await;
    create_therapist(
        &app,
        &token,
        json!({"agb": "07100001", "name": "Slow", "kp_number": "777"}),
    )
    .await;
    create_therapist(
        &app,
        &token,
        json!({"agb": "07100002", "name": "Broken", "kp_number": "500"}),
    )
    .await;

    let started = Instant::now();
    let problem = expect_problem(verify(&app, &token, "07100001").await, 504).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("300 ms"),
        "{problem}"
    );

    let problem = expect_problem(verify(&app, &token, "07100002").await, 502).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("500"),
        "{problem}"
    );

    for agb in ["07100001", "07100002"] {
        let stored = stored_kp(&app, agb);
        assert!(
            stored.kp_status.is_none() && stored.kp_verified_at.is_none(),
            "{agb}"
        );
        assert_eq!(stored.kp_source.as_deref(), Some("registrar"));
        assert_eq!(stored.version, 1);
    }
}

#[tokio::test]
async fn without_a_configured_verifier_verification_is_unavailable() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    create_therapist(
        &app,
        &token,
        json!({"agb": "07100001", "name": "T. One", "kp_number": "111"}),
    )
    .await;
    let response = verify(&app, &token, "07100001").await;
    // Not an outage: retrying would not help, so there is no Retry-After.
    assert!(response.headers().get("retry-after").is_none());
    let problem = expect_problem(response, 503).await;
    assert!(problem["type"]
        .as_str()
        .unwrap()
        .ends_with("/not-configured"));
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not configured"),
        "{problem}"
    );
    assert!(stored_kp(&app, "07100001").kp_status.is_none());
}
