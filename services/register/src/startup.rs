//! The register service as the platform assembles it: its settings section, migrations, routes,
//! scopes and the one context object its handlers share.

use std::sync::Arc;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use futures_util::future::BoxFuture;
use praktijkregister_platform::auth::Scope;
use praktijkregister_platform::clock::{Clock, SystemClock};
use praktijkregister_platform::config::Settings;
use praktijkregister_platform::db::DbPool;
use praktijkregister_platform::service::Service;
use praktijkregister_platform::service_client::ServiceClient;
use utoipa::OpenApi;

use crate::benchmark::NationalFigures;
use crate::evidence::NationalPrem;
use crate::kp::runs::{KpRuns, RunMetrics};
use crate::kp::verifier::{HttpKpVerifier, KpVerifier};
use crate::national::NationalCache;
use crate::revocations::ClientRevocations;
use crate::settings::RegisterSettings;
use crate::{
    annual_plans, audit_trail, bootstrap, clients, cycles, kp, oauth, overview, practices,
    registrations, therapists,
};
use praktijkregister_platform::signing::TokenSigner;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Praktijkregister: register service",
        description = "The VvOCM practice quality register (praktijkregister) for exercise-therapy practices \
            (oefentherapie Cesar / Mensendieck): API clients and tokens, practices and their locations, \
            therapists and their Kwaliteitsregister Paramedici (KP) data, the yearly cycle of annual plans, \
            visitations and registrations, practice data from EPD systems and the quality evidence that \
            compliance is judged on. Errors are RFC 9457 problem details.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
        version = "1.0.0"
    ),
    tags(
        (name = "Authentication", description = "OAuth2 client credentials and the token signing keys"),
        (name = "API clients", description = "Clients of the suite, managed by the registrar"),
        (name = "Practices", description = "Practices (praktijken) and their locations (vestigingen)"),
        (name = "Therapists", description = "Therapists (oefentherapeuten) and where they work"),
        (name = "Kwaliteitsregister Paramedici", description = "KP registration data: import, verification, verification runs and the expiry watch"),
        (name = "Cycle", description = "The yearly cycle (registratiecyclus): calendar and overview"),
        (name = "Annual plans", description = "Annual plans (jaarplannen) and their assessment"),
        (name = "Registrations", description = "Registrations per practice per cycle year and their history"),
        (name = "Public register", description = "What anyone may see: the registered practices (keuze-informatie)"),
        (name = "Audit trail", description = "Who did what, when, to which subject"),
        (name = "EPD authorisations", description = "Which EPD vendors a practice authorised to deliver its data (machtigingen)"),
        (name = "Deliveries", description = "Monthly practice data from EPD systems and their processing reports (aanleveringen)"),
        (name = "PREM", description = "Patient-experience (PREM) results per practice per month"),
        (name = "Intervision", description = "Intervision groups, members and meetings (intervisie); never their content"),
        (name = "Quality", description = "Individual development plans (IOP) and treatment indices (behandelindex)"),
        (name = "Consents", description = "A practice's consent to share quality data with an insurer (toestemming)"),
        (name = "Improvement plans", description = "Improvement plans on the treatment index for an insurer (verbeterplannen)"),
        (name = "Compliance", description = "Per-criterion compliance, benchmark and the evidence feed"),
    )
)]
struct ApiDoc;

/// Registers every route of the service; the same registration feeds the OpenAPI document.
fn configure_routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(oauth::token)
        .service(oauth::jwks)
        .service(clients::routes::create_client)
        .service(clients::routes::list_clients)
        .service(clients::routes::get_client)
        .service(clients::routes::revoke_client)
        .service(practices::routes::create_practice)
        .service(practices::routes::list_practices)
        .service(practices::routes::get_practice)
        .service(practices::routes::update_practice)
        .service(cycles::routes::get_cycle)
        .service(cycles::routes::put_cycle);
    therapists::routes::configure(cfg);
    audit_trail::routes::configure(cfg);
    overview::routes::configure(cfg);
    crate::public::routes::configure(cfg);
    registrations::routes::configure(cfg);
    annual_plans::routes::configure(cfg);
    kp::routes::configure(cfg);
    kp::runs_routes::configure(cfg);
    crate::evidence::routes::configure(cfg);
    crate::benchmark::routes::configure(cfg);
    crate::intervision::routes::configure(cfg);
    crate::quality::routes::configure(cfg);
    crate::consents::routes::configure(cfg);
    crate::improvement_plans::routes::configure(cfg);
    crate::epd::routes::configure(cfg);
    crate::deliveries::routes::configure(cfg);
    crate::prem::routes::configure(cfg);
    crate::visitation_directory::routes::configure(cfg);
    crate::export_directory::routes::configure(cfg);
}

/// How long national figures are kept at most (DESIGN §7).
const NATIONAL_FIGURES_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// The register service.
pub struct Register;

/// What every handler of the register shares: its settings, the token signer, the outside
/// dependencies and the caches.
pub struct RegisterContext {
    pub settings: RegisterSettings,
    pub signer: TokenSigner,
    /// The public keys of the signer, by key id, for the register's own token verification.
    pub token_keys: std::collections::HashMap<String, jsonwebtoken::DecodingKey>,
    pub kp_verifier: Arc<dyn KpVerifier>,
    pub clock: Arc<dyn Clock>,
    /// The benchmark's national quartiles per year.
    pub benchmarks: NationalCache<NationalFigures>,
    /// The national PREM means per domain per year (001 §1.5g).
    pub prem_means: NationalCache<NationalPrem>,
    /// Revoked clients, whose tokens the register refuses at once.
    pub revocations: Arc<ClientRevocations>,
    /// The registrar client seeded at start-up, to show the operator.
    pub seeded_registrar: Option<bootstrap::SeededRegistrar>,
    /// KP verification runs: started by hand, by the schedule, or taken up after a restart.
    pub kp_runs: Arc<KpRuns>,
    /// Stops the scheduler of KP verification runs when dropped (the run command starts one).
    pub kp_scheduler: Option<tokio::sync::watch::Sender<bool>>,
    /// Hashes and verifies client secrets, bounding the slow verifications.
    pub secrets: Arc<crate::credentials::SecretVerifier>,
    /// Insurers' criteria sets, read from the insurer-export service once it is connected.
    pub insurer_criteria: Arc<crate::insurer_criteria::InsurerCriteria>,
}

impl RegisterContext {
    /// A context with the outside dependencies of the caller's choice (tests bring their own).
    pub fn new(
        settings: &Settings,
        section: &RegisterSettings,
        pool: &DbPool,
        kp_verifier: Arc<dyn KpVerifier>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let signer = TokenSigner::from_settings(settings)?;
        Ok(Self {
            settings: section.clone(),
            token_keys: signer.decoding_keys()?,
            signer,
            // A change through this instance forgets the year at once; the ttl bounds how long
            // a change through another instance stays unseen (DESIGN §7).
            benchmarks: NationalCache::new(NATIONAL_FIGURES_TTL),
            prem_means: NationalCache::new(NATIONAL_FIGURES_TTL),
            revocations: Arc::new(ClientRevocations::new(pool.clone())),
            seeded_registrar: None,
            kp_runs: Arc::new(KpRuns::new(
                pool.clone(),
                kp_verifier.clone(),
                clock.clone(),
                section.kp_verification.clone(),
                section.cycle.calendar,
            )),
            kp_scheduler: None,
            kp_verifier,
            clock,
            secrets: Arc::new(crate::credentials::SecretVerifier::from_settings(
                settings,
                &section.credentials,
            )?),
            insurer_criteria: Arc::new(crate::insurer_criteria::InsurerCriteria::new(
                std::time::Duration::from_secs(section.insurer_export.cache_seconds),
            )),
        })
    }
}

impl Service for Register {
    const NAME: &'static str = "register";
    const DEFAULT_PORT: u16 = 8081;
    const DEFAULT_SETTINGS: &'static str = crate::settings::DEFAULTS;
    const MIGRATIONS: EmbeddedMigrations = MIGRATIONS;
    // The register issues the tokens itself.
    const TOKEN_URL: &'static str = "/oauth/token";

    type Settings = RegisterSettings;
    type State = RegisterContext;

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
        section: &'a RegisterSettings,
        pool: &'a DbPool,
    ) -> BoxFuture<'a, anyhow::Result<RegisterContext>> {
        Box::pin(async move {
            let registrar = bootstrap::ensure_registrar(settings, section, pool).await?;
            bootstrap::ensure_service_clients(settings, section, pool).await?;
            let verifier = HttpKpVerifier::new(&section.kp_verifier)?;
            let mut context = RegisterContext::new(
                settings,
                section,
                pool,
                Arc::new(verifier),
                Arc::new(SystemClock),
            )?;
            context.seeded_registrar = Some(registrar);
            let insurer_export = section.insurer_export.base_url.trim();
            if !insurer_export.is_empty() {
                let client = section
                    .service_client
                    .clone()
                    .for_environment(settings)
                    .and_then(ServiceClient::new)
                    .and_then(|c| c.with_base_url(insurer_export))
                    .map_err(|e| anyhow::anyhow!(e))?;
                context.insurer_criteria.connect(Arc::new(client));
            }
            // The schedule (and taking up a run a restart interrupted) needs a verifier.
            if !section.kp_verifier.base_url.trim().is_empty() {
                let (stop, stopped) = tokio::sync::watch::channel(false);
                context.kp_runs.clone().spawn_scheduler(stopped);
                context.kp_scheduler = Some(stop);
            }
            Ok(context)
        })
    }

    fn outbox(
        section: &RegisterSettings,
    ) -> Option<(
        praktijkregister_platform::outbox::OutboxSettings,
        praktijkregister_platform::service_client::ServiceClientSettings,
    )> {
        // With no destination the events wait in the outbox until one is configured.
        (!section.outbox.destinations.is_empty())
            .then(|| (section.outbox.clone(), section.service_client.clone()))
    }

    fn metrics_sources(
        _state: &RegisterContext,
    ) -> Vec<Arc<dyn praktijkregister_platform::metrics::MetricsSource>> {
        vec![Arc::new(RunMetrics)]
    }

    fn local_token_keys(
        state: &RegisterContext,
    ) -> Option<std::collections::HashMap<String, jsonwebtoken::DecodingKey>> {
        Some(state.token_keys.clone())
    }

    fn revocations(
        state: &RegisterContext,
    ) -> Option<Arc<dyn praktijkregister_platform::auth::Revocations>> {
        Some(state.revocations.clone())
    }

    fn announce(state: &RegisterContext) -> Vec<String> {
        state
            .seeded_registrar
            .iter()
            .map(|registrar| match &registrar.client_secret {
                _ if registrar.revoked => format!(
                    "registrar client: id={} is revoked; create a new registrar with \
                     `praktijkregister client create --role registrar --name <name>`",
                    registrar.client_id
                ),
                Some(secret) => format!(
                    "registrar client: id={}  secret={secret}",
                    registrar.client_id
                ),
                None => format!(
                    "registrar client: id={} (secret as configured)",
                    registrar.client_id
                ),
            })
            .collect()
    }
}

/// The service's OpenAPI document, as served at `/openapi.json` and checked in.
pub fn openapi() -> utoipa::openapi::OpenApi {
    Register::openapi()
}
