//! A service other than the register verifies the register's tokens with keys fetched from its
//! JWKS endpoint: cached, refreshed on an unknown key id, and not more often than configured.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use praktijkregister_platform::auth::{TokenError, TokenVerifier};
use praktijkregister_platform::config::Settings;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, REGISTRAR_ID};

async fn jwks_fetches(app: &TestApp) -> u64 {
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .filter(|l| {
            l.starts_with("http_requests_total") && l.contains("route=\"/.well-known/jwks.json\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn remote_verifier(app: &TestApp) -> TokenVerifier {
    let mut auth = Settings::defaults().unwrap().auth;
    auth.jwks_url = app.url("/.well-known/jwks.json");
    auth.jwks_refresh_interval_seconds = 3600;
    TokenVerifier::new(&auth, None).unwrap()
}

#[tokio::test]
async fn tokens_verify_against_the_published_keys_and_unknown_keys_refresh_at_most_once_per_interval(
) {
    let app = spawn_app().await;
    let verifier = remote_verifier(&app);
    let token = app.registrar_token().await;

    // A token naming a key the register never published.
    let other_key = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_pem(
        &ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
        Default::default(),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("rotated-away".into());
    let forged = jsonwebtoken::encode(
        &header,
        &json!({"iss": "http://127.0.0.1:8081", "aud": "praktijkregister", "sub": "x", "iat": now, "nbf": now,
                "exp": now + 60, "jti": "j", "scope": "", "role": "registrar"}),
        &EncodingKey::from_ed_pem(other_key.as_bytes()).unwrap(),
    )
    .unwrap();

    // The unknown key id makes the verifier fetch the key set; the key is not in it.
    assert_eq!(jwks_fetches(&app).await, 0);
    assert!(matches!(
        verifier.verify(&forged).await,
        Err(TokenError::UnknownKey)
    ));
    assert_eq!(jwks_fetches(&app).await, 1);

    // The register's own token verifies from the cached set.
    let claims = verifier.verify(&token).await.unwrap();
    assert_eq!(claims.sub, REGISTRAR_ID);
    assert_eq!(jwks_fetches(&app).await, 1);

    // More unknown key ids within the interval do not make it ask again.
    for _ in 0..3 {
        assert!(matches!(
            verifier.verify(&forged).await,
            Err(TokenError::UnknownKey)
        ));
    }
    assert_eq!(
        jwks_fetches(&app).await,
        1,
        "refreshes are limited to one per interval"
    );
}

#[tokio::test]
async fn an_unreachable_key_endpoint_is_reported_as_such() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    let mut auth = Settings::defaults().unwrap().auth;
    auth.jwks_url = "http://127.0.0.1:1/.well-known/jwks.json".into();
    let verifier = TokenVerifier::new(&auth, None).unwrap();
    assert!(matches!(
        verifier.verify(&token).await,
        Err(TokenError::KeysUnavailable)
    ));
}
