//! Bearer-token verification (EdDSA JWTs), scopes and the authenticated principal (DESIGN §5).

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::{web, FromRequest, HttpRequest};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use praktijkregister_domain::{ClientRole, EpdVendorId, OefentherapieAgb, UzoviCode, VisitorId};
use serde::{Deserialize, Serialize};

use crate::config::AuthSettings;
use crate::error::ApiError;
use crate::rate_limit::RateLimiter;

/// A permission a token can carry: its wire name, what it allows (for the OpenAPI document) and
/// the roles a client may be granted it. Each service declares its own as constants; two scopes
/// are the same when their names are.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    name: &'static str,
    description: &'static str,
    roles: &'static [ClientRole],
}

impl Scope {
    pub const fn new(
        name: &'static str,
        description: &'static str,
        roles: &'static [ClientRole],
    ) -> Self {
        Self {
            name,
            description,
            roles,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.name
    }

    pub fn description(self) -> &'static str {
        self.description
    }

    /// Whether a client of `role` may be granted this scope.
    pub fn allows(self, role: ClientRole) -> bool {
        self.roles.contains(&role)
    }
}

impl PartialEq for Scope {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Scope {}

impl PartialOrd for Scope {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scope {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name.cmp(other.name)
    }
}

impl std::hash::Hash for Scope {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// The claims of an access token. The binding claims tie a client to the one practice, vendor,
/// insurer or visitor it acts for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub scope: String,
    pub role: ClientRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practice_agb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epd_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurer_uzovi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
    /// The person or organisation a service acts for, when it passes that on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
}

/// Tells whether the client a token was issued to has been revoked since: the issuing service
/// refuses such tokens at once (DESIGN §5); other services accept them until they expire.
#[async_trait::async_trait]
pub trait Revocations: Send + Sync {
    /// Whether `client_id` is revoked now; an error leaves the request unanswerable (503).
    async fn is_revoked(&self, client_id: &str) -> Result<bool, ApiError>;
}

/// Why a token is refused. The message goes into the 401 problem; it never echoes the token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no bearer token was sent")]
    Missing,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    #[error("the token has no key id")]
    NoKeyId,
    #[error("the token's issuer is not trusted")]
    Issuer,
    #[error("the token is signed by an unknown key")]
    UnknownKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is meant for another audience")]
    Audience,
    #[error("the token's signature is not valid")]
    Signature,
    #[error("the token is missing the claim `{0}`")]
    MissingClaim(String),
    #[error("the client of the token has been revoked")]
    Revoked,
    #[error("the token's claim `{0}` is not valid")]
    InvalidClaim(String),
    #[error("the token is not valid")]
    Invalid,
    #[error("the signing keys could not be fetched")]
    KeysUnavailable,
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match error.kind() {
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::InvalidIssuer => Self::Issuer,
            ErrorKind::InvalidSignature => Self::Signature,
            ErrorKind::InvalidAlgorithm => Self::Algorithm,
            ErrorKind::MissingRequiredClaim(claim) => Self::MissingClaim(claim.clone()),
            ErrorKind::InvalidToken
            | ErrorKind::Base64(_)
            | ErrorKind::Json(_)
            | ErrorKind::Utf8(_) => Self::Malformed,
            _ => Self::Invalid,
        }
    }
}

/// Keys of one issuer: either known locally (the register verifying its own tokens) or fetched
/// from a JWKS endpoint, cached, and refreshed when a token names an unknown key id.
enum KeySource {
    Local(HashMap<String, DecodingKey>),
    Remote(RemoteKeys),
}

struct RemoteKeys {
    url: String,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// Held while fetching: requests that need the keys at the same moment wait for one fetch
    /// and then look again, instead of being refused while it is under way.
    fetch: tokio::sync::Mutex<LastFetch>,
    min_interval: Duration,
}

/// When the keys were last fetched, and whether that failed.
#[derive(Default)]
struct LastFetch {
    at: Option<Instant>,
    failed: bool,
}

/// After a failed fetch (the issuer restarting) the keys are tried again this soon, not only
/// after the refresh interval: meanwhile every token would be refused.
const RETRY_FAILED_FETCH: Duration = Duration::from_secs(1);

impl RemoteKeys {
    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.keys
            .read()
            .ok()
            .and_then(|keys| keys.get(kid).cloned())
    }

    /// Refreshes at most once per `min_interval` (once per [`RETRY_FAILED_FETCH`] after a
    /// failure), one fetch at a time, so that tokens with made-up key ids cannot make the service
    /// hammer the key endpoint. While the last fetch failed, a key not in the cache is
    /// unavailable (503), not unknown (401).
    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let mut last = self.fetch.lock().await;
        // Fetched by another request while this one waited.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let wait = if last.failed {
            RETRY_FAILED_FETCH.min(self.min_interval)
        } else {
            self.min_interval
        };
        if last.at.is_none_or(|at| at.elapsed() >= wait) {
            last.at = Some(Instant::now());
            let fetched = self.refresh().await;
            last.failed = fetched.is_err();
            fetched?;
        } else if last.failed {
            return Err(TokenError::KeysUnavailable);
        }
        self.cached(kid).ok_or(TokenError::UnknownKey)
    }

    async fn refresh(&self) -> Result<(), TokenError> {
        let set: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| {
                tracing::warn!(%error, url = %self.url, "JWKS fetch failed");
                TokenError::KeysUnavailable
            })?
            .json()
            .await
            .map_err(|_| TokenError::KeysUnavailable)?;
        let fresh: HashMap<String, DecodingKey> = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect();
        if let Ok(mut keys) = self.keys.write() {
            *keys = fresh;
        }
        Ok(())
    }
}

const REQUIRED_CLAIMS: [&str; 5] = ["iss", "aud", "exp", "nbf", "sub"];

/// Verifies access tokens strictly: algorithm from configuration (never from the token), key by
/// `kid`, required `iss`, `aud`, `exp`, `nbf`, `sub`.
pub struct TokenVerifier {
    algorithm: Algorithm,
    audience: String,
    leeway: u64,
    issuers: HashMap<String, KeySource>,
    /// The issuer of the suite's tokens (`auth.issuer`).
    own_issuer: String,
    /// Set in the issuing service: its tokens of revoked clients are refused at once.
    revocations: Option<Arc<dyn Revocations>>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifierConfigError {
    #[error("unsupported token algorithm `{0}`")]
    Algorithm(String),
    #[error("could not build the HTTP client for JWKS")]
    Client(#[source] reqwest::Error),
}

impl TokenVerifier {
    /// `local_keys`: the register passes its own public keys; other services pass `None` and
    /// fetch the register's keys from `jwks_url`.
    pub fn new(
        settings: &AuthSettings,
        local_keys: Option<HashMap<String, DecodingKey>>,
    ) -> Result<Self, VerifierConfigError> {
        let algorithm = Algorithm::from_str(&settings.algorithm)
            .map_err(|_| VerifierConfigError::Algorithm(settings.algorithm.clone()))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.jwks_timeout_ms))
            .build()
            .map_err(VerifierConfigError::Client)?;
        let remote = |url: &str| {
            KeySource::Remote(RemoteKeys {
                url: url.to_string(),
                client: client.clone(),
                keys: RwLock::default(),
                fetch: tokio::sync::Mutex::default(),
                min_interval: Duration::from_secs(settings.jwks_refresh_interval_seconds),
            })
        };
        let mut issuers = HashMap::new();
        let own = match local_keys {
            Some(keys) => KeySource::Local(keys),
            None => remote(&settings.jwks_url),
        };
        issuers.insert(settings.issuer.clone(), own);
        for trusted in &settings.trusted_issuers {
            issuers.insert(trusted.issuer.clone(), remote(&trusted.jwks_url));
        }
        Ok(Self {
            algorithm,
            audience: settings.audience.clone(),
            leeway: settings.leeway_seconds,
            issuers,
            own_issuer: settings.issuer.clone(),
            revocations: None,
        })
    }

    /// Refuses the suite's tokens of clients that `revocations` reports revoked.
    pub fn with_revocations(mut self, revocations: Arc<dyn Revocations>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != self.algorithm {
            return Err(TokenError::Algorithm);
        }
        let kid = header.kid.ok_or(TokenError::NoKeyId)?;
        // The issuer picks the key set; the signature over it is checked right after.
        let unverified: serde_json::Value =
            jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(token)
                .map_err(|_| TokenError::Malformed)?
                .claims;
        for claim in REQUIRED_CLAIMS {
            if unverified.get(claim).is_none() {
                return Err(TokenError::MissingClaim(claim.to_string()));
            }
        }
        let issuer = unverified
            .get("iss")
            .and_then(serde_json::Value::as_str)
            .ok_or(TokenError::Malformed)?;
        let source = self.issuers.get(issuer).ok_or(TokenError::Issuer)?;
        let key = match source {
            KeySource::Local(keys) => keys.get(&kid).cloned().ok_or(TokenError::UnknownKey)?,
            KeySource::Remote(remote) => remote.key(&kid).await?,
        };
        let mut validation = Validation::new(self.algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&REQUIRED_CLAIMS);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        Ok(jsonwebtoken::decode::<Claims>(token, &key, &validation)?.claims)
    }
}

/// Whom a client acts for: fixed by its role, taken from the token's binding claims and parsed
/// into the domain's identifiers, so that no handler compares raw strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// The registrar and the services act for the register as a whole.
    None,
    Practice(OefentherapieAgb),
    EpdVendor(EpdVendorId),
    Insurer(UzoviCode),
    Visitor(VisitorId),
}

impl Binding {
    /// The binding a token of `role` must carry; a missing or malformed claim refuses the token.
    fn from_claims(claims: &Claims) -> Result<Self, TokenError> {
        fn claim<T, E>(
            name: &str,
            value: Option<&String>,
            parse: impl FnOnce(&str) -> Result<T, E>,
        ) -> Result<T, TokenError> {
            let value = value.ok_or_else(|| TokenError::MissingClaim(name.to_string()))?;
            parse(value).map_err(|_| TokenError::InvalidClaim(name.to_string()))
        }
        Ok(match claims.role {
            ClientRole::Registrar | ClientRole::Service => Self::None,
            ClientRole::Practice => Self::Practice(claim(
                "practice_agb",
                claims.practice_agb.as_ref(),
                OefentherapieAgb::parse,
            )?),
            ClientRole::EpdVendor => Self::EpdVendor(claim(
                "epd_vendor",
                claims.epd_vendor.as_ref(),
                EpdVendorId::parse,
            )?),
            ClientRole::Insurer => Self::Insurer(claim(
                "insurer_uzovi",
                claims.insurer_uzovi.as_ref(),
                UzoviCode::parse,
            )?),
            ClientRole::Visitor => Self::Visitor(claim(
                "visitor_id",
                claims.visitor_id.as_ref(),
                VisitorId::parse,
            )?),
        })
    }
}

/// The verified caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub client_id: String,
    pub role: ClientRole,
    /// The scope names the token carries.
    pub scopes: BTreeSet<String>,
    pub binding: Binding,
    pub on_behalf_of: Option<String>,
}

impl Principal {
    fn from_claims(claims: Claims) -> Result<Self, TokenError> {
        let binding = Binding::from_claims(&claims)?;
        let scopes = claims
            .scope
            .split_whitespace()
            .map(str::to_string)
            .collect();
        Ok(Self {
            client_id: claims.sub,
            role: claims.role,
            scopes,
            binding,
            on_behalf_of: claims.on_behalf_of,
        })
    }

    /// 403 unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope.as_str()) {
            Ok(())
        } else {
            crate::denials::note(self, "scope", scope.as_str(), "scope", "missing_scope");
            Err(ApiError::Forbidden(format!(
                "the token lacks the scope `{scope}`"
            )))
        }
    }

    /// The practice a practice client is bound to.
    pub fn practice(&self) -> Option<&OefentherapieAgb> {
        match &self.binding {
            Binding::Practice(agb) => Some(agb),
            _ => None,
        }
    }

    /// The EPD vendor an EPD client is bound to.
    pub fn epd_vendor(&self) -> Option<&EpdVendorId> {
        match &self.binding {
            Binding::EpdVendor(vendor) => Some(vendor),
            _ => None,
        }
    }

    /// The insurer an insurer client is bound to.
    pub fn insurer(&self) -> Option<&UzoviCode> {
        match &self.binding {
            Binding::Insurer(uzovi) => Some(uzovi),
            _ => None,
        }
    }

    /// The visitor a visitor client is bound to.
    pub fn visitor(&self) -> Option<&VisitorId> {
        match &self.binding {
            Binding::Visitor(visitor) => Some(visitor),
            _ => None,
        }
    }

    /// Whether the caller acts for the register as a whole (registrar, services): it sees every
    /// tenant's resources.
    pub fn is_unbound(&self) -> bool {
        self.binding == Binding::None
    }

    /// Whether this caller may see the practice `agb`: a practice client sees only itself.
    pub fn may_access_practice(&self, agb: impl AsRef<str>) -> bool {
        let agb = agb.as_ref();
        match &self.binding {
            Binding::None => true,
            Binding::Practice(own) => own.as_str() == agb,
            Binding::EpdVendor(_) | Binding::Insurer(_) | Binding::Visitor(_) => false,
        }
    }

    /// Requires `scope` and access to the practice; a practice that is not the caller's own is
    /// answered 404, because its existence is itself private.
    pub fn require_practice(&self, scope: Scope, agb: impl AsRef<str>) -> Result<(), ApiError> {
        let agb = agb.as_ref();
        self.require(scope)?;
        if self.may_access_practice(agb) {
            Ok(())
        } else {
            crate::denials::note(self, "practice", agb, "practice", "other_tenant");
            Err(ApiError::not_found("practice", agb))
        }
    }

    /// Requires `scope` and that an insurer caller reads only its own resources; another
    /// insurer's resource is answered 404 (its existence is private). Unbound callers pass.
    pub fn require_insurer(&self, scope: Scope, uzovi: &str, kind: &str) -> Result<(), ApiError> {
        self.require(scope)?;
        match &self.binding {
            Binding::None => Ok(()),
            Binding::Insurer(own) if own.as_str() == uzovi => Ok(()),
            _ => {
                crate::denials::note(self, "insurer", uzovi, kind, "other_tenant");
                Err(ApiError::not_found(kind, uzovi))
            }
        }
    }

    /// Requires `scope` and that a visitor caller reads only their own resources (404 otherwise).
    /// Unbound callers pass.
    pub fn require_visitor(&self, scope: Scope, visitor: &str, kind: &str) -> Result<(), ApiError> {
        self.require(scope)?;
        match &self.binding {
            Binding::None => Ok(()),
            Binding::Visitor(own) if own.as_str() == visitor => Ok(()),
            _ => {
                crate::denials::note(self, "visitor", visitor, kind, "other_tenant");
                Err(ApiError::not_found(kind, visitor))
            }
        }
    }

    /// Requires `scope` and that an EPD vendor caller acts only for itself (404 otherwise).
    /// Unbound callers pass.
    pub fn require_epd_vendor(
        &self,
        scope: Scope,
        vendor: &str,
        kind: &str,
    ) -> Result<(), ApiError> {
        self.require(scope)?;
        match &self.binding {
            Binding::None => Ok(()),
            Binding::EpdVendor(own) if own.as_str() == vendor => Ok(()),
            _ => {
                crate::denials::note(self, "epd_vendor", vendor, kind, "other_tenant");
                Err(ApiError::not_found(kind, vendor))
            }
        }
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, TokenError> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or(TokenError::Missing)?
        .to_str()
        .map_err(|_| TokenError::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(TokenError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(TokenError::Missing);
    }
    Ok(token.trim().to_string())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let verifier = req.app_data::<web::Data<TokenVerifier>>().cloned();
        let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let verifier: Arc<TokenVerifier> = verifier
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no token verifier configured")))?
                .into_inner();
            let token = token.map_err(|error| match error {
                TokenError::Missing => ApiError::Unauthenticated(error.to_string()),
                other => ApiError::Unauthorized(other.to_string()),
            })?;
            let claims = verifier.verify(&token).await.map_err(|error| match error {
                TokenError::KeysUnavailable => {
                    ApiError::ServiceUnavailable("the token signing keys are not available".into())
                }
                other => ApiError::Unauthorized(other.to_string()),
            })?;
            let own_token = claims.iss == verifier.own_issuer;
            let principal = Principal::from_claims(claims)
                .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
            if let (true, Some(revocations)) = (own_token, &verifier.revocations) {
                if revocations.is_revoked(&principal.client_id).await? {
                    return Err(ApiError::Unauthorized(TokenError::Revoked.to_string()));
                }
            }
            if let Some(limiter) = limiter {
                limiter.check(&format!("client:{}", principal.client_id))?;
            }
            tracing::Span::current().record("client_id", principal.client_id.as_str());
            crate::denials::note_caller(&principal);
            Ok(principal)
        })
    }
}
