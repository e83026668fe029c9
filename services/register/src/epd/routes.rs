//! `/v1/practices/{agb}/epd-authorizations`: a practice authorises EPD vendors to deliver its
//! data; and who may write and read practice data.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::http::header;
use actix_web::{delete, get, put, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use praktijkregister_domain::{ClientRole, EpdVendorId};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::{Principal, Scope};
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use serde_json::json;

use super::repository;
use super::{DataWriter, EpdAuthorization};
use crate::practices::repository as practices;
use crate::practices::routes::path_agb;

/// Registers the EPD authorisation routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(put_epd_authorization)
        .service(revoke_epd_authorization)
        .service(list_epd_authorizations);
}

fn path_vendor(raw: &str) -> Result<EpdVendorId, ApiError> {
    EpdVendorId::parse(raw).map_err(|e| ApiError::field("vendor_id", e.code(), e))
}

fn practice_not_found(agb: &str) -> ApiError {
    ApiError::NotFound(format!("practice {agb} does not exist"))
}

/// Who may write practice data with `scope`, before anything is read: the registrar (`None`) or
/// an EPD vendor (its id). Any other role is 403, so a practice cannot deliver its own figures.
pub(crate) fn writer_identity(
    principal: &Principal,
    scope: Scope,
) -> Result<Option<String>, ApiError> {
    principal.require(scope)?;
    match (principal.role, principal.epd_vendor()) {
        (ClientRole::Registrar, _) => Ok(None),
        (ClientRole::EpdVendor, Some(vendor)) => Ok(Some(vendor.to_string())),
        _ => Err(ApiError::Forbidden(
            "practice data is delivered by an EPD vendor the practice authorised, or by the registrar"
                .into(),
        )),
    }
}

/// In the write's transaction: the practice must exist (404), and a vendor's authorisation is
/// held until the write is done. An unauthorised vendor is returned as such, so that the caller
/// can audit the refusal before answering 403.
pub(crate) async fn data_writer(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    vendor: Option<&str>,
) -> Result<DataWriter, ApiError> {
    if !practices::exists(conn, practice_agb).await? {
        return Err(practice_not_found(practice_agb));
    }
    Ok(match vendor {
        None => DataWriter::Registrar,
        Some(vendor) if repository::hold_authorization(conn, practice_agb, vendor).await? => {
            DataWriter::Vendor(vendor.to_string())
        }
        Some(vendor) => DataWriter::UnauthorisedVendor(vendor.to_string()),
    })
}

/// Who may read a practice's data (scope `deliveries:read`): the registrar, the practice itself
/// (another practice's is 404), or an EPD vendor the practice authorised (403 otherwise).
pub(crate) async fn require_reader(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    practice_agb: &str,
) -> Result<(), ApiError> {
    principal.require(scopes::DELIVERIES_READ)?;
    if principal.role == ClientRole::EpdVendor {
        let authorised = match principal.epd_vendor() {
            Some(vendor) => repository::is_authorized(conn, practice_agb, vendor.as_str()).await?,
            None => false,
        };
        if !authorised {
            return Err(ApiError::Forbidden(format!(
                "the EPD vendor has no authorisation of practice {practice_agb}"
            )));
        }
    } else if !principal.may_access_practice(practice_agb) {
        return Err(practice_not_found(practice_agb));
    }
    if !practices::exists(conn, practice_agb).await? {
        return Err(practice_not_found(practice_agb));
    }
    Ok(())
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
    params(
        ("agb" = String, Path, description = "AGB code of the practice", example = "07012345"),
        ("vendor_id" = String, Path, description = "The EPD vendor's id", example = "acme-epd"),
    ),
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
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let agb = path_agb(&path.0)?;
    principal.require_practice(scopes::EPD_AUTHORIZATIONS_MANAGE, &agb)?;
    let vendor = path_vendor(&path.1)?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let (authorization, changed) = conn
        .transaction::<_, ApiError, _>(|conn| {
            async move {
                if !practices::exists(conn, &agb).await? {
                    return Err(practice_not_found(&agb));
                }
                let (authorization, changed) =
                    repository::grant(conn, &agb, vendor.as_str(), now, &principal.client_id)
                        .await?;
                let event = AuditEvent::success(
                    "epd_authorization.grant",
                    "epd_authorization",
                    format!("{agb}/{vendor}"),
                )
                .with_detail(json!({"changed": changed}));
                audit::record(conn, (&principal).into(), &event).await?;
                Ok((authorization, changed))
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
    params(
        ("agb" = String, Path, description = "AGB code of the practice", example = "07012345"),
        ("vendor_id" = String, Path, description = "The EPD vendor's id", example = "acme-epd"),
    ),
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
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let agb = path_agb(&path.0)?;
    principal.require_practice(scopes::EPD_AUTHORIZATIONS_MANAGE, &agb)?;
    let vendor = path_vendor(&path.1)?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    conn.transaction::<_, ApiError, _>(|conn| {
        async move {
            repository::revoke(conn, &agb, vendor.as_str(), now, &principal.client_id)
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
            audit::record(conn, (&principal).into(), &event).await?;
            Ok(())
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
    params(("agb" = String, Path, description = "AGB code of the practice", example = "07012345"), PageParams),
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
    path: web::Path<String>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<EpdAuthorization>>, ApiError> {
    let agb = path_agb(&path)?;
    principal.require_practice(scopes::EPD_AUTHORIZATIONS_MANAGE, &agb)?;
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let mut conn = connection(&pool).await?;
    if !practices::exists(&mut conn, &agb).await? {
        return Err(practice_not_found(&agb));
    }
    let authorizations = repository::list(&mut conn, &agb, after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("epd_authorization.list", "practice", &agb),
    )
    .await?;
    Ok(web::Json(Page::from_rows(authorizations, limit, |a| {
        a.epd_vendor.clone()
    })))
}
