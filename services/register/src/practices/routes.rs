//! `/v1/practices`: register, read, change and list practices.

use crate::scopes;
use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::conditional::{etag, required_version};
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use serde::Deserialize;
use utoipa::IntoParams;

use super::repository::{self, PracticeFilter, Update};
use super::{NewPracticeRequest, Practice, PracticePatch};
use crate::paths::PracticePath;
use crate::problems::Problems as _;

fn with_etag(mut response: actix_web::HttpResponseBuilder, practice: &Practice) -> HttpResponse {
    response
        .insert_header((header::ETAG, etag(practice.version)))
        .json(practice)
}

/// Register a practice
///
/// Registers a practice (onderneming) with its AGB code (zorgsoort 07), KvK number, tier,
/// contact and locations (vestigingen). Every field is checked at once; the answer names each
/// invalid field. A practice whose AGB code is already registered is refused with 409.
#[utoipa::path(
    tag = "Practices",
    request_body = NewPracticeRequest,
    responses(
        (status = 201, description = "Registered", body = Practice, headers(("ETag" = String, description = "Version of the practice"))),
        (status = 409, description = "A practice with this AGB code exists", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["practices:write"]))
)]
#[post("/v1/practices")]
pub async fn create_practice(
    principal: Principal,
    pool: web::Data<DbPool>,
    body: praktijkregister_platform::http::Json<NewPracticeRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::PRACTICES_WRITE)?;
    let (agb, fields) = body.into_inner().parse()?;
    let mut conn = connection(&pool).await?;
    let practice = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let practice = repository::insert(conn, &agb, &fields)
                .await?
                .ok_or_else(|| {
                    ApiError::conflict(format!("practice {agb} is already registered"))
                })?;
            let event = AuditEvent::success("practice.create", "practice", agb.as_str());
            Ok((practice, event))
        }
        .scope_boxed()
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/practices/{}", practice.agb)));
    Ok(with_etag(response, &practice))
}

/// Read a practice
///
/// The practice with its contact and locations. A practice client reads only its own practice;
/// any other answers 404. Every read is written to the audit log.
#[utoipa::path(
    tag = "Practices",
    params(PracticePath),
    responses(
        (status = 200, description = "The practice", body = Practice, headers(("ETag" = String, description = "Version of the practice"))),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["practices:read"]))
)]
#[get("/v1/practices/{agb}")]
pub async fn get_practice(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
) -> Result<HttpResponse, ApiError> {
    principal.require_practice(scopes::PRACTICES_READ, agb.as_str())?;
    let mut conn = connection(&pool).await?;
    let practice = repository::find(&mut conn, &agb)
        .await?
        .ok_or_else(|| ApiError::practice_not_found(&agb))?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("practice.read", "practice", agb.as_str()),
    )
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &practice))
}

/// Change a practice
///
/// Changes the given fields; `locations`, when given, replaces the whole list. Send `If-Match`
/// with the ETag you read: a practice changed since answers 412, a request without it 428.
#[utoipa::path(
    tag = "Practices",
    params(
        PracticePath,
        ("If-Match" = String, Header, description = "ETag of the version being changed", example = "\"1\""),
    ),
    request_body = PracticePatch,
    responses(
        (status = 200, description = "Changed", body = Practice, headers(("ETag" = String, description = "New version"))),
        (status = 404, description = "No such practice", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The practice changed since the given ETag", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["practices:write"]))
)]
#[patch("/v1/practices/{agb}")]
pub async fn update_practice(
    req: HttpRequest,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    body: praktijkregister_platform::http::Json<PracticePatch>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::PRACTICES_WRITE)?;
    let expected = required_version(&req)?;
    let mut conn = connection(&pool).await?;
    let patch = body.into_inner();
    let agb = &agb;
    let practice = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let current = repository::find(conn, agb)
                .await?
                .ok_or_else(|| ApiError::practice_not_found(agb))?;
            let fields = patch.apply(&current)?;
            let practice = match repository::update(conn, agb, expected, &fields).await? {
                Update::Done(practice) => practice,
                Update::Stale => {
                    return Err(ApiError::changed_since("practice", agb, current.version))
                }
                Update::Missing => return Err(ApiError::practice_not_found(agb)),
            };
            let event = AuditEvent::success("practice.update", "practice", agb.as_str());
            Ok((practice, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &practice))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PracticeListParams {
    /// Part of the name, any case.
    #[param(example = "beweging")]
    pub name: Option<String>,
    /// City of one of the locations, any case.
    #[param(example = "Utrecht")]
    pub city: Option<String>,
    /// Start of the postal code of one of the locations (`1234` or `1234 A`).
    #[param(example = "3512")]
    pub postal_code_prefix: Option<String>,
}

/// List practices
///
/// Practices ordered by AGB code, filtered by name, city and postal-code prefix,
/// keyset-paginated. A practice client sees only its own practice.
#[utoipa::path(
    tag = "Practices",
    params(PracticeListParams, PageParams),
    responses((status = 200, description = "A page of practices", body = Page<Practice>)),
    security(("oauth2" = ["practices:read"]))
)]
#[get("/v1/practices")]
pub async fn list_practices(
    principal: Principal,
    pool: web::Data<DbPool>,
    filter: web::Query<PracticeListParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Practice>>, ApiError> {
    principal.require(scopes::PRACTICES_READ)?;
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let filter = filter.into_inner();
    let only_agb = principal.practice().cloned();
    let filter = PracticeFilter::from_query(
        filter.name,
        filter.city,
        filter.postal_code_prefix,
        only_agb,
    );
    let mut conn = connection(&pool).await?;
    let practices = repository::list(&mut conn, &filter, after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("practice.list", "practice", "*")
            .with_detail(serde_json::json!({"count": practices.len().min(limit as usize)})),
    )
    .await?;
    Ok(web::Json(Page::from_rows(practices, limit, |p| {
        p.agb.clone()
    })))
}
