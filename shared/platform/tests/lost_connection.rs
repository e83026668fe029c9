//! A database connection that dies under a request is an outage, not a fault of the service:
//! 503 problem+json with `Retry-After` (DESIGN §6), whether it dies between statements or in the
//! middle of a transaction.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::ResponseError;
use diesel::sql_types::Integer;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use praktijkregister_platform::db::{self, PLATFORM_MIGRATIONS};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::testing::TestDatabase;

#[derive(diesel::QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// Ends the server process of `conn` from another connection, as an administrator or a restart
/// would.
async fn terminate(db: &TestDatabase, conn: &mut diesel_async::AsyncPgConnection) {
    let Pid { pid } = diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result(conn)
        .await
        .unwrap();
    let mut admin = db.connect();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("SELECT pg_terminate_backend({pid})")),
        &mut admin,
    )
    .unwrap();
    // The server closes the socket shortly after.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

fn assert_outage(error: ApiError) {
    let response = error.error_response();
    assert_eq!(response.status(), 503, "{error:?}");
    assert!(
        response.headers().get("retry-after").is_some(),
        "{error:?} has no Retry-After"
    );
}

#[tokio::test]
async fn a_connection_killed_between_statements_is_a_503_with_retry_after() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = db::pool(db.url(), 2, Duration::from_secs(5), Duration::from_secs(30)).unwrap();
    let mut conn = db::connection(&pool).await.unwrap();
    terminate(&db, &mut conn).await;
    let error = diesel::sql_query("SELECT 1 AS pid")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_outage(ApiError::from(error));
}

#[tokio::test]
async fn a_connection_killed_inside_a_transaction_is_a_503_with_retry_after() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = db::pool(db.url(), 2, Duration::from_secs(5), Duration::from_secs(30)).unwrap();
    let mut conn = db::connection(&pool).await.unwrap();
    let result = conn
        .transaction::<(), ApiError, _>(|conn| {
            async move {
                diesel::sql_query("CREATE TEMP TABLE t (n INT)")
                    .execute(conn)
                    .await?;
                terminate(&db, conn).await;
                diesel::sql_query("INSERT INTO t VALUES (1)")
                    .execute(conn)
                    .await?;
                Ok(())
            }
            .scope_boxed()
        })
        .await;
    assert_outage(result.unwrap_err());
}
