//! SQL for the overview of a cycle year: counts by GROUP BY, lists by anti-join.

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, exists, not};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{CycleYear, RegistrationState};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::ApiError;
use uuid::Uuid;

use super::{AwaitingKp, PlanAwaitingAssessment, PracticeRef, RegistrationCounts};
use crate::schema::{annual_plans, practices, registrations};

/// What the database knows about a cycle year, before the calendar is applied.
#[derive(Debug, Clone)]
pub struct YearFigures {
    pub counts: RegistrationCounts,
    pub without_annual_plan: Vec<PracticeRef>,
    pub awaiting_assessment: Vec<PlanAwaitingAssessment>,
    /// Practices in state `plan_approved`.
    pub approved_without_visitation: Vec<PracticeRef>,
    pub awaiting_kp: Vec<AwaitingKp>,
}

async fn counts(conn: &mut AsyncPgConnection, year: i32) -> Result<RegistrationCounts, ApiError> {
    let per_state: Vec<(String, i64)> = registrations::table
        .filter(registrations::cycle_year.eq(year))
        .group_by(registrations::state)
        .select((registrations::state, count_star()))
        .load(conn)
        .await?;
    let mut counts = RegistrationCounts::default();
    for (state, n) in per_state {
        // The column's CHECK admits only the known states; another is a fault in the data.
        counts.add(
            decode("registrations.state", &state, RegistrationState::parse)?,
            n,
        );
    }
    counts.practices_total = practices::table.count().get_result(conn).await?;
    let registered_for_year = registrations::table
        .filter(registrations::practice_agb.eq(practices::agb))
        .filter(registrations::cycle_year.eq(year));
    counts.without_registration = practices::table
        .filter(not(exists(registered_for_year)))
        .count()
        .get_result(conn)
        .await?;
    Ok(counts)
}

async fn without_annual_plan(
    conn: &mut AsyncPgConnection,
    year: i32,
) -> QueryResult<Vec<PracticeRef>> {
    let plan_for_year = annual_plans::table
        .filter(annual_plans::practice_agb.eq(practices::agb))
        .filter(annual_plans::cycle_year.eq(year));
    let rows: Vec<(String, String)> = practices::table
        .filter(not(exists(plan_for_year)))
        .select((practices::agb, practices::name))
        .order(practices::agb)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(agb, name)| PracticeRef { agb, name })
        .collect())
}

async fn awaiting_assessment(
    conn: &mut AsyncPgConnection,
    year: i32,
) -> QueryResult<Vec<PlanAwaitingAssessment>> {
    let rows: Vec<(Uuid, String, String, i32, DateTime<Utc>)> = annual_plans::table
        .inner_join(practices::table)
        .filter(annual_plans::cycle_year.eq(year))
        .filter(annual_plans::assessment.is_null())
        .select((
            annual_plans::id,
            annual_plans::practice_agb,
            practices::name,
            annual_plans::version,
            annual_plans::submitted_at,
        ))
        .order((annual_plans::submitted_at, annual_plans::practice_agb))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(annual_plan_id, agb, name, version, submitted_at)| PlanAwaitingAssessment {
                annual_plan_id,
                agb,
                name,
                version,
                submitted_at,
            },
        )
        .collect())
}

async fn in_state(
    conn: &mut AsyncPgConnection,
    year: i32,
    state: RegistrationState,
) -> QueryResult<Vec<(String, String, Vec<String>)>> {
    registrations::table
        .inner_join(practices::table)
        .filter(registrations::cycle_year.eq(year))
        .filter(registrations::state.eq(state.as_str()))
        .select((
            registrations::practice_agb,
            practices::name,
            registrations::lacking_kp,
        ))
        .order(registrations::practice_agb)
        .load(conn)
        .await
}

/// The counts and lists of cycle year `year`. Run it in one transaction for a consistent view.
pub async fn year_figures(
    conn: &mut AsyncPgConnection,
    year: CycleYear,
) -> Result<YearFigures, ApiError> {
    let year = i32::from(year.value());
    let approved = in_state(conn, year, RegistrationState::PlanApproved).await?;
    let awaiting_kp = in_state(conn, year, RegistrationState::AwaitingKp).await?;
    Ok(YearFigures {
        counts: counts(conn, year).await?,
        without_annual_plan: without_annual_plan(conn, year).await?,
        awaiting_assessment: awaiting_assessment(conn, year).await?,
        approved_without_visitation: approved
            .into_iter()
            .map(|(agb, name, _)| PracticeRef { agb, name })
            .collect(),
        awaiting_kp: awaiting_kp
            .into_iter()
            .map(|(agb, name, lacking_kp)| AwaitingKp {
                agb,
                name,
                lacking_kp,
            })
            .collect(),
    })
}
