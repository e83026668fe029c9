//! `/v1/practices/{agb}/consents`: grant, revoke and list a practice's consents for insurers.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::{delete, get, put, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_domain::amsterdam_date;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use serde_json::json;

use super::repository;
use super::{Consent, ConsentRequest};
use crate::access;
use crate::paths::{InsurerPath, PracticePath};

/// Registers the consent routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(grant_consent)
        .service(revoke_consent)
        .service(list_consents);
}

/// Grant consent to an insurer
///
/// Records that the practice consents (toestemming, 001 §1.3c) to the register sharing its
/// practice-level quality data with the insurer of the UZOVI code; intervision content is never
/// shared. Answers 201 when no consent was active (first grant, or again after a revocation) and
/// 200 when an active consent only gets a new `granted_on`. A practice client grants only for
/// itself; any other practice answers 404.
#[utoipa::path(
    tag = "Consents",
    params(PracticePath, InsurerPath),
    request_body = ConsentRequest,
    responses(
        (status = 200, description = "The active consent, with the new date", body = Consent),
        (status = 201, description = "Granted", body = Consent),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid UZOVI code or date", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["consents:manage"]))
)]
#[put("/v1/practices/{agb}/consents/{uzovi}")]
pub async fn grant_consent(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    InsurerPath(uzovi): InsurerPath,
    body: praktijkregister_platform::http::Json<ConsentRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require_practice(scopes::CONSENTS_MANAGE, agb.as_str())?;
    let request = body.into_inner();
    let now = ctx.clock.now();
    request.validate(amsterdam_date(now))?;
    let mut conn = connection(&pool).await?;
    let client_id = &principal.client_id;
    let (consent, created) = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            access::require_exists(conn, &agb).await?;
            let (consent, created) = repository::grant(
                conn,
                &agb,
                &uzovi,
                request.granted_on.date(),
                now,
                client_id,
            )
            .await?;
            if created {
                crate::export_events::consent(conn, agb.as_str(), uzovi.as_str(), true, now)
                    .await?;
            }
            let event = AuditEvent::success("consent.grant", "consent", format!("{agb}/{uzovi}"))
                .with_detail(json!({"granted_on": consent.granted_on, "created": created}));
            Ok(((consent, created), event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(if created {
        HttpResponse::Created().json(consent)
    } else {
        HttpResponse::Ok().json(consent)
    })
}

/// Revoke consent
///
/// Revokes the practice's active consent for the insurer: from now on the insurer sees none of
/// the practice's quality data. The consent stays listed as revoked and can be granted again.
/// No active consent answers 404.
#[utoipa::path(
    tag = "Consents",
    params(PracticePath, InsurerPath),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such practice (or not yours), or no active consent", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid UZOVI code", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["consents:manage"]))
)]
#[delete("/v1/practices/{agb}/consents/{uzovi}")]
pub async fn revoke_consent(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    InsurerPath(uzovi): InsurerPath,
) -> Result<HttpResponse, ApiError> {
    principal.require_practice(scopes::CONSENTS_MANAGE, agb.as_str())?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let client_id = &principal.client_id;
    audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            if repository::revoke(conn, &agb, &uzovi, now, client_id)
                .await?
                .is_none()
            {
                return Err(ApiError::NotFound(format!(
                    "practice {agb} has no active consent for insurer {uzovi}"
                )));
            }
            crate::export_events::consent(conn, agb.as_str(), uzovi.as_str(), false, now).await?;
            let event = AuditEvent::success("consent.revoke", "consent", format!("{agb}/{uzovi}"));
            Ok(((), event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a practice's consents
///
/// Every insurer the practice gave consent, active or revoked, ordered by UZOVI code,
/// keyset-paginated. A practice client lists only its own; any other practice answers 404.
#[utoipa::path(
    tag = "Consents",
    params(PracticePath, PageParams),
    responses(
        (status = 200, description = "A page of consents", body = Page<Consent>),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["consents:manage"]))
)]
#[get("/v1/practices/{agb}/consents")]
pub async fn list_consents(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Consent>>, ApiError> {
    principal.require_practice(scopes::CONSENTS_MANAGE, agb.as_str())?;
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let mut conn = connection(&pool).await?;
    access::require_exists(&mut conn, &agb).await?;
    let consents = repository::list_for_practice(&mut conn, &agb, after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("consent.list", "practice", agb.as_str()),
    )
    .await?;
    Ok(web::Json(Page::from_rows(consents, limit, |c| {
        c.insurer_uzovi.clone()
    })))
}
