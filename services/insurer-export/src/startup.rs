//! The insurer-export service as the platform assembles it: its settings section, migrations,
//! routes, scopes and the one context object its handlers share.

use std::sync::Arc;

use actix_web::{get, web, HttpResponse};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use futures_util::future::BoxFuture;
use praktijkregister_platform::auth::Scope;
use praktijkregister_platform::clock::{Clock, SystemClock};
use praktijkregister_platform::config::{Environment, Settings};
use praktijkregister_platform::db::DbPool;
use praktijkregister_platform::service::Service;
use praktijkregister_platform::service_client::ServiceClient;
use praktijkregister_platform::signing::{JwksDocument, TokenSigner};
use tokio::sync::watch;
use utoipa::OpenApi;

use crate::settings::ExportSettings;
use crate::{changes, events, insurers, resync, schedule, snapshots, webhooks};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Praktijkregister: insurer-export service",
        description = "What insurers (zorgverzekeraars) receive from the VvOCM practice quality register: \
            once a year, on the export date (1 November), a signed snapshot of exactly the practices \
            registered for the cycle year, with eligibility per criterion of the insurer's own criteria \
            set, as JSON, CSV or a FHIR R4 Bundle; the changes after it as a resumable feed and as signed \
            webhooks. Snapshots are canonical JSON (RFC 8785) identified by their SHA-256 and signed \
            with a detached JWS whose keys are published at /.well-known/jwks.json. An insurer client \
            reads only its own. Errors are RFC 9457 problem details.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
        version = "1.0.0"
    ),
    tags(
        (name = "Signing keys", description = "The keys snapshots are signed with"),
        (name = "Insurers", description = "Insurers (zorgverzekeraars) and their criteria sets per contract year"),
        (name = "Snapshots", description = "The yearly list per insurer: build, correct, pull, explain"),
        (name = "Changes", description = "Changes after the snapshot that touch an insurer's list"),
        (name = "Webhooks", description = "Endpoints an insurer registers to be sent every change"),
        (name = "Internal", description = "Events from the register and the resync of its copy"),
    )
)]
struct ApiDoc;

/// The service.
pub struct InsurerExport;

/// What every handler shares.
pub struct ExportContext {
    pub settings: ExportSettings,
    pub environment: Environment,
    /// Signs the snapshots (the suite's signing key, published at `/.well-known/jwks.json`).
    pub signer: TokenSigner,
    /// Reads the register (evidence feed, calendar).
    pub register: Arc<ServiceClient>,
    pub clock: Arc<dyn Clock>,
    /// Seals and opens the endpoints' secrets at rest.
    pub webhook_key: webhooks::sealing::SecretKey,
    /// Stops the background tasks (webhook relay, schedule) when the context is dropped.
    pub background: Vec<watch::Sender<bool>>,
}

impl ExportContext {
    /// A context with the clock and register client of the caller's choice; no background tasks.
    pub fn new(
        settings: &Settings,
        section: &ExportSettings,
        register: Arc<ServiceClient>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            settings: section.clone(),
            environment: settings.app.environment,
            signer: TokenSigner::from_settings(settings)?,
            register,
            clock,
            webhook_key: webhooks::sealing::SecretKey::from_settings(settings, &section.webhooks)?,
            background: Vec::new(),
        })
    }

    /// The client of the register: the configured secret, or in development the client's
    /// development secret (which the register seeds).
    pub fn register_client(
        settings: &Settings,
        section: &ExportSettings,
    ) -> anyhow::Result<Arc<ServiceClient>> {
        let client = section
            .service_client
            .clone()
            .for_environment(settings)
            .and_then(ServiceClient::new)
            .and_then(|c| c.with_base_url(&section.register_url))
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(Arc::new(client))
    }

    /// Starts the webhook relay on `pool`; it stops when the context is dropped.
    pub fn spawn_webhook_relay(&mut self, pool: &DbPool) {
        let (stop, stopped) = watch::channel(false);
        webhooks::relay::spawn(
            pool.clone(),
            self.settings.webhooks.clone(),
            self.environment,
            self.webhook_key.clone(),
            stopped,
        );
        self.background.push(stop);
    }

    /// Loads the copy of the register on `pool` when it is empty; stops trying when the context
    /// is dropped.
    pub fn spawn_resync_on_start(&mut self, pool: &DbPool) {
        let (stop, stopped) = watch::channel(false);
        resync::spawn_on_start(
            pool.clone(),
            self.register.clone(),
            std::time::Duration::from_secs(self.settings.resync.retry_interval_seconds),
            stopped,
        );
        self.background.push(stop);
    }
}

/// Signing keys of the snapshots
///
/// The public keys snapshots are signed with, by `kid`: the current key and any still accepted
/// during a rotation. `praktijkregister snapshot verify` checks a snapshot against this set.
#[utoipa::path(
    tag = "Signing keys",
    responses((status = 200, description = "The JWK Set", body = JwksDocument))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(ctx: web::Data<ExportContext>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(ctx.signer.jwks())
}

fn configure_routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(jwks);
    insurers::configure(cfg);
    snapshots::routes::configure(cfg);
    changes::configure(cfg);
    webhooks::routes::configure(cfg);
    events::configure(cfg);
    resync::configure(cfg);
}

impl Service for InsurerExport {
    const NAME: &'static str = "insurer_export";
    const DEFAULT_PORT: u16 = 8083;
    const DEFAULT_SETTINGS: &'static str = crate::settings::DEFAULTS;
    const MIGRATIONS: EmbeddedMigrations = MIGRATIONS;
    const TOKEN_URL: &'static str = "http://127.0.0.1:8081/oauth/token";

    type Settings = ExportSettings;
    type State = ExportContext;

    fn api_doc() -> utoipa::openapi::OpenApi {
        ApiDoc::openapi()
    }

    fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
        configure_routes(cfg);
    }

    fn scopes() -> &'static [Scope] {
        praktijkregister_scopes::insurer_export::ALL
    }

    fn metrics_sources(
        _state: &ExportContext,
    ) -> Vec<Arc<dyn praktijkregister_platform::metrics::MetricsSource>> {
        vec![Arc::new(webhooks::relay::WebhookMetrics)]
    }

    fn build_state<'a>(
        settings: &'a Settings,
        section: &'a ExportSettings,
        pool: &'a DbPool,
    ) -> BoxFuture<'a, anyhow::Result<ExportContext>> {
        Box::pin(async move {
            let register = ExportContext::register_client(settings, section)?;
            let mut context =
                ExportContext::new(settings, section, register, Arc::new(SystemClock))?;
            // Secrets stored in plain text before they were sealed are sealed before any use.
            let mut conn = pool.get().await?;
            let sealed = webhooks::sealing::seal_stored(&mut conn, &context.webhook_key)
                .await
                .map_err(|e| anyhow::anyhow!("sealing the stored webhook secrets: {e}"))?;
            drop(conn);
            if sealed > 0 {
                tracing::info!(sealed, "sealed webhook secrets kept in plain text");
            }
            context.spawn_webhook_relay(pool);
            if section.resync.on_start {
                context.spawn_resync_on_start(pool);
            }
            if section.schedule.enabled {
                let (stop, stopped) = watch::channel(false);
                schedule::spawn(
                    pool.clone(),
                    TokenSigner::from_settings(settings)?,
                    context.register.clone(),
                    context.clock.clone(),
                    section.schedule.clone(),
                    stopped,
                );
                context.background.push(stop);
            }
            Ok(context)
        })
    }
}

/// The service's OpenAPI document, as served at `/openapi.json` and checked in.
pub fn openapi() -> utoipa::openapi::OpenApi {
    InsurerExport::openapi()
}
