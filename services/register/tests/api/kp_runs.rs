//! KP verification runs against a real HTTP server standing in for KP: what each answer does to
//! the report, the stored data, registrations, compliance and the outbox; the pace and the bound
//! on concurrent requests; the stop on repeated failure; one run at a time; the expiry watch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::{DateTime, Utc};
use diesel::RunQueryDsl as _;
use praktijkregister_domain::ClientRole;
use praktijkregister_platform::audit::Actor;
use praktijkregister_platform::clock::ManualClock;
use praktijkregister_platform::testing;
use praktijkregister_register::kp::runs::{KpRuns, RunTrigger, StartError};
use praktijkregister_register::startup::Register;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, http_verifier, spawn_app_with_dependencies, TestApp};

/// How the stand-in answers for a KP number.
#[derive(Clone)]
enum Answer {
    Registered(&'static str, &'static str, &'static str),
    NotFound,
    /// Answers after this long (beyond the verifier's timeout).
    Slow(Duration),
    ServerError,
}

#[derive(Default)]
struct Recorder {
    arrivals: Mutex<Vec<Instant>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    hits: Mutex<HashMap<String, usize>>,
}

struct Stand {
    answers: HashMap<String, Answer>,
    /// For numbers not in `answers`.
    default: Answer,
    recorder: Arc<Recorder>,
}

async fn lookup(stand: web::Data<Stand>, number: web::Path<String>) -> HttpResponse {
    let recorder = &stand.recorder;
    recorder.arrivals.lock().unwrap().push(Instant::now());
    *recorder
        .hits
        .lock()
        .unwrap()
        .entry(number.clone())
        .or_default() += 1;
    let now = recorder.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    recorder.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let answer = stand
        .answers
        .get(number.as_str())
        .cloned()
        .unwrap_or_else(|| stand.default.clone());
    // Every answer takes a moment, so that concurrent requests overlap.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let response = match answer {
        Answer::Registered(status, from, until) => HttpResponse::Ok().json(json!({
            "kp_number": number.as_str(), "status": status, "valid_from": from, "valid_until": until
        })),
        Answer::NotFound => HttpResponse::NotFound().finish(),
        Answer::Slow(delay) => {
            // The verifier gives up after 300 ms: from then on the request is no longer in
            // flight for it, whether or not this handler is dropped when the client goes.
            tokio::time::sleep(Duration::from_millis(250)).await;
            recorder.in_flight.fetch_sub(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            return HttpResponse::Ok().json(
                json!({"kp_number": number.as_str(), "status": "kwaliteitsgeregistreerd",
                "valid_from": "2024-01-01", "valid_until": "2028-12-31"}),
            );
        }
        Answer::ServerError => HttpResponse::InternalServerError().finish(),
    };
    recorder.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// Starts the stand-in on 127.0.0.1:0; its base URL and what it recorded.
fn stand_in(answers: HashMap<String, Answer>, default: Answer) -> (String, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let stand = web::Data::new(Stand {
        answers,
        default,
        recorder: recorder.clone(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(stand.clone())
            .route("/registrations/{number}", web::get().to(lookup))
    })
    .workers(2)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = server.addrs()[0];
    tokio::spawn(server.run());
    (format!("http://{address}"), recorder)
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

const TODAY: &str = "2026-06-01T10:00:00Z";
/// 100 ms between requests.
const RATE: f64 = 10.0;

async fn app_with_kp(base_url: &str, adjust: impl FnOnce(&mut crate::helpers::Setup)) -> TestApp {
    spawn_app_with_dependencies(
        http_verifier(base_url, 300),
        Arc::new(ManualClock::new(at(TODAY))),
        |setup| {
            let kp = &mut setup.register.kp_verification;
            kp.concurrency = 2;
            kp.requests_per_second = RATE;
            kp.max_attempts = 2;
            kp.retry_backoff_ms = 10;
            kp.retry_backoff_max_ms = 20;
            kp.stop_after_failures = 10;
            adjust(setup);
        },
    )
    .await
}

fn sql(app: &TestApp, statement: &str) {
    diesel::sql_query(statement)
        .execute(&mut app.db().connect())
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(app: &TestApp, query: &str) -> i64 {
    diesel::sql_query(query)
        .get_result::<Count>(&mut app.db().connect())
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .n
}

/// A therapist with stored KP data and a membership of `practice` from 2020 (`membership_end` ends it).
#[allow(clippy::too_many_arguments)]
fn therapist(
    app: &TestApp,
    agb: &str,
    practice: &str,
    number: &str,
    status: &str,
    from: &str,
    until: &str,
    membership_end: Option<&str>,
) {
    sql(
        app,
        &format!(
            "INSERT INTO therapists (agb, name, kp_number, kp_status, kp_valid_from, kp_valid_until, kp_source) \
             VALUES ('{agb}', 'T {agb}', '{number}', '{status}', '{from}', '{until}', 'import')"
        ),
    );
    let end = membership_end.map_or("NULL".to_string(), |d| format!("'{d}'"));
    sql(
        app,
        &format!(
            "INSERT INTO practice_memberships (practice_agb, therapist_agb, start_date, end_date) \
             VALUES ('{practice}', '{agb}', '2020-01-01', {end})"
        ),
    );
}

async fn start(app: &TestApp, token: &str) -> reqwest::Response {
    app.http
        .post(app.url("/v1/kp-verification-runs"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
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

/// The run's report once it has ended.
async fn finished(app: &TestApp, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = get(app, token, &format!("/v1/kp-verification-runs/{id}")).await;
        if report["state"] != "running" {
            return report;
        }
        assert!(Instant::now() < deadline, "the run did not end: {report}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn agbs(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["therapist_agb"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_reports_every_outcome_keeps_the_pace_and_applies_the_changes() {
    let answers = HashMap::from([
        (
            "1001".to_string(),
            Answer::Registered("kwaliteitsgeregistreerd", "2024-01-01", "2028-12-31"),
        ),
        (
            "1002".to_string(),
            Answer::Registered("kwaliteitsgeregistreerd", "2026-01-01", "2030-12-31"),
        ),
        (
            "1003".to_string(),
            Answer::Registered("diplomageregistreerd", "2021-01-01", "2026-12-31"),
        ),
        ("1004".to_string(), Answer::NotFound),
        ("1005".to_string(), Answer::Slow(Duration::from_secs(2))),
        ("1006".to_string(), Answer::ServerError),
        (
            "1008".to_string(),
            Answer::Registered("kwaliteitsgeregistreerd", "2021-08-31", "2026-08-30"),
        ),
        (
            "1009".to_string(),
            Answer::Registered("kwaliteitsgeregistreerd", "2021-09-01", "2026-08-31"),
        ),
    ]);
    let (kp, recorder) = stand_in(answers, Answer::NotFound);
    let app = app_with_kp(&kp, |_| {}).await;
    let registrar = app.registrar_token().await;
    for practice in ["07000001", "07000002"] {
        app.create_practice(practice).await;
    }
    let q = "kwaliteitsgeregistreerd";
    therapist(
        &app,
        "07100001",
        "07000001",
        "1001",
        q,
        "2024-01-01",
        "2028-12-31",
        None,
    );
    therapist(
        &app,
        "07100002",
        "07000002",
        "1002",
        "diplomageregistreerd",
        "2021-01-01",
        "2026-12-31",
        None,
    );
    therapist(
        &app,
        "07100003",
        "07000001",
        "1003",
        q,
        "2021-01-01",
        "2026-12-31",
        None,
    );
    therapist(
        &app,
        "07100004",
        "07000001",
        "1004",
        q,
        "2021-01-01",
        "2026-12-31",
        None,
    );
    therapist(
        &app,
        "07100005",
        "07000001",
        "1005",
        q,
        "2024-01-01",
        "2028-12-31",
        None,
    );
    therapist(
        &app,
        "07100006",
        "07000001",
        "1006",
        q,
        "2024-01-01",
        "2028-12-31",
        None,
    );
    // Left the practice: not checked.
    therapist(
        &app,
        "07100007",
        "07000001",
        "1007",
        q,
        "2024-01-01",
        "2028-12-31",
        Some("2025-12-31"),
    );
    // Ends on the 90th day from today: in the expiry window; the 91st: not.
    therapist(
        &app,
        "07100008",
        "07000001",
        "1008",
        q,
        "2021-08-31",
        "2026-08-30",
        None,
    );
    therapist(
        &app,
        "07100009",
        "07000001",
        "1009",
        q,
        "2021-09-01",
        "2026-08-31",
        None,
    );
    // Practice 1 is registered for 2026; practice 2 waits for KP data of therapist 2.
    sql(
        &app,
        "INSERT INTO registrations (practice_agb, cycle_year, state, registered_at) \
         VALUES ('07000001', 2026, 'registered', '2026-05-01T10:00:00Z')",
    );
    sql(
        &app,
        "INSERT INTO registrations (practice_agb, cycle_year, state, lacking_kp) \
         VALUES ('07000002', 2026, 'awaiting_kp', '{07100002}')",
    );

    let response = start(&app, &registrar).await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let started: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "/v1/kp-verification-runs/{}",
            started["id"].as_str().unwrap()
        )
    );
    assert_eq!(started["trigger"], "manual");
    assert_eq!(started["requested_by"], "test-registrar");
    assert_eq!(started["totals"]["therapists"], 8);
    // One run at a time.
    let busy = expect_problem(start(&app, &registrar).await, 409).await;
    assert_eq!(busy["running_run_id"], started["id"]);

    let report = finished(&app, &registrar, started["id"].as_str().unwrap()).await;
    assert_eq!(report["state"], "completed", "{report}");
    assert_eq!(
        report["totals"],
        json!({"therapists": 8, "checked": 8, "unchanged": 3, "changed": 1 + 1,
               "not_found": 1, "failed": 2, "pending": 0}),
        "{report}"
    );
    assert_eq!(agbs(&report["changed"]), vec!["07100002", "07100003"]);
    assert_eq!(
        report["changed"][1]["before"]["status"],
        "kwaliteitsgeregistreerd"
    );
    assert_eq!(
        report["changed"][1]["after"]["status"],
        "diplomageregistreerd"
    );
    assert_eq!(report["changed"][0]["after"]["valid_until"], "2030-12-31");
    assert_eq!(agbs(&report["not_found"]), vec!["07100004"]);
    assert_eq!(report["not_found"][0]["after"]["status"], "not_registered");
    assert_eq!(agbs(&report["failed"]), vec!["07100005", "07100006"]);
    for failed in report["failed"].as_array().unwrap() {
        // A timeout and a 5xx are tried again, up to max_attempts.
        assert_eq!(failed["attempts"], 2, "{failed}");
        assert!(failed["reason"].as_str().is_some());
    }
    assert!(report["failed"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("did not answer"));
    assert!(report["failed"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("500"));
    assert_eq!(recorder.hits.lock().unwrap().get("1007"), None);

    // The pace: requests at least about 1/RATE apart; never more than `concurrency` at once.
    let mut arrivals = recorder.arrivals.lock().unwrap().clone();
    arrivals.sort();
    assert_eq!(arrivals.len(), 10, "8 therapists, 2 retries");
    let interval = Duration::from_secs_f64(1.0 / RATE);
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= interval / 2,
            "requests {gap:?} apart; the pace is {interval:?}"
        );
    }
    assert!(recorder.max_in_flight.load(Ordering::SeqCst) <= 2);

    // The stored data follow KP; a loss leaves the granted registration, changes compliance from
    // today, and goes to the insurer export; a gain releases the waiting registration.
    assert_eq!(
        crate::helpers::stored_kp(&app, "07100003")
            .kp_status
            .as_deref(),
        Some("diplomageregistreerd")
    );
    assert_eq!(
        crate::helpers::stored_kp(&app, "07100004")
            .kp_status
            .as_deref(),
        Some("not_registered")
    );
    assert_eq!(
        crate::helpers::stored_kp(&app, "07100005")
            .kp_source
            .as_deref(),
        Some("import"),
        "a failed check changes nothing"
    );
    let registrations = get(
        &app,
        &registrar,
        "/v1/practices/07000001/registrations/2026",
    )
    .await;
    assert_eq!(registrations["state"], "registered");
    let waiting = get(
        &app,
        &registrar,
        "/v1/practices/07000002/registrations/2026",
    )
    .await;
    assert_eq!(waiting["state"], "registered", "{waiting}");
    let compliance = get(
        &app,
        &registrar,
        "/v1/practices/07000001/compliance/2026?criteria=basis",
    )
    .await;
    let kp_criterion = compliance["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "basis.kp_registered")
        .unwrap()
        .clone();
    assert_eq!(kp_criterion["status"], "not_met", "{kp_criterion}");

    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox_events WHERE destination = 'insurer-export' \
             AND kind = 'kp_registration_lost' AND status = 'pending' AND attempts = 0"
        ),
        2
    );
    let lost: Value = {
        #[derive(diesel::QueryableByName)]
        struct Payload {
            #[diesel(sql_type = diesel::sql_types::Jsonb)]
            payload: Value,
        }
        diesel::sql_query(
            "SELECT payload FROM outbox_events WHERE payload->>'therapist_agb' = '07100003' \
             AND kind = 'kp_registration_lost'",
        )
        .get_result::<Payload>(&mut app.db().connect())
        .unwrap()
        .payload
    };
    assert_eq!(lost["practice_agbs"], json!(["07000001"]));
    assert_eq!(lost["effective_on"], "2026-06-01");
    assert_eq!(lost["run_id"], started["id"]);
    // The 90th day is in the window, the 91st is not; once per registration period.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox_events WHERE kind = 'kp_registration_expiring' \
             AND payload->>'therapist_agb' = '07100008'"
        ),
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox_events WHERE kind = 'kp_registration_expiring'"
        ),
        1
    );
    // Every change is in the audit trail with the run as its source.
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM audit_events WHERE action = 'kp.verify' \
                 AND detail->>'source' = 'kp_verification_run' AND detail->>'run_id' = '{}'",
                started["id"].as_str().unwrap()
            )
        ),
        3
    );

    // A second run announces no expiry twice, and the list shows both runs, newest first.
    let second: Value = start(&app, &registrar).await.json().await.unwrap();
    let second = finished(&app, &registrar, second["id"].as_str().unwrap()).await;
    assert_eq!(second["totals"]["changed"], 0, "{second}");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox_events WHERE kind = 'kp_registration_expiring'"
        ),
        1
    );
    let page = get(&app, &registrar, "/v1/kp-verification-runs?limit=1").await;
    assert_eq!(page["items"][0]["id"], second["id"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = get(
        &app,
        &registrar,
        &format!("/v1/kp-verification-runs?limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(rest["items"][0]["id"], started["id"]);
    assert!(rest["next_cursor"].is_null());

    // The figures are in /metrics.
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("prr_kp_verification_runs{service=\"register\",state=\"completed\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "prr_kp_verification_last_run_therapists{service=\"register\",outcome=\"failed\"} 2"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failure_stops_the_run_and_a_cancelled_run_ends_cancelled() {
    let (kp, recorder) = stand_in(HashMap::new(), Answer::ServerError);
    let app = app_with_kp(&kp, |setup| {
        setup.register.kp_verification.stop_after_failures = 3;
        setup.register.kp_verification.concurrency = 1;
    })
    .await;
    let registrar = app.registrar_token().await;
    app.create_practice("07000001").await;
    for i in 1..=9 {
        therapist(
            &app,
            &format!("0710000{i}"),
            "07000001",
            &format!("100{i}"),
            "kwaliteitsgeregistreerd",
            "2024-01-01",
            "2028-12-31",
            None,
        );
    }
    let started: Value = start(&app, &registrar).await.json().await.unwrap();
    let report = finished(&app, &registrar, started["id"].as_str().unwrap()).await;
    assert_eq!(report["state"], "stopped");
    assert!(report["stop_reason"]
        .as_str()
        .unwrap()
        .contains("3 therapists in a row"));
    assert_eq!(report["totals"]["failed"], 3);
    assert_eq!(report["totals"]["pending"], 6);
    // 3 therapists × 2 attempts, and then KP is left alone.
    assert_eq!(recorder.arrivals.lock().unwrap().len(), 6);

    // Cancellation: a slow KP, cancelled after the start.
    let (slow, _) = stand_in(
        HashMap::new(),
        Answer::Registered("kwaliteitsgeregistreerd", "2024-01-01", "2028-12-31"),
    );
    let app = app_with_kp(&slow, |setup| {
        setup.register.kp_verification.requests_per_second = 2.0;
        setup.register.kp_verification.concurrency = 1;
    })
    .await;
    let registrar = app.registrar_token().await;
    app.create_practice("07000001").await;
    for i in 1..=9 {
        therapist(
            &app,
            &format!("0710000{i}"),
            "07000001",
            &format!("100{i}"),
            "kwaliteitsgeregistreerd",
            "2024-01-01",
            "2028-12-31",
            None,
        );
    }
    let started: Value = start(&app, &registrar).await.json().await.unwrap();
    let id = started["id"].as_str().unwrap();
    let cancel = app
        .http
        .post(app.url(&format!("/v1/kp-verification-runs/{id}/cancellation")))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 202);
    let report = finished(&app, &registrar, id).await;
    assert_eq!(report["state"], "cancelled");
    assert_eq!(report["cancel_requested_by"], "test-registrar");
    assert!(
        report["totals"]["pending"].as_i64().unwrap() > 0,
        "{report}"
    );
    let again = app
        .http
        .post(app.url(&format!("/v1/kp-verification-runs/{id}/cancellation")))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap();
    expect_problem(again, 409).await;
    let unknown = app
        .http
        .get(app.url(&format!(
            "/v1/kp-verification-runs/{}",
            uuid::Uuid::now_v7()
        )))
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap();
    expect_problem(unknown, 404).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_on_one_database_run_one_run_at_a_time_and_an_interrupted_run_resumes() {
    let (kp, recorder) = stand_in(
        HashMap::new(),
        Answer::Registered("kwaliteitsgeregistreerd", "2024-01-01", "2028-12-31"),
    );
    let app = app_with_kp(&kp, |_| {}).await;
    app.create_practice("07000001").await;
    for i in 1..=6 {
        therapist(
            &app,
            &format!("0710000{i}"),
            "07000001",
            &format!("100{i}"),
            "kwaliteitsgeregistreerd",
            "2024-01-01",
            "2028-12-31",
            None,
        );
    }
    let runner = || {
        let pool = praktijkregister_platform::db::pool(
            app.db().url(),
            4,
            Duration::from_secs(5),
            Duration::from_secs(30),
        )
        .unwrap();
        let mut settings = testing::section::<Register>();
        settings.kp_verification.requests_per_second = RATE;
        Arc::new(KpRuns::new(
            pool,
            http_verifier(&kp, 1000),
            Arc::new(ManualClock::new(at(TODAY))),
            settings.kp_verification,
            settings.cycle.calendar,
        ))
    };
    let (one, two) = (runner(), runner());
    let actor = || Actor {
        client_id: "test",
        role: "registrar",
        on_behalf_of: None,
    };
    // A run written but not yet worked on, as after a crash right after its start.
    let id = one
        .create(RunTrigger::Manual, None, "test", actor())
        .await
        .unwrap();
    match two.create(RunTrigger::Manual, None, "test", actor()).await {
        Err(StartError::InProgress(running)) => assert_eq!(running, id),
        other => panic!("expected a run in progress, got {other:?}"),
    }
    let working = tokio::spawn(one.clone().execute(id));
    // Wait until the first runner holds the run.
    let deadline = Instant::now() + Duration::from_secs(20);
    while recorder.arrivals.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        two.clone().execute(id).await.unwrap(),
        None,
        "the other runner holds it"
    );
    assert!(matches!(
        two.start(RunTrigger::Manual, None, "test", actor()).await,
        Err(StartError::InProgress(running)) if running == id
    ));
    // The first runner stops mid-way (a restart): its lock goes with its connection.
    working.abort();
    let _ = working.await;
    // The other takes the run up where it stopped, as soon as the lock is gone with the first
    // runner's connection.
    let deadline = Instant::now() + Duration::from_secs(20);
    let state = loop {
        match two.clone().execute(id).await {
            Ok(Some(state)) => break Some(state),
            Ok(None) => {}
            // A busy machine may keep the pool from answering in time; that is no answer yet.
            Err(praktijkregister_platform::error::ApiError::ServiceUnavailable(_)) => {}
            Err(other) => panic!("the run could not be taken up: {other:?}"),
        }
        assert!(Instant::now() < deadline, "the run was not taken up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        state,
        Some(praktijkregister_register::kp::runs::RunState::Completed)
    );
    let registrar = app.registrar_token().await;
    let report = get(&app, &registrar, &format!("/v1/kp-verification-runs/{id}")).await;
    assert_eq!(report["totals"]["checked"], 6);
    assert_eq!(report["resumptions"], 1);
    assert!(recorder
        .hits
        .lock()
        .unwrap()
        .values()
        .all(|hits| *hits <= 2));
}

#[tokio::test]
async fn the_expiry_window_includes_its_last_day_and_a_practice_sees_only_its_own() {
    let app = app_with_kp("", |_| {}).await;
    let registrar = app.registrar_token().await;
    for practice in ["07000001", "07000002"] {
        app.create_practice(practice).await;
    }
    let q = "kwaliteitsgeregistreerd";
    // Today is 2026-06-01: the 90th day is 2026-08-30.
    therapist(
        &app,
        "07100001",
        "07000001",
        "1001",
        q,
        "2021-06-02",
        "2026-06-01",
        None,
    );
    therapist(
        &app,
        "07100002",
        "07000001",
        "1002",
        q,
        "2021-08-31",
        "2026-08-30",
        None,
    );
    therapist(
        &app,
        "07100003",
        "07000001",
        "1003",
        q,
        "2021-09-01",
        "2026-08-31",
        None,
    );
    therapist(
        &app,
        "07100004",
        "07000001",
        "1004",
        q,
        "2021-05-31",
        "2026-05-31",
        None,
    );
    therapist(
        &app,
        "07100005",
        "07000002",
        "1005",
        q,
        "2021-07-01",
        "2026-07-01",
        None,
    );
    therapist(
        &app,
        "07100006",
        "07000001",
        "1006",
        "diplomageregistreerd",
        "2021-07-01",
        "2026-07-01",
        None,
    );

    let own = get(
        &app,
        &registrar,
        "/v1/practices/07000001/kp-expiries?within_days=90",
    )
    .await;
    assert_eq!(agbs(&own["items"]), vec!["07100001", "07100002"]);
    assert_eq!(own["items"][0]["days_left"], 0);
    assert_eq!(own["items"][1]["days_left"], 90);
    assert_eq!(own["items"][1]["valid_until"], "2026-08-30");
    let wider = get(
        &app,
        &registrar,
        "/v1/practices/07000001/kp-expiries?within_days=91",
    )
    .await;
    assert_eq!(
        agbs(&wider["items"]),
        vec!["07100001", "07100002", "07100003"]
    );
    // The default window is the configured one (90 days).
    let default = get(&app, &registrar, "/v1/practices/07000001/kp-expiries").await;
    assert_eq!(default["items"], own["items"]);

    let all = get(&app, &registrar, "/v1/kp-expiries?limit=2").await;
    assert_eq!(agbs(&all["items"]), vec!["07100001", "07100005"]);
    let cursor = all["next_cursor"].as_str().unwrap();
    let rest = get(
        &app,
        &registrar,
        &format!("/v1/kp-expiries?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(agbs(&rest["items"]), vec!["07100002"]);

    let practice = app.token_for(ClientRole::Practice, "07000001").await;
    let mine = get(&app, &practice, "/v1/practices/07000001/kp-expiries").await;
    assert_eq!(agbs(&mine["items"]), vec!["07100001", "07100002"]);
    let other = app
        .http
        .get(app.url("/v1/practices/07000002/kp-expiries"))
        .bearer_auth(&practice)
        .send()
        .await
        .unwrap();
    expect_problem(other, 404).await;
    let register_wide = app
        .http
        .get(app.url("/v1/kp-expiries"))
        .bearer_auth(&practice)
        .send()
        .await
        .unwrap();
    expect_problem(register_wide, 403).await;
    for bad in ["-1", "1828", "soon"] {
        let response = app
            .http
            .get(app.url(&format!(
                "/v1/practices/07000001/kp-expiries?within_days={bad}"
            )))
            .bearer_auth(&registrar)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 422).await;
        assert_eq!(problem["errors"][0]["field"], "within_days");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_releases_registrations_whose_stored_kp_data_became_valid_and_tells_the_export() {
    let answers = HashMap::from([
        (
            "1001".to_string(),
            Answer::Registered("kwaliteitsgeregistreerd", "2026-06-01", "2031-05-31"),
        ),
        (
            "1004".to_string(),
            Answer::Registered("diplomageregistreerd", "2021-01-01", "2026-12-31"),
        ),
    ]);
    let (kp, _) = stand_in(
        answers,
        Answer::Registered("kwaliteitsgeregistreerd", "2024-01-01", "2028-12-31"),
    );
    let app = app_with_kp(&kp, |_| {}).await;
    let registrar = app.registrar_token().await;
    for practice in ["07000001", "07000002", "07000003"] {
        app.create_practice(practice).await;
    }
    let q = "kwaliteitsgeregistreerd";
    // Practice 1: its therapist's KP period, known before, starts today (TODAY).
    therapist(
        &app,
        "07100001",
        "07000001",
        "1001",
        q,
        "2026-06-01",
        "2031-05-31",
        None,
    );
    // Practice 2: the lacking therapist left yesterday; the other is registered.
    therapist(
        &app,
        "07100002",
        "07000002",
        "1002",
        q,
        "2024-01-01",
        "2028-12-31",
        None,
    );
    therapist(
        &app,
        "07100003",
        "07000002",
        "1003",
        "diplomageregistreerd",
        "2021-01-01",
        "2026-12-31",
        Some("2026-05-31"),
    );
    // Practice 3: still lacking.
    therapist(
        &app,
        "07100004",
        "07000003",
        "1004",
        "diplomageregistreerd",
        "2021-01-01",
        "2026-12-31",
        None,
    );
    for (practice, lacking) in [
        ("07000001", "07100001"),
        ("07000002", "07100003"),
        ("07000003", "07100004"),
    ] {
        sql(
            &app,
            &format!(
                "INSERT INTO registrations (practice_agb, cycle_year, state, lacking_kp) \
                 VALUES ('{practice}', 2026, 'awaiting_kp', '{{{lacking}}}')"
            ),
        );
    }

    let started: Value = start(&app, &registrar).await.json().await.unwrap();
    let report = finished(&app, &registrar, started["id"].as_str().unwrap()).await;
    assert_eq!(report["state"], "completed", "{report}");
    // KP told the register nothing new.
    assert_eq!(report["totals"]["changed"], 0, "{report}");
    assert_eq!(report["totals"]["unchanged"], 3, "{report}");

    for (practice, state) in [
        ("07000001", "registered"),
        ("07000002", "registered"),
        ("07000003", "awaiting_kp"),
    ] {
        let registration = get(
            &app,
            &registrar,
            &format!("/v1/practices/{practice}/registrations/2026"),
        )
        .await;
        assert_eq!(registration["state"], state, "{practice}: {registration}");
    }
    // Each release is an event for the insurer export, as any transition is.
    #[derive(diesel::QueryableByName)]
    struct Payload {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        payload: Value,
    }
    let released: Vec<Value> = diesel::sql_query(
        "SELECT payload FROM outbox_events WHERE destination = 'insurer-export' \
         AND kind = 'registration_changed' ORDER BY payload->>'practice_agb'",
    )
    .load::<Payload>(&mut app.db().connect())
    .unwrap()
    .into_iter()
    .map(|p| p.payload)
    .collect();
    assert_eq!(released.len(), 2, "{released:?}");
    for (event, practice) in released.iter().zip(["07000001", "07000002"]) {
        assert_eq!(event["practice_agb"], practice);
        assert_eq!(event["change"]["from_state"], "awaiting_kp");
        assert_eq!(event["change"]["to_state"], "registered");
        assert_eq!(event["change"]["cycle_year"], 2026);
        assert!(event["change"]["registered_at"].is_string(), "{event}");
    }
}
