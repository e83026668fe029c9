//! The token endpoint (RFC 6749 §4.4, DESIGN §5) and strict token verification.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use praktijkregister_domain::ClientRole;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, spawn_app, TestApp, REGISTRAR_ID, REGISTRAR_SECRET};

async fn token_response(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut request = app.http.post(app.url("/oauth/token")).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().await.unwrap()
}

async fn oauth_error(response: reqwest::Response, status: u16, error: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].as_str().is_some());
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn a_valid_client_gets_a_short_lived_signed_token_with_its_binding() {
    let app = spawn_app().await;
    app.create_practice("07000001").await;
    let (id, secret) = app
        .create_client(ClientRole::Practice, json!({"practice_agb": "07000001"}))
        .await;
    let response = token_response(
        &app,
        &[("grant_type", "client_credentials")],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(
        body["scope"],
        "practices:read therapists:read cycles:read annual-plans:read annual-plans:submit registrations:read \
         registrations:withdraw epd-authorizations:manage deliveries:read quality:write quality:read \
         consents:manage compliance:read benchmark:read improvement-plans:write improvement-plans:read \
         kp-expiries:read visitations:read visitation-reports:read"
    );
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["role"], "practice");
    assert_eq!(claims["practice_agb"], "07000001");
    assert_eq!(claims["aud"], "praktijkregister");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
}

#[tokio::test]
async fn a_wrong_secret_or_unknown_client_is_invalid_client() {
    let app = spawn_app().await;
    let form = [("grant_type", "client_credentials")];
    oauth_error(
        token_response(&app, &form, Some((REGISTRAR_ID, "wrong"))).await,
        401,
        "invalid_client",
    )
    .await;
    oauth_error(
        token_response(&app, &form, Some(("nobody", "wrong"))).await,
        401,
        "invalid_client",
    )
    .await;
    // No credentials at all.
    oauth_error(
        token_response(&app, &form, None).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn a_revoked_client_gets_no_new_token() {
    let app = spawn_app().await;
    let (id, secret) = app.create_client(ClientRole::Service, json!({})).await;
    app.token(&id, &secret, None).await;
    let revoked = revoke(&app, &app.registrar_token().await, &id).await;
    assert_eq!(revoked.status(), 204);
    let listed: Value = app
        .http
        .get(app.url(&format!("/v1/clients/{id}")))
        .bearer_auth(app.registrar_token().await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed["revoked_at"].as_str().is_some());
    let form = [("grant_type", "client_credentials")];
    oauth_error(
        token_response(&app, &form, Some((&id, &secret))).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn basic_and_body_credentials_together_are_refused() {
    let app = spawn_app().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", REGISTRAR_ID),
        ("client_secret", REGISTRAR_SECRET),
    ];
    oauth_error(
        token_response(&app, &form, Some((REGISTRAR_ID, REGISTRAR_SECRET))).await,
        400,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_grant_type_is_unsupported() {
    let app = spawn_app().await;
    let form = [("grant_type", "password")];
    oauth_error(
        token_response(&app, &form, Some((REGISTRAR_ID, REGISTRAR_SECRET))).await,
        400,
        "unsupported_grant_type",
    )
    .await;
    oauth_error(
        token_response(&app, &[], Some((REGISTRAR_ID, REGISTRAR_SECRET))).await,
        400,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn the_granted_scope_is_the_requested_scope_narrowed_to_the_allowed() {
    let app = spawn_app().await;
    app.create_practice("07000001").await;
    let (id, secret) = app
        .create_client(ClientRole::Practice, json!({"practice_agb": "07000001"}))
        .await;
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "practices:read practices:write clients:manage"),
    ];
    let response = token_response(&app, &form, Some((&id, &secret))).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "practices:read");
    assert_eq!(
        claims_of(body["access_token"].as_str().unwrap())["scope"],
        "practices:read"
    );

    // The narrowed token cannot do what the dropped scope allows.
    let token = body["access_token"].as_str().unwrap();
    let therapists = app
        .http
        .get(app.url("/v1/practices/07000001/therapists"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(therapists, 403).await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("therapists:read"));

    let none_allowed = [
        ("grant_type", "client_credentials"),
        ("scope", "clients:manage"),
    ];
    oauth_error(
        token_response(&app, &none_allowed, Some((&id, &secret))).await,
        400,
        "invalid_scope",
    )
    .await;
}

#[tokio::test]
async fn the_token_endpoint_takes_only_form_bodies() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(REGISTRAR_ID, Some(REGISTRAR_SECRET))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, 415).await;
}

/// Signs `claims` with the service's own (development) key, or with `other_key` when given.
fn sign(app: &TestApp, claims: &Value, kid: Option<&str>, other_key: Option<&str>) -> String {
    let own = std::fs::read_to_string(app.data_dir.join("signing_key.pem")).unwrap();
    let pem = other_key.unwrap_or(&own);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn own_kid(app: &TestApp) -> String {
    let jwks: Value = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    jwks["keys"][0]["kid"].as_str().unwrap().to_string()
}

fn registrar_claims(now: i64) -> Value {
    json!({
        "iss": "http://127.0.0.1:8081", "aud": "praktijkregister", "sub": REGISTRAR_ID,
        "iat": now, "nbf": now, "exp": now + 300, "jti": "test",
        "scope": "clients:manage practices:read", "role": "registrar"
    })
}

async fn status_with(app: &TestApp, token: &str) -> (u16, Value) {
    let response = app
        .http
        .get(app.url("/v1/clients"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_protected_endpoint_refuses_every_kind_of_bad_token() {
    let app = spawn_app().await;
    let kid = own_kid(&app).await;
    let now = chrono::Utc::now().timestamp();

    // The well-formed token is accepted: the refusals below are about the one thing changed.
    let good = sign(&app, &registrar_claims(now), Some(&kid), None);
    assert_eq!(status_with(&app, &good).await.0, 200);

    let mut expired = registrar_claims(now - 3600);
    expired["exp"] = json!(now - 600);
    let mut not_yet_valid = registrar_claims(now);
    not_yet_valid["nbf"] = json!(now + 3600);
    let mut other_audience = registrar_claims(now);
    other_audience["aud"] = json!("another-api");
    let mut other_issuer = registrar_claims(now);
    other_issuer["iss"] = json!("https://idp.example.org");
    let mut without_sub = registrar_claims(now);
    without_sub.as_object_mut().unwrap().remove("sub");
    let other_key = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_pem(
        &ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]),
        Default::default(),
    )
    .unwrap();

    let tampered = {
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        let mut claims = claims_of(&good);
        claims["scope"] = json!("clients:manage practices:read practices:write");
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        parts.join(".")
    };
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&registrar_claims(now)).unwrap())
    );

    let cases = [
        ("expired", sign(&app, &expired, Some(&kid), None), "expired"),
        (
            "not yet valid",
            sign(&app, &not_yet_valid, Some(&kid), None),
            "not valid yet",
        ),
        (
            "other audience",
            sign(&app, &other_audience, Some(&kid), None),
            "audience",
        ),
        (
            "other issuer",
            sign(&app, &other_issuer, Some(&kid), None),
            "issuer",
        ),
        ("no sub", sign(&app, &without_sub, Some(&kid), None), "sub"),
        (
            "unknown key",
            sign(
                &app,
                &registrar_claims(now),
                Some("unknown-kid"),
                Some(&other_key),
            ),
            "unknown key",
        ),
        (
            "other key, own kid",
            sign(&app, &registrar_claims(now), Some(&kid), Some(&other_key)),
            "signature",
        ),
        ("tampered", tampered, "signature"),
        ("alg none", alg_none, "malformed"),
        ("garbage", "not.a.token".to_string(), "malformed"),
    ];
    for (name, token, reason) in cases {
        let (status, body) = status_with(&app, &token).await;
        assert_eq!(status, 401, "{name}: {body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(reason),
            "{name}: `{detail}` should mention `{reason}`"
        );
    }

    // RFC 6750 §3.1: without credentials the challenge carries no error code; with a refused
    // token it says why.
    let unauthenticated = app.http.get(app.url("/v1/clients")).send().await.unwrap();
    assert_eq!(unauthenticated.headers()["www-authenticate"], "Bearer");
    expect_problem(unauthenticated, 401).await;
    let refused = app
        .http
        .get(app.url("/v1/clients"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    expect_problem(refused, 401).await;

    // Basic credentials are not a bearer token.
    let basic = app
        .http
        .get(app.url("/v1/clients"))
        .header("Authorization", format!("Basic {}", STANDARD.encode("a:b")))
        .send()
        .await
        .unwrap();
    expect_problem(basic, 401).await;
}

/// DESIGN §5: a revoked client's tokens are refused by the issuing service at once, not when
/// they expire (within the revocation cache's few seconds at most).
#[tokio::test]
async fn a_revoked_clients_token_is_refused_without_waiting_for_its_expiry() {
    let app = spawn_app().await;
    let (id, secret) = app.create_client(ClientRole::Service, json!({})).await;
    let token = app.token(&id, &secret, None).await;
    let read = |token: String| {
        let app = &app;
        async move {
            app.http
                .get(app.url("/v1/practices"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(read(token.clone()).await.status(), 200);

    let revoked = revoke(&app, &app.registrar_token().await, &id).await;
    assert_eq!(revoked.status(), 204);

    let bound =
        std::time::Duration::from_secs(praktijkregister_register::revocations::CACHE_SECONDS + 1);
    let deadline = std::time::Instant::now() + bound;
    let refused = loop {
        let response = read(token.clone()).await;
        if response.status() == 401 || std::time::Instant::now() > deadline {
            break response;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let problem = expect_problem(refused, 401).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("revoked"),
        "{problem}"
    );
    // Other clients are not affected.
    let registrar = app.registrar_token().await;
    assert_eq!(read(registrar).await.status(), 200);
}

async fn revoke(app: &TestApp, token: &str, client_id: &str) -> reqwest::Response {
    app.http
        .delete(app.url(&format!("/v1/clients/{client_id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The register can always be administered: the last active registrar cannot be revoked.
#[tokio::test]
async fn the_last_active_registrar_cannot_be_revoked() {
    let app = spawn_app().await;
    let registrar = app.registrar_token().await;
    let refused = revoke(&app, &registrar, REGISTRAR_ID).await;
    let problem = expect_problem(refused, 409).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("last active registrar"),
        "{problem}"
    );
    assert_eq!(
        status_with(&app, &registrar).await.0,
        200,
        "nothing was revoked"
    );

    // With a second registrar, the first may go; then the second is the last.
    let (second, secret) = app.create_client(ClientRole::Registrar, json!({})).await;
    assert_eq!(revoke(&app, &registrar, REGISTRAR_ID).await.status(), 204);
    let second_token = app.token(&second, &secret, None).await;
    let refused = revoke(&app, &second_token, &second).await;
    expect_problem(refused, 409).await;
}

/// A revoked seeded registrar stays revoked when the service starts again with its secret.
#[tokio::test]
async fn a_restart_does_not_unrevoke_the_seeded_registrar() {
    let app = spawn_app().await;
    let registrar = app.registrar_token().await;
    let (_, _) = app.create_client(ClientRole::Registrar, json!({})).await;
    assert_eq!(revoke(&app, &registrar, REGISTRAR_ID).await.status(), 204);

    // Start-up seeding runs again against the same database (as a restart does).
    let settings = praktijkregister_platform::testing::test_settings();
    let mut section = praktijkregister_platform::testing::section::<
        praktijkregister_register::startup::Register,
    >();
    section.bootstrap.registrar_client_id = REGISTRAR_ID.into();
    section.bootstrap.registrar_client_secret = Some(secrecy::SecretString::from(REGISTRAR_SECRET));
    let pool = praktijkregister_platform::db::pool(
        app.db().url(),
        2,
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let seeded = praktijkregister_register::bootstrap::ensure_registrar(&settings, &section, &pool)
        .await
        .unwrap();
    assert!(seeded.revoked);
    assert!(seeded.client_secret.is_none());

    let form = [("grant_type", "client_credentials")];
    oauth_error(
        token_response(&app, &form, Some((REGISTRAR_ID, REGISTRAR_SECRET))).await,
        401,
        "invalid_client",
    )
    .await;
}

/// Replicas that start together on a new database all start: one seeds the registrar, the others
/// find it seeded, and the configured secret works.
#[tokio::test]
async fn replicas_starting_together_seed_the_registrar_once() {
    let app = spawn_app().await;
    let settings = praktijkregister_platform::testing::test_settings();
    let mut section = praktijkregister_platform::testing::section::<
        praktijkregister_register::startup::Register,
    >();
    section.bootstrap.registrar_client_id = "registrar-of-replicas".into();
    section.bootstrap.registrar_client_secret = Some(secrecy::SecretString::from(
        "a configured secret of replicas",
    ));
    let pool = praktijkregister_platform::db::pool(
        app.db().url(),
        8,
        std::time::Duration::from_secs(30),
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let replicas = (0..4).map(|_| {
        praktijkregister_register::bootstrap::ensure_registrar(&settings, &section, &pool)
    });
    for seeded in futures_util::future::join_all(replicas).await {
        let seeded = seeded.expect("every replica starts");
        assert!(!seeded.revoked);
        assert!(
            seeded.client_secret.is_none(),
            "a configured secret is not shown"
        );
    }

    let form = [("grant_type", "client_credentials")];
    let response = token_response(
        &app,
        &form,
        Some(("registrar-of-replicas", "a configured secret of replicas")),
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn in_development_the_listed_service_clients_get_the_secret_their_services_read() {
    let app = crate::helpers::spawn_app_with(|setup| {
        setup
            .register
            .bootstrap
            .service_clients
            .insert("peer-outbox".into(), "A peer service".into());
    })
    .await;
    // The calling service reads the same development secret under the shared data directory.
    let secret =
        praktijkregister_platform::service_client::development_secret(&app.data_dir, "peer-outbox")
            .expect("development secret");
    let response = token_response(
        &app,
        &[("grant_type", "client_credentials")],
        Some(("peer-outbox", &secret)),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let scope = body["scope"].as_str().expect("scope");
    assert!(scope.contains("visitation-outcomes:write"), "{scope}");
    assert!(!scope.contains("clients:manage"), "{scope}");
    // Another secret is refused: the client is not open to anyone.
    let wrong = token_response(
        &app,
        &[("grant_type", "client_credentials")],
        Some(("peer-outbox", "not-the-secret")),
    )
    .await;
    assert_eq!(wrong.status(), 401);
}
