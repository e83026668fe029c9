//! `/v1/visitors`: the registrar records visitors; a visitor reads themself and declares their
//! availability.

use actix_web::{get, put, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::http::Json;
use praktijkregister_platform::pagination::{Page, PageParams};

use super::repository;
use super::{Availability, Visitor, VisitorDetails, MAX_AVAILABILITY};
use crate::paths::VisitorPath;
use crate::scopes;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(put_visitor)
        .service(list_visitors)
        .service(get_visitor)
        .service(put_availability);
}

/// Record a visitor
///
/// Creates the visitor with this id, or replaces what is recorded of them: name and contact, the
/// optional therapist AGB (a visitor who is a therapist may not visit the practices where they
/// work, nor those of their intervision groups), the day the visitor training was finished, the
/// authorisation period (001 §1.2c) and the capacity in sessions per cycle year and per ISO week.
/// The id is what a visitor client is bound to. Every invalid field is named in one 422.
#[utoipa::path(
    tag = "Visitors",
    params(VisitorPath),
    request_body = VisitorDetails,
    responses(
        (status = 200, description = "Replaced", body = Visitor),
        (status = 201, description = "Created", body = Visitor),
        (status = 404, description = "Not a valid visitor id", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitors:manage"]))
)]
#[put("/v1/visitors/{id}")]
pub async fn put_visitor(
    principal: Principal,
    pool: web::Data<DbPool>,
    id: VisitorPath,
    body: Json<VisitorDetails>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::VISITORS_MANAGE)?;
    let details = body.parsed()?;
    let id = id.into_inner();
    let mut conn = connection(&pool).await?;
    let (created, visitor) = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let created = repository::upsert(conn, id.as_str(), &details).await?;
            let row = repository::find(conn, id.as_str())
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("visitor just written")))?;
            let availability = repository::availability(conn, id.as_str()).await?;
            let action = if created {
                "visitor.create"
            } else {
                "visitor.update"
            };
            Ok((
                (created, row.view(availability)),
                AuditEvent::success(action, "visitor", id.as_str()),
            ))
        }
        .scope_boxed()
    })
    .await?;
    Ok(if created {
        HttpResponse::Created()
            .insert_header(("Location", format!("/v1/visitors/{}", visitor.id)))
            .json(visitor)
    } else {
        HttpResponse::Ok().json(visitor)
    })
}

/// List visitors
///
/// Every visitor, by id, with their availability.
#[utoipa::path(
    tag = "Visitors",
    params(PageParams),
    responses(
        (status = 200, description = "A page of visitors", body = Page<Visitor>),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitors:manage"]))
)]
#[get("/v1/visitors")]
pub async fn list_visitors(
    principal: Principal,
    pool: web::Data<DbPool>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Visitor>>, ApiError> {
    principal.require(scopes::VISITORS_MANAGE)?;
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let mut conn = connection(&pool).await?;
    let rows = repository::page(&mut conn, after, limit).await?;
    let mut visitors = Vec::with_capacity(rows.len());
    for row in rows {
        let availability = repository::availability(&mut conn, &row.id).await?;
        visitors.push(row.view(availability));
    }
    Ok(web::Json(Page::from_rows(visitors, limit, |v| {
        v.id.clone()
    })))
}

/// Read a visitor
///
/// The visitor with their availability. A visitor client reads only themself; another visitor is
/// answered 404.
#[utoipa::path(
    tag = "Visitors",
    params(VisitorPath),
    responses(
        (status = 200, description = "The visitor", body = Visitor),
        (status = 404, description = "No such visitor (or not you)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitors:read"]))
)]
#[get("/v1/visitors/{id}")]
pub async fn get_visitor(
    principal: Principal,
    pool: web::Data<DbPool>,
    id: VisitorPath,
) -> Result<web::Json<Visitor>, ApiError> {
    principal.require_visitor(scopes::VISITORS_READ, id.as_str(), "visitor")?;
    let mut conn = connection(&pool).await?;
    let row = repository::find(&mut conn, id.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found("visitor", id.as_str()))?;
    let availability = repository::availability(&mut conn, id.as_str()).await?;
    Ok(web::Json(row.view(availability)))
}

/// Declare a visitor's availability
///
/// Replaces the parts of days (`morning` or `afternoon` of a date) the visitor is available for
/// sessions, at most 1000. Sessions already planned stay. A visitor client declares only their
/// own; another visitor is answered 404.
#[utoipa::path(
    tag = "Visitors",
    params(VisitorPath),
    request_body = Availability,
    responses(
        (status = 200, description = "The visitor with the new availability", body = Visitor),
        (status = 404, description = "No such visitor (or not you)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many or repeated slots", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitor-availability:write"]))
)]
#[put("/v1/visitors/{id}/availability")]
pub async fn put_availability(
    principal: Principal,
    pool: web::Data<DbPool>,
    id: VisitorPath,
    body: Json<Availability>,
) -> Result<web::Json<Visitor>, ApiError> {
    principal.require_visitor(scopes::VISITOR_AVAILABILITY_WRITE, id.as_str(), "visitor")?;
    let mut slots = body.into_inner().slots;
    if slots.len() > MAX_AVAILABILITY {
        return Err(ApiError::field(
            "slots",
            "too_many_slots",
            format!("at most {MAX_AVAILABILITY} parts of days"),
        ));
    }
    let count = slots.len();
    slots.sort();
    slots.dedup();
    if slots.len() != count {
        return Err(ApiError::field(
            "slots",
            "repeated_slot",
            "each part of a day is listed once",
        ));
    }
    let id = id.into_inner();
    let mut conn = connection(&pool).await?;
    let visitor = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            let row = repository::lock(conn, id.as_str())
                .await?
                .ok_or_else(|| ApiError::not_found("visitor", id.as_str()))?;
            repository::replace_availability(conn, id.as_str(), &slots).await?;
            let availability = repository::availability(conn, id.as_str()).await?;
            Ok((
                row.view(availability),
                AuditEvent::success("visitor.availability", "visitor", id.as_str())
                    .with_detail(serde_json::json!({"slots": slots.len()})),
            ))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(visitor))
}
