//! `/v1/therapists/{agb}/iops` and `/v1/practices/{agb}/treatment-indices`.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::{get, put, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use serde_json::json;

use super::repository;
use super::{Iop, IopRequest, TreatmentIndex, TreatmentIndexRequest};
use crate::access;
use crate::paths::{IndexYearPath, IopYearPath, PracticePath, TherapistPath};
use crate::problems::Problems as _;
use crate::therapists::repository as therapists;

/// Registers the IOP and treatment-index routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(put_iop)
        .service(list_iops)
        .service(put_treatment_index)
        .service(list_treatment_indices);
}

/// Record a therapist's IOP for a year
///
/// Records the individual development plan (IOP, individueel ontwikkelplan, 001 §1.6) of the
/// therapist for the year: when it was drawn up and uploaded to the Kwaliteitsregister Paramedici,
/// the days of its (quarterly) updates, and whether it was used in the appraisal interview and in
/// 360-degree feedback. The plan's content is not kept. Every update must lie in the year.
/// Creates the record (201) or replaces it (200). A practice client records only for a therapist
/// who worked at its practice in that year; any other therapist answers 404.
#[utoipa::path(
    tag = "Quality",
    params(TherapistPath, IopYearPath),
    request_body = IopRequest,
    responses(
        (status = 200, description = "Replaced", body = Iop),
        (status = 201, description = "Created", body = Iop),
        (status = 404, description = "No such therapist (or not of your practice in that year)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid year or fields, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:write"]))
)]
#[put("/v1/therapists/{agb}/iops/{year}")]
pub async fn put_iop(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    TherapistPath(agb): TherapistPath,
    IopYearPath(year): IopYearPath,
    body: praktijkregister_platform::http::Json<IopRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::QUALITY_WRITE)?;
    let fields = body.into_inner().parse(i32::from(year.value()))?;
    let practice = access::own_practice(&principal);
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    let client_id = &principal.client_id;
    let (iop, created) = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            if !therapists::exists(conn, agb.as_str()).await? {
                return Err(ApiError::therapist_not_found(&agb));
            }
            if let Some(practice) = practice {
                if !repository::member_in_year(conn, practice, &agb, year).await? {
                    return Err(access::hidden(
                        principal,
                        "therapist",
                        agb.as_str(),
                        "therapist",
                    ));
                }
            }
            let (iop, created) =
                repository::put_iop(conn, &agb, year, &fields, now, client_id).await?;
            let event =
                AuditEvent::success("iop.put", "iop", format!("{agb}/{year}")).with_detail(json!({
                    "created": created,
                    "quarterly_updates": iop.quarterly_updates.len(),
                }));
            Ok(((iop, created), event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(if created {
        HttpResponse::Created().json(iop)
    } else {
        HttpResponse::Ok().json(iop)
    })
}

/// List a therapist's IOPs
///
/// The therapist's IOP records by year, keyset-paginated. A practice client sees only the years
/// in which the therapist worked at its practice; a therapist who never did answers 404.
/// Every read is written to the audit log.
#[utoipa::path(
    tag = "Quality",
    params(TherapistPath, PageParams),
    responses(
        (status = 200, description = "A page of IOPs", body = Page<Iop>),
        (status = 404, description = "No such therapist (or not of your practice)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:read"]))
)]
#[get("/v1/therapists/{agb}/iops")]
pub async fn list_iops(
    principal: Principal,
    pool: web::Data<DbPool>,
    TherapistPath(agb): TherapistPath,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Iop>>, ApiError> {
    principal.require(scopes::QUALITY_READ)?;
    let limit = page.limit()?;
    let after: Option<i32> = page.after()?;
    let mut conn = connection(&pool).await?;
    if !therapists::exists(&mut conn, agb.as_str()).await? {
        return Err(ApiError::therapist_not_found(&agb));
    }
    let only_years = match access::own_practice(&principal) {
        Some(practice) => {
            let years = repository::membership_years(&mut conn, practice, &agb).await?;
            if years.is_empty() {
                return Err(access::hidden(
                    &principal,
                    "therapist",
                    agb.as_str(),
                    "therapist",
                ));
            }
            Some(years)
        }
        None => None,
    };
    let iops = repository::list_iops(&mut conn, &agb, only_years.as_deref(), after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("iop.list", "therapist", agb.as_str()),
    )
    .await?;
    Ok(web::Json(Page::from_rows(iops, limit, |i| i.year)))
}

/// Record a practice's treatment index for a year
///
/// Records the practice's treatment index (behandelindex, 001; DESIGN §3.2) computed over the
/// year, e.g. Vektis's national index: the value, the confidence interval where known
/// (`ci_lower` ≤ `value` ≤ `ci_upper`), the number of patients and the source. Creates the
/// record (201) or replaces it (200). A practice client records only its own; any other practice
/// answers 404.
#[utoipa::path(
    tag = "Quality",
    params(PracticePath, IndexYearPath),
    request_body = TreatmentIndexRequest,
    responses(
        (status = 200, description = "Replaced", body = TreatmentIndex),
        (status = 201, description = "Created", body = TreatmentIndex),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid year or fields, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:write"]))
)]
#[put("/v1/practices/{agb}/treatment-indices/{year}")]
pub async fn put_treatment_index(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    IndexYearPath(year): IndexYearPath,
    body: praktijkregister_platform::http::Json<TreatmentIndexRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require_practice(scopes::QUALITY_WRITE, agb.as_str())?;
    let fields = body.into_inner().parse()?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let client_id = &principal.client_id;
    // The index is computed over a plain year, stored as such.
    let index_year = i32::from(year.value());
    let (index, created) = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            access::require_exists(conn, &agb).await?;
            let (index, created) =
                repository::put_treatment_index(conn, &agb, index_year, &fields, now, client_id)
                    .await?;
            let event = AuditEvent::success(
                "treatment_index.put",
                "treatment_index",
                format!("{agb}/{year}"),
            )
            .with_detail(json!({"created": created, "value": index.value}));
            Ok(((index, created), event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(if created {
        HttpResponse::Created().json(index)
    } else {
        HttpResponse::Ok().json(index)
    })
}

/// List a practice's treatment indices
///
/// The practice's treatment index per year, keyset-paginated. A practice client reads only its
/// own; any other practice answers 404. Every read is written to the audit log.
#[utoipa::path(
    tag = "Quality",
    params(PracticePath, PageParams),
    responses(
        (status = 200, description = "A page of treatment indices", body = Page<TreatmentIndex>),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["quality:read"]))
)]
#[get("/v1/practices/{agb}/treatment-indices")]
pub async fn list_treatment_indices(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<TreatmentIndex>>, ApiError> {
    principal.require_practice(scopes::QUALITY_READ, agb.as_str())?;
    let limit = page.limit()?;
    let after: Option<i32> = page.after()?;
    let mut conn = connection(&pool).await?;
    access::require_exists(&mut conn, &agb).await?;
    let indices = repository::list_treatment_indices(&mut conn, &agb, after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("treatment_index.list", "practice", agb.as_str()),
    )
    .await?;
    Ok(web::Json(Page::from_rows(indices, limit, |i| i.year)))
}
