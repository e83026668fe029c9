//! Bearer-token verification (EdDSA JWTs), scopes and the authenticated principal (DESIGN §5).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::{web, FromRequest, HttpRequest};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use praktijkregister_domain::ClientRole;
use serde::{Deserialize, Serialize};

use crate::config::AuthSettings;
use crate::error::ApiError;
use crate::rate_limit::RateLimiter;

/// Every scope of the suite: the one list that the checks in the handlers and the OpenAPI
/// security scheme both use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    ClientsManage,
    PracticesRead,
    PracticesWrite,
    TherapistsRead,
    TherapistsWrite,
    KpImport,
    KpVerify,
    CyclesRead,
    CyclesManage,
    AnnualPlansRead,
    AnnualPlansSubmit,
    AnnualPlansAssess,
    RegistrationsRead,
    RegistrationsWithdraw,
    VisitationOutcomesWrite,
    AuditRead,
    EpdAuthorizationsManage,
    DeliveriesWrite,
    DeliveriesRead,
    PremWrite,
    QualityWrite,
    QualityRead,
    ConsentsManage,
    ComplianceRead,
    BenchmarkRead,
    ImprovementPlansWrite,
    ImprovementPlansRead,
    EvidenceRead,
}

impl Scope {
    pub const ALL: [Self; 28] = [
        Self::ClientsManage,
        Self::PracticesRead,
        Self::PracticesWrite,
        Self::TherapistsRead,
        Self::TherapistsWrite,
        Self::KpImport,
        Self::KpVerify,
        Self::CyclesRead,
        Self::CyclesManage,
        Self::AnnualPlansRead,
        Self::AnnualPlansSubmit,
        Self::AnnualPlansAssess,
        Self::RegistrationsRead,
        Self::RegistrationsWithdraw,
        Self::VisitationOutcomesWrite,
        Self::AuditRead,
        Self::EpdAuthorizationsManage,
        Self::DeliveriesWrite,
        Self::DeliveriesRead,
        Self::PremWrite,
        Self::QualityWrite,
        Self::QualityRead,
        Self::ConsentsManage,
        Self::ComplianceRead,
        Self::BenchmarkRead,
        Self::ImprovementPlansWrite,
        Self::ImprovementPlansRead,
        Self::EvidenceRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientsManage => "clients:manage",
            Self::PracticesRead => "practices:read",
            Self::PracticesWrite => "practices:write",
            Self::TherapistsRead => "therapists:read",
            Self::TherapistsWrite => "therapists:write",
            Self::KpImport => "kp:import",
            Self::KpVerify => "kp:verify",
            Self::CyclesRead => "cycles:read",
            Self::CyclesManage => "cycles:manage",
            Self::AnnualPlansRead => "annual-plans:read",
            Self::AnnualPlansSubmit => "annual-plans:submit",
            Self::AnnualPlansAssess => "annual-plans:assess",
            Self::RegistrationsRead => "registrations:read",
            Self::RegistrationsWithdraw => "registrations:withdraw",
            Self::VisitationOutcomesWrite => "visitation-outcomes:write",
            Self::AuditRead => "audit:read",
            Self::EpdAuthorizationsManage => "epd-authorizations:manage",
            Self::DeliveriesWrite => "deliveries:write",
            Self::DeliveriesRead => "deliveries:read",
            Self::PremWrite => "prem:write",
            Self::QualityWrite => "quality:write",
            Self::QualityRead => "quality:read",
            Self::ConsentsManage => "consents:manage",
            Self::ComplianceRead => "compliance:read",
            Self::BenchmarkRead => "benchmark:read",
            Self::ImprovementPlansWrite => "improvement-plans:write",
            Self::ImprovementPlansRead => "improvement-plans:read",
            Self::EvidenceRead => "evidence:read",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::ClientsManage => "Create, list and revoke API clients (registrar)",
            Self::PracticesRead => "Read practices (a practice client: only its own)",
            Self::PracticesWrite => "Create and change practices (registrar)",
            Self::TherapistsRead => {
                "Read therapists and memberships (a practice client: only its own)"
            }
            Self::TherapistsWrite => "Create and change therapists and memberships (registrar)",
            Self::KpImport => "Import Kwaliteitsregister Paramedici data (registrar)",
            Self::KpVerify => "Verify a therapist with Kwaliteitsregister Paramedici (registrar)",
            Self::CyclesRead => "Read the calendar of a cycle year",
            Self::CyclesManage => {
                "Set a cycle year's calendar and read the registrar's overview (registrar)"
            }
            Self::AnnualPlansRead => "Read annual plans (a practice client: only its own)",
            Self::AnnualPlansSubmit => "Submit annual plans (a practice client: only its own)",
            Self::AnnualPlansAssess => "Approve or reject annual plans (registrar)",
            Self::RegistrationsRead => {
                "Read registrations and their history (a practice client: only its own)"
            }
            Self::RegistrationsWithdraw => {
                "Withdraw a registration (a practice client: only its own)"
            }
            Self::VisitationOutcomesWrite => {
                "Report visitation plans and outcomes (the visitation service)"
            }
            Self::AuditRead => "Read the audit trail (registrar)",
            Self::EpdAuthorizationsManage => "Authorise EPD vendors to deliver for a practice (a practice: only its own)",
            Self::DeliveriesWrite => "Deliver monthly practice data (an EPD vendor: only for practices that authorised it)",
            Self::DeliveriesRead => "Read deliveries and their processing reports",
            Self::PremWrite => "Deliver PREM results (an EPD vendor: only for practices that authorised it)",
            Self::QualityWrite => "Record intervision, IOPs and treatment indices (a practice: only its own)",
            Self::QualityRead => "Read intervision, IOPs and treatment indices (a practice: only its own)",
            Self::ConsentsManage => "Give or revoke consent to share quality data with an insurer (a practice: only its own)",
            Self::ComplianceRead => "Read per-criterion compliance (an insurer: only practices that consented)",
            Self::BenchmarkRead => "Read a practice's benchmark (a practice: only its own)",
            Self::ImprovementPlansWrite => "Record improvement plans (a practice: only its own)",
            Self::ImprovementPlansRead => "Read improvement plans (an insurer: only its own and with consent)",
            Self::EvidenceRead => "Read the evidence feed (the insurer-export service)",
        }
    }

    /// The scopes a client of `role` may be granted.
    pub fn allowed_for(role: ClientRole) -> &'static [Scope] {
        match role {
            // Everything but the internal events, which only the services send.
            ClientRole::Registrar => &[
                Self::ClientsManage,
                Self::PracticesRead,
                Self::PracticesWrite,
                Self::TherapistsRead,
                Self::TherapistsWrite,
                Self::KpImport,
                Self::KpVerify,
                Self::CyclesRead,
                Self::CyclesManage,
                Self::AnnualPlansRead,
                Self::AnnualPlansSubmit,
                Self::AnnualPlansAssess,
                Self::RegistrationsRead,
                Self::RegistrationsWithdraw,
                Self::AuditRead,
                Self::EpdAuthorizationsManage,
                Self::DeliveriesWrite,
                Self::DeliveriesRead,
                Self::PremWrite,
                Self::QualityWrite,
                Self::QualityRead,
                Self::ConsentsManage,
                Self::ComplianceRead,
                Self::BenchmarkRead,
                Self::ImprovementPlansWrite,
                Self::ImprovementPlansRead,
            ],
            ClientRole::Practice => &[
                Self::PracticesRead,
                Self::TherapistsRead,
                Self::CyclesRead,
                Self::AnnualPlansRead,
                Self::AnnualPlansSubmit,
                Self::RegistrationsRead,
                Self::RegistrationsWithdraw,
                Self::EpdAuthorizationsManage,
                Self::DeliveriesRead,
                Self::QualityWrite,
                Self::QualityRead,
                Self::ConsentsManage,
                Self::ComplianceRead,
                Self::BenchmarkRead,
                Self::ImprovementPlansWrite,
                Self::ImprovementPlansRead,
            ],
            ClientRole::Service => &[
                Self::PracticesRead,
                Self::TherapistsRead,
                Self::CyclesRead,
                Self::RegistrationsRead,
                Self::VisitationOutcomesWrite,
                Self::QualityRead,
                Self::ComplianceRead,
                Self::EvidenceRead,
            ],
            ClientRole::EpdVendor => {
                &[Self::DeliveriesWrite, Self::DeliveriesRead, Self::PremWrite]
            }
            ClientRole::Insurer => &[Self::ComplianceRead, Self::ImprovementPlansRead],
            ClientRole::Visitor => &[],
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_string()))
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
    last_fetch: Mutex<Option<Instant>>,
    min_interval: Duration,
}

impl RemoteKeys {
    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.keys
            .read()
            .ok()
            .and_then(|keys| keys.get(kid).cloned())
    }

    /// Refreshes at most once per `min_interval`, so that tokens with made-up key ids cannot
    /// make the service hammer the key endpoint.
    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let may_fetch = {
            let mut last = self
                .last_fetch
                .lock()
                .map_err(|_| TokenError::KeysUnavailable)?;
            let due = last.is_none_or(|at| at.elapsed() >= self.min_interval);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if may_fetch {
            self.refresh().await?;
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
                last_fetch: Mutex::default(),
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
        })
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

/// The verified caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub client_id: String,
    pub role: ClientRole,
    pub scopes: BTreeSet<Scope>,
    pub practice_agb: Option<String>,
    pub epd_vendor: Option<String>,
    pub insurer_uzovi: Option<String>,
    pub visitor_id: Option<String>,
    pub on_behalf_of: Option<String>,
}

impl Principal {
    fn from_claims(claims: Claims) -> Self {
        // Unknown scope names (another issuer's) grant nothing here.
        let scopes = claims
            .scope
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect();
        Self {
            client_id: claims.sub,
            role: claims.role,
            scopes,
            practice_agb: claims.practice_agb,
            epd_vendor: claims.epd_vendor,
            insurer_uzovi: claims.insurer_uzovi,
            visitor_id: claims.visitor_id,
            on_behalf_of: claims.on_behalf_of,
        }
    }

    /// 403 unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the token lacks the scope `{scope}`"
            )))
        }
    }

    /// Whether this caller may see the practice `agb`: a practice client sees only itself.
    pub fn may_access_practice(&self, agb: &str) -> bool {
        match self.role {
            ClientRole::Practice => self.practice_agb.as_deref() == Some(agb),
            ClientRole::Registrar | ClientRole::Service => true,
            ClientRole::EpdVendor | ClientRole::Insurer | ClientRole::Visitor => false,
        }
    }

    /// Requires `scope` and access to the practice; a practice that is not the caller's own is
    /// answered 404, because its existence is itself private.
    pub fn require_practice(&self, scope: Scope, agb: &str) -> Result<(), ApiError> {
        self.require(scope)?;
        if self.may_access_practice(agb) {
            Ok(())
        } else {
            Err(ApiError::NotFound(format!("practice {agb} does not exist")))
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
            let token = token.map_err(|e| ApiError::Unauthorized(e.to_string()))?;
            let claims = verifier.verify(&token).await.map_err(|error| match error {
                TokenError::KeysUnavailable => {
                    ApiError::ServiceUnavailable("the token signing keys are not available".into())
                }
                other => ApiError::Unauthorized(other.to_string()),
            })?;
            let principal = Principal::from_claims(claims);
            if let Some(limiter) = limiter {
                limiter.check(&format!("client:{}", principal.client_id))?;
            }
            tracing::Span::current().record("client_id", principal.client_id.as_str());
            Ok(principal)
        })
    }
}
