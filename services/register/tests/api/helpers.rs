//! Starts the real register service on port 0 against a database of its own, through the
//! platform's test harness.

use std::path::PathBuf;
use std::sync::Arc;

use praktijkregister_domain::ClientRole;
use praktijkregister_platform::clock::{Clock, ManualClock, SystemClock};
use praktijkregister_platform::config::Settings;
use praktijkregister_platform::testing::{self, TestDatabase, TestServer};
use praktijkregister_register::kp::verifier::{HttpKpVerifier, KpVerifier};
use praktijkregister_register::settings::RegisterSettings;
use praktijkregister_register::startup::{Register, RegisterContext};
use secrecy::SecretString;
use serde_json::{json, Value};

pub const REGISTRAR_ID: &str = "test-registrar";
pub const REGISTRAR_SECRET: &str = "test-registrar-secret-0123456789";

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    /// The running service and its database; dropped with the app.
    server: TestServer,
}

/// What a test may change before the service starts.
pub struct Setup {
    pub settings: Settings,
    pub register: RegisterSettings,
}

fn setup() -> Setup {
    let settings = testing::test_settings();
    let mut register = testing::section::<Register>();
    register.bootstrap.registrar_client_id = REGISTRAR_ID.into();
    register.bootstrap.registrar_client_secret = Some(SecretString::from(REGISTRAR_SECRET));
    // The tests read the outbox as the register writes it: no relay delivers it to the
    // insurer-export service's default address.
    register.outbox.destinations.clear();
    Setup { settings, register }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the service as the run command does; `adjust` may change the settings first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Setup)) -> TestApp {
    let kp = http_verifier("", 1000);
    spawn_app_with_dependencies(kp, Arc::new(SystemClock), adjust).await
}

/// Starts the service with a KP verifier of the test's choosing.
pub async fn spawn_app_with_verifier(verifier: Arc<dyn KpVerifier>) -> TestApp {
    spawn_app_with_dependencies(
        verifier,
        Arc::new(ManualClock::new(chrono::Utc::now())),
        |_| {},
    )
    .await
}

/// Starts the service on a clock the test moves.
pub async fn spawn_app_at(at: chrono::DateTime<chrono::Utc>) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(at));
    let app = spawn_app_with_dependencies(http_verifier("", 1000), clock.clone(), |_| {}).await;
    (app, clock)
}

pub async fn spawn_app_with_dependencies(
    verifier: Arc<dyn KpVerifier>,
    clock: Arc<dyn Clock>,
    adjust: impl FnOnce(&mut Setup),
) -> TestApp {
    let mut setup = setup();
    adjust(&mut setup);
    let Setup { settings, register } = setup;
    let server = testing::spawn::<Register, _, _>(
        settings,
        register,
        |settings, register, pool| async move {
            let registrar =
                praktijkregister_register::bootstrap::ensure_registrar(&settings, &register, &pool)
                    .await
                    .expect("seed registrar");
            praktijkregister_register::bootstrap::ensure_service_clients(
                &settings, &register, &pool,
            )
            .await
            .expect("seed service clients");
            let mut context = RegisterContext::new(&settings, &register, &pool, verifier, clock)
                .expect("register context");
            context.seeded_registrar = Some(registrar);
            context
        },
    )
    .await;
    TestApp {
        address: server.base_url.clone(),
        http: server.client.http().clone(),
        data_dir: server.data_dir.clone(),
        server,
    }
}

/// The HTTP KP verifier pointed at `base_url` with `timeout_ms`.
pub fn http_verifier(base_url: &str, timeout_ms: u64) -> Arc<dyn KpVerifier> {
    let mut settings = testing::section::<Register>().kp_verifier;
    settings.base_url = base_url.to_string();
    settings.timeout_ms = timeout_ms;
    Arc::new(HttpKpVerifier::new(&settings).expect("verifier"))
}

impl TestApp {
    pub fn db(&self) -> &TestDatabase {
        &self.server.db
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The `/metrics` text as served.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A token by client credentials in the form body; panics unless it is issued.
    pub async fn token(&self, client_id: &str, secret: &str, scope: Option<&str>) -> String {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .expect("token request");
        assert_eq!(response.status(), 200, "token for {client_id}");
        let body: Value = response.json().await.expect("token json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    pub async fn registrar_token(&self) -> String {
        self.token(REGISTRAR_ID, REGISTRAR_SECRET, None).await
    }

    /// Creates a client of `role` with `binding` fields; returns its id and secret.
    pub async fn create_client(&self, role: ClientRole, binding: Value) -> (String, String) {
        let mut body = json!({"name": format!("{role} client"), "role": role.as_str()});
        if let (Some(body), Some(binding)) = (body.as_object_mut(), binding.as_object()) {
            body.extend(binding.clone());
        }
        let response = self
            .http
            .post(self.url("/v1/clients"))
            .bearer_auth(self.registrar_token().await)
            .json(&body)
            .send()
            .await
            .expect("create client");
        assert_eq!(
            response.status(),
            201,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let created: Value = response.json().await.expect("client json");
        (
            created["client_id"].as_str().expect("id").to_string(),
            created["client_secret"]
                .as_str()
                .expect("secret")
                .to_string(),
        )
    }

    /// A token of a fresh client of `role`, bound to `practice_agb` for practice clients.
    pub async fn token_for(&self, role: ClientRole, practice_agb: &str) -> String {
        let binding = match role {
            ClientRole::Practice => json!({"practice_agb": practice_agb}),
            ClientRole::EpdVendor => json!({"epd_vendor": "acme-epd"}),
            ClientRole::Insurer => json!({"insurer_uzovi": "3311"}),
            ClientRole::Visitor => json!({"visitor_id": "visitor-1"}),
            ClientRole::Registrar | ClientRole::Service => json!({}),
        };
        let (id, secret) = self.create_client(role, binding).await;
        self.token(&id, &secret, None).await
    }

    pub async fn create_practice(&self, agb: &str) -> Value {
        let response = self
            .http
            .post(self.url("/v1/practices"))
            .bearer_auth(self.registrar_token().await)
            .json(&practice_body(agb))
            .send()
            .await
            .expect("create practice");
        assert_eq!(
            response.status(),
            201,
            "{}",
            response.text().await.unwrap_or_default()
        );
        response.json().await.expect("practice json")
    }
}

pub fn practice_body(agb: &str) -> Value {
    json!({
        "agb": agb,
        "name": format!("Oefentherapie {agb}"),
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

/// Asserts a problem+json answer with `status`, returning its body.
pub async fn expect_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type}"
    );
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["status"], status);
    assert!(body["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("https://")));
    assert!(
        body["request_id"].as_str().is_some(),
        "problem without request_id: {body}"
    );
    body
}

/// The field names of a validation problem.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str().map(str::to_string))
        .collect()
}

/// Registers a therapist as the registrar (`token`); panics unless it is created.
pub async fn create_therapist(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app
        .http
        .post(app.url("/v1/therapists"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("create therapist");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("therapist json")
}

/// The KP columns of a therapist as stored.
#[derive(Debug, diesel::QueryableByName)]
pub struct StoredKp {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub kp_number: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub kp_status: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub kp_valid_from: Option<chrono::NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    pub kp_valid_until: Option<chrono::NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    pub kp_verified_at: Option<chrono::DateTime<chrono::Utc>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub kp_source: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub version: i32,
}

/// Reads the stored KP columns of therapist `agb` straight from the database.
pub fn stored_kp(app: &TestApp, agb: &str) -> StoredKp {
    use diesel::RunQueryDsl as _;
    diesel::sql_query(
        "SELECT kp_number, kp_status, kp_valid_from, kp_valid_until, kp_verified_at, kp_source, version \
         FROM therapists WHERE agb = $1",
    )
    .bind::<diesel::sql_types::Text, _>(agb)
    .get_result(&mut app.db().connect())
    .expect("stored therapist")
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// How many audit events with `action` were written.
pub fn audit_count(app: &TestApp, action: &str) -> i64 {
    use diesel::RunQueryDsl as _;
    diesel::sql_query("SELECT count(*) AS n FROM audit_events WHERE action = $1")
        .bind::<diesel::sql_types::Text, _>(action)
        .get_result::<Count>(&mut app.db().connect())
        .expect("audit count")
        .n
}
