//! `/v1/audit-events`: the registrar reads the audit trail.

use crate::scopes;
use actix_web::{get, web};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};

use super::repository;
use super::{AuditEventView, AuditListParams};

/// Registers the audit-trail routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit_events);
}

/// Read the audit trail
///
/// Audit events, newest first and keyset-paginated: who (API client, role, on behalf of whom)
/// did what (`action`), to which subject, when, with what outcome, in which request. Filter by
/// subject, actor, action (exact, or every action under a prefix with `practice.*`), a time
/// range (`from` inclusive, `to` exclusive, RFC 3339) and outcome. Reading the trail is itself
/// recorded in it (`audit.read`, with the filters), after the page is taken.
#[utoipa::path(
    tag = "Audit trail",
    params(AuditListParams, PageParams),
    responses(
        (status = 200, description = "A page of audit events, newest first", body = Page<AuditEventView>),
        (status = 422, description = "An invalid filter, limit or cursor, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["audit:read"]))
)]
#[get("/v1/audit-events")]
pub async fn list_audit_events(
    principal: Principal,
    pool: web::Data<DbPool>,
    params: web::Query<AuditListParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<AuditEventView>>, ApiError> {
    principal.require(scopes::AUDIT_READ)?;
    let filter = params.into_inner().parse()?;
    let limit = page.limit()?;
    let before: Option<i64> = page.after()?;
    let mut conn = connection(&pool).await?;
    let events = repository::list(&mut conn, &filter, before, limit).await?;
    let detail = serde_json::to_value(&filter).map_err(ApiError::internal)?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("audit.read", "audit_events", "*").with_detail(detail),
    )
    .await?;
    Ok(web::Json(Page::from_rows(events, limit, |e| e.id)))
}
