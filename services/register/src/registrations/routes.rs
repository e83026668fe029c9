//! `/v1/practices/{agb}/registrations`: read registrations and withdraw one.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::{get, post, web};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_domain::{RegistrationEvent, Text};
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::pagination::{Page, PageParams};

use super::lifecycle::{self, Cause};
use super::repository;
use super::{Registration, RegistrationWithHistory, WithdrawalRequest};
use crate::paths::{CycleYearPath, PracticePath};
use crate::problems::Problems as _;

/// Longest reason of a withdrawal.
const MAX_REASON: usize = 2000;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_registrations)
        .service(get_registration)
        .service(withdraw_registration)
        .service(super::internal::record_visitation_event);
}

/// List a practice's registrations
///
/// The practice's registration per cycle year, newest year first. A practice client sees only
/// its own; another practice answers 404.
#[utoipa::path(
    tag = "Registrations",
    params(PracticePath, PageParams),
    responses(
        (status = 200, description = "A page of registrations", body = Page<Registration>),
        (status = 404, description = "No such practice (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["registrations:read"]))
)]
#[get("/v1/practices/{agb}/registrations")]
pub async fn list_registrations(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Registration>>, ApiError> {
    principal.require_practice(scopes::REGISTRATIONS_READ, agb.as_str())?;
    let limit = page.limit()?;
    let before: Option<i32> = page.after()?;
    let mut conn = connection(&pool).await?;
    if !crate::practices::repository::exists(&mut conn, agb.as_str()).await? {
        return Err(ApiError::practice_not_found(&agb));
    }
    let rows = repository::list_for_practice(&mut conn, agb.as_str(), before, limit).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("registration.list", "practice", agb.as_str()),
    )
    .await?;
    let items: Vec<Registration> = rows
        .iter()
        .map(repository::RegistrationRow::view)
        .collect::<Result<_, _>>()?;
    Ok(web::Json(Page::from_rows(items, limit, |r| {
        i32::from(r.cycle_year)
    })))
}

/// Read a registration with its history
///
/// The registration of the practice for one cycle year, with every transition: from which state
/// to which, the event, who caused it, when and why.
#[utoipa::path(
    tag = "Registrations",
    params(PracticePath, CycleYearPath),
    responses(
        (status = 200, description = "The registration", body = RegistrationWithHistory),
        (status = 404, description = "No registration for that year (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The year is not a cycle year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["registrations:read"]))
)]
#[get("/v1/practices/{agb}/registrations/{year}")]
pub async fn get_registration(
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    CycleYearPath(year): CycleYearPath,
) -> Result<web::Json<RegistrationWithHistory>, ApiError> {
    principal.require_practice(scopes::REGISTRATIONS_READ, agb.as_str())?;
    let mut conn = connection(&pool).await?;
    let row = repository::find(&mut conn, agb.as_str(), i32::from(year.value()))
        .await?
        .ok_or_else(|| ApiError::registration_not_found(&agb, &year))?;
    let history = repository::history(&mut conn, row.id).await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("registration.read", "registration", format!("{agb}/{year}")),
    )
    .await?;
    Ok(web::Json(RegistrationWithHistory {
        registration: row.view()?,
        history,
    }))
}

/// Withdraw a registration
///
/// The practice or the registrar withdraws the registration for a cycle year (teruggetrokken),
/// at any time, with a reason that is kept with the transition. A withdrawn registration cannot
/// be withdrawn again (409 with the allowed next states).
#[utoipa::path(
    tag = "Registrations",
    params(PracticePath, CycleYearPath),
    request_body = WithdrawalRequest,
    responses(
        (status = 200, description = "Withdrawn", body = Registration),
        (status = 404, description = "No registration for that year (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["registrations:withdraw"]))
)]
#[post("/v1/practices/{agb}/registrations/{year}/withdrawal")]
pub async fn withdraw_registration(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    PracticePath(agb): PracticePath,
    CycleYearPath(year): CycleYearPath,
    body: praktijkregister_platform::http::Json<WithdrawalRequest>,
) -> Result<web::Json<Registration>, ApiError> {
    principal.require_practice(scopes::REGISTRATIONS_WITHDRAW, agb.as_str())?;
    let reason = Text::lines(&body.into_inner().reason, MAX_REASON)
        .map_err(|e| ApiError::invalid("reason", &e))?;
    let now = ctx.clock.now();
    let mut conn = connection(&pool).await?;
    let principal = &principal;
    let row = audit::transaction(&mut conn, principal.into(), |conn| {
        async move {
            let row = lifecycle::existing(conn, agb.as_str(), year).await?;
            let cause = Cause {
                actor_client_id: &principal.client_id,
                reason: Some(reason.as_str()),
                at: now,
            };
            let row =
                lifecycle::apply(conn, &row, &RegistrationEvent::Withdrawn, Vec::new(), cause)
                    .await?;
            let event = AuditEvent::success(
                "registration.withdraw",
                "registration",
                format!("{agb}/{year}"),
            )
            .with_detail(serde_json::json!({"reason": reason.as_str()}));
            Ok((row, event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(row.view()?))
}
