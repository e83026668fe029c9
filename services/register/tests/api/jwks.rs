//! A service other than the register verifies the register's tokens with keys fetched from its
//! JWKS endpoint: cached, refreshed on an unknown key id, and not more often than configured.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use praktijkregister_platform::auth::{TokenError, TokenVerifier};
use praktijkregister_platform::config::Settings;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, REGISTRAR_ID};

async fn jwks_fetches(app: &TestApp) -> u64 {
    let metrics = app.metrics().await;
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

/// Requests that arrive together at a service that has no keys yet all wait for the one fetch
/// (a service's first requests, or the first after the issuer rotated its key): a valid token is
/// never refused because another request's fetch was still under way.
#[tokio::test]
async fn verifications_arriving_together_share_one_fetch_and_all_succeed() {
    let app = spawn_app().await;
    let verifier = remote_verifier(&app);
    let token = app.registrar_token().await;

    let verified = futures_util::future::join_all((0..8).map(|_| verifier.verify(&token))).await;

    for result in &verified {
        assert!(result.is_ok(), "{result:?}");
    }
    assert_eq!(jwks_fetches(&app).await, 1, "one fetch for all of them");
}

/// The key endpoint unreachable for a moment (the register restarting): tokens are refused as
/// "keys unavailable" (503, retry) while it is, never as signed by an unknown key (401), and the
/// keys are fetched again soon after it answers, not only after the refresh interval.
#[tokio::test]
async fn a_failed_key_fetch_answers_unavailable_and_is_tried_again_once_the_endpoint_is_back() {
    let app = spawn_app().await;
    let token = app.registrar_token().await;
    let keys = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // A port nothing listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut auth = Settings::defaults().unwrap().auth;
    auth.jwks_url = format!("http://127.0.0.1:{port}/.well-known/jwks.json");
    auth.jwks_refresh_interval_seconds = 3600;
    let verifier = TokenVerifier::new(&auth, None).unwrap();

    for _ in 0..3 {
        let refused = verifier.verify(&token).await;
        assert!(
            matches!(refused, Err(TokenError::KeysUnavailable)),
            "{refused:?}"
        );
    }

    // The endpoint answers now, with the register's key set.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{keys}",
                keys.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });

    // Tried again within seconds, far inside the hour of the refresh interval.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let verified = loop {
        match verifier.verify(&token).await {
            Err(TokenError::KeysUnavailable) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => break other,
        }
    };
    assert_eq!(verified.unwrap().sub, REGISTRAR_ID);
}
