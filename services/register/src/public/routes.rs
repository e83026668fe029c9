//! `/v1/public/practices`: the public register, readable without a token.

use crate::startup::RegisterContext;
use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use praktijkregister_domain::OefentherapieAgb;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use praktijkregister_platform::paths::exact;
use praktijkregister_platform::rate_limit::RateLimiter;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::repository;
use super::{body_etag, none_match, public_years, PublicPractice};
use crate::paths::PracticePath;
use crate::practices::repository::PracticeFilter;

/// How long shared caches and browsers may keep a public answer.
const CACHE_CONTROL: &str = "public, max-age=300";

/// Registers the public register routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_public_practices)
        .service(get_public_practice);
}

/// Takes one request from the caller's address in the shared rate limiter (429 when exhausted).
fn limit_rate(req: &HttpRequest, limiter: &RateLimiter) -> Result<(), ApiError> {
    let ip = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    limiter.check(&format!("public:{ip}"))
}

/// The same answer for every practice that is not publicly registered, whatever the reason, so
/// that the answer does not tell whether the practice exists.
fn not_public() -> ApiError {
    ApiError::NotFound("the practice is not in the public register".into())
}

/// Answers `value` as JSON with a strong ETag of the exact body and `Cache-Control`, or 304 when
/// `If-None-Match` matches.
fn cacheable<T: Serialize>(req: &HttpRequest, value: &T) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let etag = body_etag(&body);
    let if_none_match = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok());
    if none_match(if_none_match, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .content_type("application/json")
        .body(body))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicPracticeParams {
    /// Part of the practice name (praktijknaam), any case.
    #[param(example = "beweging")]
    pub name: Option<String>,
    /// City (plaats) of one of the locations, any case.
    #[param(example = "Utrecht")]
    pub city: Option<String>,
    /// Start of the postal code (postcode) of one of the locations (`3512`, `3512 A` or `3512ab`).
    #[param(example = "3512")]
    pub postal_code_prefix: Option<String>,
    /// AGB code of the practice, exactly.
    #[param(example = "07012345")]
    pub agb: Option<String>,
}

/// Search the public register
///
/// Keuze-informatie: the practices registered in the praktijkregister for the current cycle year
/// (the calendar year in Europe/Amsterdam) or the previous one, so that patients can choose a
/// practice. Search by part of the name, city, postal-code prefix or AGB code; ordered by AGB
/// code and keyset-paginated. Only public data: name, tier and addresses, and the years the
/// practice is registered for. No token is needed; requests are rate-limited per client address.
/// The answer carries a strong `ETag` of its body: send it in `If-None-Match` for a 304.
#[utoipa::path(
    tag = "Public register",
    params(
        PublicPracticeParams,
        PageParams,
        ("If-None-Match" = Option<String>, Header, nullable = false, description = "ETag(s) of an answer already held, or `*`"),
    ),
    responses(
        (status = 200, description = "A page of registered practices", body = Page<PublicPractice>,
            headers(
                ("ETag" = String, description = "Strong entity tag: the SHA-256 of the body"),
                ("Cache-Control" = String, description = "`public, max-age=300`"),
            )),
        (status = 304, description = "Not modified: the body matches the If-None-Match ETag",
            headers(
                ("ETag" = String, description = "Strong entity tag: the SHA-256 of the body"),
                ("Cache-Control" = String, description = "`public, max-age=300`"),
            )),
        (status = 422, description = "An invalid query parameter (limit, cursor or AGB code), named", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/v1/public/practices")]
pub async fn list_public_practices(
    ctx: web::Data<RegisterContext>,
    req: HttpRequest,
    limiter: web::Data<RateLimiter>,
    pool: web::Data<DbPool>,
    filter: web::Query<PublicPracticeParams>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    limit_rate(&req, &limiter)?;
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let filter = filter.into_inner();
    let agb = filter
        .agb
        .as_deref()
        .map(|agb| OefentherapieAgb::parse(exact(agb)).map_err(|e| ApiError::invalid("agb", &e)))
        .transpose()?;
    let filter =
        PracticeFilter::from_query(filter.name, filter.city, filter.postal_code_prefix, agb);
    let years = public_years(ctx.clock.now());
    let mut conn = connection(&pool).await?;
    let practices = repository::list(&mut conn, &years, &filter, after, limit).await?;
    let page = Page::from_rows(practices, limit, |p| p.agb.clone());
    cacheable(&req, &page)
}

/// Read a practice in the public register
///
/// Keuze-informatie for one practice: name, tier, addresses and the cycle years (current and
/// previous) it is registered for. A practice that is not registered for either year answers
/// 404 with the same problem as an unknown AGB code, so the answer does not reveal whether the
/// practice exists. No token is needed; requests are rate-limited per client address.
#[utoipa::path(
    tag = "Public register",
    params(
        PracticePath,
        ("If-None-Match" = Option<String>, Header, nullable = false, description = "ETag(s) of an answer already held, or `*`"),
    ),
    responses(
        (status = 200, description = "The registered practice", body = PublicPractice,
            headers(
                ("ETag" = String, description = "Strong entity tag: the SHA-256 of the body"),
                ("Cache-Control" = String, description = "`public, max-age=300`"),
            )),
        (status = 304, description = "Not modified: the body matches the If-None-Match ETag",
            headers(
                ("ETag" = String, description = "Strong entity tag: the SHA-256 of the body"),
                ("Cache-Control" = String, description = "`public, max-age=300`"),
            )),
        (status = 404, description = "Not in the public register (unknown, or not registered for the current or previous year)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/v1/public/practices/{agb}")]
pub async fn get_public_practice(
    ctx: web::Data<RegisterContext>,
    req: HttpRequest,
    limiter: web::Data<RateLimiter>,
    pool: web::Data<DbPool>,
    path: Result<PracticePath, ApiError>,
) -> Result<HttpResponse, ApiError> {
    limit_rate(&req, &limiter)?;
    // A malformed AGB code is answered like every practice that is not public.
    let PracticePath(agb) = path.map_err(|_| not_public())?;
    let years = public_years(ctx.clock.now());
    let mut conn = connection(&pool).await?;
    let practice = repository::find(&mut conn, &years, &agb)
        .await?
        .ok_or_else(not_public)?;
    cacheable(&req, &practice)
}
