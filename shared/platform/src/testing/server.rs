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
    /// The task serving it: ends once the server has stopped and dropped its context.
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Stops the service as SIGTERM does (in-flight requests finish, the outbox relay flushes,
    /// the context and the background tasks it owns are dropped) and waits until it has. The
    /// database and the data directory stay, for [`TestServer::restart`].
    pub async fn stop(&mut self) {
        self.handle.stop(true).await;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Starts `S` again after [`TestServer::stop`], as a restarted process would: a new context
    /// built by `state` on a new pool, on the same database and the same port.
    pub async fn restart<S, F, Fut>(&mut self, settings: Settings, section: S::Settings, state: F)
    where
        S: Service,
        F: FnOnce(Settings, S::Settings, DbPool) -> Fut,
        Fut: Future<Output = S::State>,
    {
        assert!(self.task.is_none(), "stop the server before restarting it");
        let started = start::<S, F, Fut>(self.db.url(), self.port, settings, section, state).await;
        assert_eq!(started.port, self.port, "restarted on another port");
        self.pool = started.pool;
        self.handle = started.handle;
        self.task = Some(started.task);
    }
}

/// A service serving on a pool of its database.
struct Started {
    port: u16,
    pool: DbPool,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start<S, F, Fut>(
    database_url: &str,
    port: u16,
    settings: Settings,
    section: S::Settings,
    state: F,
) -> Started
where
    S: Service,
    F: FnOnce(Settings, S::Settings, DbPool) -> Fut,
    Fut: Future<Output = S::State>,
{
    let mut server = server::<S>();
    server.host = "127.0.0.1".into();
    server.port = port;
    server.database_url = Some(SecretString::from(database_url.to_string()));
    let pool = crate::db::pool(
        database_url,
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
    let port = running.port;
    let handle = running.handle();
    let task = tokio::spawn(running.run_until_stopped());
    Started {
        port,
        pool,
        handle,
        task,
    }
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
    let data_dir = settings.app.data_dir.clone();
    let started = start::<S, F, Fut>(db.url(), 0, settings, section, state).await;
    let base_url = format!("http://127.0.0.1:{}", started.port);
    TestServer {
        client: TestClient::new(base_url.clone()),
        base_url,
        port: started.port,
        db,
        pool: started.pool,
        data_dir,
        handle: started.handle,
        task: Some(started.task),
    }
}
