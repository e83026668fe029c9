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

async fn eventually(mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
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
    let (status, created) = caller
        .post(
            &format!("/v1/insurers/{OWN}/webhooks"),
            json!({"url": receiver.url}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    *receiver.secret.lock().unwrap() = created["secret"].as_str().unwrap().to_string();
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
    let (_, created) = caller
        .post(
            &format!("/v1/insurers/{OWN}/webhooks"),
            json!({"url": receiver.url}),
        )
        .await;
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
    let (_, created) = caller
        .post(
            &format!("/v1/insurers/{OWN}/webhooks"),
            json!({"url": receiver.url}),
        )
        .await;
    *receiver.secret.lock().unwrap() = created["secret"].as_str().unwrap().to_string();
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
    )
    .unwrap();
    let report = relay.run_once().await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    assert_eq!(relay.run_once().await.unwrap().delivered, 0);
    let received = receiver.received.lock().unwrap();
    assert_eq!(received.verified.len(), 1);
    assert_eq!(received.verified[0].1["type"], "practice.practice_changed");
}
