//! Service assembly: what a service is to the platform ([`Service`]) and the one [`serve`] that
//! gives every service the same frame: binding, middleware, metrics, rate limiting, health, API
//! documentation and graceful shutdown. A new service implements the trait in its own crate and
//! is added to the command line's list; nothing in the platform changes.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::web;
use diesel_migrations::EmbeddedMigrations;
use futures_util::future::BoxFuture;
use jsonwebtoken::DecodingKey;
use utoipa::openapi::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Revocations, Scope, TokenVerifier};
use crate::config::{
    Config, ConfigError, ServerSettings, ServiceDefaults, ServiceSettings, Settings,
};
use crate::db::{self, DbPool};
use crate::http::{build_app, openapi_document, Frame};
use crate::local_postgres;
use crate::metrics::Metrics;
use crate::outbox::{OutboxRelay, OutboxSettings, RelayHandle};
use crate::rate_limit::RateLimiter;
use crate::retention::RetentionHandle;
use crate::service_client::{ServiceClient, ServiceClientSettings};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    LocalPostgres(#[from] local_postgres::LocalPostgresError),
    #[error(transparent)]
    Database(#[from] db::DbError),
    #[error("start-up task failed")]
    Join(#[from] tokio::task::JoinError),
    #[error("token verification is misconfigured")]
    Verifier(#[from] crate::auth::VerifierConfigError),
    #[error("could not bind {address}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the metrics could not be set up")]
    Metrics(#[from] prometheus::Error),
    #[error("the outbox relay could not be set up: {0}")]
    Outbox(String),
    #[error("the {service} service could not be prepared")]
    State {
        service: &'static str,
        #[source]
        source: anyhow::Error,
    },
}

/// How long in-flight requests may run after SIGTERM before their connections are closed; the
/// outbox flush follows (deployments' grace periods are checked against both).
pub const DRAIN_SECONDS: u64 = 30;

/// A service of the suite, as the platform assembles and serves it.
pub trait Service: Send + Sync + Sized + 'static {
    /// Lower-case name: the settings section, the command-line name and the metrics label.
    const NAME: &'static str;
    /// The port it listens on unless configured otherwise.
    const DEFAULT_PORT: u16;
    /// TOML with the defaults of its section `[NAME]` (at least `database_name`).
    const DEFAULT_SETTINGS: &'static str;
    /// Its own database migrations, run after the platform's.
    const MIGRATIONS: EmbeddedMigrations;
    /// Where clients get tokens, as its OpenAPI document names it.
    const TOKEN_URL: &'static str;

    /// Its settings section.
    type Settings: ServiceSettings;
    /// The one context object its handlers receive as `web::Data<Self::State>`.
    type State: Send + Sync + 'static;

    /// The document's title, description, version and tags; paths come from [`Self::configure`].
    fn api_doc() -> OpenApi;

    /// Registers every route; the same registration feeds the server and the OpenAPI document.
    fn configure(cfg: &mut ServiceConfig);

    /// The scopes its operations may declare; the contract test holds the document to them.
    fn scopes() -> &'static [Scope];

    /// Builds the context on a migrated database, as the run command does (tests build their
    /// own with the dependencies they choose).
    fn build_state<'a>(
        settings: &'a Settings,
        section: &'a Self::Settings,
        pool: &'a DbPool,
    ) -> BoxFuture<'a, anyhow::Result<Self::State>>;

    /// Keys its tokens are verified with locally (the token issuer's own); others fetch the
    /// issuer's JWKS.
    fn local_token_keys(_state: &Self::State) -> Option<HashMap<String, DecodingKey>> {
        None
    }

    /// Where the service's outbox relay delivers its events, and the client that gets the relay's
    /// tokens; `None` for a service that sends no events.
    fn outbox(_section: &Self::Settings) -> Option<(OutboxSettings, ServiceClientSettings)> {
        None
    }

    /// The issuer's check of revoked clients (the register's); other services have none.
    fn revocations(_state: &Self::State) -> Option<Arc<dyn Revocations>> {
        None
    }

    /// The service's own figures for `/metrics`, read from its database on every scrape.
    fn metrics_sources(_state: &Self::State) -> Vec<Arc<dyn crate::metrics::MetricsSource>> {
        Vec::new()
    }

    /// Lines to show the operator once the service listens (credentials seeded at start-up).
    fn announce(_state: &Self::State) -> Vec<String> {
        Vec::new()
    }

    /// The loader's view of the section before its type is known.
    fn defaults() -> ServiceDefaults {
        ServiceDefaults {
            name: Self::NAME,
            port: Self::DEFAULT_PORT,
            defaults: Self::DEFAULT_SETTINGS,
        }
    }

    /// The service's OpenAPI document, as served at `/openapi.json` and checked in.
    fn openapi() -> OpenApi {
        crate::openapi::finish(
            openapi_document(Self::api_doc(), Self::configure),
            Self::TOKEN_URL,
            Self::scopes(),
            Self::DEFAULT_PORT,
        )
    }
}

/// A service that listens; [`Running::run_until_stopped`] serves until SIGTERM / Ctrl-C and lets
/// in-flight requests finish.
pub struct Running {
    pub name: &'static str,
    pub port: u16,
    pub base_url: String,
    /// What the service asked to show the operator.
    pub announcements: Vec<String>,
    server: Server,
    relay: Option<RelayHandle>,
    retention: RetentionHandle,
}

impl Running {
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM / Ctrl-C; then in-flight requests finish, and the outbox relay
    /// delivers what is due before the process ends (DESIGN §6); the retention task stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(relay) = self.relay {
            relay.shutdown().await;
        }
        self.retention.shutdown().await;
        served
    }
}

/// The database URL of a service: configured, or created on the embedded default server.
pub async fn database_url(
    settings: &Settings,
    server: &ServerSettings,
) -> Result<String, StartupError> {
    if let Some(url) = server.configured_database_url() {
        return Ok(url.to_string());
    }
    let database = settings.database.clone();
    let data_dir = settings.app.data_dir.clone();
    let name = server.database_name.clone();
    let url = tokio::task::spawn_blocking(move || {
        let admin = local_postgres::locate_or_start(&database, &data_dir)?;
        local_postgres::ensure_database(&admin, &name)
    })
    .await??;
    Ok(url)
}

/// Migrates the database at `url` (the platform's tables, then the service's) and opens the pool.
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

/// Finds and migrates the service's database, builds its context and serves it.
pub async fn start<S: Service>(
    settings: &Settings,
    server: &ServerSettings,
    section: &S::Settings,
) -> Result<Running, StartupError> {
    let pool = migrate::<S>(settings, server).await?;
    let state = S::build_state(settings, section, &pool)
        .await
        .map_err(|source| StartupError::State {
            service: S::NAME,
            source,
        })?;
    serve::<S>(settings, server, section, pool, Arc::new(state))
}

/// Finds (or creates) and migrates the service's database; the open pool.
pub async fn migrate<S: Service>(
    settings: &Settings,
    server: &ServerSettings,
) -> Result<DbPool, StartupError> {
    let url = database_url(settings, server).await?;
    migrate_and_connect(settings, &url, S::MIGRATIONS).await
}

/// Binds the service's port and serves its routes in the shared frame, with `state` as the
/// handlers' context.
pub fn serve<S: Service>(
    settings: &Settings,
    server_settings: &ServerSettings,
    section: &S::Settings,
    pool: DbPool,
    state: Arc<S::State>,
) -> Result<Running, StartupError> {
    let address = format!("{}:{}", server_settings.host, server_settings.port);
    let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
        address: address.clone(),
        source,
    })?;
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(server_settings.port);
    let mut verifier = TokenVerifier::new(&settings.auth, S::local_token_keys(&state))?;
    if let Some(revocations) = S::revocations(&state) {
        verifier = verifier.with_revocations(revocations);
    }
    let verifier = web::Data::new(verifier);
    let relay = match S::outbox(section) {
        Some((outbox, client)) => {
            let client = client
                .for_environment(settings)
                .map_err(StartupError::Outbox)?;
            let tokens = ServiceClient::new(client).map_err(StartupError::Outbox)?;
            let relay = OutboxRelay::new(pool.clone(), outbox, Arc::new(tokens))
                .map_err(StartupError::Outbox)?;
            Some(relay.spawn())
        }
        None => None,
    };
    let metrics = Arc::new(Metrics::new(S::NAME)?.with_sources(S::metrics_sources(&state)));
    let retention_pool = pool.clone();
    let frame = Frame {
        pool,
        metrics: metrics.clone(),
        rate_limiter: Arc::new(RateLimiter::new(
            settings.http.rate_limit_per_second,
            settings.http.rate_limit_burst,
        )),
        max_body_bytes: settings.http.max_body_bytes,
        denial_limiter: Arc::new(crate::denials::DenialLimiter::default()),
    };
    let document = Arc::new(S::openapi());
    let announcements = S::announce(&state);
    let context = web::Data::from(state);
    let server = crate::h1::serve(
        listener,
        move || {
            let (context, verifier) = (context.clone(), verifier.clone());
            build_app(frame.clone(), document.clone(), move |cfg| {
                cfg.app_data(context).app_data(verifier);
                S::configure(cfg);
            })
        },
        DRAIN_SECONDS,
    )
    .map_err(|source| StartupError::Bind { address, source })?;
    Ok(Running {
        name: S::NAME,
        port,
        base_url: format!("http://{}:{port}", server_settings.host),
        announcements,
        server,
        relay,
        // Started once the port is bound, so that a refused start leaves no task behind.
        retention: crate::retention::spawn(
            retention_pool,
            settings.retention.clone(),
            Some(metrics),
        ),
    })
}

/// A service as the command line sees it: one entry of its list, whatever the service's types.
pub trait ServiceEntry: Sync {
    fn name(&self) -> &'static str;
    fn defaults(&self) -> ServiceDefaults;
    /// Loads the section from `config`, then finds, migrates and serves the service.
    fn start<'a>(
        &'a self,
        config: &'a Config,
        settings: &'a Settings,
    ) -> BoxFuture<'a, Result<Running, StartupError>>;
    /// Loads the section and migrates the service's database.
    fn migrate<'a>(
        &'a self,
        config: &'a Config,
        settings: &'a Settings,
    ) -> BoxFuture<'a, Result<(), StartupError>>;
    fn openapi(&self) -> OpenApi;
}

/// The [`ServiceEntry`] of `S`: `&Entry::<MyService>::NEW` in the command line's list.
pub struct Entry<S>(PhantomData<fn() -> S>);

impl<S> Entry<S> {
    pub const NEW: Self = Self(PhantomData);
}

impl<S: Service> ServiceEntry for Entry<S> {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn defaults(&self) -> ServiceDefaults {
        S::defaults()
    }

    fn start<'a>(
        &'a self,
        config: &'a Config,
        settings: &'a Settings,
    ) -> BoxFuture<'a, Result<Running, StartupError>> {
        Box::pin(async move {
            let server = config.server(S::NAME)?;
            let section: S::Settings = config.section(S::NAME)?;
            start::<S>(settings, &server, &section).await
        })
    }

    fn migrate<'a>(
        &'a self,
        config: &'a Config,
        settings: &'a Settings,
    ) -> BoxFuture<'a, Result<(), StartupError>> {
        Box::pin(async move {
            let server = config.server(S::NAME)?;
            migrate::<S>(settings, &server).await.map(drop)
        })
    }

    fn openapi(&self) -> OpenApi {
        S::openapi()
    }
}
