//! The SQL of visitations, their findings, deviations, report and the components of a year.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{ComponentScore, PartOfDay};
use praktijkregister_events::VisitationOutcome;
use praktijkregister_platform::error::ApiError;
use uuid::Uuid;

use super::{Deviation, Finding, ReportInfo, Visitation};
use crate::schema::{
    component_lists as cl, findings as f, indicator_deviations as d, visitation_reports as r,
    visitation_sessions as s, visitations as v,
};

pub const OPEN: &str = "open";
pub const FINALISED: &str = "finalised";

/// A visitation with what it takes from its session.
#[derive(Debug, Clone, Queryable)]
pub struct VisitationRow {
    pub id: Uuid,
    pub session_id: Uuid,
    pub cycle_year: i32,
    pub practice_agb: String,
    pub colleague_practice_agb: String,
    pub status: String,
    pub outcome: Option<String>,
    pub outcome_remarks: Option<String>,
    pub outcome_event_id: Option<Uuid>,
    pub finalised_at: Option<DateTime<Utc>>,
    pub date: NaiveDate,
    pub part_of_day: String,
    pub visitor_id: String,
}

type Columns = (
    v::id,
    v::session_id,
    v::cycle_year,
    v::practice_agb,
    v::colleague_practice_agb,
    v::status,
    v::outcome,
    v::outcome_remarks,
    v::outcome_event_id,
    v::finalised_at,
    s::session_date,
    s::part_of_day,
    s::visitor_id,
);

const COLUMNS: Columns = (
    v::id,
    v::session_id,
    v::cycle_year,
    v::practice_agb,
    v::colleague_practice_agb,
    v::status,
    v::outcome,
    v::outcome_remarks,
    v::outcome_event_id,
    v::finalised_at,
    s::session_date,
    s::part_of_day,
    s::visitor_id,
);

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<VisitationRow>> {
    v::table
        .inner_join(s::table)
        .filter(v::id.eq(id))
        .select(COLUMNS)
        .first(conn)
        .await
        .optional()
}

/// Locks the visitation for the rest of the transaction, then reads it.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<VisitationRow>> {
    let locked: Option<Uuid> = v::table
        .find(id)
        .select(v::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    match locked {
        Some(_) => find(conn, id).await,
        None => Ok(None),
    }
}

/// Who a list is for: everyone's, a visitor's sessions, or a practice's own visitations.
pub enum Scope<'a> {
    All,
    Visitor(&'a str),
    Practice(&'a str),
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    year: Option<i32>,
    scope: Scope<'_>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<VisitationRow>> {
    let mut query = v::table
        .inner_join(s::table)
        .select(COLUMNS)
        .order(v::id)
        .limit(limit + 1)
        .into_boxed();
    if let Some(year) = year {
        query = query.filter(v::cycle_year.eq(year));
    }
    match scope {
        Scope::All => {}
        Scope::Visitor(id) => query = query.filter(s::visitor_id.eq(id.to_string())),
        Scope::Practice(agb) => query = query.filter(v::practice_agb.eq(agb.to_string())),
    }
    if let Some(after) = after {
        query = query.filter(v::id.gt(after));
    }
    query.load(conn).await
}

pub async fn findings(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Vec<Finding>, ApiError> {
    let rows: Vec<(String, String, Option<String>)> = f::table
        .filter(f::visitation_id.eq(id))
        .select((f::component, f::score, f::remarks))
        .order(f::component)
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(component, score, remarks)| {
            let score = match score.as_str() {
                "sufficient" => ComponentScore::Sufficient,
                "insufficient" => ComponentScore::Insufficient,
                other => return Err(ApiError::internal(anyhow::anyhow!("stored score {other}"))),
            };
            Ok(Finding {
                component,
                score,
                remarks,
            })
        })
        .collect()
}

pub async fn deviations(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Vec<Deviation>> {
    let rows: Vec<(String, Option<String>)> = d::table
        .filter(d::visitation_id.eq(id))
        .select((d::indicator, d::explanation))
        .order(d::indicator)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(indicator, explanation)| Deviation {
            indicator,
            explanation,
        })
        .collect())
}

pub async fn report_info(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<ReportInfo>> {
    r::table
        .find(id)
        .select((r::sha256, r::size_bytes, r::uploaded_at))
        .first::<(String, i64, DateTime<Utc>)>(conn)
        .await
        .optional()
        .map(|row| {
            row.map(|(sha256, size_bytes, uploaded_at)| ReportInfo {
                sha256,
                size_bytes,
                uploaded_at,
            })
        })
}

pub async fn report_content(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<(Vec<u8>, String)>> {
    r::table
        .find(id)
        .select((r::content, r::sha256))
        .first(conn)
        .await
        .optional()
}

pub async fn replace_findings(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    findings: &[Finding],
    deviations: &[Deviation],
    by: &str,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::delete(f::table.filter(f::visitation_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(d::table.filter(d::visitation_id.eq(id)))
        .execute(conn)
        .await?;
    let rows: Vec<_> = findings
        .iter()
        .map(|finding| {
            (
                f::visitation_id.eq(id),
                f::component.eq(&finding.component),
                f::score.eq(match finding.score {
                    ComponentScore::Sufficient => "sufficient",
                    ComponentScore::Insufficient => "insufficient",
                }),
                f::remarks.eq(&finding.remarks),
                f::recorded_at.eq(at),
                f::recorded_by.eq(by),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(f::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    let rows: Vec<_> = deviations
        .iter()
        .map(|deviation| {
            (
                d::visitation_id.eq(id),
                d::indicator.eq(&deviation.indicator),
                d::explanation.eq(&deviation.explanation),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(d::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub async fn store_report(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    content: &[u8],
    sha256: &str,
    by: &str,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
    diesel::insert_into(r::table)
        .values((
            r::visitation_id.eq(id),
            r::content.eq(content),
            r::size_bytes.eq(size),
            r::sha256.eq(sha256),
            r::uploaded_at.eq(at),
            r::uploaded_by.eq(by),
        ))
        .on_conflict(r::visitation_id)
        .do_update()
        .set((
            r::content.eq(content),
            r::size_bytes.eq(size),
            r::sha256.eq(sha256),
            r::uploaded_at.eq(at),
            r::uploaded_by.eq(by),
        ))
        .execute(conn)
        .await
        .map(drop)
}

pub struct Finalising<'a> {
    pub outcome: VisitationOutcome,
    pub remarks: Option<&'a str>,
    pub event_id: Uuid,
    pub by: &'a str,
    pub at: DateTime<Utc>,
}

pub async fn finalise(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    finalising: &Finalising<'_>,
) -> QueryResult<()> {
    let outcome = match finalising.outcome {
        VisitationOutcome::Positive => "positive",
        VisitationOutcome::Negative => "negative",
    };
    diesel::update(v::table.find(id))
        .set((
            v::status.eq(FINALISED),
            v::outcome.eq(outcome),
            v::outcome_remarks.eq(finalising.remarks),
            v::outcome_event_id.eq(finalising.event_id),
            v::finalised_at.eq(finalising.at),
            v::finalised_by.eq(finalising.by),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The stored list of a year, and whether it is frozen.
pub async fn component_list(
    conn: &mut AsyncPgConnection,
    year: i32,
) -> QueryResult<Option<(Vec<String>, bool)>> {
    cl::table
        .find(year)
        .select((cl::components, cl::frozen))
        .first(conn)
        .await
        .optional()
}

/// Stores the year's list; `frozen` once findings use it.
pub async fn store_component_list(
    conn: &mut AsyncPgConnection,
    year: i32,
    components: &[String],
    frozen: bool,
    by: &str,
) -> QueryResult<()> {
    diesel::insert_into(cl::table)
        .values((
            cl::cycle_year.eq(year),
            cl::components.eq(components),
            cl::frozen.eq(frozen),
            cl::updated_by.eq(by),
        ))
        .on_conflict(cl::cycle_year)
        .do_update()
        .set((
            cl::components.eq(components),
            cl::frozen.eq(frozen),
            cl::updated_at.eq(diesel::dsl::now),
            cl::updated_by.eq(by),
        ))
        .execute(conn)
        .await
        .map(drop)
}

impl VisitationRow {
    pub fn part(&self) -> Result<PartOfDay, ApiError> {
        PartOfDay::parse(&self.part_of_day).map_err(ApiError::internal)
    }

    pub fn outcome(&self) -> Result<Option<VisitationOutcome>, ApiError> {
        match self.outcome.as_deref() {
            None => Ok(None),
            Some("positive") => Ok(Some(VisitationOutcome::Positive)),
            Some("negative") => Ok(Some(VisitationOutcome::Negative)),
            Some(other) => Err(ApiError::internal(anyhow::anyhow!(
                "stored outcome {other}"
            ))),
        }
    }
}

/// The full view of `row`.
pub async fn view(
    conn: &mut AsyncPgConnection,
    row: VisitationRow,
    components: Vec<String>,
) -> Result<Visitation, ApiError> {
    Ok(Visitation {
        part_of_day: row.part()?,
        outcome: row.outcome()?,
        findings: findings(conn, row.id).await?,
        deviations: deviations(conn, row.id).await?,
        report: report_info(conn, row.id).await?,
        id: row.id,
        session_id: row.session_id,
        cycle_year: row.cycle_year,
        date: row.date,
        visitor_id: row.visitor_id,
        practice_agb: row.practice_agb,
        colleague_practice_agb: row.colleague_practice_agb,
        status: row.status,
        outcome_remarks: row.outcome_remarks,
        finalised_at: row.finalised_at,
        components,
    })
}
