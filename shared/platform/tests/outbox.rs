//! The outbox against a real PostgreSQL database and real HTTP receivers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use praktijkregister_events::VisitationEvent;
use praktijkregister_platform::db::{self, DbPool, PLATFORM_MIGRATIONS};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::outbox::{
    self, outbox_events, OutboxRelay, OutboxSettings, StaticToken,
};
use praktijkregister_platform::testing::TestDatabase;
use support::{event, eventually, serve, serve_on, Request};
use uuid::Uuid;

const LIMIT: Duration = Duration::from_secs(20);

fn pool(db: &TestDatabase) -> DbPool {
    db::pool(db.url(), 8, Duration::from_secs(5), Duration::from_secs(30)).unwrap()
}

fn settings(receiver: &str) -> OutboxSettings {
    OutboxSettings {
        poll_interval_ms: 20,
        batch_size: 10,
        backoff_base_ms: 40,
        backoff_max_ms: 400,
        request_timeout_ms: 2000,
        flush_timeout_ms: 10_000,
        destinations: BTreeMap::from([("register".to_string(), receiver.to_string())]),
    }
}

fn relay(pool: &DbPool, settings: OutboxSettings) -> OutboxRelay {
    OutboxRelay::new(
        pool.clone(),
        settings,
        Arc::new(StaticToken("test-token".into())),
    )
    .unwrap()
}

/// Enqueues `events` in one committed transaction.
async fn enqueue_committed(pool: &DbPool, events: &[VisitationEvent]) {
    let mut conn = db::connection(pool).await.unwrap();
    conn.transaction::<_, ApiError, _>(|conn| {
        async move {
            for event in events {
                outbox::enqueue(conn, "register", event).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .unwrap();
}

#[derive(Debug, Queryable)]
struct Row {
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_attempt_at: Option<DateTime<Utc>>,
    last_status: Option<i32>,
    last_error: Option<String>,
}

async fn row(pool: &DbPool, event_id: Uuid) -> Row {
    let mut conn = db::connection(pool).await.unwrap();
    outbox_events::table
        .filter(outbox_events::event_id.eq(event_id))
        .select((
            outbox_events::status,
            outbox_events::attempts,
            outbox_events::next_attempt_at,
            outbox_events::last_attempt_at,
            outbox_events::last_status,
            outbox_events::last_error,
        ))
        .first(&mut conn)
        .await
        .unwrap()
}

async fn count_with_status(pool: &DbPool, status: &str) -> i64 {
    let mut conn = db::connection(pool).await.unwrap();
    outbox_events::table
        .filter(outbox_events::status.eq(status))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

/// A receiver that records every delivery by event id, and notices two deliveries of one id at
/// the same time.
#[derive(Default)]
struct Recorder {
    received: Mutex<Vec<Uuid>>,
    in_flight: Mutex<BTreeSet<Uuid>>,
    overlap: AtomicBool,
    bearer: Mutex<Option<String>>,
}

impl Recorder {
    async fn handle(&self, request: Request, delay: Duration) -> (u16, String) {
        let body = request.json();
        let id: Uuid = body["event_id"].as_str().unwrap().parse().unwrap();
        *self.bearer.lock().unwrap() = request.header("authorization").map(str::to_string);
        if !self.in_flight.lock().unwrap().insert(id) {
            self.overlap.store(true, Ordering::SeqCst);
        }
        tokio::time::sleep(delay).await;
        self.in_flight.lock().unwrap().remove(&id);
        self.received.lock().unwrap().push(id);
        (200, "{}".into())
    }

    fn count(&self, id: Uuid) -> usize {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| **r == id)
            .count()
    }

    fn distinct(&self) -> BTreeSet<Uuid> {
        self.received.lock().unwrap().iter().copied().collect()
    }

    fn total(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

async fn recording_receiver(delay: Duration) -> (Arc<Recorder>, String) {
    let recorder = Arc::new(Recorder::default());
    let handler_recorder = Arc::clone(&recorder);
    let addr = serve(move |request| {
        let recorder = Arc::clone(&handler_recorder);
        async move { recorder.handle(request, delay).await }
    })
    .await;
    (
        recorder,
        format!("http://{addr}/v1/internal/visitation-outcomes"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_event_is_delivered_once_and_a_rolled_back_one_never() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = pool(&db);
    let (recorder, url) = recording_receiver(Duration::ZERO).await;

    let committed = event();
    enqueue_committed(&pool, std::slice::from_ref(&committed)).await;
    let rolled_back = event();
    let mut conn = db::connection(&pool).await.unwrap();
    let result = conn
        .transaction::<(), ApiError, _>(|conn| {
            let event = rolled_back.clone();
            async move {
                outbox::enqueue(conn, "register", &event).await?;
                Err(ApiError::conflict("the change is refused"))
            }
            .scope_boxed()
        })
        .await;
    assert!(result.is_err());
    drop(conn);

    let relay = relay(&pool, settings(&url));
    let report = relay.run_once().await.unwrap();
    assert_eq!((report.claimed, report.delivered), (1, 1));
    // Further passes find nothing more to do.
    assert_eq!(relay.run_once().await.unwrap().claimed, 0);
    assert_eq!(relay.run_once().await.unwrap().claimed, 0);

    assert_eq!(recorder.count(committed.event_id), 1);
    assert_eq!(recorder.count(rolled_back.event_id), 0);
    assert_eq!(recorder.total(), 1);
    assert_eq!(
        recorder.bearer.lock().unwrap().as_deref(),
        Some("Bearer test-token")
    );
    let row = row(&pool, committed.event_id).await;
    assert_eq!(
        (row.status.as_str(), row.attempts, row.last_status),
        ("delivered", 1, Some(200))
    );
    let mut conn = db::connection(&pool).await.unwrap();
    let stats = outbox::stats(&mut conn).await.unwrap();
    assert_eq!((stats.pending, stats.failed), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_is_down_gets_the_event_with_growing_delays_once_it_is_back() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = pool(&db);
    let addr = support::closed_port().await;
    let url = format!("http://{addr}/events");
    let pending = event();
    enqueue_committed(&pool, std::slice::from_ref(&pending)).await;

    let handle = relay(&pool, settings(&url)).spawn();

    // Record each failed attempt as the relay makes it.
    let mut seen: Vec<Row> = Vec::new();
    let deadline = std::time::Instant::now() + LIMIT;
    while seen.last().map_or(0, |r| r.attempts) < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the relay keeps retrying"
        );
        let current = row(&pool, pending.event_id).await;
        if current.attempts > seen.last().map_or(0, |r| r.attempts) {
            seen.push(current);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut conn = db::connection(&pool).await.unwrap();
    let stats = outbox::stats(&mut conn).await.unwrap();
    assert_eq!(stats.pending, 1);
    assert!(stats.oldest_age_seconds > 0.0);
    drop(conn);
    for pair in seen.windows(2) {
        assert!(pair[1].attempts > pair[0].attempts);
        assert!(pair[1].next_attempt_at > pair[0].next_attempt_at);
    }
    for r in &seen {
        assert_eq!(r.status, "pending");
        assert!(
            r.last_error
                .as_deref()
                .unwrap()
                .contains("could not connect"),
            "{r:?}"
        );
        // The delay after the n-th failure is at most base · 2^(n-1) (full jitter below it).
        let delay = r.next_attempt_at - r.last_attempt_at.unwrap();
        let ceiling = outbox::backoff_ceiling(r.attempts - 1, 40, 400);
        assert!(
            delay.num_milliseconds() <= i64::try_from(ceiling).unwrap() + 1,
            "{delay} after {} failures",
            r.attempts
        );
    }

    // The receiver comes back on the same address.
    let recorder = Arc::new(Recorder::default());
    let handler_recorder = Arc::clone(&recorder);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    serve_on(listener, move |request| {
        let recorder = Arc::clone(&handler_recorder);
        async move { recorder.handle(request, Duration::ZERO).await }
    });
    eventually(LIMIT, "delivery after the receiver is back", || async {
        row(&pool, pending.event_id).await.status == "delivered"
    })
    .await;
    handle.shutdown().await;
    assert_eq!(recorder.count(pending.event_id), 1);
    assert!(row(&pool, pending.event_id).await.attempts >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_stopped_mid_way_loses_nothing_when_another_takes_over() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = pool(&db);
    let (recorder, url) = recording_receiver(Duration::from_millis(20)).await;
    let events: Vec<VisitationEvent> = (0..30).map(|_| event()).collect();
    enqueue_committed(&pool, &events).await;

    let mut s = settings(&url);
    s.batch_size = 4;
    let first = relay(&pool, s.clone()).spawn();
    eventually(LIMIT, "some deliveries", || async { recorder.total() >= 6 }).await;
    first.abort().await;
    let after_abort = recorder.total();
    assert!(after_abort < 30, "the relay was stopped mid-way");

    let second = relay(&pool, s).spawn();
    eventually(LIMIT, "every event delivered", || async {
        count_with_status(&pool, "delivered").await == 30
    })
    .await;
    second.shutdown().await;
    let expected: BTreeSet<Uuid> = events.iter().map(|e| e.event_id).collect();
    // At least once: a batch under way when the relay stopped may be delivered again.
    assert_eq!(recorder.distinct(), expected);
    assert_eq!(count_with_status(&pool, "pending").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_on_one_database_never_deliver_one_event_at_the_same_time() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let (recorder, url) = recording_receiver(Duration::from_millis(2)).await;
    let events: Vec<VisitationEvent> = (0..150).map(|_| event()).collect();
    // Each replica has its own pool, as two processes would.
    let pool_a = pool(&db);
    let pool_b = pool(&db);
    enqueue_committed(&pool_a, &events).await;

    let mut s = settings(&url);
    s.batch_size = 5;
    s.poll_interval_ms = 5;
    let a = relay(&pool_a, s.clone()).spawn();
    let b = relay(&pool_b, s).spawn();
    eventually(LIMIT, "every event delivered", || async {
        count_with_status(&pool_a, "delivered").await == 150
    })
    .await;
    a.shutdown().await;
    b.shutdown().await;

    assert!(
        !AtomicBool::load(&recorder.overlap, Ordering::SeqCst),
        "one event was delivered twice at once"
    );
    let mut counts: HashMap<Uuid, usize> = HashMap::new();
    for id in recorder.received.lock().unwrap().iter() {
        *counts.entry(*id).or_default() += 1;
    }
    assert_eq!(counts.len(), 150);
    // With every delivery answered, no event is delivered twice at all.
    let twice = counts.values().filter(|n| **n > 1).count();
    assert_eq!(twice, 0, "{twice} events were delivered more than once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_flushes_pending_events() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = pool(&db);
    let (recorder, url) = recording_receiver(Duration::ZERO).await;
    let mut s = settings(&url);
    // The relay would not look again for a minute on its own.
    s.poll_interval_ms = 60_000;
    let probe = event();
    enqueue_committed(&pool, std::slice::from_ref(&probe)).await;
    let handle = relay(&pool, s).spawn();
    // The first pass delivered the probe; the relay now sleeps.
    eventually(LIMIT, "the probe delivered", || async {
        row(&pool, probe.event_id).await.status == "delivered"
    })
    .await;

    let later: Vec<VisitationEvent> = (0..25).map(|_| event()).collect();
    enqueue_committed(&pool, &later).await;
    tokio::time::timeout(LIMIT, handle.shutdown())
        .await
        .expect("shutdown returns without waiting for the poll interval");

    for e in &later {
        assert_eq!(recorder.count(e.event_id), 1);
    }
    assert_eq!(count_with_status(&pool, "pending").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_kept_as_failed_and_a_server_error_is_retried() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = pool(&db);
    let refused = event();
    let troubled = event();
    let refused_id = refused.event_id.to_string();
    let hits = Arc::new(AtomicU16::new(0));
    let counter = Arc::clone(&hits);
    let addr = serve(move |request| {
        let refused_id = refused_id.clone();
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            if request.json()["event_id"] == refused_id.as_str() {
                (422, r#"{"title":"The request is not valid"}"#.to_string())
            } else {
                (500, "{}".to_string())
            }
        }
    })
    .await;
    enqueue_committed(&pool, &[refused.clone(), troubled.clone()]).await;
    let relay = relay(&pool, settings(&format!("http://{addr}/events")));

    let report = relay.run_once().await.unwrap();
    assert_eq!((report.claimed, report.failed, report.retried), (2, 1, 1));
    let failed = row(&pool, refused.event_id).await;
    assert_eq!(
        (failed.status.as_str(), failed.last_status),
        ("failed", Some(422))
    );
    assert!(failed.last_error.unwrap().contains("not valid"));
    let retried = row(&pool, troubled.event_id).await;
    assert_eq!(
        (retried.status.as_str(), retried.last_status),
        ("pending", Some(500))
    );

    // The failed row is not tried again; the other one is, once it is due.
    eventually(LIMIT, "the retry", || async {
        relay.run_once().await.unwrap();
        row(&pool, troubled.event_id).await.attempts >= 2
    })
    .await;
    assert_eq!(row(&pool, refused.event_id).await.attempts, 1);

    let mut conn = db::connection(&pool).await.unwrap();
    let stats = outbox::stats(&mut conn).await.unwrap();
    assert_eq!((stats.pending, stats.failed), (1, 1));
    let text = praktijkregister_platform::metrics::encode(
        outbox::collect_metrics(&mut conn, "visitation")
            .await
            .unwrap(),
    );
    assert!(
        text.contains("prr_outbox_failed{service=\"visitation\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("prr_outbox_pending{service=\"visitation\"} 1\n"),
        "{text}"
    );
    for status in ["failed", "pending"] {
        let line = format!(
            "prr_outbox_events{{service=\"visitation\",destination=\"register\",status=\"{status}\"}} 1\n"
        );
        assert!(text.contains(&line), "{line}: {text}");
    }

    // An operator sends it again once the receiver is fixed.
    assert_eq!(outbox::requeue_failed(&mut conn, None).await.unwrap(), 1);
    assert_eq!(row(&pool, refused.event_id).await.status, "pending");
}

#[tokio::test]
async fn an_event_for_a_destination_without_a_url_stays_pending_and_untouched() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = pool(&db);
    let waiting = event();
    {
        let mut conn = db::connection(&pool).await.unwrap();
        outbox::enqueue(&mut conn, "insurer-export", &waiting)
            .await
            .unwrap();
    }
    let (recorder, receiver) = recording_receiver(Duration::ZERO).await;
    let unconfigured = relay(&pool, settings(&receiver));
    for _ in 0..3 {
        let report = unconfigured.run_once().await.unwrap();
        assert_eq!(report.claimed, 0, "{report:?}");
    }
    let kept = row(&pool, waiting.event_id).await;
    assert_eq!((kept.status.as_str(), kept.attempts), ("pending", 0));
    assert!(kept.last_error.is_none());
    assert!(recorder.received.lock().unwrap().is_empty());

    // Once the destination is configured, the event goes.
    let mut configured = settings(&receiver);
    configured
        .destinations
        .insert("insurer-export".into(), receiver.clone());
    let report = relay(&pool, configured).run_once().await.unwrap();
    assert_eq!((report.claimed, report.delivered), (1, 1));
    assert_eq!(row(&pool, waiting.event_id).await.status, "delivered");
}
