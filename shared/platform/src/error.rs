//! One error type for every service, rendered as `application/problem+json` (RFC 9457).

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::telemetry::RequestContext;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
const PROBLEM_BASE: &str = "https://praktijkregister.vvocm.nl/problems/";

/// The `type` URI of the problem `slug`.
pub fn problem_type(slug: &str) -> String {
    format!("{PROBLEM_BASE}{slug}")
}

/// One invalid field of a request: `field` is a JSON pointer-like path (`locations[0].postal_code`),
/// `code` a stable machine code, `message` what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"field": "agb_code", "code": "agb_format", "message": "an AGB code is exactly 8 digits"}))]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Problem details (RFC 9457). Extension members: `request_id`, `errors` for validation,
/// and problem-specific members such as `allowed_next_states`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://praktijkregister.vvocm.nl/problems/validation-failed",
    "title": "The request is not valid",
    "status": 422,
    "detail": "1 field is not valid",
    "instance": "/v1/practices",
    "request_id": "5f0c8f0e-2a43-4d43-9a55-0d7d1c1f8a11",
    "errors": [{"field": "agb_code", "code": "agb_format", "message": "an AGB code is exactly 8 digits"}]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Problem-specific members.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: Map<String, Value>,
}

/// The error every handler returns. Each variant is one problem type with its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request is not valid")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    /// A token was sent and refused.
    #[error("{0}")]
    Unauthorized(String),
    /// No credentials were sent (RFC 6750 §3.1: the challenge then carries no error code).
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{detail}")]
    Conflict {
        detail: String,
        extensions: Map<String, Value>,
    },
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A well-formed request that a business rule refuses.
    #[error("{detail}")]
    Unprocessable {
        detail: String,
        extensions: Map<String, Value>,
    },
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("{0}")]
    BadGateway(String),
    #[error("{0}")]
    GatewayTimeout(String),
    #[error("{0}")]
    ServiceUnavailable(String),
    /// A feature the installation has not configured: 503 like an outage, but retrying does not help.
    #[error("{0}")]
    NotConfigured(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn field(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl fmt::Display,
    ) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message.to_string())])
    }

    /// 404 for a resource of `kind` (e.g. "practice") with `id`; also the answer that hides
    /// another tenant's resource, so both read the same.
    pub fn not_found(kind: &str, id: impl fmt::Display) -> Self {
        Self::NotFound(format!("{kind} {id} does not exist"))
    }

    /// 422 for one field whose value the domain refused, with the refusal's code and message.
    pub fn invalid(field: impl Into<String>, error: &impl CodedError) -> Self {
        Self::field(field, error.code(), error)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
            extensions: Map::new(),
        }
    }

    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::Unprocessable {
            detail: detail.into(),
            extensions: Map::new(),
        }
    }

    /// 500 for a fault of the service, never of the request. The cause is logged (never shown)
    /// with the place in the code where it arose.
    #[track_caller]
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(
            error
                .into()
                .context(format!("at {}", std::panic::Location::caller())),
        )
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::Validation(_) => ("validation-failed", "The request is not valid"),
            Self::BadRequest(_) => ("bad-request", "The request is malformed"),
            Self::Unauthorized(_) | Self::Unauthenticated(_) => {
                ("unauthorized", "Authentication is required")
            }
            Self::Forbidden(_) => ("forbidden", "Access is not allowed"),
            Self::NotFound(_) => ("not-found", "Not found"),
            Self::MethodNotAllowed(_) => ("method-not-allowed", "The method is not allowed"),
            Self::Conflict { .. } => ("conflict", "The request conflicts with the current state"),
            Self::PreconditionFailed(_) => ("precondition-failed", "The resource has changed"),
            Self::PreconditionRequired(_) => {
                ("precondition-required", "A precondition is required")
            }
            Self::PayloadTooLarge(_) => ("payload-too-large", "The request body is too large"),
            Self::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "The media type is not supported")
            }
            Self::Unprocessable { .. } => {
                ("rule-violated", "The request breaks a rule of the register")
            }
            Self::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            Self::BadGateway(_) => ("bad-gateway", "An upstream service answered badly"),
            Self::NotConfigured(_) => (
                "not-configured",
                "This installation does not offer the feature",
            ),
            Self::GatewayTimeout(_) => (
                "gateway-timeout",
                "An upstream service did not answer in time",
            ),
            Self::ServiceUnavailable(_) => (
                "service-unavailable",
                "The service is temporarily unavailable",
            ),
            Self::Internal(_) => ("internal-error", "Internal error"),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let status = self.status_code();
        let (detail, errors, extensions) = match self {
            Self::Validation(errors) => {
                let detail = match errors.len() {
                    1 => "1 field is not valid".to_string(),
                    n => format!("{n} fields are not valid"),
                };
                (detail, errors.clone(), Map::new())
            }
            Self::Conflict { detail, extensions } | Self::Unprocessable { detail, extensions } => {
                (detail.clone(), Vec::new(), extensions.clone())
            }
            Self::TooManyRequests {
                retry_after_seconds,
            } => (
                format!("the rate limit is exceeded; retry after {retry_after_seconds} s"),
                Vec::new(),
                Map::new(),
            ),
            // Never expose the cause of an internal error; it is logged instead.
            Self::Internal(_) => (
                "the request could not be completed".to_string(),
                Vec::new(),
                Map::new(),
            ),
            other => (other.to_string(), Vec::new(), Map::new()),
        };
        let context = RequestContext::current();
        Problem {
            problem_type: problem_type(slug),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            instance: context.as_ref().map(|c| c.path.clone()),
            request_id: context.map(|c| c.request_id),
            errors,
            extensions,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::ServiceUnavailable(_) | Self::NotConfigured(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        match self {
            Self::Unauthorized(_) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
            }
            Self::Unauthenticated(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::TooManyRequests {
                retry_after_seconds,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            Self::ServiceUnavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        response.json(self.to_problem())
    }
}

impl From<crate::db::PoolError> for ApiError {
    fn from(error: crate::db::PoolError) -> Self {
        match error {
            crate::db::PoolError::Timeout(_) => {
                Self::ServiceUnavailable("no database connection became available in time".into())
            }
            other => {
                tracing::warn!(error = %other, "database unavailable");
                Self::ServiceUnavailable("the database is not reachable".into())
            }
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    #[track_caller]
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => Self::NotFound("the resource does not exist".into()),
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                Self::ServiceUnavailable("the database connection was lost".into())
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::ServiceUnavailable("a concurrent change interfered; retry the request".into())
            }
            // Last lines of defence: input the handlers' checks let through must still get a
            // 4xx, never a 500. The database's message is not shown; it may name internals.
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::conflict("the request conflicts with data that already exists")
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Self::unprocessable("the request refers to something that does not exist")
            }
            Error::DatabaseError(DatabaseErrorKind::CheckViolation, _) => {
                Self::unprocessable("a value in the request breaks a rule of the register")
            }
            Error::DatabaseError(_, info) if info.message().contains("statement timeout") => {
                Self::ServiceUnavailable(
                    "the database did not answer in time; try again later".into(),
                )
            }
            Error::DatabaseError(_, info) if info.message().contains("0x00") => {
                Self::unprocessable("text in the request contains a NUL character")
            }
            // A connection that died under the request (a restart, an administrator, the
            // network): an outage to retry, not a fault of the service.
            other if connection_lost(&other) => {
                tracing::warn!(error = %other, "database connection lost");
                Self::ServiceUnavailable("the database connection was lost".into())
            }
            other => Self::internal(other),
        }
    }
}

fn connection_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::Error;
    if matches!(error, Error::BrokenTransactionManager) {
        return true;
    }
    let message = error.to_string().to_ascii_lowercase();
    [
        "connection closed",
        "terminating connection",
        "server closed the connection",
        "broken pipe",
        "connection reset",
    ]
    .iter()
    .any(|sign| message.contains(sign))
}

/// Collects field errors while parsing a request body, so that one answer names every bad field.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl fmt::Display,
    ) {
        self.0
            .push(FieldError::new(field, code, message.to_string()));
    }

    /// Parses `value` with `parse`; on failure records the error under `field` and yields `None`.
    pub fn check<T, E>(&mut self, field: &str, value: Result<T, E>) -> Option<T>
    where
        E: crate::error::CodedError,
    {
        match value {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(field, e.code(), e.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

pub use praktijkregister_domain::CodedError;

/// Wraps a value that is certainly present after [`FieldErrors::into_result`] returned `Ok`.
pub fn checked<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::internal(anyhow::anyhow!("validated value missing")))
}
