//! Webhooks to a real receiver started by the test: signed as Standard Webhooks says, retried
//! while the receiver is down, delivered once when it is back, and redeliverable.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use praktijkregister_domain::RegistrationEvent;
use praktijkregister_insurer_export::webhooks::relay::Relay;
use praktijkregister_insurer_export::webhooks::signature;
use serde_json::{json, Value};

use crate::helpers::{cycle_year, start, Target, OTHER, OWN};

/// What the receiver got: the message ids whose signature it verified, and the refused count.
#[derive(Default)]
struct Received {
    verified: Vec<(String, Value)>,
    refused_while_down: usize,
    bad_signatures: usize,
}

struct Receiver {
    url: String,
    down: Arc<AtomicBool>,
    received: Arc<Mutex<Received>>,
    secret: Arc<Mutex<String>>,
    _server: actix_web::dev::ServerHandle,
}

/// The receiver's state: whether it is down, what it received, the secret it verifies with.
type ReceiverState = (Arc<AtomicBool>, Arc<Mutex<Received>>, Arc<Mutex<String>>);

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReceiverState>,
) -> HttpResponse {
    let (down, received, secret) = state.get_ref();
    let mut received = received.lock().unwrap();
    if down.load(Ordering::SeqCst) {
        received.refused_while_down += 1;
        return HttpResponse::ServiceUnavailable().finish();
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let id = header("webhook-id");
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap_or(0);
    let expected = signature(&secret.lock().unwrap(), &id, timestamp, &body).unwrap();
    let sent = header("webhook-signature");
    if !sent.split(' ').any(|s| s == expected)
        || (chrono::Utc::now().timestamp() - timestamp).abs() > 300
    {
        received.bad_signatures += 1;
        return HttpResponse::Unauthorized().finish();
    }
    received
        .verified
        .push((id, serde_json::from_slice(&body).unwrap()));
    HttpResponse::NoContent().finish()
}

fn start_receiver() -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let down = Arc::new(AtomicBool::new(true));
    let received = Arc::new(Mutex::new(Received::default()));
    let secret = Arc::new(Mutex::new(String::new()));
    let state = web::Data::new((down.clone(), received.clone(), secret.clone()));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/hooks", web::post().to(receive))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Receiver {
        url: format!("http://127.0.0.1:{port}/hooks"),
        down,
        received,
        secret,
        _server: handle,
    }
}

/// Registers `receiver` as the endpoint of insurer OWN, as that insurer, and gives the receiver
/// the secret to verify with; the created endpoint (with its secret).
async fn subscribe(suite: &crate::helpers::Suite, receiver: &Receiver) -> Value {
    let insurer = suite.insurer(OWN);
    let (status, created) = suite
        .export
        .client
        .caller(&insurer)
        .post(
            &format!("/v1/insurers/{OWN}/webhooks"),
            json!({"url": receiver.url}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    *receiver.secret.lock().unwrap() = created["secret"].as_str().unwrap().to_string();
    created
}

async fn eventually(mut done: impl FnMut() -> bool) {
    // A bound, not a timing assertion: generous for a loaded machine.
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not done in time");
}

#[tokio::test]
async fn a_change_reaches_the_receiver_signed_after_retries_once() {
    let suite = start().await;
    let year = cycle_year();
    suite.create_practice("07000101", "De Linde").await;
    suite
        .register_practice("07000101", year, Target::Registered)
        .await;
    suite.sync().await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;
    suite.build(OWN).await;

    let receiver = start_receiver();
    let insurer = suite.insurer(OWN);
    let caller = suite.export.client.caller(&insurer);
    let created = subscribe(&suite, &receiver).await;
    let webhook = created["id"].as_str().unwrap().to_string();

    // Withdrawn after the export, while the receiver is down.
    suite
        .registration_event("07000101", year, RegistrationEvent::Withdrawn)
        .await;
    suite.sync().await;
    eventually(|| receiver.received.lock().unwrap().refused_while_down >= 2).await;
    receiver.down.store(false, Ordering::SeqCst);
    eventually(|| !receiver.received.lock().unwrap().verified.is_empty()).await;
    // Nothing more arrives: delivered once.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (message_id, payload) = {
        let received = receiver.received.lock().unwrap();
        assert_eq!(received.verified.len(), 1);
        assert_eq!(received.bad_signatures, 0);
        received.verified[0].clone()
    };
    assert_eq!(payload["type"], "practice.withdrawn");
    assert_eq!(payload["data"]["practice_agb"], "07000101");
    assert_eq!(payload["data"]["after"]["state"], "withdrawn");

    // The same change is in the feed, and the delivery with its attempts is listed.
    let (_, feed) = caller.get(&format!("/v1/insurers/{OWN}/changes")).await;
    assert_eq!(feed["items"][0]["id"], payload["data"]["id"]);
    let deliveries_path = format!("/v1/insurers/{OWN}/webhooks/{webhook}/deliveries");
    let (status, deliveries) = caller.get(&deliveries_path).await;
    assert_eq!(status, 200, "{deliveries}");
    let delivery = &deliveries["items"][0];
    assert_eq!(delivery["id"], message_id.as_str());
    assert_eq!(delivery["status"], "delivered");
    let attempts = delivery["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 3, "{attempts:?}");
    assert_eq!(attempts[0]["status"], 503);
    assert_eq!(attempts.last().unwrap()["status"], 204);

    // The queue is in the service's metrics.
    let metrics = reqwest::get(suite.export.client.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains("prr_webhook_deliveries{service=\"insurer_export\",status=\"delivered\"} 1"),
        "{metrics}"
    );
    let families = praktijkregister_platform::testing::check_exposition(&metrics);
    for name in [
        "prr_webhook_oldest_pending_age_seconds",
        "prr_outbox_pending",
        "process_resident_memory_bytes",
        "db_pool_waiting",
    ] {
        assert!(families.contains_key(name), "{name}: {metrics}");
    }

    // Redelivered by hand: the receiver gets the same message id again.
    let (status, _) = caller
        .post(
            &format!("{deliveries_path}/{message_id}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(status, 202);
    eventually(|| receiver.received.lock().unwrap().verified.len() == 2).await;
    assert_eq!(receiver.received.lock().unwrap().verified[1].0, message_id);

    // Another insurer sees none of it.
    let other = suite.insurer(OTHER);
    let (status, _) = suite
        .export
        .client
        .caller(&other)
        .get(&deliveries_path)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_delivery_is_failed_once_its_retry_period_is_over() {
    let suite =
        crate::helpers::start_with(|section| section.webhooks.retry_period_seconds = 1).await;
    suite.create_practice("07000101", "De Linde").await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;
    let receiver = start_receiver();
    let insurer = suite.insurer(OWN);
    let caller = suite.export.client.caller(&insurer);
    let created = subscribe(&suite, &receiver).await;
    let webhook = created["id"].as_str().unwrap().to_string();
    suite.rename_practice("07000101", "De Eik").await;
    suite.sync().await;
    let path = format!("/v1/insurers/{OWN}/webhooks/{webhook}/deliveries");
    let mut status = String::new();
    for _ in 0..100 {
        let (_, deliveries) = caller.get(&path).await;
        status = deliveries["items"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if status == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "failed");
    assert!(receiver.received.lock().unwrap().verified.is_empty());
}

#[tokio::test]
async fn queued_deliveries_wait_in_the_database_for_the_relay_of_the_next_start() {
    let suite = crate::helpers::start_as(|_| {}, false).await;
    suite.create_practice("07000101", "De Linde").await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;
    let receiver = start_receiver();
    receiver.down.store(false, Ordering::SeqCst);
    let insurer = suite.insurer(OWN);
    let caller = suite.export.client.caller(&insurer);
    let created = subscribe(&suite, &receiver).await;
    suite.rename_practice("07000101", "De Eik").await;
    suite.sync().await;
    // No relay runs: the change waits as a pending delivery.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.received.lock().unwrap().verified.is_empty());
    let path = format!(
        "/v1/insurers/{OWN}/webhooks/{}/deliveries",
        created["id"].as_str().unwrap()
    );
    let (_, deliveries) = caller.get(&path).await;
    assert_eq!(deliveries["items"][0]["status"], "pending");
    assert_eq!(deliveries["items"][0]["attempts"], json!([]));

    // The relay of the next start finds it in the database and delivers it once.
    let section = praktijkregister_platform::testing::section::<
        praktijkregister_insurer_export::startup::InsurerExport,
    >();
    let relay = Relay::new(
        suite.export.pool.clone(),
        section.webhooks,
        praktijkregister_platform::config::Environment::Development,
        suite.webhook_key(),
    )
    .unwrap();
    let report = relay.run_once().await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    assert_eq!(relay.run_once().await.unwrap().delivered, 0);
    let received = receiver.received.lock().unwrap();
    assert_eq!(received.verified.len(), 1);
    assert_eq!(received.verified[0].1["type"], "practice.practice_changed");
}

/// A practice waiting for KP data at the export is released by the register's KP import after
/// it: the register's outbox brings the transition here, and the insurer sees the late
/// registration in its feed and at its webhook, not in its snapshot.
#[tokio::test]
async fn a_registration_released_by_kp_data_after_the_export_reaches_feed_and_webhook() {
    const ON_LIST: &str = "07000101";
    const WAITING: &str = "07000102";
    const THERAPIST: &str = "07100102";
    let suite = start().await;
    let year = cycle_year();
    suite.create_practice(ON_LIST, "De Linde").await;
    suite.create_practice(WAITING, "De Eik").await;
    let register = suite.register.client.caller(suite.register_registrar());
    let (status, body) = register
        .post(
            "/v1/therapists",
            json!({"agb": THERAPIST, "name": "A. Jansen", "kp_number": "123456"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = register
        .put(
            &format!("/v1/practices/{WAITING}/therapists/{THERAPIST}"),
            json!({"start_date": format!("{}-01-01", year)}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    suite
        .register_practice(ON_LIST, year, Target::Registered)
        .await;
    suite
        .register_practice(WAITING, year, Target::AwaitingKp)
        .await;
    suite.sync().await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;
    let snapshot = suite.build(OWN).await;
    assert_eq!(snapshot["practices"], 1, "{snapshot}");

    let receiver = start_receiver();
    receiver.down.store(false, Ordering::SeqCst);
    let insurer = suite.insurer(OWN);
    let caller = suite.export.client.caller(&insurer);
    subscribe(&suite, &receiver).await;

    // The KP export arrives in the register: the therapist is kwaliteitsgeregistreerd.
    let csv = format!(
        "kp_number,agb,name,status,valid_from,valid_until\n\
         123456,{THERAPIST},A. Jansen,kwaliteitsgeregistreerd,{}-01-01,{}-12-31\n",
        year - 2,
        year + 3
    );
    let imported = suite
        .register
        .client
        .http()
        .post(suite.register.client.url("/v1/kp-imports"))
        .bearer_auth(suite.register_registrar())
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200);
    let (_, registration) = register
        .get(&format!("/v1/practices/{WAITING}/registrations/{year}"))
        .await;
    assert_eq!(registration["state"], "registered", "{registration}");
    suite.sync().await;

    let (_, feed) = caller.get(&format!("/v1/insurers/{OWN}/changes")).await;
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{feed}");
    assert_eq!(items[0]["type"], "registered");
    assert_eq!(items[0]["practice_agb"], WAITING);
    assert_eq!(items[0]["cycle_year"], year);
    assert_eq!(items[0]["before"]["state"], "awaiting_kp");
    assert_eq!(items[0]["after"]["state"], "registered");
    eventually(|| receiver.received.lock().unwrap().verified.len() == 1).await;
    let payload = receiver.received.lock().unwrap().verified[0].1.clone();
    assert_eq!(payload["type"], "practice.registered");
    assert_eq!(payload["data"]["id"], items[0]["id"]);
    assert_eq!(payload["data"]["practice_agb"], WAITING);

    // The snapshot stays as it was built.
    let (_, body) = caller
        .get(&format!("/v1/insurers/{OWN}/exports/{}", cycle_year() + 1))
        .await;
    assert_eq!(body["practices"].as_array().unwrap().len(), 1);
    assert_eq!(body["practices"][0]["agb"], ON_LIST);
}

/// The export service is stopped while a delivery is pending (its receiver down) and while the
/// register reports another change; a new process on the same database delivers both, each
/// exactly once, to the receiver.
#[tokio::test]
async fn nothing_is_lost_across_a_restart_of_the_export_service() {
    const PRACTICE: &str = "07000101";
    let mut suite = start().await;
    let year = cycle_year();
    suite.create_practice(PRACTICE, "De Linde").await;
    suite
        .register_practice(PRACTICE, year, Target::Registered)
        .await;
    suite.sync().await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;
    suite.build(OWN).await;
    let receiver = start_receiver();
    let insurer = suite.insurer(OWN);
    let created = subscribe(&suite, &receiver).await;
    let webhook = created["id"].as_str().unwrap().to_string();

    // A withdrawal while the receiver is down: tried, and pending.
    suite
        .registration_event(PRACTICE, year, RegistrationEvent::Withdrawn)
        .await;
    suite.sync().await;
    eventually(|| receiver.received.lock().unwrap().refused_while_down >= 1).await;

    suite.stop_export().await;
    let stopped = reqwest::get(suite.export.client.url("/health/live")).await;
    assert!(stopped.is_err(), "the stopped service still answers");
    // While it is down the register renames the practice: its outbox keeps the event.
    suite.rename_practice(PRACTICE, "De Eik").await;
    let pass = suite.relay_once().await;
    assert_eq!((pass.delivered, pass.retried), (0, 1), "{pass:?}");
    // The receiver is back, but no process of the export service runs: nothing arrives.
    receiver.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.received.lock().unwrap().verified.is_empty());

    suite.restart_export().await;
    // The register's relay tries again after its backoff and now reaches the new process.
    tokio::time::sleep(Duration::from_millis(50)).await;
    suite.sync().await;
    eventually(|| receiver.received.lock().unwrap().verified.len() >= 2).await;
    // Nothing more arrives: each change exactly once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    {
        let received = receiver.received.lock().unwrap();
        assert_eq!(received.bad_signatures, 0);
        let types: Vec<&str> = received
            .verified
            .iter()
            .map(|(_, payload)| payload["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["practice.withdrawn", "practice.practice_changed"]);
        let mut ids: Vec<&str> = received
            .verified
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        ids.dedup();
        assert_eq!(ids.len(), 2);
    }

    let caller = suite.export.client.caller(&insurer);
    let (status, deliveries) = caller
        .get(&format!("/v1/insurers/{OWN}/webhooks/{webhook}/deliveries"))
        .await;
    assert_eq!(status, 200, "{deliveries}");
    let items = deliveries["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{deliveries}");
    for delivery in items {
        assert_eq!(delivery["status"], "delivered", "{delivery}");
        let attempts = delivery["attempts"].as_array().unwrap();
        let succeeded = attempts.iter().filter(|a| a["status"] == 204).count();
        assert_eq!(succeeded, 1, "{attempts:?}");
    }
    // The feed after the snapshot holds both, in order.
    let (_, feed) = caller.get(&format!("/v1/insurers/{OWN}/changes")).await;
    let types: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["withdrawn", "practice_changed"]);
}

#[derive(diesel::QueryableByName)]
struct StoredSecret {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    legacy_secret: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bytea>)]
    sealed_secret: Option<Vec<u8>>,
}

/// What the database holds of an endpoint's secret; asserts it gives the secret away nowhere.
fn assert_sealed(db: &praktijkregister_platform::testing::TestDatabase, id: &str, secret: &str) {
    use diesel::RunQueryDsl as _;
    let stored: StoredSecret = diesel::sql_query(
        "SELECT legacy_secret, sealed_secret FROM webhook_endpoints WHERE id = $1::uuid",
    )
    .bind::<diesel::sql_types::Text, _>(id)
    .get_result(&mut db.connect())
    .unwrap();
    assert_eq!(stored.legacy_secret, None);
    let sealed = stored.sealed_secret.expect("a sealed secret");
    let raw = base64::engine::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        secret.strip_prefix("whsec_").unwrap(),
    )
    .unwrap();
    for needle in [secret.as_bytes(), &raw[..], &secret.as_bytes()[6..]] {
        assert!(
            !sealed.windows(needle.len()).any(|w| w == needle),
            "the stored column holds the secret"
        );
    }
}

/// Secrets are sealed at rest, also those stored in plain text before (sealed at the next
/// start), and deliveries are still signed with the secret the insurer was given.
#[tokio::test]
async fn webhook_secrets_are_sealed_at_rest_and_deliveries_still_sign() {
    let mut suite = start().await;
    suite.create_practice("07000101", "De Linde").await;
    // Delivered now: a restart with an empty copy would load it from the register instead
    // (resync), and a resync records no change.
    suite.sync().await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;
    let insurer = suite.insurer(OWN);
    let new = start_receiver();
    new.down.store(false, Ordering::SeqCst);
    let created = subscribe(&suite, &new).await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert_sealed(&suite.export.db, created["id"].as_str().unwrap(), &secret);

    // An endpoint registered before secrets were sealed: its secret is in plain text.
    let old = start_receiver();
    old.down.store(false, Ordering::SeqCst);
    let old_secret = praktijkregister_insurer_export::webhooks::new_secret();
    *old.secret.lock().unwrap() = old_secret.clone();
    let old_id = uuid::Uuid::now_v7().to_string();
    {
        use diesel::RunQueryDsl as _;
        diesel::sql_query(
            "INSERT INTO webhook_endpoints (id, insurer_uzovi, url, legacy_secret) \
             VALUES ($1::uuid, $2, $3, $4)",
        )
        .bind::<diesel::sql_types::Text, _>(&old_id)
        .bind::<diesel::sql_types::Text, _>(OWN)
        .bind::<diesel::sql_types::Text, _>(&old.url)
        .bind::<diesel::sql_types::Text, _>(&old_secret)
        .execute(&mut suite.export.db.connect())
        .unwrap();
    }
    suite.stop_export().await;
    suite.restart_export().await;
    assert_sealed(&suite.export.db, &old_id, &old_secret);

    // Both receivers verify the signature of the next change with their own secret.
    suite.rename_practice("07000101", "De Eik").await;
    suite.sync().await;
    let arrived = || {
        new.received.lock().unwrap().verified.len() == 1
            && old.received.lock().unwrap().verified.len() == 1
    };
    for _ in 0..600 {
        if arrived() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !arrived() {
        let mut report = Vec::new();
        for (name, receiver, id) in [
            ("new", &new, created["id"].as_str().unwrap()),
            ("old", &old, old_id.as_str()),
        ] {
            let (_, deliveries) = suite
                .export
                .client
                .caller(&insurer)
                .get(&format!("/v1/insurers/{OWN}/webhooks/{id}/deliveries"))
                .await;
            let received = receiver.received.lock().unwrap();
            report.push(format!(
                "{name}: verified {}, bad signatures {}, refused {}; deliveries {deliveries}",
                received.verified.len(),
                received.bad_signatures,
                received.refused_while_down
            ));
        }
        panic!("not delivered once to each: {report:#?}");
    }
    for receiver in [&new, &old] {
        let received = receiver.received.lock().unwrap();
        assert_eq!(received.bad_signatures, 0);
        assert_eq!(received.verified[0].1["type"], "practice.practice_changed");
    }
}
