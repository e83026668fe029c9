//! SQL for annual plans and their documents.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{CycleYear, OefentherapieAgb, Text};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::ApiError;

use super::{AnnualPlan, Assessment, Decision, PlanStatus};
use crate::schema::{annual_plan_documents, annual_plans};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = annual_plans)]
pub struct PlanRow {
    pub id: uuid::Uuid,
    pub practice_agb: String,
    pub cycle_year: i32,
    pub version: i32,
    pub filename: Option<String>,
    pub size_bytes: i64,
    pub sha256: String,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: String,
    pub assessment: Option<String>,
    pub assessment_remarks: Option<String>,
    pub assessed_at: Option<DateTime<Utc>>,
    pub assessed_by: Option<String>,
}

impl PlanRow {
    /// The stored decision, if the plan is assessed.
    #[track_caller]
    pub fn decision(&self) -> Result<Option<Decision>, ApiError> {
        self.assessment
            .as_deref()
            .map(|raw| decode("annual_plans.assessment", raw, Decision::parse))
            .transpose()
    }

    /// The stored cycle year.
    #[track_caller]
    pub fn cycle_year(&self) -> Result<CycleYear, ApiError> {
        decode(
            "annual_plans.cycle_year",
            &self.cycle_year.to_string(),
            CycleYear::parse,
        )
    }

    pub fn view(self) -> Result<AnnualPlan, ApiError> {
        let decision = self.decision()?;
        let cycle_year = self.cycle_year()?.value();
        let status = match decision {
            None => PlanStatus::AwaitingAssessment,
            Some(Decision::Approved) => PlanStatus::Approved,
            Some(Decision::Rejected) => PlanStatus::Rejected,
        };
        let assessment = match (decision, self.assessed_at, self.assessed_by) {
            (None, _, _) => None,
            (Some(decision), Some(assessed_at), Some(assessed_by)) => Some(Assessment {
                decision,
                remarks: self.assessment_remarks,
                assessed_at,
                assessed_by,
            }),
            (Some(_), _, _) => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "annual plan {} is assessed without a time or an assessor",
                    self.id
                )))
            }
        };
        Ok(AnnualPlan {
            id: self.id,
            practice_agb: self.practice_agb,
            cycle_year,
            version: self.version,
            filename: self.filename,
            size_bytes: self.size_bytes,
            sha256: self.sha256,
            submitted_at: self.submitted_at,
            submitted_by: self.submitted_by,
            status,
            assessment,
        })
    }
}

/// The latest version of the practice's plan for the year.
pub async fn latest(
    conn: &mut AsyncPgConnection,
    practice_agb: &OefentherapieAgb,
    cycle_year: CycleYear,
) -> QueryResult<Option<PlanRow>> {
    annual_plans::table
        .filter(annual_plans::practice_agb.eq(practice_agb.as_str()))
        .filter(annual_plans::cycle_year.eq(i32::from(cycle_year.value())))
        .order(annual_plans::version.desc())
        .select(PlanRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub struct NewPlan<'a> {
    pub id: uuid::Uuid,
    pub practice_agb: &'a OefentherapieAgb,
    pub cycle_year: CycleYear,
    pub version: i32,
    pub filename: Option<&'a str>,
    pub sha256: &'a str,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: &'a str,
    pub document: &'a [u8],
}

pub async fn insert(conn: &mut AsyncPgConnection, plan: &NewPlan<'_>) -> QueryResult<PlanRow> {
    let row = diesel::insert_into(annual_plans::table)
        .values((
            annual_plans::id.eq(plan.id),
            annual_plans::practice_agb.eq(plan.practice_agb.as_str()),
            annual_plans::cycle_year.eq(i32::from(plan.cycle_year.value())),
            annual_plans::version.eq(plan.version),
            annual_plans::filename.eq(plan.filename),
            annual_plans::size_bytes.eq(i64::try_from(plan.document.len()).unwrap_or(i64::MAX)),
            annual_plans::sha256.eq(plan.sha256),
            annual_plans::submitted_at.eq(plan.submitted_at),
            annual_plans::submitted_by.eq(plan.submitted_by),
        ))
        .returning(PlanRow::as_returning())
        .get_result(conn)
        .await?;
    diesel::insert_into(annual_plan_documents::table)
        .values((
            annual_plan_documents::annual_plan_id.eq(plan.id),
            annual_plan_documents::content.eq(plan.document),
        ))
        .execute(conn)
        .await?;
    Ok(row)
}

pub async fn find(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> QueryResult<Option<PlanRow>> {
    annual_plans::table
        .find(id)
        .select(PlanRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The plan, locked for the rest of the transaction (assessment happens once).
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
) -> QueryResult<Option<PlanRow>> {
    annual_plans::table
        .find(id)
        .select(PlanRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn document(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
) -> QueryResult<Option<Vec<u8>>> {
    annual_plan_documents::table
        .find(id)
        .select(annual_plan_documents::content)
        .first(conn)
        .await
        .optional()
}

/// The practice's plans, newest submission first, after the keyset position `after`.
pub async fn list_for_practice(
    conn: &mut AsyncPgConnection,
    practice_agb: &OefentherapieAgb,
    cycle_year: Option<CycleYear>,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> QueryResult<Vec<PlanRow>> {
    let mut query = annual_plans::table
        .filter(annual_plans::practice_agb.eq(practice_agb.as_str().to_owned()))
        .select(PlanRow::as_select())
        .order((annual_plans::submitted_at.desc(), annual_plans::id.desc()))
        .limit(limit + 1)
        .into_boxed();
    if let Some(year) = cycle_year {
        query = query.filter(annual_plans::cycle_year.eq(i32::from(year.value())));
    }
    if let Some((submitted_at, id)) = after {
        query = query.filter(
            annual_plans::submitted_at
                .lt(submitted_at)
                .or(annual_plans::submitted_at
                    .eq(submitted_at)
                    .and(annual_plans::id.lt(id))),
        );
    }
    query.load(conn).await
}

pub async fn assess(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    decision: Decision,
    remarks: Option<&Text>,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<PlanRow> {
    diesel::update(annual_plans::table.find(id))
        .set((
            annual_plans::assessment.eq(decision.as_str()),
            annual_plans::assessment_remarks.eq(remarks.map(Text::as_str)),
            annual_plans::assessed_at.eq(at),
            annual_plans::assessed_by.eq(by),
        ))
        .returning(PlanRow::as_returning())
        .get_result(conn)
        .await
}
