//! Builds the register service: database, keys, verifier, routes, server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, HttpServer};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use praktijkregister_platform::auth::TokenVerifier;
use praktijkregister_platform::clock::{Clock, SystemClock};
use praktijkregister_platform::config::Settings;
use praktijkregister_platform::db::DbPool;
use praktijkregister_platform::http::{build_app, openapi_document, Frame};
use praktijkregister_platform::metrics::Metrics;
use praktijkregister_platform::rate_limit::RateLimiter;
use praktijkregister_platform::service::{self, StartupError};
use utoipa::OpenApi;

use crate::kp::verifier::{HttpKpVerifier, KpVerifier};
use crate::signing::{KeyError, TokenSigner};
use crate::{
    annual_plans, audit_trail, bootstrap, clients, cycles, kp, oauth, overview, practices,
    registrations, therapists,
};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

#[derive(Debug, thiserror::Error)]
pub enum RegisterStartupError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("token verification is misconfigured")]
    Verifier(#[from] praktijkregister_platform::auth::VerifierConfigError),
    #[error("could not seed the registrar client")]
    Bootstrap(#[from] bootstrap::BootstrapError),
    #[error("could not bind {address}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not build the KP verifier")]
    KpVerifier(#[source] reqwest::Error),
}

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
        (name = "Kwaliteitsregister Paramedici", description = "KP registration data: import and verification"),
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
fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
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
    crate::evidence::routes::configure(cfg);
    crate::benchmark::routes::configure(cfg);
    crate::intervision::routes::configure(cfg);
    crate::quality::routes::configure(cfg);
    crate::consents::routes::configure(cfg);
    crate::improvement_plans::routes::configure(cfg);
    crate::epd::routes::configure(cfg);
    crate::deliveries::routes::configure(cfg);
    crate::prem::routes::configure(cfg);
}

/// The service's OpenAPI document, as served at `/openapi.json` and checked in.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let document = openapi_document(ApiDoc::openapi(), configure);
    praktijkregister_platform::openapi::finish(document, "/oauth/token")
}

/// What the service depends on outside itself.
pub struct Dependencies {
    pub kp_verifier: Arc<dyn KpVerifier>,
    pub clock: Arc<dyn Clock>,
}

pub struct Application {
    port: u16,
    server: Server,
    registrar: Option<bootstrap::SeededRegistrar>,
}

impl Application {
    /// Finds and migrates the database, seeds the registrar client, binds the port.
    pub async fn build(settings: Settings) -> Result<Self, RegisterStartupError> {
        let url = service::database_url(&settings, &settings.register).await?;
        let pool = service::migrate_and_connect(&settings, &url, MIGRATIONS).await?;
        let registrar = bootstrap::ensure_registrar(&settings, &pool).await?;
        let verifier =
            HttpKpVerifier::new(&settings.kp_verifier).map_err(RegisterStartupError::KpVerifier)?;
        let dependencies = Dependencies {
            kp_verifier: Arc::new(verifier),
            clock: Arc::new(SystemClock),
        };
        let mut application = Self::build_with(settings, pool, dependencies)?;
        application.registrar = Some(registrar);
        Ok(application)
    }

    /// Builds on an existing pool with the given outside dependencies (tests bring their own).
    pub fn build_with(
        settings: Settings,
        pool: DbPool,
        dependencies: Dependencies,
    ) -> Result<Self, RegisterStartupError> {
        let signer = TokenSigner::from_settings(&settings)?;
        let verifier = TokenVerifier::new(&settings.auth, Some(signer.decoding_keys()?))?;
        let address = format!("{}:{}", settings.register.host, settings.register.port);
        let listener =
            TcpListener::bind(&address).map_err(|source| RegisterStartupError::Bind {
                address: address.clone(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(settings.register.port);
        let frame = Frame {
            pool,
            metrics: Arc::new(Metrics::new("register")),
            rate_limiter: Arc::new(RateLimiter::new(
                settings.http.rate_limit_per_second,
                settings.http.rate_limit_burst,
            )),
            max_body_bytes: settings.http.max_body_bytes,
        };
        let document = Arc::new(openapi());
        let signer = web::Data::new(signer);
        let verifier = web::Data::new(verifier);
        let kp_verifier = web::Data::from(dependencies.kp_verifier);
        let clock = web::Data::from(dependencies.clock);
        let benchmarks = web::Data::new(crate::benchmark::NationalCache::new(
            std::time::Duration::from_secs(300),
        ));
        let settings = web::Data::new(settings);
        let server = HttpServer::new(move || {
            let (signer, verifier, kp_verifier, clock, settings, benchmarks) = (
                signer.clone(),
                verifier.clone(),
                kp_verifier.clone(),
                clock.clone(),
                settings.clone(),
                benchmarks.clone(),
            );
            build_app(frame.clone(), document.clone(), move |cfg| {
                cfg.app_data(signer)
                    .app_data(verifier)
                    .app_data(kp_verifier)
                    .app_data(clock)
                    .app_data(benchmarks)
                    .app_data(settings);
                configure(cfg);
            })
        })
        .listen(listener)
        .map_err(|source| RegisterStartupError::Bind { address, source })?
        .shutdown_timeout(30)
        .run();
        Ok(Self {
            port,
            server,
            registrar: None,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The registrar client seeded at start-up, to show the operator.
    pub fn seeded_registrar(&self) -> Option<&bootstrap::SeededRegistrar> {
        self.registrar.as_ref()
    }

    /// Serves until SIGTERM / Ctrl-C; in-flight requests finish first.
    pub async fn run_until_stopped(self) -> Result<(), std::io::Error> {
        self.server.await
    }
}
