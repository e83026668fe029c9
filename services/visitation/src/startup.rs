//! The visitation service as the platform assembles it: its settings section, migrations, routes,
//! scopes and the one context object its handlers share.

use std::sync::Arc;
use std::time::Duration;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use futures_util::future::BoxFuture;
use praktijkregister_platform::auth::Scope;
use praktijkregister_platform::clock::{Clock, SystemClock};
use praktijkregister_platform::config::Settings;
use praktijkregister_platform::db::DbPool;
use praktijkregister_platform::outbox::OutboxSettings;
use praktijkregister_platform::service::Service;
use praktijkregister_platform::service_client::{ServiceClient, ServiceClientSettings};
use utoipa::OpenApi;

use crate::directory::Directory;
use crate::settings::VisitationSettings;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Praktijkregister: visitation service",
        description = "Visitations (visitaties) of the VvOCM practice quality register: visitors and their \
            availability, declared business relations, conflict-free reciprocal visitation sessions, \
            findings on the components, reports, outcomes, the due list and the planner. Practices come \
            from the register service; planned sessions and outcomes reach it as events. Tokens come \
            from the register service. Errors are RFC 9457 problem details.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
        version = "1.0.0"
    ),
    tags(
        (name = "Visitors", description = "Visitors (visiteurs), their authorisation, availability and capacity"),
        (name = "Declared relations", description = "Business ties that rule out a pairing (001 §1.2c)"),
        (name = "Visitation sessions", description = "One part of a day, one visitor, two practices that visit each other"),
        (name = "Visitations", description = "The visitation of one practice: findings, report and outcome"),
        (name = "Cycle", description = "Per cycle year: who is due, the components, and the planner"),
    )
)]
struct ApiDoc;

fn configure_routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    crate::visitors::routes::configure(cfg);
    crate::relations::routes::configure(cfg);
    crate::sessions::routes::configure(cfg);
    crate::visitations::routes::configure(cfg);
    crate::due::routes::configure(cfg);
    crate::planner::routes::configure(cfg);
}

/// The visitation service.
pub struct Visitation;

/// What every handler shares: the settings, the register's directory and the clock.
pub struct VisitationContext {
    pub settings: VisitationSettings,
    pub directory: Arc<Directory>,
    pub clock: Arc<dyn Clock>,
}

impl VisitationContext {
    /// A context on the clock of the caller's choice (tests bring their own); the directory is read
    /// with the section's service client from its `register_url`.
    pub fn new(
        settings: &Settings,
        section: &VisitationSettings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let client = section
            .service_client
            .clone()
            .for_environment(settings)
            .map_err(anyhow::Error::msg)?;
        let client = ServiceClient::new(client)
            .and_then(|c| {
                c.with_base_url(&format!("{}/", section.register_url.trim_end_matches('/')))
            })
            .map_err(anyhow::Error::msg)?;
        Ok(Self {
            settings: section.clone(),
            directory: Arc::new(Directory::new(
                client,
                Duration::from_secs(section.directory_cache_seconds),
            )),
            clock,
        })
    }
}

impl Service for Visitation {
    const NAME: &'static str = "visitation";
    const DEFAULT_PORT: u16 = 8082;
    const DEFAULT_SETTINGS: &'static str = crate::settings::DEFAULTS;
    const MIGRATIONS: EmbeddedMigrations = MIGRATIONS;
    const TOKEN_URL: &'static str = "http://127.0.0.1:8081/oauth/token";

    type Settings = VisitationSettings;
    type State = VisitationContext;

    fn api_doc() -> utoipa::openapi::OpenApi {
        ApiDoc::openapi()
    }

    fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
        configure_routes(cfg);
    }

    fn scopes() -> &'static [Scope] {
        crate::scopes::ALL
    }

    fn build_state<'a>(
        settings: &'a Settings,
        section: &'a VisitationSettings,
        _pool: &'a DbPool,
    ) -> BoxFuture<'a, anyhow::Result<VisitationContext>> {
        Box::pin(async move { VisitationContext::new(settings, section, Arc::new(SystemClock)) })
    }

    fn outbox(section: &VisitationSettings) -> Option<(OutboxSettings, ServiceClientSettings)> {
        // With no destination the events wait in the outbox until one is configured.
        (!section.outbox.destinations.is_empty())
            .then(|| (section.outbox.clone(), section.service_client.clone()))
    }
}

/// The service's OpenAPI document, as served at `/openapi.json` and checked in.
pub fn openapi() -> utoipa::openapi::OpenApi {
    Visitation::openapi()
}
