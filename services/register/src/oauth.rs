//! `POST /oauth/token` (client credentials, RFC 6749 §4.4) and `GET /.well-known/jwks.json`.

use crate::startup::RegisterContext;
use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use praktijkregister_platform::audit::{self, Actor, AuditEvent, Outcome};
use praktijkregister_platform::auth::Scope;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::rate_limit::RateLimiter;
use serde::Serialize;
use utoipa::ToSchema;

use crate::clients::repository::{self as clients, ClientRow};
use crate::credentials::{self, Verification};
use praktijkregister_platform::signing::{JwksDocument, TokenSubject};

/// The form of a token request (`application/x-www-form-urlencoded`).
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads the fields itself to catch duplicates
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(example = "client_credentials")]
    grant_type: String,
    /// Space-separated scopes; the token gets those the client is allowed. Default: all it is allowed.
    #[schema(example = "practices:read therapists:read")]
    scope: Option<String>,
    /// With `client_secret`, instead of HTTP Basic authentication (not both).
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9...", "token_type": "Bearer", "expires_in": 300, "scope": "practices:read therapists:read"}))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// An OAuth 2.0 error answer (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "client authentication failed"}))]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_scope` or `unsupported_grant_type`.
    pub error: &'static str,
    pub error_description: String,
}

/// A refusal of the token endpoint, rendered as an RFC 6749 §5.2 error.
struct Refusal {
    status: actix_web::http::StatusCode,
    error: &'static str,
    description: String,
}

impl Refusal {
    fn response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if self.error == "invalid_client" {
            response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"praktijkregister\""));
        }
        response.json(OAuthError {
            error: self.error,
            error_description: self.description,
        })
    }
}

fn oauth_error(
    status: actix_web::http::StatusCode,
    error: &'static str,
    description: impl Into<String>,
) -> Refusal {
    Refusal {
        status,
        error,
        description: description.into(),
    }
}

fn invalid_request(description: impl Into<String>) -> Refusal {
    oauth_error(
        actix_web::http::StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
    )
}

fn invalid_client() -> Refusal {
    oauth_error(
        actix_web::http::StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    )
}

/// Credentials from `Authorization: Basic` (RFC 6749 §2.3.1: form-urlencoded id and secret).
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, Refusal> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || invalid_request("the Authorization header is not valid HTTP Basic");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        // An unsupported authentication method is invalid_client (RFC 6749 §5.2).
        return Err(invalid_client());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

struct Form {
    grant_type: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Parses the form; a parameter sent twice is refused (RFC 6749 §3.2).
fn parse_form(body: &[u8]) -> Result<Form, Refusal> {
    let mut form = Form {
        grant_type: None,
        scope: None,
        client_id: None,
        client_secret: None,
    };
    for (key, value) in url::form_urlencoded::parse(body) {
        let slot = match key.as_ref() {
            "grant_type" => &mut form.grant_type,
            "scope" => &mut form.scope,
            "client_id" => &mut form.client_id,
            "client_secret" => &mut form.client_secret,
            _ => continue,
        };
        if slot.is_some() {
            return Err(invalid_request(format!(
                "the parameter `{key}` is sent more than once"
            )));
        }
        *slot = Some(value.into_owned());
    }
    Ok(form)
}

fn peer_key(req: &HttpRequest) -> String {
    format!(
        "address:{}",
        req.peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default()
    )
}

/// Get an access token
///
/// OAuth 2.0 client credentials grant (RFC 6749 §4.4). Authenticate the client with HTTP Basic
/// or with `client_id` and `client_secret` in the form, not both. The token is an EdDSA-signed
/// JWT valid for five minutes (by default) carrying the granted scopes, the client's role and its
/// binding (`practice_agb`, `epd_vendor`, `insurer_uzovi`, `visitor_id`). Granted scope =
/// requested ∩ allowed. Errors follow RFC 6749 §5.2, not problem+json.
#[utoipa::path(
    tag = "Authentication",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token", body = TokenResponse,
            headers(("Cache-Control" = String, description = "Always `no-store`"))),
        (status = 400, description = "`invalid_request`, `invalid_scope` or `unsupported_grant_type`", body = OAuthError),
        (status = 401, description = "`invalid_client`: unknown, revoked or wrong secret", body = OAuthError),
        (status = 429, description = "Too many requests from the address, too many failed authentications of the client id in the last minute, or too many verifications of person-chosen secrets running at once; `Retry-After` says when to try again", body = praktijkregister_platform::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 415, description = "The body is not form-encoded", body = praktijkregister_platform::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/oauth/token")]
pub async fn token(
    ctx: web::Data<RegisterContext>,
    req: HttpRequest,
    body: web::Bytes,
    pool: web::Data<DbPool>,
    limiter: web::Data<RateLimiter>,
) -> Result<HttpResponse, ApiError> {
    limiter.check(&peer_key(&req))?;
    let form_encoded = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return Err(ApiError::UnsupportedMediaType(
            "send the token request as application/x-www-form-urlencoded".into(),
        ));
    }
    let form = match parse_form(&body) {
        Ok(form) => form,
        Err(refusal) => return Ok(refusal.response()),
    };
    let basic = match basic_credentials(&req) {
        Ok(basic) => basic,
        Err(refusal) => return Ok(refusal.response()),
    };
    let body_credentials = form.client_id.is_some() || form.client_secret.is_some();
    let (client_id, secret) = match (basic, body_credentials) {
        (Some(_), true) => {
            return Ok(invalid_request(
                "authenticate with HTTP Basic or with the form parameters, not both",
            )
            .response())
        }
        (Some(credentials), false) => credentials,
        (None, true) => (
            form.client_id.clone().unwrap_or_default(),
            form.client_secret.clone().unwrap_or_default(),
        ),
        (None, false) => return Ok(invalid_client().response()),
    };
    match form.grant_type.as_deref() {
        None => return Ok(invalid_request("the parameter `grant_type` is missing").response()),
        Some("client_credentials") => {}
        Some(_) => {
            return Ok(oauth_error(
                actix_web::http::StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only the client_credentials grant is supported",
            )
            .response())
        }
    }

    // Failed attempts count per client id as well as per address (DESIGN §5).
    if let Some(retry_after_seconds) = ctx.secrets.blocked(&client_id) {
        return Err(ApiError::TooManyRequests {
            retry_after_seconds,
        });
    }
    // No pool connection is held while a secret is verified.
    let row = {
        let mut conn = connection(&pool).await?;
        clients::find(&mut conn, &client_id).await?
    };
    let hash = row
        .as_ref()
        .map(|r| r.secret_hash.clone())
        .unwrap_or_else(|| credentials::decoy_hash().to_string());
    // The configured registrar secret is one a person chose: it stays argon2.
    let chosen = ctx.settings.bootstrap.configured_secret().is_some()
        && client_id == ctx.settings.bootstrap.registrar_client_id;
    let verification = ctx.secrets.verify(&secret, &hash, !chosen).await;
    let (verified, upgrade) = match verification {
        Verification::Valid { upgrade } => (true, upgrade),
        Verification::Invalid => (false, None),
        Verification::Busy => {
            return Err(ApiError::TooManyRequests {
                retry_after_seconds: 1,
            })
        }
    };
    let mut conn = connection(&pool).await?;
    let client: ClientRow = match row {
        Some(row) if verified && row.revoked_at.is_none() => {
            if let Some(upgrade) = upgrade {
                clients::replace_secret_hash(&mut conn, &row.client_id, &row.secret_hash, &upgrade)
                    .await?;
            }
            row
        }
        other => {
            if !verified {
                ctx.secrets.failed(&client_id);
            }
            if let Some(row) = other {
                let actor = Actor {
                    client_id: &row.client_id,
                    role: &row.role,
                    on_behalf_of: None,
                };
                let event = AuditEvent::success("token.issue", "api_client", &row.client_id)
                    .with_outcome(Outcome::Denied);
                audit::record(&mut conn, actor, &event).await?;
            }
            return Ok(invalid_client().response());
        }
    };

    let allowed = client.allowed_scopes()?;
    let granted: Vec<Scope> = match form
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => allowed,
        Some(requested) => {
            let requested: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
            let granted: Vec<Scope> = allowed
                .into_iter()
                .filter(|scope| requested.contains(&scope.as_str()))
                .collect();
            if granted.is_empty() {
                return Ok(oauth_error(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "none of the requested scopes is allowed for this client",
                )
                .response());
            }
            granted
        }
    };
    let scope = granted
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let role = client.role()?;
    let access_token = ctx
        .signer
        .issue(TokenSubject {
            client_id: &client.client_id,
            role,
            scope: scope.clone(),
            practice_agb: client.practice_agb.clone(),
            epd_vendor: client.epd_vendor.clone(),
            insurer_uzovi: client.insurer_uzovi.clone(),
            visitor_id: client.visitor_id.clone(),
        })
        .map_err(ApiError::internal)?;
    let actor = Actor {
        client_id: &client.client_id,
        role: &client.role,
        on_behalf_of: None,
    };
    let event = AuditEvent::success("token.issue", "api_client", &client.client_id)
        .with_detail(serde_json::json!({"scope": scope}));
    audit::record(&mut conn, actor, &event).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: ctx.signer.lifetime_seconds(),
            scope,
        }))
}

/// Token verification keys
///
/// The public keys that sign access tokens, by `kid`: the current key and any keys still accepted
/// during a rotation. Verifiers cache this and fetch it again when a token names an unknown `kid`.
#[utoipa::path(
    tag = "Authentication",
    responses((status = 200, description = "The JWK Set", body = JwksDocument))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(ctx: web::Data<RegisterContext>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(ctx.signer.jwks())
}
