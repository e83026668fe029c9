//! `/v1/cycles/{year}`: read and set a cycle year's calendar.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::{get, put, web};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};

use super::repository;
use super::{CalendarOverride, CalendarSource, CycleCalendarView};
use crate::paths::CycleYearPath;

/// Read a cycle year's calendar
///
/// The deadlines of cycle year Y in Europe/Amsterdam: annual plan (before 1 July by default),
/// last visitation (15 October), entry visitation (before 1 November) and the export date
/// (1 November), with the contract year (Y+1) and the treatment-index year (Y-1) they imply.
/// `source` tells whether the registrar overrode the configured defaults for this year.
#[utoipa::path(
    tag = "Cycle",
    params(CycleYearPath),
    responses(
        (status = 200, description = "The calendar", body = CycleCalendarView),
        (status = 422, description = "The year is not a cycle year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["cycles:read"]))
)]
#[get("/v1/cycles/{year}")]
pub async fn get_cycle(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    CycleYearPath(year): CycleYearPath,
) -> Result<web::Json<CycleCalendarView>, ApiError> {
    principal.require(scopes::CYCLES_READ)?;
    let mut conn = connection(&pool).await?;
    let (calendar, source) =
        repository::calendar_for(&mut conn, year, &ctx.settings.cycle.calendar).await?;
    Ok(web::Json(CycleCalendarView::new(&calendar, source)))
}

/// Set a cycle year's calendar
///
/// Overrides the configured defaults for one cycle year. Every date must lie in the year and
/// keep the order annual plan deadline ≤ visitation deadline < entry visitation deadline ≤
/// export date; a violation is 422 naming the field.
#[utoipa::path(
    tag = "Cycle",
    params(CycleYearPath),
    request_body = CalendarOverride,
    responses(
        (status = 200, description = "The calendar now in force", body = CycleCalendarView),
        (status = 422, description = "A date outside the year or out of order", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["cycles:manage"]))
)]
#[put("/v1/cycles/{year}")]
pub async fn put_cycle(
    principal: Principal,
    pool: web::Data<DbPool>,
    CycleYearPath(year): CycleYearPath,
    body: praktijkregister_platform::http::Json<CalendarOverride>,
) -> Result<web::Json<CycleCalendarView>, ApiError> {
    principal.require(scopes::CYCLES_MANAGE)?;
    let calendar = body.into_inner().parse(year)?;
    let mut conn = connection(&pool).await?;
    let stored = &calendar;
    let actor = principal.client_id.as_str();
    audit::transaction(&mut conn, (&principal).into(), |conn| {
        async move {
            repository::upsert(conn, stored, actor).await?;
            let event =
                AuditEvent::success("cycle.calendar.set", "cycle", stored.year().to_string());
            Ok(((), event))
        }
        .scope_boxed()
    })
    .await?;
    Ok(web::Json(CycleCalendarView::new(
        &calendar,
        CalendarSource::Override,
    )))
}
