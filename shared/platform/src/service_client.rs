//! Calls to another service of the suite (DESIGN §2: services talk over HTTP with
//! client-credentials tokens, with timeouts and retries).
//!
//! The token comes from the register's `POST /oauth/token` (client credentials, client
//! authenticated by HTTP Basic) and is reused until `refresh_margin_seconds` before it expires;
//! concurrent callers that find no valid token wait for one fetch instead of each fetching.
//! Each request is bounded by `timeout_ms`. Idempotent calls (GET, and POSTs the caller marks so,
//! such as events the receiver applies once) are retried `retries` times, after a growing delay,
//! when the upstream could not be reached, did not answer in time, or answered 502, 503 or 504.
//!
//! Failures become problems: unreachable → 503, no answer in time → 504, a 5xx or unreadable
//! answer → 502 (see [`ServiceCallError`]).

use std::path::Path;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::config::{Environment, Settings};
use crate::error::ApiError;
use crate::outbox::TokenSource;

/// Settings of a service's client for calling other services (suggested TOML section
/// `[<service>.service_client]`).
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceClientSettings {
    /// The register's token endpoint, e.g. `http://127.0.0.1:8081/oauth/token`.
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    /// Scopes to ask for, space-separated; none: the client's default scopes.
    pub scope: Option<String>,
    /// One request, connect to last byte of the answer.
    pub timeout_ms: u64,
    /// Extra attempts of an idempotent call.
    pub retries: u32,
    /// The delay before the first retry; it doubles for each further one.
    pub retry_backoff_ms: u64,
    /// A cached token is renewed this long before it expires.
    pub refresh_margin_seconds: u64,
}

impl ServiceClientSettings {
    /// Checks the values; the error names the offending key under `prefix`.
    pub fn validate(&self, prefix: &str) -> Result<(), String> {
        let url_ok = url::Url::parse(&self.token_url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if !url_ok {
            return Err(format!("{prefix}.token_url must be an http(s) URL"));
        }
        if self.client_id.trim().is_empty() {
            return Err(format!("{prefix}.client_id must be set"));
        }
        if self.timeout_ms == 0 {
            return Err(format!("{prefix}.timeout_ms must be greater than 0"));
        }
        if self.retries > 10 {
            return Err(format!("{prefix}.retries must be at most 10"));
        }
        Ok(())
    }

    /// The settings with their secret: the configured one, or in development (where the whole
    /// suite runs on one machine without configuration) the client's development secret, which
    /// the register seeds its client with. In production an empty secret is refused.
    pub fn for_environment(mut self, settings: &Settings) -> Result<Self, String> {
        if crate::config::non_empty(self.client_secret.as_ref()).is_some() {
            return Ok(self);
        }
        match settings.app.environment {
            Environment::Production => Err(format!(
                "service client {}: client_secret must be set in production",
                self.client_id
            )),
            Environment::Development => {
                let secret = development_secret(&settings.app.data_dir, &self.client_id)
                    .map_err(|e| {
                        format!(
                            "service client {}: the development secret could not be kept under {}: {e}",
                            self.client_id,
                            settings.app.data_dir.display()
                        )
                    })?;
                self.client_secret = Some(SecretString::from(secret));
                Ok(self)
            }
        }
    }
}

/// The development secret of service client `client_id`, kept at
/// `<data_dir>/service-clients/<client_id>` (created on first use, readable by the owner only).
/// The calling service and the register's bootstrap read the same file, so the services of one
/// machine can call each other without configuration.
pub fn development_secret(data_dir: &Path, client_id: &str) -> std::io::Result<String> {
    let valid_id = !client_id.is_empty()
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_id {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a client id of letters, digits, `-` or `_` is needed",
        ));
    }
    let dir = data_dir.join("service-clients");
    let path = dir.join(client_id);
    if let Ok(secret) = std::fs::read_to_string(&path) {
        if !secret.trim().is_empty() {
            return Ok(secret.trim().to_string());
        }
        std::fs::remove_file(&path)?;
    }
    std::fs::create_dir_all(&dir)?;
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    match crate::signing::write_private(&path, secret.as_bytes()) {
        Ok(()) => Ok(secret),
        // Another service of the machine created it first: theirs is the secret.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(&path)?.trim().to_string())
        }
        Err(error) => Err(error),
    }
}

/// Why a call failed. Converts into the problem the caller answers with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceCallError {
    /// No connection could be made (refused, no route, DNS).
    #[error("{service} is not reachable")]
    Unreachable { service: String },
    /// No (complete) answer within the timeout.
    #[error("{service} did not answer in time")]
    Timeout { service: String },
    /// A 5xx, a redirect, or an answer that is not the expected JSON.
    #[error("{service} answered badly: {detail}")]
    BadAnswer {
        service: String,
        /// The answer's status, when the trouble is the status.
        status: Option<u16>,
        detail: String,
    },
    /// A 4xx: the upstream refused the request; `body` is its answer (problem details, usually).
    #[error("{service} refused the request with status {status}")]
    Refused {
        service: String,
        status: u16,
        body: serde_json::Value,
    },
    /// No token could be obtained.
    #[error("no token for calling other services: {0}")]
    Token(String),
    /// The call could not be built (a bad URL or body: a bug of the caller).
    #[error("the call could not be built: {0}")]
    Invalid(String),
}

impl From<ServiceCallError> for ApiError {
    fn from(error: ServiceCallError) -> Self {
        match &error {
            ServiceCallError::Unreachable { .. } => Self::ServiceUnavailable(error.to_string()),
            ServiceCallError::Timeout { .. } => Self::GatewayTimeout(error.to_string()),
            ServiceCallError::BadAnswer { .. } | ServiceCallError::Token(_) => {
                tracing::warn!(error = %error, "upstream call failed");
                Self::BadGateway(error.to_string())
            }
            ServiceCallError::Refused { status: 404, .. } => {
                Self::NotFound("the upstream resource does not exist".into())
            }
            // Our request was wrong; the caller's client cannot fix that.
            ServiceCallError::Refused { .. } => {
                tracing::warn!(error = %error, "upstream refused a call");
                Self::BadGateway(error.to_string())
            }
            ServiceCallError::Invalid(_) => Self::internal(anyhow::anyhow!("{error}")),
        }
    }
}

/// Whether a failed call may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Never: the call changes something and is not known to be idempotent.
    Never,
    /// On connect errors, timeouts, 502, 503 and 504, up to `retries` times.
    Idempotent,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: i64,
}

struct CachedToken {
    value: String,
    /// When to fetch a new one (expiry minus the margin).
    renew_at: Instant,
}

/// A client for calling other services. Cheap to share (`Arc`), one per service process.
pub struct ServiceClient {
    http: reqwest::Client,
    settings: ServiceClientSettings,
    base_url: Option<url::Url>,
    token: Mutex<Option<CachedToken>>,
}

impl ServiceClient {
    pub fn new(settings: ServiceClientSettings) -> Result<Self, String> {
        settings.validate("service_client")?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("service client: {e}"))?;
        Ok(Self {
            http,
            settings,
            base_url: None,
            token: Mutex::new(None),
        })
    }

    /// Relative paths given to the calls are resolved against `base` (`http://host:port/`).
    pub fn with_base_url(mut self, base: &str) -> Result<Self, String> {
        self.base_url = Some(url::Url::parse(base).map_err(|e| format!("base URL {base:?}: {e}"))?);
        Ok(self)
    }

    /// `GET` a JSON document; retried as an idempotent call.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, ServiceCallError> {
        self.send_json::<(), T>(Method::GET, url, None, Retry::Idempotent)
            .await
    }

    /// `POST` a JSON body; not retried (see [`ServiceClient::post_json_idempotent`]).
    pub async fn post_json<B, T>(&self, url: &str, body: &B) -> Result<T, ServiceCallError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send_json(Method::POST, url, Some(body), Retry::Never)
            .await
    }

    /// `POST` a JSON body the receiver applies once (an event, or a write with an
    /// `Idempotency-Key`): retried like a GET.
    pub async fn post_json_idempotent<B, T>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<T, ServiceCallError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send_json(Method::POST, url, Some(body), Retry::Idempotent)
            .await
    }

    /// Any call with a JSON answer.
    pub async fn send_json<B, T>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
        retry: Retry,
    ) -> Result<T, ServiceCallError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let target = self.resolve(url)?;
        let service = target
            .host_str()
            .map(|h| match target.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
            .unwrap_or_else(|| "the upstream service".to_string());
        let attempts = match retry {
            Retry::Never => 1,
            Retry::Idempotent => self.settings.retries + 1,
        };
        let mut renewed_token = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = match self.token().await {
                Ok(token) => token,
                Err(e) if attempt < attempts && retryable(&e) => {
                    self.pause(attempt, &e).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut request = self
                .http
                .request(method.clone(), target.clone())
                .bearer_auth(&token)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(body) = body {
                request = request.json(body);
            }
            let outcome = match request.send().await {
                Ok(response) => self.read::<T>(response, &service).await,
                Err(e) => Err(transport_error(&e, &service)),
            };
            match outcome {
                // The token may have been revoked or the key rotated: one fresh token, once.
                Err(ServiceCallError::Refused { status: 401, .. }) if !renewed_token => {
                    renewed_token = true;
                    self.forget_token(&token).await;
                }
                Err(e) if attempt < attempts && retryable(&e) => self.pause(attempt, &e).await,
                other => return other,
            }
        }
    }

    /// The wait before attempt `attempt + 1`: `retry_backoff_ms`, doubling per attempt.
    async fn pause(&self, attempt: u32, error: &ServiceCallError) {
        let delay = self
            .settings
            .retry_backoff_ms
            .saturating_mul(1 << (attempt - 1).min(16));
        tracing::debug!(error = %error, attempt, "retrying a call to another service");
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }

    fn resolve(&self, url: &str) -> Result<url::Url, ServiceCallError> {
        let parsed = match &self.base_url {
            Some(base) => base.join(url),
            None => url::Url::parse(url),
        };
        parsed.map_err(|e| ServiceCallError::Invalid(format!("URL {url:?}: {e}")))
    }

    async fn read<T: DeserializeOwned>(
        &self,
        response: reqwest::Response,
        service: &str,
    ) -> Result<T, ServiceCallError> {
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error(&e, service))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| ServiceCallError::BadAnswer {
                service: service.to_string(),
                status: None,
                detail: format!("the answer is not the expected JSON: {e}"),
            });
        }
        if status.is_client_error() {
            return Err(ServiceCallError::Refused {
                service: service.to_string(),
                status: status.as_u16(),
                body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
            });
        }
        Err(ServiceCallError::BadAnswer {
            service: service.to_string(),
            status: Some(status.as_u16()),
            detail: format!("status {}", status.as_u16()),
        })
    }

    /// A valid token: the cached one, or a new one. The lock is held during the fetch, so
    /// concurrent callers wait for that one fetch (single flight).
    async fn token(&self) -> Result<String, ServiceCallError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref() {
            if Instant::now() < token.renew_at {
                return Ok(token.value.clone());
            }
        }
        let fresh = self.fetch_token().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Drops `used` from the cache, unless another caller has already replaced it.
    async fn forget_token(&self, used: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == used) {
            *cached = None;
        }
    }

    async fn fetch_token(&self) -> Result<CachedToken, ServiceCallError> {
        let started = Instant::now();
        let mut form = vec![("grant_type", "client_credentials".to_string())];
        if let Some(scope) = self
            .settings
            .scope
            .as_ref()
            .filter(|s| !s.trim().is_empty())
        {
            form.push(("scope", scope.clone()));
        }
        let secret = self
            .settings
            .client_secret
            .as_ref()
            .map(|s| s.expose_secret().to_string());
        let response = self
            .http
            .post(&self.settings.token_url)
            .basic_auth(&self.settings.client_id, secret)
            .form(&form)
            .send()
            .await
            .map_err(|e| match transport_error(&e, "the token endpoint") {
                // The register is down or slow: as for any other upstream (503, 504).
                unreachable @ (ServiceCallError::Unreachable { .. }
                | ServiceCallError::Timeout { .. }) => unreachable,
                _ => ServiceCallError::Token(describe_transport(&e)),
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(ServiceCallError::Token(
                if status == StatusCode::UNAUTHORIZED {
                    "the token endpoint refused the client's credentials".to_string()
                } else {
                    format!("the token endpoint answered {}", status.as_u16())
                },
            ));
        }
        let answer: TokenAnswer = response
            .json()
            .await
            .map_err(|e| ServiceCallError::Token(format!("unreadable token answer: {e}")))?;
        let lifetime = Duration::from_secs(u64::try_from(answer.expires_in).unwrap_or(0));
        let margin = Duration::from_secs(self.settings.refresh_margin_seconds);
        // Counted from before the request, so the token is never held past its expiry.
        let renew_at = started + lifetime.saturating_sub(margin);
        Ok(CachedToken {
            value: answer.access_token,
            renew_at,
        })
    }
}

#[async_trait::async_trait]
impl TokenSource for ServiceClient {
    async fn bearer_token(&self) -> Result<String, String> {
        self.token().await.map_err(|e| e.to_string())
    }

    async fn invalidate(&self) {
        *self.token.lock().await = None;
    }
}

fn retryable(error: &ServiceCallError) -> bool {
    match error {
        ServiceCallError::Unreachable { .. } | ServiceCallError::Timeout { .. } => true,
        ServiceCallError::BadAnswer { status, .. } => matches!(status, Some(502..=504)),
        _ => false,
    }
}

fn transport_error(error: &reqwest::Error, service: &str) -> ServiceCallError {
    let service = service.to_string();
    if error.is_timeout() {
        ServiceCallError::Timeout { service }
    } else if error.is_connect() {
        ServiceCallError::Unreachable { service }
    } else {
        ServiceCallError::BadAnswer {
            service,
            status: None,
            detail: describe_transport(error),
        }
    }
}

fn describe_transport(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
