//! Housekeeping against a real PostgreSQL database: the scheduled retention task removes expired
//! rows and keeps the rest; a development reset empties every table but the migration record.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use praktijkregister_platform::db::{self, DbPool, PLATFORM_MIGRATIONS};
use praktijkregister_platform::metrics::Metrics;
use praktijkregister_platform::retention::{self, RetentionSettings};
use praktijkregister_platform::testing::TestDatabase;
use support::eventually;

fn pool(db: &TestDatabase) -> DbPool {
    db::pool(db.url(), 4, Duration::from_secs(5), Duration::from_secs(30)).unwrap()
}

async fn execute(pool: &DbPool, sql: &str) {
    let mut conn = db::connection(pool).await.unwrap();
    diesel::sql_query(sql).execute(&mut conn).await.unwrap();
}

async fn count(pool: &DbPool, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db::connection(pool).await.unwrap();
    let row: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM ({sql}) rows"))
        .get_result(&mut conn)
        .await
        .unwrap();
    row.n
}

/// Rows on both sides of each retention: `old` ones past it, `new` ones within it.
async fn fill(pool: &DbPool) {
    execute(
        pool,
        "INSERT INTO idempotency_keys (client_id, key, request_sha256, status, response, created_at) VALUES \
         ('c', 'old', 'x', 201, '{}', now() - interval '73 hours'), \
         ('c', 'new', 'x', 201, '{}', now() - interval '71 hours')",
    )
    .await;
    execute(
        pool,
        "INSERT INTO outbox_events (event_id, destination, kind, payload, status, created_at, delivered_at) VALUES \
         (gen_random_uuid(), 'register', 'old_delivered', '{}', 'delivered', now() - interval '9 days', now() - interval '8 days'), \
         (gen_random_uuid(), 'register', 'new_delivered', '{}', 'delivered', now() - interval '9 days', now() - interval '6 days'), \
         (gen_random_uuid(), 'register', 'old_pending', '{}', 'pending', now() - interval '60 days', NULL), \
         (gen_random_uuid(), 'register', 'old_failed', '{}', 'failed', now() - interval '60 days', NULL)",
    )
    .await;
    execute(
        pool,
        "INSERT INTO inbox_events (event_id, kind, request_sha256, response, received_at) VALUES \
         (gen_random_uuid(), 'old', 'x', '{}', now() - interval '31 days'), \
         (gen_random_uuid(), 'new', 'x', '{}', now() - interval '29 days')",
    )
    .await;
}

#[tokio::test]
async fn the_scheduled_retention_task_removes_expired_rows_and_keeps_the_rest() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = pool(&db);
    fill(&pool).await;
    let settings = RetentionSettings {
        interval_seconds: 1,
        idempotency_key_hours: 72,
        outbox_delivered_days: 7,
        inbox_days: 30,
    };
    let metrics = std::sync::Arc::new(Metrics::new("platform").unwrap());
    let task = retention::spawn(pool.clone(), settings, Some(metrics.clone()));
    eventually(Duration::from_secs(20), "the first run", || async {
        count(&pool, "SELECT 1 FROM inbox_events WHERE kind = 'old'").await == 0
    })
    .await;
    // Rows that expire later are removed by a later run of the same task.
    execute(
        &pool,
        "INSERT INTO idempotency_keys (client_id, key, request_sha256, status, response, created_at) \
         VALUES ('c', 'later', 'x', 201, '{}', now() - interval '100 hours')",
    )
    .await;
    eventually(Duration::from_secs(20), "a later run", || async {
        count(&pool, "SELECT 1 FROM idempotency_keys WHERE key = 'later'").await == 0
    })
    .await;
    task.shutdown().await;

    let keys = count(&pool, "SELECT key FROM idempotency_keys WHERE key = 'new'").await;
    assert_eq!(keys, 1, "a recent answer is kept");
    assert_eq!(count(&pool, "SELECT 1 FROM idempotency_keys").await, 1);
    for (kind, kept) in [
        ("old_delivered", 0),
        ("new_delivered", 1),
        ("old_pending", 1),
        ("old_failed", 1),
    ] {
        let sql = format!("SELECT 1 FROM outbox_events WHERE kind = '{kind}'");
        assert_eq!(count(&pool, &sql).await, kept, "{kind}");
    }
    assert_eq!(
        count(&pool, "SELECT 1 FROM inbox_events WHERE kind = 'new'").await,
        1
    );
    assert_eq!(count(&pool, "SELECT 1 FROM inbox_events").await, 1);

    let text = metrics.render(&pool.status());
    for table in ["idempotency_keys", "outbox_events", "inbox_events"] {
        let expected = if table == "idempotency_keys" { 2 } else { 1 };
        let line =
            format!("prr_purged_rows_total{{service=\"platform\",table=\"{table}\"}} {expected}\n");
        assert!(text.contains(&line), "{line}: {text}");
    }
}

#[tokio::test]
async fn a_development_reset_empties_every_table_but_the_migration_record() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = pool(&db);
    fill(&pool).await;
    execute(
        &pool,
        "INSERT INTO audit_events (actor_client_id, actor_role, action, subject_type, subject_id, outcome) \
         VALUES ('c', 'registrar', 'create', 'practice', '07000001', 'success')",
    )
    .await;
    let migrations = count(&pool, "SELECT 1 FROM __diesel_schema_migrations").await;
    assert!(migrations > 0);

    let emptied = db::empty_tables(&pool).await.unwrap();
    for table in db::PLATFORM_TABLES {
        assert!(emptied.iter().any(|t| t == table), "{table}: {emptied:?}");
        let sql = format!("SELECT 1 FROM {table}");
        assert_eq!(count(&pool, &sql).await, 0, "{table}");
    }
    assert_eq!(
        count(&pool, "SELECT 1 FROM __diesel_schema_migrations").await,
        migrations
    );
    // Identities restart: the next outbox row is number 1 again.
    execute(
        &pool,
        "INSERT INTO outbox_events (event_id, destination, kind, payload) \
         VALUES (gen_random_uuid(), 'register', 'k', '{}')",
    )
    .await;
    assert_eq!(
        count(&pool, "SELECT 1 FROM outbox_events WHERE id = 1").await,
        1
    );
}
