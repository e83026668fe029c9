//! `/v1/practices/{agb}/epd-authorizations`: a practice authorises EPD vendors to deliver its
//! data. Who may write and read practice data is decided in `crate::access`.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::http::header;
use actix_web::{delete, get, put, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use serde_json::json;

use super::repository;
use super::EpdAuthorization;
use crate::access;
use crate::paths::{PracticePath, VendorPath};

/// Registers the EPD authorisation routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(put_epd_authorization)
        .service(revoke_epd_authorization)
        .service(list_epd_authorizations);
}

/// Authorise an EPD vendor
///
/// The practice (or the registrar for it) authorises an EPD vendor (machtiging) to deliver its
/// monthly data and PREM results. Creates the authorisation (201), reactivates a revoked one
/// (201), or answers the active one as it is (200). The vendor id is the `epd_vendor` its API
/// clients are bound to: 1 to 64 letters, digits, `-` or `_`. A practice client manages only its
/// own practice; any other answers 404.
#[utoipa::path(
    tag = "EPD authorisations",
    params(PracticePath, VendorPath),
    responses(
        (status = 200, description = "Already active; unchanged", body = EpdAuthorization),
        (status = 201, description = "Granted, or granted again after a revocation", body = EpdAuthorization,
            headers(("Location" = String, description = "Address of the authorisation"))),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid vendor id", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["epd-authorizations:manage"]))
)]
#[put("/v1/practices/{agb}/epd-authorizations/{vendor_id}")]
pub async fn put_epd_authorization(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    VendorPath(vendor): VendorPath,
) -> Result<HttpResponse, ApiError> {
    principal.require_practice(scopes::EPD_AUTHORIZATIONS_MANAGE, agb.as_str())?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let client_id = &principal.client_id;
    let (authorization, changed) = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            access::require_exists(conn, &agb).await?;
            let (authorization, changed) =
                repository::grant(conn, &agb, &vendor, now, client_id).await?;
            let event = AuditEvent::success(
                "epd_authorization.grant",
                "epd_authorization",
                format!("{agb}/{vendor}"),
            )
            .with_detail(json!({"changed": changed}));
            Ok(((authorization, changed), event))
        }
        .scope_boxed()
    })
    .await?;
    if changed {
        Ok(HttpResponse::Created()
            .insert_header((
                header::LOCATION,
                format!(
                    "/v1/practices/{}/epd-authorizations/{}",
                    authorization.practice_agb, authorization.epd_vendor
                ),
            ))
            .json(authorization))
    } else {
        Ok(HttpResponse::Ok().json(authorization))
    }
}

/// Revoke an EPD vendor's authorisation
///
/// The practice (or the registrar) withdraws the authorisation: from now on the vendor can no
/// longer deliver nor read the practice's data. Its earlier deliveries stay. The authorisation
/// stays listed as revoked; granting it again reactivates it. 404 when it is not active.
#[utoipa::path(
    tag = "EPD authorisations",
    params(PracticePath, VendorPath),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such practice (or not yours), or no active authorisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid vendor id", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["epd-authorizations:manage"]))
)]
#[delete("/v1/practices/{agb}/epd-authorizations/{vendor_id}")]
pub async fn revoke_epd_authorization(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    VendorPath(vendor): VendorPath,
) -> Result<HttpResponse, ApiError> {
    principal.require_practice(scopes::EPD_AUTHORIZATIONS_MANAGE, agb.as_str())?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let client_id = &principal.client_id;
    audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            repository::revoke(conn, &agb, &vendor, now, client_id)
                .await?
                .ok_or_else(|| {
                    ApiError::NotFound(format!(
                        "practice {agb} has no active authorisation of EPD vendor {vendor}"
                    ))
                })?;
            let event = AuditEvent::success(
                "epd_authorization.revoke",
                "epd_authorization",
                format!("{agb}/{vendor}"),
            );
            Ok(((), event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a practice's EPD authorisations
///
/// Every EPD vendor the practice authorised, active and revoked, by vendor id, with who granted
/// and revoked it and when; keyset-paginated. A practice client lists only its own practice.
#[utoipa::path(
    tag = "EPD authorisations",
    params(PracticePath, PageParams),
    responses(
        (status = 200, description = "A page of authorisations", body = Page<EpdAuthorization>),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["epd-authorizations:manage"]))
)]
#[get("/v1/practices/{agb}/epd-authorizations")]
pub async fn list_epd_authorizations(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<EpdAuthorization>>, ApiError> {
    principal.require_practice(scopes::EPD_AUTHORIZATIONS_MANAGE, agb.as_str())?;
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let mut conn = connection(&pool).await?;
    access::require_exists(&mut conn, &agb).await?;
    let authorizations = repository::list(&mut conn, &agb, after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("epd_authorization.list", "practice", agb.as_str()),
    )
    .await?;
    Ok(web::Json(Page::from_rows(authorizations, limit, |a| {
        a.epd_vendor.clone()
    })))
}
