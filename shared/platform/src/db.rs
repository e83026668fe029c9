//! Database access: the async pool for requests, and embedded migrations run on a sync connection.

use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::{sql_query, Connection, RunQueryDsl as _};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::ApiError;

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConnection = Object<AsyncPgConnection>;
pub type PoolError = diesel_async::pooled_connection::deadpool::PoolError;

/// Tables the platform itself owns in every service database (audit log); run before the service's own.
pub const PLATFORM_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The tables the platform's migrations create in every service database; a service's own schema
/// leaves them out.
pub const PLATFORM_TABLES: &[&str] = &[
    "audit_events",
    "idempotency_keys",
    "outbox_events",
    "inbox_events",
];

/// The advisory lock key under which migrations run, so replicas starting together take turns.
const MIGRATION_LOCK_KEY: i64 = 0x5052_525f_4d49_4752; // "PRR_MIGR"

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not connect to the database")]
    Connect(#[source] diesel::ConnectionError),
    #[error("migration failed")]
    Migrate(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("database statement failed")]
    Query(#[from] diesel::result::Error),
    #[error("could not build the connection pool")]
    Pool(#[source] diesel_async::pooled_connection::deadpool::BuildError),
}

/// The pool of request connections. `statement_timeout` bounds every statement, so that no
/// request waits on the database indefinitely.
///
/// A connection handed out again is not pinged first (`RecyclingMethod::Fast`: only an open
/// transaction or a broken connection is refused): a `SELECT 1` per checkout was one round trip
/// in every request (DESIGN §7). A connection that died while idle fails its first statement,
/// which answers 503 like any outage (DESIGN §6), and the pool drops it.
pub fn pool(
    url: &str,
    max_size: usize,
    wait_timeout: Duration,
    statement_timeout: Duration,
) -> Result<DbPool, DbError> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        with_session_options(url, statement_timeout),
        config,
    );
    Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(wait_timeout))
        .create_timeout(Some(wait_timeout))
        .recycle_timeout(Some(wait_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(DbError::Pool)
}

/// `url` with the session options of a request connection: the server-side
/// `statement_timeout`, and JIT off, because the planner's cost estimate switches JIT on for
/// short statements over large tables, where compiling takes longer than running (DESIGN §7).
fn with_session_options(url: &str, timeout: Duration) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}options=-c%20statement_timeout%3D{}%20-c%20jit%3Doff",
        timeout.as_millis().max(1)
    )
}

/// A pooled connection, or 503 when none is available in time.
pub async fn connection(pool: &DbPool) -> Result<DbConnection, ApiError> {
    pool.get().await.map_err(ApiError::from)
}

pub async fn ping(pool: &DbPool) -> Result<(), ApiError> {
    let mut conn = connection(pool).await?;
    diesel_async::RunQueryDsl::execute(sql_query("SELECT 1"), &mut conn).await?;
    Ok(())
}

/// Runs the platform's and then the service's pending migrations under an advisory lock.
/// Blocking: call it from `spawn_blocking` or before the runtime starts.
pub fn run_migrations(url: &str, service: EmbeddedMigrations) -> Result<(), DbError> {
    let mut conn = PgConnection::establish(url).map_err(DbError::Connect)?;
    sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(&mut conn)?;
    let result = match conn.run_pending_migrations(PLATFORM_MIGRATIONS) {
        Ok(_) => conn.run_pending_migrations(service).map(|_| ()),
        Err(e) => Err(e),
    }
    .map_err(DbError::Migrate);
    sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(&mut conn)?;
    result
}

/// Empties every table of the database's current schema but the migration record, in one
/// statement (`TRUNCATE … RESTART IDENTITY CASCADE`: no row trigger fires, sequences restart);
/// returns the tables emptied. For resetting a development database only: the append-only audit
/// log goes too.
pub async fn empty_tables(pool: &DbPool) -> Result<Vec<String>, ApiError> {
    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let mut conn = connection(pool).await?;
    let tables: Vec<Table> = diesel_async::RunQueryDsl::load(
        sql_query(
            "SELECT quote_ident(tablename) AS name FROM pg_tables \
             WHERE schemaname = current_schema() AND tablename <> '__diesel_schema_migrations' \
             ORDER BY tablename",
        ),
        &mut conn,
    )
    .await?;
    let names: Vec<String> = tables.into_iter().map(|t| t.name).collect();
    if !names.is_empty() {
        diesel_async::RunQueryDsl::execute(
            sql_query(format!(
                "TRUNCATE {} RESTART IDENTITY CASCADE",
                names.join(", ")
            )),
            &mut conn,
        )
        .await?;
    }
    Ok(names)
}

/// Escapes `%`, `_` and `\` so that a user's text matches literally in a LIKE pattern.
pub fn like_escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Decodes a stored value into its domain type. A value the domain refuses is a fault in the
/// data, not in the request: a 500 whose logged cause names the column, the value and the place
/// in the code, never a silent default.
#[track_caller]
pub fn decode<T, E>(
    column: &'static str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, ApiError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let location = std::panic::Location::caller();
    parse(raw).map_err(|error| {
        ApiError::Internal(
            anyhow::Error::new(error)
                .context(format!(
                    "column {column} holds {raw:?}, which is not a valid value"
                ))
                .context(format!("at {location}")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_the_domain_refuses_is_an_internal_error_naming_column_value_and_place() {
        let error = decode("registrations.state", "approved_by_hand", |raw| {
            praktijkregister_domain::RegistrationState::parse(raw)
        })
        .err();
        let Some(ApiError::Internal(cause)) = error else {
            panic!("expected an internal error, got {error:?}");
        };
        let chain = format!("{cause:#}");
        assert!(chain.contains("registrations.state"), "{chain}");
        assert!(chain.contains("approved_by_hand"), "{chain}");
        assert!(chain.contains("db.rs"), "{chain}");
        assert!(chain.contains("registration state is one of"), "{chain}");
    }
}

/// A hand-written statement whose text is fixed at compile time. Unlike `diesel::sql_query`,
/// whose text may be built at run time and is therefore parsed and planned on every call, each
/// connection prepares it once and reuses it: for the short statements of hot read paths the
/// parse and plan are most of the server's work (DESIGN §7). Bind values in the order of the
/// placeholders with `.bind::<T, _>(v)` and load rows with `QueryableByName`, as with `sql_query`.
pub fn prepared(sql: &'static str) -> Prepared<()> {
    Prepared { sql, binds: () }
}

/// See [`prepared`]; `B` are the values bound so far.
#[derive(Debug, Clone)]
pub struct Prepared<B> {
    sql: &'static str,
    binds: B,
}

/// A value bound to the next placeholder, after those of `B`.
#[derive(Debug, Clone)]
pub struct Bound<B, V, ST> {
    earlier: B,
    value: V,
    sql_type: std::marker::PhantomData<ST>,
}

impl<B> Prepared<B> {
    pub fn bind<ST, V>(self, value: V) -> Prepared<Bound<B, V, ST>> {
        Prepared {
            sql: self.sql,
            binds: Bound {
                earlier: self.binds,
                value,
                sql_type: std::marker::PhantomData,
            },
        }
    }
}

/// The bound values, walked in placeholder order.
pub trait BindValues {
    fn walk<'b>(
        &'b self,
        out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()>;
}

impl BindValues for () {
    fn walk<'b>(
        &'b self,
        _out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        Ok(())
    }
}

impl<B, V, ST> BindValues for Bound<B, V, ST>
where
    B: BindValues,
    V: diesel::serialize::ToSql<ST, diesel::pg::Pg>,
    diesel::pg::Pg: diesel::sql_types::HasSqlType<ST>,
{
    fn walk<'b>(
        &'b self,
        out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        self.earlier.walk(out)?;
        // The placeholder is in the statement's text already.
        out.push_bind_param_value_only::<ST, V>(&self.value)
    }
}

impl<B: BindValues> diesel::query_builder::QueryFragment<diesel::pg::Pg> for Prepared<B> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        // Nothing marks it unsafe to cache: its text is one of a fixed set.
        out.push_sql(self.sql);
        self.binds.walk(&mut out)
    }
}

impl<B> diesel::query_builder::QueryId for Prepared<B> {
    type QueryId = ();
    // Cached by its text, as there is no type per statement.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B> diesel::query_builder::Query for Prepared<B> {
    type SqlType = diesel::expression::expression_types::Untyped;
}
