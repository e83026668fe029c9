//! The service client against real local HTTP servers: a token endpoint and upstream services.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::ResponseError;
use base64::Engine as _;
use praktijkregister_platform::config::{Config, Settings};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::outbox::TokenSource;
use praktijkregister_platform::service_client::{
    development_secret, ServiceCallError, ServiceClient, ServiceClientSettings,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{json, Value};
use support::{eventually, serve, Request};

const LIMIT: Duration = Duration::from_secs(20);

/// A token endpoint that counts its calls and hands out `token-<n>` valid for `expires_in` s.
struct TokenEndpoint {
    calls: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Request>>>,
    url: String,
}

async fn token_endpoint(expires_in: u64, delay: Duration) -> TokenEndpoint {
    let calls = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (c, r) = (Arc::clone(&calls), Arc::clone(&requests));
    let addr = serve(move |request| {
        let (calls, requests) = (Arc::clone(&c), Arc::clone(&r));
        async move {
            tokio::time::sleep(delay).await;
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            requests.lock().unwrap().push(request);
            let answer = json!({
                "access_token": format!("token-{n}"), "token_type": "Bearer",
                "expires_in": expires_in, "scope": "visitation-outcomes:write"
            });
            (200, answer.to_string())
        }
    })
    .await;
    TokenEndpoint {
        calls,
        requests,
        url: format!("http://{addr}/oauth/token"),
    }
}

fn settings(token_url: &str) -> ServiceClientSettings {
    ServiceClientSettings {
        token_url: token_url.to_string(),
        client_id: "visitation-service".into(),
        client_secret: Some(SecretString::from("s3cret-value")),
        scope: Some("visitation-outcomes:write".into()),
        timeout_ms: 500,
        retries: 2,
        retry_backoff_ms: 10,
        refresh_margin_seconds: 1,
    }
}

/// An upstream that answers with the bearer token it was sent.
async fn echo_upstream() -> String {
    let addr = serve(|request: Request| async move {
        let auth = request
            .header("authorization")
            .unwrap_or_default()
            .to_string();
        (200, json!({"authorization": auth}).to_string())
    })
    .await;
    format!("http://{addr}")
}

fn problem_status(error: ServiceCallError) -> u16 {
    ApiError::from(error).status_code().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_fetched_once_reused_and_renewed_before_it_expires() {
    // Valid 2 s, renewed 1 s before: the second token comes about a second later.
    let tokens = token_endpoint(2, Duration::ZERO).await;
    let upstream = echo_upstream().await;
    let client = ServiceClient::new(settings(&tokens.url))
        .unwrap()
        .with_base_url(&upstream)
        .unwrap();

    for _ in 0..3 {
        let answer: Value = client.get_json("/v1/things").await.unwrap();
        assert_eq!(answer["authorization"], "Bearer token-1");
    }
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 1);
    {
        let requests = tokens.requests.lock().unwrap();
        let request = &requests[0];
        assert_eq!(request.method, "POST");
        let basic =
            base64::engine::general_purpose::STANDARD.encode("visitation-service:s3cret-value");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Basic {basic}").as_str())
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let body = String::from_utf8(request.body.clone()).unwrap();
        assert!(body.contains("grant_type=client_credentials"), "{body}");
        assert!(body.contains("scope=visitation-outcomes%3Awrite"), "{body}");
    }

    eventually(LIMIT, "a renewed token", || async {
        let answer: Value = client.get_json("/v1/things").await.unwrap();
        answer["authorization"] == "Bearer token-2"
    })
    .await;
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 2);
    // The relay gets the same cached token.
    assert_eq!(client.bearer_token().await.unwrap(), "token-2");
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_wait_for_one_token_fetch() {
    let tokens = token_endpoint(300, Duration::from_millis(100)).await;
    let upstream = echo_upstream().await;
    let client = Arc::new(
        ServiceClient::new(settings(&tokens.url))
            .unwrap()
            .with_base_url(&upstream)
            .unwrap(),
    );
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let client = Arc::clone(&client);
            tokio::spawn(async move { client.get_json::<Value>("/v1/things").await.unwrap() })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap()["authorization"], "Bearer token-1");
    }
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_never_answers_is_a_gateway_timeout() {
    let tokens = token_endpoint(300, Duration::ZERO).await;
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let addr = serve(move |_request| {
        counter.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<(u16, String)>()
    })
    .await;
    let mut s = settings(&tokens.url);
    s.timeout_ms = 200;
    s.retries = 1;
    let client = ServiceClient::new(s).unwrap();
    let error = tokio::time::timeout(
        LIMIT,
        client.get_json::<Value>(&format!("http://{addr}/v1/slow")),
    )
    .await
    .expect("the call returns on its own timeout")
    .unwrap_err();
    assert!(
        matches!(error, ServiceCallError::Timeout { .. }),
        "{error:?}"
    );
    // A GET is retried once, then given up.
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(problem_status(error), 504);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_then_a_200_succeeds_after_a_retry_but_a_plain_post_is_not_retried() {
    let tokens = token_endpoint(300, Duration::ZERO).await;
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let addr = serve(move |_request| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            // Every other call is refused as busy, starting with the first.
            if n % 2 == 1 {
                (200, r#"{"ok":true}"#.to_string())
            } else {
                (503, r#"{"title":"busy"}"#.to_string())
            }
        }
    })
    .await;
    let client = ServiceClient::new(settings(&tokens.url))
        .unwrap()
        .with_base_url(&format!("http://{addr}"))
        .unwrap();

    let answer: Value = client.get_json("/v1/things").await.unwrap();
    assert_eq!(answer, json!({"ok": true}));
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    let answer: Value = client
        .post_json_idempotent("/v1/internal/events", &json!({"event_id": "x"}))
        .await
        .unwrap();
    assert_eq!(answer, json!({"ok": true}));
    assert_eq!(hits.load(Ordering::SeqCst), 4);

    // Not known to be idempotent: the 503 is the answer (a bad gateway to our own caller).
    let error = client
        .post_json::<_, Value>("/v1/things", &json!({"name": "x"}))
        .await
        .unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 5);
    assert_eq!(problem_status(error), 502);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_is_down_is_service_unavailable() {
    let tokens = token_endpoint(300, Duration::ZERO).await;
    let down = support::closed_port().await;
    let client = ServiceClient::new(settings(&tokens.url)).unwrap();
    let error = tokio::time::timeout(
        LIMIT,
        client.get_json::<Value>(&format!("http://{down}/v1/things")),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        matches!(error, ServiceCallError::Unreachable { .. }),
        "{error:?}"
    );
    let problem = ApiError::from(error);
    assert_eq!(problem.status_code().as_u16(), 503);
    assert!(problem
        .to_problem()
        .problem_type
        .ends_with("/service-unavailable"));

    // The token endpoint down is the same problem.
    let client = ServiceClient::new(settings(&format!("http://{down}/oauth/token"))).unwrap();
    let error = client
        .get_json::<Value>(&format!("http://{down}/v1/things"))
        .await
        .unwrap_err();
    assert_eq!(problem_status(error), 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_renewed_once_and_other_refusals_are_kept() {
    let tokens = token_endpoint(300, Duration::ZERO).await;
    // Refuses the first token as a revoked one; answers 404 for a missing thing.
    let addr = serve(|request: Request| async move {
        match (request.header("authorization"), request.path.as_str()) {
            (Some("Bearer token-1"), _) => (401, "{}".to_string()),
            (_, "/v1/missing") => (404, r#"{"title":"Not found"}"#.to_string()),
            _ => (200, r#"{"ok":true}"#.to_string()),
        }
    })
    .await;
    let client = ServiceClient::new(settings(&tokens.url))
        .unwrap()
        .with_base_url(&format!("http://{addr}"))
        .unwrap();
    let answer: Value = client.get_json("/v1/things").await.unwrap();
    assert_eq!(answer, json!({"ok": true}));
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 2);

    let error = client.get_json::<Value>("/v1/missing").await.unwrap_err();
    match &error {
        ServiceCallError::Refused { status, body, .. } => {
            assert_eq!(*status, 404);
            assert_eq!(body["title"], "Not found");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(problem_status(error), 404);
}

fn settings_in(dir: &std::path::Path, environment: &str) -> Settings {
    let toml = format!(
        "[app]\nenvironment = \"{environment}\"\ndata_dir = \"{}\"\n",
        dir.display()
    );
    Config::from_toml(&[], &toml)
        .and_then(|config| config.common())
        .expect("settings")
}

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("prr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn in_development_an_empty_secret_becomes_the_shared_development_secret() {
    let dir = scratch_dir("dev-secret");
    let common = settings_in(&dir, "development");
    let mut unset = settings("http://127.0.0.1:1/oauth/token");
    unset.client_secret = None;
    let first = unset.clone().for_environment(&common).expect("a secret");
    let second = unset.for_environment(&common).expect("the same secret");
    let secret = |s: &ServiceClientSettings| {
        s.client_secret
            .as_ref()
            .map(|s| s.expose_secret().to_string())
    };
    assert_eq!(secret(&first), secret(&second));
    // The register's bootstrap reads the same file for the client it seeds.
    let kept = development_secret(&dir, "visitation-service").expect("kept secret");
    assert_eq!(secret(&first).as_deref(), Some(kept.as_str()));
    assert_eq!(kept.len(), 43);
    // A configured secret is left as it is.
    let configured = settings("http://127.0.0.1:1/oauth/token")
        .for_environment(&common)
        .expect("configured");
    assert_eq!(secret(&configured).as_deref(), Some("s3cret-value"));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn in_production_an_empty_secret_is_refused_and_no_file_is_made() {
    let dir = scratch_dir("prod-secret");
    let common = settings_in(&dir, "production");
    let mut unset = settings("http://127.0.0.1:1/oauth/token");
    unset.client_secret = None;
    let refusal = unset.for_environment(&common).expect_err("refused");
    assert!(refusal.contains("client_secret"), "{refusal}");
    assert!(!dir.join("service-clients").exists());
}

#[test]
fn a_client_id_that_is_not_a_file_name_is_refused() {
    let dir = scratch_dir("bad-id");
    assert!(development_secret(&dir, "../escape").is_err());
    assert!(development_secret(&dir, "").is_err());
}
