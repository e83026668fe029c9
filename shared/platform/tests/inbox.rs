//! The inbox against a real PostgreSQL database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::ResponseError;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::RunQueryDsl;
use praktijkregister_events::{VisitationEvent, VisitationOutcome};
use praktijkregister_platform::db::{self, DbPool, PLATFORM_MIGRATIONS};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::inbox::{self, inbox_events, Received};
use praktijkregister_platform::testing::TestDatabase;
use serde_json::json;
use support::event;

/// A database with a table the applied events write to, so that a test can see what `apply` left.
async fn setup() -> (TestDatabase, DbPool) {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = db::pool(db.url(), 4, Duration::from_secs(5), Duration::from_secs(30)).unwrap();
    let mut conn = db::connection(&pool).await.unwrap();
    diesel::sql_query("CREATE TABLE applied (event_id UUID NOT NULL, n INT NOT NULL)")
        .execute(&mut conn)
        .await
        .unwrap();
    (db, pool)
}

async fn applied_rows(pool: &DbPool) -> i64 {
    let mut conn = db::connection(pool).await.unwrap();
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM applied")
        .get_result(&mut conn)
        .await
        .unwrap();
    count.n
}

/// Receives `event`, applying it by writing a row and answering with a counter value.
async fn receive(
    pool: &DbPool,
    event: &VisitationEvent,
    runs: &Arc<AtomicUsize>,
    pause: Duration,
) -> Result<Received, ApiError> {
    let mut conn = db::connection(pool).await.unwrap();
    let runs = Arc::clone(runs);
    let id = event.event_id;
    inbox::receive(&mut conn, event, move |conn| {
        async move {
            let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(pause).await;
            diesel::sql_query("INSERT INTO applied (event_id, n) VALUES ($1, $2)")
                .bind::<diesel::sql_types::Uuid, _>(id)
                .bind::<diesel::sql_types::Integer, _>(i32::try_from(n).unwrap())
                .execute(conn)
                .await?;
            Ok(json!({"applied": n}))
        }
        .scope_boxed()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_twice_is_applied_once_and_the_answer_replayed() {
    let (_db, pool) = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let e = event();

    let first = receive(&pool, &e, &runs, Duration::ZERO).await.unwrap();
    assert_eq!(
        first,
        Received {
            response: json!({"applied": 1}),
            replayed: false
        }
    );
    // The same event, as a relay would send it again after a lost answer.
    let again: VisitationEvent = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
    let second = receive(&pool, &again, &runs, Duration::ZERO).await.unwrap();
    assert_eq!(
        second,
        Received {
            response: json!({"applied": 1}),
            replayed: true
        }
    );

    assert_eq!(AtomicUsize::load(&runs, Ordering::SeqCst), 1);
    assert_eq!(applied_rows(&pool).await, 1);
    let response = second.into_response();
    assert_eq!(
        response.headers().get("Idempotent-Replayed").unwrap(),
        "true"
    );

    let mut conn = db::connection(&pool).await.unwrap();
    let (kind, sha): (String, String) = inbox_events::table
        .find(e.event_id)
        .select((inbox_events::kind, inbox_events::request_sha256))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(kind, "visitation_outcome");
    assert_eq!(sha, inbox::fingerprint(&e).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_id_with_another_body_is_refused() {
    let (_db, pool) = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let e = event();
    receive(&pool, &e, &runs, Duration::ZERO).await.unwrap();

    let mut other = e.clone();
    other.outcome = Some(VisitationOutcome::Negative);
    let error = receive(&pool, &other, &runs, Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(error.status_code().as_u16(), 422);
    let problem = error.to_problem();
    assert_eq!(problem.errors.len(), 1);
    assert_eq!(problem.errors[0].field, "event_id");
    assert_eq!(problem.errors[0].code, "event_id_reused");
    assert_eq!(AtomicUsize::load(&runs, Ordering::SeqCst), 1);
    assert_eq!(applied_rows(&pool).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deliveries_at_the_same_moment_apply_the_event_once() {
    let (_db, pool) = setup().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let e = event();
    // `apply` takes a while, so the second delivery arrives while the first is under way.
    let (a, b) = tokio::join!(
        receive(&pool, &e, &runs, Duration::from_millis(200)),
        receive(&pool, &e, &runs, Duration::from_millis(200)),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(AtomicUsize::load(&runs, Ordering::SeqCst), 1);
    assert_eq!(applied_rows(&pool).await, 1);
    assert_eq!(a.response, b.response);
    assert!(
        a.replayed != b.replayed,
        "one applied, one replayed: {a:?} {b:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_event_leaves_nothing_behind_and_can_be_applied_later() {
    let (_db, pool) = setup().await;
    let e = event();
    let mut conn = db::connection(&pool).await.unwrap();
    let id = e.event_id;
    let refused = inbox::receive(&mut conn, &e, move |conn| {
        async move {
            diesel::sql_query("INSERT INTO applied (event_id, n) VALUES ($1, 0)")
                .bind::<diesel::sql_types::Uuid, _>(id)
                .execute(conn)
                .await?;
            Err(ApiError::conflict(
                "the registration's state does not accept the event",
            ))
        }
        .scope_boxed()
    })
    .await
    .unwrap_err();
    assert_eq!(refused.status_code().as_u16(), 409);
    drop(conn);
    assert_eq!(applied_rows(&pool).await, 0);

    let runs = Arc::new(AtomicUsize::new(0));
    let later = receive(&pool, &e, &runs, Duration::ZERO).await.unwrap();
    assert!(!later.replayed);
    assert_eq!(applied_rows(&pool).await, 1);
}
