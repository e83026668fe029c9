//! Start-up steps every service takes: find its database (configured or the embedded default),
//! migrate it under the advisory lock, and open the pool.

use std::time::Duration;

use diesel_migrations::EmbeddedMigrations;

use crate::config::{ServiceSettings, Settings};
use crate::db::{self, DbPool};
use crate::local_postgres;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    LocalPostgres(#[from] local_postgres::LocalPostgresError),
    #[error(transparent)]
    Database(#[from] db::DbError),
    #[error("start-up task failed")]
    Join(#[from] tokio::task::JoinError),
}

/// The database URL of `service`: configured, or created on the embedded default server.
pub async fn database_url(
    settings: &Settings,
    service: &ServiceSettings,
) -> Result<String, StartupError> {
    if let Some(url) = service.configured_database_url() {
        return Ok(url.to_string());
    }
    let database = settings.database.clone();
    let data_dir = settings.app.data_dir.clone();
    let name = service.database_name.clone();
    let url = tokio::task::spawn_blocking(move || {
        let admin = local_postgres::locate_or_start(&database, &data_dir)?;
        local_postgres::ensure_database(&admin, &name)
    })
    .await??;
    Ok(url)
}

/// Migrates the database at `url` and opens the request pool.
pub async fn migrate_and_connect(
    settings: &Settings,
    url: &str,
    migrations: EmbeddedMigrations,
) -> Result<DbPool, StartupError> {
    let migrate_url = url.to_string();
    tokio::task::spawn_blocking(move || db::run_migrations(&migrate_url, migrations)).await??;
    Ok(db::pool(
        url,
        settings.database.pool_size,
        Duration::from_millis(settings.database.pool_timeout_ms),
        Duration::from_millis(settings.database.statement_timeout_ms),
    )?)
}
