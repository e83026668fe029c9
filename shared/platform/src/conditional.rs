//! Optimistic concurrency with `ETag` / `If-Match` (DESIGN §4): the ETag is the row version.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::error::ApiError;

/// The strong ETag of a version: `"7"`.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The version the client expects from `If-Match`: `None` for `*` (any current version).
/// A missing header is 428: an update without it could silently overwrite another change.
pub fn required_version(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or_else(|| {
            ApiError::PreconditionRequired(
                "send If-Match with the ETag of the version you changed".into(),
            )
        })?
        .to_str()
        .map_err(|_| {
            ApiError::field(
                "If-Match",
                "etag_format",
                "If-Match must be an ETag such as \"3\"",
            )
        })?
        .trim();
    if value == "*" {
        return Ok(None);
    }
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse::<i32>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::field(
                "If-Match",
                "etag_format",
                "If-Match must be an ETag such as \"3\"",
            )
        })
}

/// Whether an `If-None-Match` value (`*` or a list of entity tags) matches `etag`. The comparison
/// is weak (RFC 9110 §13.1.2): a `W/` prefix is ignored.
pub fn none_match<'a>(values: impl IntoIterator<Item = &'a str>, etag: &str) -> bool {
    values
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}
