//! `GET /v1/cycles/{year}/due`.

use std::collections::BTreeMap;

use actix_web::{get, web};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use uuid::Uuid;

use super::{DueItem, DueList};
use crate::directory::due;
use crate::paths::CycleYearPath;
use crate::schema::visitations as v;
use crate::scopes;
use crate::startup::VisitationContext;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_due);
}

/// List who is due for a visitation
///
/// Every practice with a registration for the cycle year, from the register's directory (at most
/// `directory_cache_seconds` old), with whether it needs a visitation in the year and why: a
/// practice new to the register needs its entry visitation, to be passed before the
/// entry-visitation deadline (001 §1.2a); the `praktijkregister` tier is visited every year (000;
/// 001 §1.2b); the `basispraktijkregister` tier every two years, so not in the year after a
/// positive visitation (002); a practice visited positively in the year is done. Also whether its
/// annual plan is approved and which session holds its visitation.
#[utoipa::path(
    tag = "Cycle",
    params(CycleYearPath),
    responses(
        (status = 200, description = "The due list", body = DueList),
        (status = 422, description = "Not a valid cycle year", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The register answered badly", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The register did not answer in time", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["visitation-plan:manage"]))
)]
#[get("/v1/cycles/{year}/due")]
pub async fn get_due(
    ctx: web::Data<VisitationContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
    year: CycleYearPath,
) -> Result<web::Json<DueList>, ApiError> {
    principal.require(scopes::VISITATION_PLAN_MANAGE)?;
    let year = *year;
    let directory = ctx.directory.cached(year).await?;
    let mut conn = connection(&pool).await?;
    let sessions: BTreeMap<String, Uuid> = v::table
        .filter(v::cycle_year.eq(i32::from(year.value())))
        .filter(v::status.ne("cancelled"))
        .select((v::practice_agb, v::session_id))
        .load::<(String, Uuid)>(&mut conn)
        .await?
        .into_iter()
        .collect();
    let raw = &directory.raw;
    let items = raw
        .practices
        .iter()
        .map(|p| {
            let rhythm = due(p, year);
            DueItem {
                practice_agb: p.agb.clone(),
                name: p.name.clone(),
                tier: p.tier.clone(),
                registration_state: p.registration_state.clone(),
                due: rhythm.is_ok(),
                reason: rhythm.ok(),
                not_due_reason: rhythm.err(),
                due_by: rhythm.ok().map(|_| raw.visitation_deadline),
                plan_approved: p.plan_approved_on.is_some(),
                session_id: sessions.get(&p.agb).copied(),
            }
        })
        .collect();
    Ok(web::Json(DueList {
        cycle_year: year.value(),
        visitation_deadline: raw.visitation_deadline,
        entry_visitation_deadline: raw.entry_visitation_deadline,
        items,
    }))
}
