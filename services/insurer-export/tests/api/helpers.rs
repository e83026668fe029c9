//! The real register and the insurer-export service side by side, each on a database of its
//! own: the register's outbox is delivered to the export service by the platform's relay, and
//! the export service reads the register's evidence feed through its service client.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use praktijkregister_domain::{ClientRole, CycleYear, RegistrationEvent};
use praktijkregister_insurer_export::settings::ExportSettings;
use praktijkregister_insurer_export::startup::{ExportContext, InsurerExport};
use praktijkregister_platform::clock::SystemClock;
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::outbox::{OutboxRelay, OutboxSettings, StaticToken};
use praktijkregister_platform::service_client::{ServiceClient, ServiceClientSettings};
use praktijkregister_platform::testing::{self, TestClient, TestServer, TestTokenIssuer};
use praktijkregister_register::insurer_criteria::InsurerCriteria;
use praktijkregister_register::kp::verifier::HttpKpVerifier;
use praktijkregister_register::registrations::lifecycle::{self, Cause};
use praktijkregister_register::startup::{Register, RegisterContext};
use praktijkregister_scopes::insurer_export as scopes;
use secrecy::SecretString;
use serde_json::{json, Value};

pub const REGISTRAR_ID: &str = "test-registrar";
pub const REGISTRAR_SECRET: &str = "test-registrar-secret-0123456789";

/// The insurer the test issuer binds insurer tokens to.
pub const OWN: &str = "3311";
/// Another insurer.
pub const OTHER: &str = "4422";

/// The cycle year of the tests (this year) and the contract year it serves.
pub fn cycle_year() -> u16 {
    u16::try_from(chrono::Datelike::year(&Utc::now())).unwrap()
}

pub fn contract_year() -> u16 {
    cycle_year() + 1
}

pub struct Suite {
    pub register: TestServer,
    pub export: TestServer,
    pub issuer: TestTokenIssuer,
    /// The export service's client of the register.
    pub register_client: Arc<ServiceClient>,
    /// The register's reader of insurers' criteria sets: connected by [`Suite::connect_register`].
    pub register_criteria: Arc<InsurerCriteria>,
    /// The register's outbox relay, pointed at the export service; run by [`Suite::sync`].
    relay: OutboxRelay,
    register_registrar: String,
    /// What the export service was started with, to start it again.
    export_settings: praktijkregister_platform::config::Settings,
    export_section: ExportSettings,
}

/// Starts the register and the export service; `adjust` may change the export's section.
pub async fn start_with(adjust: impl FnOnce(&mut ExportSettings)) -> Suite {
    start_as(adjust, true).await
}

/// As [`start_with`]; without `webhook_relay` the export service delivers no webhooks (as
/// while it is down).
pub async fn start_as(adjust: impl FnOnce(&mut ExportSettings), webhook_relay: bool) -> Suite {
    let mut register_section = testing::section::<Register>();
    register_section.bootstrap.registrar_client_id = REGISTRAR_ID.into();
    register_section.bootstrap.registrar_client_secret = Some(SecretString::from(REGISTRAR_SECRET));
    // The test delivers the register's outbox itself (`Suite::sync`), to this test's service.
    register_section.outbox.destinations.clear();
    let register_criteria = Arc::new(InsurerCriteria::new(Duration::from_secs(60)));
    let criteria = register_criteria.clone();
    let register = testing::spawn::<Register, _, _>(
        testing::test_settings(),
        register_section,
        move |settings, section, pool| async move {
            praktijkregister_register::bootstrap::ensure_registrar(&settings, &section, &pool)
                .await
                .expect("seed registrar");
            let verifier = HttpKpVerifier::new(&section.kp_verifier).expect("verifier");
            let mut context = RegisterContext::new(
                &settings,
                &section,
                &pool,
                Arc::new(verifier),
                Arc::new(SystemClock),
            )
            .expect("register context");
            context.insurer_criteria = criteria;
            context
        },
    )
    .await;
    let register_registrar = token(&register.client, REGISTRAR_ID, REGISTRAR_SECRET).await;
    // The export service's client of the register (role service).
    let (status, created) = register
        .client
        .caller(&register_registrar)
        .post(
            "/v1/clients",
            json!({"name": "insurer export", "role": "service"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");

    let issuer = TestTokenIssuer::start().await;
    let mut settings = testing::test_settings();
    settings.auth.jwks_url = format!("{}/.well-known/jwks.json", register.base_url);
    settings.auth.trusted_issuers = vec![issuer.trusted()];
    settings.http.rate_limit_per_second = 100_000;
    settings.http.rate_limit_burst = 100_000;
    let mut section = testing::section::<InsurerExport>();
    section.register_url = register.base_url.clone();
    section.schedule.enabled = false;
    section.service_client.token_url = format!("{}/oauth/token", register.base_url);
    section.service_client.client_id = created["client_id"].as_str().unwrap().to_string();
    section.service_client.client_secret = Some(SecretString::from(
        created["client_secret"].as_str().unwrap().to_string(),
    ));
    section.webhooks.backoff_base_ms = 20;
    section.webhooks.backoff_max_ms = 100;
    section.webhooks.poll_interval_ms = 50;
    adjust(&mut section);
    let register_client =
        ExportContext::register_client(&settings, &section).expect("register client");
    let export_register = register_client.clone();
    let (export_settings, export_section) = (settings.clone(), section.clone());
    let export = testing::spawn::<InsurerExport, _, _>(
        settings,
        section,
        move |settings, section, pool| async move {
            let mut context =
                ExportContext::new(&settings, &section, export_register, Arc::new(SystemClock))
                    .expect("export context");
            if webhook_relay {
                context.spawn_webhook_relay(&pool);
            }
            context
        },
    )
    .await;

    let outbox = OutboxSettings {
        poll_interval_ms: 100,
        batch_size: 500,
        backoff_base_ms: 10,
        backoff_max_ms: 10,
        request_timeout_ms: 5000,
        flush_timeout_ms: 1000,
        destinations: BTreeMap::from([(
            praktijkregister_events::INSURER_EXPORT.to_string(),
            format!("{}/v1/internal/register-events", export.base_url),
        )]),
    };
    let relay = OutboxRelay::new(
        register.pool.clone(),
        outbox,
        Arc::new(StaticToken(
            issuer.token(ClientRole::Service, &[scopes::REGISTER_EVENTS_WRITE]),
        )),
    )
    .expect("relay");
    Suite {
        register,
        export,
        issuer,
        register_client,
        register_criteria,
        relay,
        register_registrar,
        export_settings,
        export_section,
    }
}

pub async fn start() -> Suite {
    start_with(|_| {}).await
}

/// A token of the register by client credentials.
pub async fn token(client: &TestClient, id: &str, secret: &str) -> String {
    let response = client
        .http()
        .post(client.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

pub fn practice_body(agb: &str, name: &str) -> Value {
    json!({
        "agb": agb,
        "name": name,
        "kvk_number": "12345678",
        "contact": {"name": "J. de Vries", "email": "info@example.nl", "phone": "020 123 4567"},
        "locations": [{
            "agb": "07999999",
            "kvk_branch_number": "000012345678",
            "street": "Dorpsstraat",
            "house_number": "12a",
            "postal_code": "3512ab",
            "city": "Utrecht",
            "phone": "030 123 4567",
            "website": "https://example.nl",
            "own_entrance": true,
            "own_waiting_room": true,
            "own_reception": false,
            "own_administration": true,
            "own_logo": true
        }]
    })
}

/// Where a test takes a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Registered,
    AwaitingKp,
    Refused,
    Withdrawn,
}

impl Suite {
    /// The registrar of the export service.
    pub fn registrar(&self) -> String {
        self.issuer.token(ClientRole::Registrar, scopes::ALL)
    }

    /// An insurer client of the export service bound to `uzovi`.
    pub fn insurer(&self, uzovi: &str) -> String {
        self.issuer
            .token_bound(ClientRole::Insurer, scopes::ALL, "insurer_uzovi", uzovi)
    }

    /// Lets the register read criteria sets at `base_url` (the export service, or where nothing
    /// answers) with a service client of its own.
    pub async fn connect_register(&self, base_url: &str) {
        let (status, created) = self
            .register
            .client
            .caller(&self.register_registrar)
            .post(
                "/v1/clients",
                json!({"name": "register to insurer export", "role": "service"}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let client = ServiceClient::new(ServiceClientSettings {
            token_url: format!("{}/oauth/token", self.register.base_url),
            client_id: created["client_id"].as_str().unwrap().to_string(),
            client_secret: Some(SecretString::from(
                created["client_secret"].as_str().unwrap().to_string(),
            )),
            scope: Some(scopes::CRITERIA_SETS_READ.as_str().to_string()),
            timeout_ms: 5000,
            retries: 0,
            retry_backoff_ms: 10,
            refresh_margin_seconds: 30,
        })
        .and_then(|c| c.with_base_url(base_url))
        .unwrap();
        assert!(self.register_criteria.connect(Arc::new(client)));
    }

    /// The register's registrar.
    pub fn register_registrar(&self) -> &str {
        &self.register_registrar
    }

    /// The export service's key for webhook secrets (its development key, under its data dir).
    pub fn webhook_key(&self) -> praktijkregister_insurer_export::webhooks::sealing::SecretKey {
        praktijkregister_insurer_export::webhooks::sealing::SecretKey::from_settings(
            &self.export_settings,
            &self.export_section.webhooks,
        )
        .expect("the webhook key")
    }

    /// Stops the export service as SIGTERM does and waits until it has: its webhook relay with it.
    pub async fn stop_export(&mut self) {
        self.export.stop().await;
    }

    /// Starts the export service again on its database and port, as the process starts in
    /// production (`build_state`: its own register client and webhook relay).
    pub async fn restart_export(&mut self) {
        use praktijkregister_platform::service::Service as _;
        self.export
            .restart::<InsurerExport, _, _>(
                self.export_settings.clone(),
                self.export_section.clone(),
                |settings, section, pool| async move {
                    InsurerExport::build_state(&settings, &section, &pool)
                        .await
                        .expect("the export service's context")
                },
            )
            .await;
    }

    /// One pass of the register's outbox relay, whatever it finds.
    pub async fn relay_once(&self) -> praktijkregister_platform::outbox::PassReport {
        self.relay.run_once().await.expect("relay pass")
    }

    /// Delivers everything in the register's outbox to the export service.
    pub async fn sync(&self) {
        loop {
            let report = self.relay.run_once().await.expect("relay pass");
            assert_eq!(report.failed + report.retried, 0, "{report:?}");
            if report.claimed == 0 {
                break;
            }
        }
    }

    pub async fn create_practice(&self, agb: &str, name: &str) {
        let (status, body) = self
            .register
            .client
            .caller(&self.register_registrar)
            .post("/v1/practices", practice_body(agb, name))
            .await;
        assert_eq!(status, 201, "{body}");
    }

    /// Renames the practice in the register.
    pub async fn rename_practice(&self, agb: &str, name: &str) {
        let response = self
            .register
            .client
            .http()
            .patch(self.register.client.url(&format!("/v1/practices/{agb}")))
            .bearer_auth(&self.register_registrar)
            .header("If-Match", "*")
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    pub async fn consent(&self, agb: &str, uzovi: &str) {
        let today = Utc::now().date_naive().to_string();
        let (status, body) = self
            .register
            .client
            .caller(&self.register_registrar)
            .put(
                &format!("/v1/practices/{agb}/consents/{uzovi}"),
                json!({"granted_on": today}),
            )
            .await;
        assert!(status == 201 || status == 200, "{body}");
    }

    /// Moves the practice's registration for `year` through the register's own lifecycle (as
    /// its endpoints do, in one transaction with the outbox event) to `target`.
    pub async fn register_practice(&self, agb: &str, year: u16, target: Target) {
        let mut conn = self.register.pool.get().await.unwrap();
        let agb = agb.to_string();
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                let cause = Cause {
                    actor_client_id: "test",
                    reason: None,
                    at: Utc::now(),
                };
                let year = CycleYear::new(year).unwrap();
                let mut row = lifecycle::find_or_apply(conn, &agb, year, cause).await?;
                let mut steps = vec![
                    RegistrationEvent::PlanSubmitted,
                    RegistrationEvent::PlanApproved,
                ];
                steps.push(match target {
                    Target::Refused => RegistrationEvent::VisitationNegative,
                    Target::AwaitingKp => RegistrationEvent::VisitationPositive {
                        all_therapists_kp_registered: false,
                    },
                    Target::Registered | Target::Withdrawn => {
                        RegistrationEvent::VisitationPositive {
                            all_therapists_kp_registered: true,
                        }
                    }
                });
                if target == Target::Withdrawn {
                    steps.push(RegistrationEvent::Withdrawn);
                }
                for step in steps {
                    row = lifecycle::apply(conn, &row, &step, Vec::new(), cause).await?;
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    }

    /// Applies one more event to the practice's registration for `year`.
    pub async fn registration_event(&self, agb: &str, year: u16, event: RegistrationEvent) {
        let mut conn = self.register.pool.get().await.unwrap();
        let agb = agb.to_string();
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                let cause = Cause {
                    actor_client_id: "test",
                    reason: Some("by the test"),
                    at: Utc::now(),
                };
                let row = lifecycle::existing(conn, &agb, CycleYear::new(year).unwrap()).await?;
                lifecycle::apply(conn, &row, &event, Vec::new(), cause).await?;
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    }

    /// Creates the insurer with a criteria set for the contract year.
    pub async fn insurer_with_criteria(&self, uzovi: &str, criteria: Value) {
        let registrar = self.registrar();
        let caller = self.export.client.caller(&registrar);
        let (status, body) = caller
            .post(
                "/v1/insurers",
                json!({"uzovi": uzovi, "name": format!("Insurer {uzovi}"), "differentiated": true}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = caller
            .put(
                &format!("/v1/insurers/{uzovi}/criteria/{}", contract_year()),
                criteria,
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    /// Builds the snapshot of the insurer for the contract year; its summary.
    pub async fn build(&self, uzovi: &str) -> Value {
        let (status, body) = self
            .export
            .client
            .caller(&self.registrar())
            .post(
                &format!("/v1/insurers/{uzovi}/exports/{}", contract_year()),
                json!({}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// The raw answer of a GET on the export service.
    pub async fn get_raw(
        &self,
        token: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .export
            .client
            .http()
            .get(self.export.client.url(path))
            .bearer_auth(token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }
}
