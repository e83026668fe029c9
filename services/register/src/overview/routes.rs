//! `/v1/cycles/{year}/overview`: where a cycle year stands, for the registrar.

use crate::scopes;
use crate::startup::RegisterContext;
use actix_web::{get, web};
use diesel_async::scoped_futures::ScopedFutureExt;
use praktijkregister_domain::amsterdam_date;
use praktijkregister_platform::audit::{self, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};

use super::repository;
use super::CycleOverview;
use crate::cycles::repository as cycles;
use crate::paths::CycleYearPath;

/// Registers the overview route; the same registration feeds the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_overview);
}

/// Overview of a cycle year
///
/// Where cycle year Y stands: the number of registrations in each state, the practices of the
/// register and how many have no registration for Y; and the practices that need attention,
/// each list complete: practices without an annual plan for Y, annual plans awaiting assessment
/// (oldest first), approved plans without a planned visitation with the days left until the last
/// visitation date (negative once it has passed, counted from today in Europe/Amsterdam), and
/// positive visitations waiting for the KP registration of the therapists listed.
#[utoipa::path(
    tag = "Cycle",
    params(CycleYearPath),
    responses(
        (status = 200, description = "The overview", body = CycleOverview),
        (status = 422, description = "The year is not a cycle year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["cycles:manage"]))
)]
#[get("/v1/cycles/{year}/overview")]
pub async fn get_overview(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    CycleYearPath(year): CycleYearPath,
) -> Result<web::Json<CycleOverview>, ApiError> {
    principal.require(scopes::CYCLES_MANAGE)?;
    let today = amsterdam_date(ctx.clock.now());
    let mut conn = connection(&pool).await?;
    // One snapshot, so that the counts and the lists agree.
    let (calendar, figures) = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run::<_, ApiError, _>(|conn| {
            let defaults = &ctx.settings.cycle.calendar;
            async move {
                let (calendar, _) = cycles::calendar_for(conn, year, defaults).await?;
                let figures = repository::year_figures(conn, year).await?;
                Ok((calendar, figures))
            }
            .scope_boxed()
        })
        .await?;
    audit::record(
        &mut conn,
        (&principal).into(),
        &AuditEvent::success("cycle.overview.read", "cycle", year.to_string()),
    )
    .await?;
    Ok(web::Json(CycleOverview::new(&calendar, today, figures)))
}
