//! `GET /v1/internal/visitation-directory/{year}`: the visitation service reads the practices of a
//! cycle year.

use actix_web::{get, web};
use praktijkregister_domain::amsterdam_date;
use praktijkregister_events::VisitationDirectory;
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};

use crate::cycles::repository::calendar_for;
use crate::paths::CycleYearPath;
use crate::scopes;
use crate::startup::RegisterContext;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_visitation_directory);
}

/// Read the visitation directory of a cycle year
///
/// Internal: the visitation service reads, for every practice with a registration for the year,
/// what visitation needs (DESIGN §3.3): AGB, name, KvK number, the locations with their
/// normalised address, the tier, the registration state, the day the annual plan was approved,
/// whether the practice is new to the register (its visitation is the entry visitation, 001
/// §1.2a), the day of its last positive visitation, the therapists working there today and their
/// intervision groups with the practices of all members; and every intervision group with its
/// current members, plus the year's visitation and entry-visitation deadlines. The visitation
/// service never reads the register's tables.
#[utoipa::path(
    tag = "Registrations",
    params(CycleYearPath),
    responses(
        (status = 200, description = "The practices of the year", body = VisitationDirectory),
        (status = 422, description = "Not a valid cycle year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-directory:read"]))
)]
#[get("/v1/internal/visitation-directory/{year}")]
pub async fn get_visitation_directory(
    ctx: web::Data<RegisterContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    year: CycleYearPath,
) -> Result<web::Json<VisitationDirectory>, ApiError> {
    principal.require(scopes::VISITATION_DIRECTORY_READ)?;
    let mut conn = connection(&pool).await?;
    let (calendar, _) = calendar_for(&mut conn, *year, &ctx.settings.cycle.calendar).await?;
    let today = amsterdam_date(ctx.clock.now());
    let directory = super::repository::directory(&mut conn, &calendar, today).await?;
    Ok(web::Json(directory))
}
