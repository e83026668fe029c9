//! `/v1/practices/{agb}/improvement-plans` and `/v1/improvement-plans`: record and read
//! improvement plans, and list the practices above an insurer's ceiling.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::{get, post, web, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_domain::{ClientRole, UzoviCode};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::{Binding, Principal};
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use praktijkregister_platform::paths::exact;
use serde_json::json;

use super::repository;
use super::{
    AboveCeilingParams, ImprovementPlan, NewImprovementPlanRequest, PlanListParams,
    PracticeAboveCeiling,
};
use crate::access;
use crate::paths::PracticePath;
use crate::quality::parse_year;

/// Registers the improvement-plan routes; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_improvement_plan)
        .service(list_improvement_plans)
        .service(list_practices_above_ceiling);
}

/// Record an improvement plan
///
/// Records the practice's improvement plan (verbeterplan, 003) for an insurer: the measure
/// (`treatment_index`), the current value, the insurer's ceiling (e.g. 149) and the target
/// (e.g. 130: at most the ceiling and below the current value), the Plan / Do / Check / Act
/// texts and the evaluation points (after 4, 8 and 12 treatments, ascending). A later plan for
/// the same insurer and year is kept beside the earlier ones. A practice client records only
/// for itself; any other practice answers 404.
#[utoipa::path(
    tag = "Improvement plans",
    params(PracticePath),
    request_body = NewImprovementPlanRequest,
    responses(
        (status = 201, description = "Recorded", body = ImprovementPlan),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["improvement-plans:write"]))
)]
#[post("/v1/practices/{agb}/improvement-plans")]
pub async fn create_improvement_plan(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    body: praktijkregister_platform::http::Json<NewImprovementPlanRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require_practice(scopes::IMPROVEMENT_PLANS_WRITE, agb.as_str())?;
    let fields = body.into_inner().parse()?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let client_id = &principal.client_id;
    let plan = audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            access::require_exists(conn, &agb).await?;
            let plan =
                repository::insert(conn, uuid::Uuid::now_v7(), &agb, &fields, now, client_id)
                    .await?;
            let event = AuditEvent::success(
                "improvement_plan.create",
                "improvement_plan",
                plan.id.to_string(),
            )
            .with_detail(json!({
                "practice_agb": agb,
                "insurer_uzovi": plan.insurer_uzovi,
                "year": plan.year,
            }));
            Ok((plan, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Created().json(plan))
}

/// List a practice's improvement plans
///
/// The practice's improvement plans, newest first, optionally of one year, keyset-paginated.
/// A practice client reads only its own; an insurer reads only the plans addressed to it, and
/// only while the practice consents to sharing quality data with it (001 §1.3c). Any other
/// practice answers 404. Every read is written to the audit log.
#[utoipa::path(
    tag = "Improvement plans",
    params(PracticePath, PlanListParams, PageParams),
    responses(
        (status = 200, description = "A page of plans", body = Page<ImprovementPlan>),
        (status = 404, description = "No such practice (or not yours, or no consent for you)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["improvement-plans:read"]))
)]
#[get("/v1/practices/{agb}/improvement-plans")]
pub async fn list_improvement_plans(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    filter: web::Query<PlanListParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<ImprovementPlan>>, ApiError> {
    principal.require(scopes::IMPROVEMENT_PLANS_READ)?;
    // An insurer reads only the plans addressed to it (and only with consent, below).
    let only_insurer = match &principal.binding {
        Binding::Insurer(own) => Some(own.clone()),
        Binding::None | Binding::Practice(_) | Binding::EpdVendor(_) | Binding::Visitor(_) => {
            principal.require_practice(scopes::IMPROVEMENT_PLANS_READ, agb.as_str())?;
            None
        }
    };
    let year = filter
        .year
        .as_deref()
        .map(|raw| parse_year(raw, "year"))
        .transpose()?;
    let limit = page.limit()?;
    let after = page.after()?;
    let mut conn = connection(&pool).await?;
    access::require_exists(&mut conn, &agb).await?;
    if let Some(insurer) = &only_insurer {
        access::require_consent(&mut conn, &principal, insurer, &agb).await?;
    }
    let plans =
        repository::list_for_practice(&mut conn, &agb, only_insurer.as_ref(), year, after, limit)
            .await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("improvement_plan.list", "practice", agb.as_str())
            .with_detail(json!({"insurer_uzovi": only_insurer, "year": year})),
    )
    .await?;
    Ok(web::Json(Page::from_rows(plans, limit, |p| {
        (p.created_at, p.id)
    })))
}

/// List the practices above an insurer's ceiling
///
/// The practices whose treatment index of `year` is above the insurer's ceiling (configured per
/// UZOVI code, else the default; where a confidence interval is given, its lower bound is
/// compared), ordered by AGB code and keyset-paginated, each with its index, the ceiling, and
/// whether it has an improvement plan for that insurer and year. The registrar asks for any
/// insurer; an insurer only for itself (403 otherwise) and sees only the practices that consent
/// to sharing quality data with it (001 §1.3c).
#[utoipa::path(
    tag = "Improvement plans",
    params(AboveCeilingParams, PageParams),
    responses(
        (status = 200, description = "A page of practices above the ceiling", body = Page<PracticeAboveCeiling>),
        (status = 403, description = "Another insurer's list, or not the registrar or an insurer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or invalid insurer or year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["improvement-plans:read"]))
)]
#[get("/v1/improvement-plans")]
pub async fn list_practices_above_ceiling(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    params: web::Query<AboveCeilingParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<PracticeAboveCeiling>>, ApiError> {
    principal.require(scopes::IMPROVEMENT_PLANS_READ)?;
    let requested = params
        .insurer
        .as_deref()
        .map(|uzovi| UzoviCode::parse(exact(uzovi)).map_err(|e| ApiError::invalid("insurer", &e)))
        .transpose()?;
    let (insurer, consented_only) = match &principal.binding {
        Binding::None if principal.role == ClientRole::Registrar => (
            requested.ok_or_else(|| {
                ApiError::field(
                    "insurer",
                    "insurer_required",
                    "give the insurer's UZOVI code",
                )
            })?,
            false,
        ),
        // An insurer sees only the practices that consent to share with it (001 §1.3c).
        Binding::Insurer(own) => {
            if requested.as_ref().is_some_and(|requested| requested != own) {
                return Err(ApiError::Forbidden(format!(
                    "an insurer reads only its own list ({own})"
                )));
            }
            (own.clone(), true)
        }
        Binding::None | Binding::Practice(_) | Binding::EpdVendor(_) | Binding::Visitor(_) => {
            return Err(ApiError::Forbidden(
                "this list is for the registrar and insurers".into(),
            ))
        }
    };
    let year = match params.year.as_deref() {
        Some(raw) => parse_year(raw, "year")?,
        None => {
            return Err(ApiError::field(
                "year",
                "year_required",
                "give the year of the treatment index",
            ))
        }
    };
    let limit = page.limit()?;
    let after: Option<String> = page.after()?;
    let ceiling = ctx.settings.compliance.ceiling_for(insurer.as_str());
    let mut conn = connection(&pool).await?;
    let rows = repository::above_ceiling(
        &mut conn,
        &insurer,
        year,
        ceiling,
        consented_only,
        after,
        limit,
    )
    .await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success(
            "improvement_plan.above_ceiling.list",
            "insurer",
            insurer.as_str(),
        )
        .with_detail(json!({
            "year": year,
            "ceiling": ceiling,
            "count": rows.len().min(usize::try_from(limit).unwrap_or(usize::MAX)),
        })),
    )
    .await?;
    let items = rows
        .into_iter()
        .map(|row| PracticeAboveCeiling {
            has_plan: row.plan_id.is_some(),
            improvement_plan_id: row.plan_id,
            practice_agb: row.practice_agb,
            name: row.name,
            year,
            value: row.value,
            ci_lower: row.ci_lower,
            ceiling,
        })
        .collect();
    Ok(web::Json(Page::from_rows(items, limit, |p| {
        p.practice_agb.clone()
    })))
}
