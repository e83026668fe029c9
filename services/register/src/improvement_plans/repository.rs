//! SQL for improvement plans and the practices above an insurer's ceiling.

use chrono::{DateTime, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{OefentherapieAgb, UzoviCode};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::ApiError;
use uuid::Uuid;

use super::{ImprovementPlan, Measure, PlanFields};
use crate::schema::{improvement_plans, insurer_consents, practices, treatment_indices};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = improvement_plans)]
struct PlanRow {
    id: Uuid,
    practice_agb: String,
    insurer_uzovi: String,
    year: i32,
    measure: String,
    current_value: f64,
    ceiling: f64,
    target: f64,
    plan_text: String,
    do_text: String,
    check_text: String,
    act_text: String,
    evaluation_points: Vec<i32>,
    created_at: DateTime<Utc>,
    created_by: String,
}

impl TryFrom<PlanRow> for ImprovementPlan {
    type Error = ApiError;

    fn try_from(row: PlanRow) -> Result<Self, ApiError> {
        Ok(Self {
            id: row.id,
            practice_agb: row.practice_agb,
            insurer_uzovi: row.insurer_uzovi,
            year: row.year,
            measure: decode("improvement_plans.measure", &row.measure, Measure::parse)?,
            current_value: row.current_value,
            ceiling: row.ceiling,
            target: row.target,
            plan: row.plan_text,
            do_text: row.do_text,
            check: row.check_text,
            act: row.act_text,
            evaluation_points: row.evaluation_points,
            created_at: row.created_at,
            created_by: row.created_by,
        })
    }
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    practice: &OefentherapieAgb,
    fields: &PlanFields,
    at: DateTime<Utc>,
    by: &str,
) -> Result<ImprovementPlan, ApiError> {
    let row = diesel::insert_into(improvement_plans::table)
        .values((
            improvement_plans::id.eq(id),
            improvement_plans::practice_agb.eq(practice.as_str()),
            improvement_plans::insurer_uzovi.eq(fields.insurer_uzovi.as_str()),
            improvement_plans::year.eq(fields.year),
            improvement_plans::measure.eq(fields.measure.as_str()),
            improvement_plans::current_value.eq(fields.current_value),
            improvement_plans::ceiling.eq(fields.ceiling),
            improvement_plans::target.eq(fields.target),
            improvement_plans::plan_text.eq(fields.plan.as_str()),
            improvement_plans::do_text.eq(fields.do_text.as_str()),
            improvement_plans::check_text.eq(fields.check.as_str()),
            improvement_plans::act_text.eq(fields.act.as_str()),
            improvement_plans::evaluation_points.eq(&fields.evaluation_points),
            improvement_plans::created_at.eq(at),
            improvement_plans::created_by.eq(by),
        ))
        .returning(PlanRow::as_returning())
        .get_result(conn)
        .await?;
    row.try_into()
}

/// The practice's plans, newest first, after the keyset position `after`; `only_insurer` and
/// `year` narrow the list.
pub async fn list_for_practice(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    only_insurer: Option<&UzoviCode>,
    year: Option<i32>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<ImprovementPlan>, ApiError> {
    let mut query = improvement_plans::table
        .filter(improvement_plans::practice_agb.eq(practice.as_str().to_string()))
        .select(PlanRow::as_select())
        .order((
            improvement_plans::created_at.desc(),
            improvement_plans::id.desc(),
        ))
        .limit(limit + 1)
        .into_boxed();
    if let Some(insurer) = only_insurer {
        query = query.filter(improvement_plans::insurer_uzovi.eq(insurer.as_str().to_string()));
    }
    if let Some(year) = year {
        query = query.filter(improvement_plans::year.eq(year));
    }
    if let Some((created_at, id)) = after {
        query = query.filter(
            improvement_plans::created_at
                .lt(created_at)
                .or(improvement_plans::created_at
                    .eq(created_at)
                    .and(improvement_plans::id.lt(id))),
        );
    }
    query
        .load(conn)
        .await?
        .into_iter()
        .map(ImprovementPlan::try_from)
        .collect()
}

/// A practice whose index of the year exceeds a ceiling.
#[derive(Debug, Clone)]
pub struct AboveCeilingRow {
    pub practice_agb: String,
    pub name: String,
    pub value: f64,
    pub ci_lower: Option<f64>,
    /// The latest plan of the practice for the insurer and year.
    pub plan_id: Option<Uuid>,
}

/// Practices by AGB code whose treatment index of `year` is above `ceiling`, after `after`,
/// `limit + 1` at most. Where a confidence interval is given its lower bound is compared, as in
/// the criterion (DESIGN §3.5). With `consented_only`, only practices with an active consent
/// for the insurer.
pub async fn above_ceiling(
    conn: &mut AsyncPgConnection,
    insurer: &UzoviCode,
    year: i32,
    ceiling: f64,
    consented_only: bool,
    after: Option<String>,
    limit: i64,
) -> QueryResult<Vec<AboveCeilingRow>> {
    let insurer_uzovi = insurer.as_str();
    let mut query = treatment_indices::table
        .inner_join(practices::table)
        .filter(treatment_indices::year.eq(year))
        .filter(
            treatment_indices::ci_lower
                .gt(ceiling)
                .or(treatment_indices::ci_lower
                    .is_null()
                    .and(treatment_indices::value.gt(ceiling))),
        )
        .select((
            treatment_indices::practice_agb,
            practices::name,
            treatment_indices::value,
            treatment_indices::ci_lower,
        ))
        .order(treatment_indices::practice_agb)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(treatment_indices::practice_agb.gt(after));
    }
    if consented_only {
        let consent = insurer_consents::table
            .filter(insurer_consents::practice_agb.eq(treatment_indices::practice_agb))
            .filter(insurer_consents::insurer_uzovi.eq(insurer_uzovi.to_string()))
            .filter(insurer_consents::revoked_at.is_null());
        query = query.filter(exists(consent));
    }
    let rows: Vec<(String, String, f64, Option<f64>)> = query.load(conn).await?;
    let agbs: Vec<&String> = rows.iter().map(|(agb, ..)| agb).collect();
    // Newest first, so the first plan seen per practice is its latest.
    let plans: Vec<(String, Uuid)> = improvement_plans::table
        .filter(improvement_plans::insurer_uzovi.eq(insurer_uzovi))
        .filter(improvement_plans::year.eq(year))
        .filter(improvement_plans::practice_agb.eq_any(agbs))
        .order((
            improvement_plans::created_at.desc(),
            improvement_plans::id.desc(),
        ))
        .select((improvement_plans::practice_agb, improvement_plans::id))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(practice_agb, name, value, ci_lower)| AboveCeilingRow {
            plan_id: plans
                .iter()
                .find(|(agb, _)| *agb == practice_agb)
                .map(|(_, id)| *id),
            practice_agb,
            name,
            value,
            ci_lower,
        })
        .collect())
}
