//! Statements of fixed text are prepared once per connection and reused; `sql_query` ones never.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use diesel::sql_types::{BigInt, Integer, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use praktijkregister_platform::db::{self, prepared, PLATFORM_MIGRATIONS};
use praktijkregister_platform::testing::TestDatabase;

#[derive(QueryableByName)]
struct Answer {
    #[diesel(sql_type = Text)]
    label: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

const LABEL: &str = "SELECT $1::text || '-' || $2::int AS label";

#[tokio::test]
async fn a_prepared_statement_is_prepared_once_and_answers_each_call_with_its_binds() {
    let db = TestDatabase::create("platform", PLATFORM_MIGRATIONS);
    let pool = db::pool(db.url(), 1, Duration::from_secs(5), Duration::from_secs(30)).unwrap();
    let mut conn = db::connection(&pool).await.unwrap();
    for (text, number) in [("a", 1), ("b", 2), ("c", 3)] {
        let answer: Answer = prepared(LABEL)
            .bind::<Text, _>(text)
            .bind::<Integer, _>(number)
            .get_result(&mut conn)
            .await
            .unwrap();
        assert_eq!(answer.label, format!("{text}-{number}"));
        // The same text through sql_query is never kept.
        let _: Answer = diesel::sql_query(LABEL)
            .bind::<Text, _>(text)
            .bind::<Integer, _>(number)
            .get_result(&mut conn)
            .await
            .unwrap();
    }
    let kept: Count =
        prepared("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1::text")
            .bind::<Text, _>(LABEL)
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(kept.n, 1, "one prepared statement for three calls");
}
