//! `/v1/kp-verification-runs` (the registrar's runs and their reports) and the expiry watch,
//! `/v1/kp-expiries` and `/v1/practices/{agb}/kp-expiries`.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use praktijkregister_domain::amsterdam_date;
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};
use uuid::Uuid;

use super::expiries::{self, ExpiryParams, KpExpiry};
use super::paths::RunPath;
use super::runs::{self, RunReport, RunSummary, RunTrigger, StartError};
use crate::paths::PracticePath;
use crate::scopes;
use crate::startup::RegisterContext;

/// Registers the routes of runs and expiries; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(start_run)
        .service(list_runs)
        .service(get_run)
        .service(cancel_run)
        .service(list_expiries)
        .service(practice_expiries);
}

fn run_location(id: Uuid) -> String {
    format!("/v1/kp-verification-runs/{id}")
}

/// Start a KP verification run
///
/// Re-verifies, through the configured KP verifier, every therapist with a KP number and a
/// membership of a practice active today, in the background: at most `concurrency` requests at a
/// time and `requests_per_second` toward KP, a timeout or 5xx retried with backoff, and the run
/// stops after `stop_after_failures` therapists in a row could not be verified. Answers 202 with
/// the run as it starts; follow it at `Location`. Only one run at a time: 409, with the running
/// run's id, while one is under way (started by hand or by the schedule, on any replica).
#[utoipa::path(
    tag = "Kwaliteitsregister Paramedici",
    responses(
        (status = 202, description = "Started", body = RunSummary, headers(("Location" = String, description = "The run's URL"))),
        (status = 409, description = "A run is under way; `running_run_id` names it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["kp:verify"]))
)]
#[post("/v1/kp-verification-runs")]
pub async fn start_run(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::KP_VERIFY)?;
    match ctx
        .kp_runs
        .start(
            RunTrigger::Manual,
            None,
            &principal.client_id,
            (&principal).into(),
        )
        .await
    {
        Ok(run) => Ok(HttpResponse::Accepted()
            .insert_header(("Location", run_location(run.id)))
            .json(run)),
        Err(StartError::InProgress(running)) => Err(ApiError::Conflict {
            detail: format!("KP verification run {running} is under way; one run at a time"),
            extensions: serde_json::Map::from_iter([(
                "running_run_id".to_string(),
                serde_json::json!(running),
            )]),
        }),
        Err(StartError::SlotTaken) => Err(ApiError::conflict("the run was started already")),
        Err(StartError::Failed(error)) => Err(error),
    }
}

/// List KP verification runs
///
/// Newest first, each with its counts: therapists checked, unchanged, changed, not found in KP,
/// failed and still pending.
#[utoipa::path(
    tag = "Kwaliteitsregister Paramedici",
    params(PageParams),
    responses(
        (status = 200, description = "A page of runs", body = Page<RunSummary>),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["kp:verify"]))
)]
#[get("/v1/kp-verification-runs")]
pub async fn list_runs(
    principal: Principal,
    pool: web::Data<DbPool>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<RunSummary>>, ApiError> {
    principal.require(scopes::KP_VERIFY)?;
    let limit = page.limit()?;
    let after = page.after::<(DateTime<Utc>, Uuid)>()?;
    let mut conn = connection(&pool).await?;
    let rows = runs::list(&mut conn, after, limit + 1).await?;
    Ok(web::Json(Page::from_rows(rows, limit, |run| {
        (run.started_at, run.id)
    })))
}

/// Read a KP verification run's report
///
/// The run's state and counts, and every therapist whose KP data changed (before and after), who
/// was not found in KP, or who could not be verified (with the reason).
#[utoipa::path(
    tag = "Kwaliteitsregister Paramedici",
    params(RunPath),
    responses(
        (status = 200, description = "The report", body = RunReport),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["kp:verify"]))
)]
#[get("/v1/kp-verification-runs/{id}")]
pub async fn get_run(
    principal: Principal,
    pool: web::Data<DbPool>,
    RunPath(id): RunPath,
) -> Result<web::Json<RunReport>, ApiError> {
    principal.require(scopes::KP_VERIFY)?;
    let mut conn = connection(&pool).await?;
    runs::report(&mut conn, id)
        .await?
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found("KP verification run", id))
}

/// Cancel a KP verification run
///
/// Asks the run to stop: the therapists being checked are finished, the rest stay pending, and
/// the run ends as `cancelled`. Answers 202 with the run; 409 when it has ended already.
#[utoipa::path(
    tag = "Kwaliteitsregister Paramedici",
    params(RunPath),
    responses(
        (status = 202, description = "Cancellation asked", body = RunSummary),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The run has ended already", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["kp:verify"]))
)]
#[post("/v1/kp-verification-runs/{id}/cancellation")]
pub async fn cancel_run(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    RunPath(id): RunPath,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::KP_VERIFY)?;
    let run = ctx.kp_runs.cancel(id, (&principal).into()).await?;
    Ok(HttpResponse::Accepted().json(run))
}

fn expiry_page(rows: Vec<KpExpiry>, limit: i64) -> Page<KpExpiry> {
    Page::from_rows(rows, limit, |e| (e.valid_until, e.therapist_agb.clone()))
}

/// List KP registrations that end soon
///
/// Across the register: every therapist with a membership active today who is
/// kwaliteitsgeregistreerd and whose registration ends within `within_days` (today and the
/// `within_days`-th day included), soonest first, with the practices they work at. Registrar only.
#[utoipa::path(
    tag = "Kwaliteitsregister Paramedici",
    params(ExpiryParams, PageParams),
    responses(
        (status = 200, description = "A page of expiring registrations", body = Page<KpExpiry>),
        (status = 403, description = "Not the registrar", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad window, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["kp-expiries:read"]))
)]
#[get("/v1/kp-expiries")]
pub async fn list_expiries(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    params: web::Query<ExpiryParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<KpExpiry>>, ApiError> {
    principal.require(scopes::KP_EXPIRIES_READ)?;
    if !principal.is_unbound() {
        return Err(ApiError::Forbidden(
            "the register-wide list is the registrar's; a practice reads /v1/practices/{agb}/kp-expiries".into(),
        ));
    }
    let window = params.within_days(ctx.kp_runs.settings().expiry_window_days)?;
    let limit = page.limit()?;
    let after = page.after::<(NaiveDate, String)>()?;
    let today = amsterdam_date(ctx.clock.now());
    let mut conn = connection(&pool).await?;
    let rows = expiries::within(&mut conn, today, window, None, after, limit + 1).await?;
    Ok(web::Json(expiry_page(rows, limit)))
}

/// List a practice's KP registrations that end soon
///
/// The practice's therapists (membership active today) who are kwaliteitsgeregistreerd and whose
/// registration ends within `within_days` (today and the `within_days`-th day included), soonest
/// first. A practice reads only its own.
#[utoipa::path(
    tag = "Kwaliteitsregister Paramedici",
    params(PracticePath, ExpiryParams, PageParams),
    responses(
        (status = 200, description = "A page of expiring registrations", body = Page<KpExpiry>),
        (status = 404, description = "No such practice (or not visible to you)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad window, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["kp-expiries:read"]))
)]
#[get("/v1/practices/{agb}/kp-expiries")]
pub async fn practice_expiries(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    params: web::Query<ExpiryParams>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<KpExpiry>>, ApiError> {
    principal.require_practice(scopes::KP_EXPIRIES_READ, &agb)?;
    let window = params.within_days(ctx.kp_runs.settings().expiry_window_days)?;
    let limit = page.limit()?;
    let after = page.after::<(NaiveDate, String)>()?;
    let today = amsterdam_date(ctx.clock.now());
    let mut conn = connection(&pool).await?;
    crate::access::require_exists(&mut conn, &agb).await?;
    let rows = expiries::within(
        &mut conn,
        today,
        window,
        Some(agb.as_str()),
        after,
        limit + 1,
    )
    .await?;
    Ok(web::Json(expiry_page(rows, limit)))
}
