//! A service started as in production (the platform's `serve`) on a free port, against a
//! database of its own; several can run side by side and call each other.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;

use super::{TestClient, TestDatabase};
use crate::config::{Config, ServerSettings, Settings};
use crate::db::DbPool;
use crate::service::{self, Service};

/// A running service of a test. Dropping it stops the server and drops the database.
pub struct TestServer {
    pub client: TestClient,
    pub base_url: String,
    pub port: u16,
    pub db: TestDatabase,
    pub pool: DbPool,
    pub data_dir: PathBuf,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The platform's defaults with a data directory of the test's own.
pub fn test_settings() -> Settings {
    let mut settings = Settings::defaults().expect("defaults");
    settings.app.data_dir = std::env::temp_dir().join(format!("prr-test-{}", uuid::Uuid::new_v4()));
    settings
}

/// The defaults of `S`'s own settings.
pub fn section<S: Service>() -> S::Settings {
    Config::defaults(&[S::defaults()])
        .and_then(|config| config.section(S::NAME))
        .expect("the service's default settings")
}

/// The defaults of `S`'s server settings.
fn server<S: Service>() -> ServerSettings {
    Config::defaults(&[S::defaults()])
        .and_then(|config| config.server(S::NAME))
        .expect("the service's default server settings")
}

/// Starts `S` on port 0 against a new database migrated from its template; `state` builds the
/// context on the pool, with whatever dependencies the test chooses.
pub async fn spawn<S, F, Fut>(settings: Settings, section: S::Settings, state: F) -> TestServer
where
    S: Service,
    F: FnOnce(Settings, S::Settings, DbPool) -> Fut,
    Fut: Future<Output = S::State>,
{
    let db = TestDatabase::create(S::NAME, S::MIGRATIONS);
    let mut server = server::<S>();
    server.host = "127.0.0.1".into();
    server.port = 0;
    server.database_url = Some(SecretString::from(db.url().to_string()));
    let pool = crate::db::pool(
        db.url(),
        settings.database.pool_size,
        std::time::Duration::from_millis(settings.database.pool_timeout_ms),
        std::time::Duration::from_millis(settings.database.statement_timeout_ms),
    )
    .expect("pool");
    let context = state(settings.clone(), section.clone(), pool.clone()).await;
    let running = service::serve::<S>(
        &settings,
        &server,
        &section,
        pool.clone(),
        Arc::new(context),
    )
    .expect("serve the service");
    let base_url = format!("http://127.0.0.1:{}", running.port);
    let port = running.port;
    let handle = running.handle();
    tokio::spawn(running.run_until_stopped());
    TestServer {
        client: TestClient::new(base_url.clone()),
        base_url,
        port,
        db,
        pool,
        data_dir: settings.app.data_dir.clone(),
        handle,
    }
}
