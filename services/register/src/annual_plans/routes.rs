//! `/v1/practices/{agb}/annual-plans` and `/v1/annual-plans/{id}`: submit, read, assess.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::http::header;
use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_domain::{CycleYear, RegistrationEvent, Text};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::digest::sha256_hex;
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::http::read_limited_body;
use praktijkregister_platform::pagination::{Page, PageParams};
use serde_json::{json, Map};

use super::repository::{self, NewPlan};
use super::{
    looks_like_pdf, AnnualPlan, AssessmentRequest, Decision, PlanListParams, SubmitParams,
    MAX_REMARKS,
};
use crate::access;
use crate::cycles::repository::calendar_for;
use crate::paths::{AnnualPlanPath, PracticePath};
use crate::problems::Problems as _;
use crate::registrations::lifecycle::{self, Cause};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(submit_annual_plan)
        .service(list_annual_plans)
        .service(get_annual_plan)
        .service(get_annual_plan_document)
        .service(assess_annual_plan);
}

fn cycle_year(raw: Option<&str>, field: &str) -> Result<CycleYear, ApiError> {
    let raw = raw.ok_or_else(|| {
        ApiError::field(
            field,
            "cycle_year_required",
            "give the cycle year the plan is for",
        )
    })?;
    crate::cycles::parse_year(raw, field)
}

/// The file name kept with the document: the last part of a path (some clients send the whole
/// path), under the register's one text rule ([`Text::line`]: no control, bidi or invisible-only
/// text), at most 200 characters; anything else is refused with 422 naming `filename`.
fn filename(raw: Option<&str>) -> Result<Option<Text>, ApiError> {
    raw.map(|raw| {
        let name = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
        Text::line(name, 200).map_err(|e| ApiError::invalid("filename", &e))
    })
    .transpose()
}

/// `Content-Disposition` for a download (RFC 6266 §4.3): `filename` with the name in ASCII (other
/// characters as `_`) for old clients, and `filename*` with the exact name in UTF-8, percent-encoded
/// as RFC 8187 §3.2 says, when it is not plain ASCII.
fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if ascii == filename {
        return format!("attachment; filename=\"{ascii}\"");
    }
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn require_pdf_media_type(req: &HttpRequest) -> Result<(), ApiError> {
    let refused =
        || ApiError::UnsupportedMediaType("send the annual plan as application/pdf".into());
    let mime = req
        .mime_type()
        .map_err(|_| refused())?
        .ok_or_else(refused)?;
    if mime.type_() == "application" && mime.subtype() == "pdf" {
        Ok(())
    } else {
        Err(refused())
    }
}

fn deadline_problem(detail: String, deadline: chrono::DateTime<chrono::Utc>) -> ApiError {
    let mut extensions = Map::new();
    extensions.insert("deadline".into(), json!(deadline));
    ApiError::Unprocessable { detail, extensions }
}

/// Submit an annual plan
///
/// The practice (or the registrar for it) submits its annual plan (jaarplan) for a cycle year:
/// the body is the PDF itself (`Content-Type: application/pdf`, at most 20 MiB by default), the
/// year and an optional file name are query parameters. The content must be a PDF (it starts with
/// `%PDF-`); it is stored with its SHA-256 and size. The first plan of a year must be received
/// before the annual-plan deadline (1 July, Europe/Amsterdam); after a rejection the practice may
/// resubmit until the visitation deadline (15 October). A plan that awaits assessment, or an
/// approved one, cannot be followed by another (409). The practice's registration for the year
/// moves to `plan_submitted`.
#[utoipa::path(
    tag = "Annual plans",
    params(PracticePath, SubmitParams),
    request_body(content = Vec<u8>, content_type = "application/pdf", description = "The annual plan as PDF"),
    responses(
        (status = 201, description = "Stored", body = AnnualPlan, headers(("Location" = String, description = "The plan's URL"))),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A plan awaits assessment or is approved, or the registration does not accept a plan", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not sent as application/pdf", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a PDF, no valid cycle year, or past the deadline (`deadline` in the problem)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["annual-plans:submit"]))
)]
#[post("/v1/practices/{agb}/annual-plans")]
#[allow(clippy::too_many_arguments)] // an extractor per dependency keeps the handler plain
pub async fn submit_annual_plan(
    ctx: web::Data<RegisterContext>,
    req: HttpRequest,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    params: web::Query<SubmitParams>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.require_practice(scopes::ANNUAL_PLANS_SUBMIT, agb.as_str())?;
    require_pdf_media_type(&req)?;
    let year = cycle_year(params.cycle_year.as_deref(), "cycle_year")?;
    let filename = filename(params.filename.as_deref())?;
    let document =
        read_limited_body(&req, payload, ctx.settings.cycle.annual_plan_max_bytes).await?;
    if !looks_like_pdf(&document) {
        return Err(ApiError::field(
            "document",
            "not_pdf",
            "the file is not a PDF: its content does not start with %PDF-",
        ));
    }
    let sha256 = sha256_hex(&document);
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    let row = audit::transaction(&mut conn, principal.into(), |conn| {
            async move {
                if !crate::practices::repository::exists(conn, agb.as_str()).await? {
                    return Err(ApiError::practice_not_found(&agb));
                }
                let cause = Cause {
                    actor_client_id: &principal.client_id,
                    reason: None,
                    at: now,
                };
                // Locking the registration first serialises submissions of one practice and year.
                let registration = lifecycle::find_or_apply(conn, agb.as_str(), year, cause).await?;
                let (calendar, _) = calendar_for(conn, year, &ctx.settings.cycle.calendar).await?;
                let latest = repository::latest(conn, &agb, year).await?;
                let version = match &latest {
                    None if !calendar.annual_plan_in_time(now) => {
                        return Err(deadline_problem(
                            format!(
                                "the first annual plan for {year} had to be received before {} (Europe/Amsterdam)",
                                calendar.annual_plan_deadline()
                            ),
                            calendar.annual_plan_deadline_instant(),
                        ))
                    }
                    None => 1,
                    Some(plan) => match plan.decision()? {
                        None => {
                            return Err(ApiError::conflict(format!(
                                "version {} of the annual plan for {year} awaits assessment",
                                plan.version
                            )))
                        }
                        Some(Decision::Approved) => {
                            return Err(ApiError::conflict(format!(
                                "the annual plan for {year} is approved; no further version is taken"
                            )))
                        }
                        Some(Decision::Rejected) if !calendar.resubmission_allowed(now) => {
                            return Err(deadline_problem(
                                format!(
                                    "after a rejection a plan for {year} can be resubmitted until {} (Europe/Amsterdam)",
                                    calendar.visitation_deadline()
                                ),
                                calendar.resubmission_deadline_instant(),
                            ))
                        }
                        Some(Decision::Rejected) => plan.version + 1,
                    },
                };
                lifecycle::apply(conn, &registration, &RegistrationEvent::PlanSubmitted, Vec::new(), cause).await?;
                let row = repository::insert(
                    conn,
                    &NewPlan {
                        id: uuid::Uuid::now_v7(),
                        practice_agb: &agb,
                        cycle_year: year,
                        version,
                        filename: filename.as_ref().map(Text::as_str),
                        sha256: &sha256,
                        submitted_at: now,
                        submitted_by: &principal.client_id,
                        document: &document,
                    },
                )
                .await?;
                let event = AuditEvent::success("annual_plan.submit", "annual_plan", row.id.to_string())
                    .with_detail(json!({"practice_agb": agb.as_str(), "cycle_year": year.value(), "version": version, "sha256": sha256}));
                Ok((row, event))
            }
            .scope_boxed()
    })
    .await?;
    let plan = row.view()?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/annual-plans/{}", plan.id)))
        .json(plan))
}

/// List a practice's annual plans
///
/// Every submitted version, newest first, optionally of one cycle year, with its assessment.
#[utoipa::path(
    tag = "Annual plans",
    params(PracticePath, PlanListParams, PageParams),
    responses(
        (status = 200, description = "A page of plans", body = Page<AnnualPlan>),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["annual-plans:read"]))
)]
#[get("/v1/practices/{agb}/annual-plans")]
pub async fn list_annual_plans(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    filter: web::Query<PlanListParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<AnnualPlan>>, ApiError> {
    principal.require_practice(scopes::ANNUAL_PLANS_READ, agb.as_str())?;
    let year = match filter.cycle_year.as_deref() {
        Some(raw) => Some(cycle_year(Some(raw), "cycle_year")?),
        None => None,
    };
    let limit = page.limit()?;
    let after = page.after()?;
    let mut conn = connection(&pool).await?;
    if !crate::practices::repository::exists(&mut conn, agb.as_str()).await? {
        return Err(ApiError::practice_not_found(&agb));
    }
    let rows = repository::list_for_practice(&mut conn, &agb, year, after, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("annual_plan.list", "practice", agb.as_str()),
    )
    .await?;
    let plans = rows
        .into_iter()
        .map(repository::PlanRow::view)
        .collect::<Result<Vec<AnnualPlan>, _>>()?;
    Ok(web::Json(Page::from_rows(plans, limit, |p| {
        (p.submitted_at, p.id)
    })))
}

/// Read an annual plan
///
/// The plan's metadata and assessment. A practice client reads only its own plans; any other
/// answers 404.
#[utoipa::path(
    tag = "Annual plans",
    params(AnnualPlanPath),
    responses(
        (status = 200, description = "The plan", body = AnnualPlan),
        (status = 404, description = "No such plan (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["annual-plans:read"]))
)]
#[get("/v1/annual-plans/{id}")]
pub async fn get_annual_plan(
    principal: Principal,
    pool: web::Data<DbPool>,
    AnnualPlanPath(id): AnnualPlanPath,
) -> Result<web::Json<AnnualPlan>, ApiError> {
    principal.require(scopes::ANNUAL_PLANS_READ)?;
    let mut conn = connection(&pool).await?;
    let row = repository::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::annual_plan_not_found(&id))?;
    if !principal.may_access_practice(&row.practice_agb) {
        return Err(access::hidden(
            &principal,
            "annual_plan",
            &id.to_string(),
            "annual plan",
        ));
    }
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("annual_plan.read", "annual_plan", id.to_string()),
    )
    .await?;
    Ok(web::Json(row.view()?))
}

/// Download an annual plan's document
///
/// The PDF as submitted; `ETag` is its SHA-256. A practice client reads only its own plans.
#[utoipa::path(
    tag = "Annual plans",
    params(AnnualPlanPath),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>,
            headers(("ETag" = String, description = "SHA-256 of the document"), ("Content-Disposition" = String, description = "The file name"))),
        (status = 404, description = "No such plan (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["annual-plans:read"]))
)]
#[get("/v1/annual-plans/{id}/document")]
pub async fn get_annual_plan_document(
    principal: Principal,
    pool: web::Data<DbPool>,
    AnnualPlanPath(id): AnnualPlanPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::ANNUAL_PLANS_READ)?;
    let mut conn = connection(&pool).await?;
    let plan = repository::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::annual_plan_not_found(&id))?;
    if !principal.may_access_practice(&plan.practice_agb) {
        return Err(access::hidden(
            &principal,
            "annual_plan",
            &id.to_string(),
            "annual plan",
        ));
    }
    let content = repository::document(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::annual_plan_not_found(&id))?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("annual_plan.document.read", "annual_plan", id.to_string()),
    )
    .await?;
    let filename = plan.filename.clone().unwrap_or_else(|| {
        format!(
            "jaarplan-{}-{}-v{}.pdf",
            plan.practice_agb, plan.cycle_year, plan.version
        )
    });
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((header::ETAG, format!("\"{}\"", plan.sha256)))
        .insert_header((header::CONTENT_DISPOSITION, content_disposition(&filename)))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(content))
}

/// Assess an annual plan
///
/// The registrar approves or rejects the plan, with remarks (required when rejecting). A plan is
/// assessed once (409 after). The practice's registration for the year moves to `plan_approved`
/// (a visitation can be planned) or `plan_rejected` (the practice may resubmit). A
/// basispraktijkregister practice visited positively in the year before needs no visitation this
/// year (a visitation every two years): on approval its registration moves on to `registered`, or
/// to `awaiting_kp` while not every therapist is kwaliteitsgeregistreerd.
#[utoipa::path(
    tag = "Annual plans",
    params(AnnualPlanPath),
    request_body = AssessmentRequest,
    responses(
        (status = 200, description = "Assessed", body = AnnualPlan),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already assessed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rejected without remarks", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["annual-plans:assess"]))
)]
#[post("/v1/annual-plans/{id}/assessment")]
pub async fn assess_annual_plan(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    AnnualPlanPath(id): AnnualPlanPath,
    body: praktijkregister_platform::http::Json<AssessmentRequest>,
) -> Result<web::Json<AnnualPlan>, ApiError> {
    principal.require(scopes::ANNUAL_PLANS_ASSESS)?;
    let request = body.into_inner();
    // Blank remarks are no remarks.
    let remarks = request
        .remarks
        .filter(|r| !r.trim().is_empty())
        .map(|r| Text::lines(&r, MAX_REMARKS))
        .transpose()
        .map_err(|e| ApiError::invalid("remarks", &e))?;
    if request.decision == Decision::Rejected && remarks.is_none() {
        return Err(ApiError::field(
            "remarks",
            "remarks_required",
            "say what the practice must change",
        ));
    }
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    let row = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            let plan = repository::find_for_update(conn, id)
                .await?
                .ok_or_else(|| ApiError::annual_plan_not_found(&id))?;
            if let Some(decision) = plan.decision()? {
                return Err(ApiError::conflict(format!(
                    "the plan is already {decision}"
                )));
            }
            let year = plan.cycle_year()?;
            let registration = lifecycle::existing(conn, &plan.practice_agb, year).await?;
            let event = match request.decision {
                Decision::Approved => RegistrationEvent::PlanApproved,
                Decision::Rejected => RegistrationEvent::PlanRejected,
            };
            let cause = Cause {
                actor_client_id: &principal.client_id,
                reason: remarks.as_ref().map(Text::as_str),
                at: now,
            };
            let registration =
                lifecycle::apply(conn, &registration, &event, Vec::new(), cause).await?;
            if request.decision == Decision::Approved {
                lifecycle::register_if_not_due(conn, registration, year, cause).await?;
            }
            let row = repository::assess(
                conn,
                id,
                request.decision,
                remarks.as_ref(),
                now,
                &principal.client_id,
            )
            .await?;
            let audit_event =
                AuditEvent::success("annual_plan.assess", "annual_plan", id.to_string())
                    .with_detail(json!({
                        "decision": request.decision.as_str(),
                        "practice_agb": plan.practice_agb,
                    }));
            Ok((row, audit_event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(row.view()?))
}
