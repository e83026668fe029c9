//! SQL for IOPs and treatment indices.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{CycleYear, OefentherapieAgb};

use super::{Iop, IopFields, TreatmentIndex, TreatmentIndexFields};
use crate::schema::{iops, practice_memberships, treatment_indices};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = iops)]
struct IopRow {
    therapist_agb: String,
    year: i32,
    drawn_up_on: NaiveDate,
    uploaded_to_kp_on: Option<NaiveDate>,
    quarterly_updates: Vec<NaiveDate>,
    used_in_appraisal: bool,
    used_in_360_feedback: bool,
    updated_at: DateTime<Utc>,
    updated_by: String,
}

impl From<IopRow> for Iop {
    fn from(row: IopRow) -> Self {
        Self {
            therapist_agb: row.therapist_agb,
            year: row.year,
            drawn_up_on: row.drawn_up_on,
            uploaded_to_kp_on: row.uploaded_to_kp_on,
            quarterly_updates: row.quarterly_updates,
            used_in_appraisal: row.used_in_appraisal,
            used_in_360_feedback: row.used_in_360_feedback,
            updated_at: row.updated_at,
            updated_by: row.updated_by,
        }
    }
}

/// First and last day of `year`.
fn year_bounds(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        NaiveDate::from_ymd_opt(year, 1, 1)?,
        NaiveDate::from_ymd_opt(year, 12, 31)?,
    ))
}

/// Whether the therapist had a membership of the practice on some day of `year`.
pub async fn member_in_year(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    therapist: &OefentherapieAgb,
    year: CycleYear,
) -> QueryResult<bool> {
    let Some((first, last)) = year_bounds(i32::from(year.value())) else {
        return Ok(false);
    };
    diesel::select(diesel::dsl::exists(
        practice_memberships::table
            .find((practice.as_str(), therapist.as_str()))
            .filter(practice_memberships::start_date.le(last))
            .filter(
                practice_memberships::end_date
                    .is_null()
                    .or(practice_memberships::end_date.ge(first)),
            ),
    ))
    .get_result(conn)
    .await
}

/// The years in which the therapist had a membership of the practice, among `MIN_YEAR..=MAX_YEAR`.
pub async fn membership_years(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    therapist: &OefentherapieAgb,
) -> QueryResult<Vec<i32>> {
    let periods: Vec<(NaiveDate, Option<NaiveDate>)> = practice_memberships::table
        .find((practice.as_str(), therapist.as_str()))
        .select((
            practice_memberships::start_date,
            practice_memberships::end_date,
        ))
        .load(conn)
        .await?;
    Ok((super::MIN_YEAR..=super::MAX_YEAR)
        .filter(|year| {
            year_bounds(*year).is_some_and(|(first, last)| {
                periods
                    .iter()
                    .any(|(start, end)| *start <= last && end.is_none_or(|end| end >= first))
            })
        })
        .collect())
}

/// Creates or replaces the IOP; the flag tells whether it was created.
pub async fn put_iop(
    conn: &mut AsyncPgConnection,
    therapist: &OefentherapieAgb,
    year: CycleYear,
    fields: &IopFields,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<(Iop, bool)> {
    let (row, created) = diesel::insert_into(iops::table)
        .values((
            iops::therapist_agb.eq(therapist.as_str()),
            iops::year.eq(i32::from(year.value())),
            iops::drawn_up_on.eq(fields.drawn_up_on),
            iops::uploaded_to_kp_on.eq(fields.uploaded_to_kp_on),
            iops::quarterly_updates.eq(&fields.quarterly_updates),
            iops::used_in_appraisal.eq(fields.used_in_appraisal),
            iops::used_in_360_feedback.eq(fields.used_in_360_feedback),
            iops::updated_at.eq(at),
            iops::updated_by.eq(by),
        ))
        .on_conflict((iops::therapist_agb, iops::year))
        .do_update()
        .set((
            iops::drawn_up_on.eq(excluded(iops::drawn_up_on)),
            iops::uploaded_to_kp_on.eq(excluded(iops::uploaded_to_kp_on)),
            iops::quarterly_updates.eq(excluded(iops::quarterly_updates)),
            iops::used_in_appraisal.eq(excluded(iops::used_in_appraisal)),
            iops::used_in_360_feedback.eq(excluded(iops::used_in_360_feedback)),
            iops::updated_at.eq(excluded(iops::updated_at)),
            iops::updated_by.eq(excluded(iops::updated_by)),
        ))
        // `xmax = 0` only for a freshly inserted row: one statement tells created from replaced.
        .returning((
            IopRow::as_returning(),
            diesel::dsl::sql::<diesel::sql_types::Bool>("xmax = 0"),
        ))
        .get_result::<(IopRow, bool)>(conn)
        .await?;
    Ok((row.into(), created))
}

/// The therapist's IOPs by year, after `after`, `limit + 1` at most; `only_years` limits the
/// years (a practice sees the years the therapist worked there).
pub async fn list_iops(
    conn: &mut AsyncPgConnection,
    therapist: &OefentherapieAgb,
    only_years: Option<&[i32]>,
    after: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<Iop>> {
    let mut query = iops::table
        .filter(iops::therapist_agb.eq(therapist.as_str().to_string()))
        .select(IopRow::as_select())
        .order(iops::year)
        .limit(limit + 1)
        .into_boxed();
    if let Some(years) = only_years {
        query = query.filter(iops::year.eq_any(years.to_vec()));
    }
    if let Some(after) = after {
        query = query.filter(iops::year.gt(after));
    }
    Ok(query.load(conn).await?.into_iter().map(Iop::from).collect())
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = treatment_indices)]
struct TreatmentIndexRow {
    practice_agb: String,
    year: i32,
    value: f64,
    ci_lower: Option<f64>,
    ci_upper: Option<f64>,
    patient_count: i32,
    source: String,
    entered_at: DateTime<Utc>,
    entered_by: String,
}

impl From<TreatmentIndexRow> for TreatmentIndex {
    fn from(row: TreatmentIndexRow) -> Self {
        Self {
            practice_agb: row.practice_agb,
            year: row.year,
            value: row.value,
            ci_lower: row.ci_lower,
            ci_upper: row.ci_upper,
            patient_count: row.patient_count,
            source: row.source,
            entered_at: row.entered_at,
            entered_by: row.entered_by,
        }
    }
}

/// Creates or replaces the practice's treatment index for the year; the flag tells whether it
/// was created.
pub async fn put_treatment_index(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    year: i32,
    fields: &TreatmentIndexFields,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<(TreatmentIndex, bool)> {
    let (row, created) = diesel::insert_into(treatment_indices::table)
        .values((
            treatment_indices::practice_agb.eq(practice.as_str()),
            treatment_indices::year.eq(year),
            treatment_indices::value.eq(fields.value),
            treatment_indices::ci_lower.eq(fields.ci_lower),
            treatment_indices::ci_upper.eq(fields.ci_upper),
            treatment_indices::patient_count.eq(fields.patient_count),
            treatment_indices::source.eq(fields.source.as_str()),
            treatment_indices::entered_at.eq(at),
            treatment_indices::entered_by.eq(by),
        ))
        .on_conflict((treatment_indices::practice_agb, treatment_indices::year))
        .do_update()
        .set((
            treatment_indices::value.eq(excluded(treatment_indices::value)),
            treatment_indices::ci_lower.eq(excluded(treatment_indices::ci_lower)),
            treatment_indices::ci_upper.eq(excluded(treatment_indices::ci_upper)),
            treatment_indices::patient_count.eq(excluded(treatment_indices::patient_count)),
            treatment_indices::source.eq(excluded(treatment_indices::source)),
            treatment_indices::entered_at.eq(excluded(treatment_indices::entered_at)),
            treatment_indices::entered_by.eq(excluded(treatment_indices::entered_by)),
        ))
        .returning((
            TreatmentIndexRow::as_returning(),
            diesel::dsl::sql::<diesel::sql_types::Bool>("xmax = 0"),
        ))
        .get_result::<(TreatmentIndexRow, bool)>(conn)
        .await?;
    Ok((row.into(), created))
}

/// The practice's treatment indices by year, after `after`, `limit + 1` at most.
pub async fn list_treatment_indices(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    after: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<TreatmentIndex>> {
    let mut query = treatment_indices::table
        .filter(treatment_indices::practice_agb.eq(practice.as_str().to_string()))
        .select(TreatmentIndexRow::as_select())
        .order(treatment_indices::year)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(treatment_indices::year.gt(after));
    }
    Ok(query
        .load(conn)
        .await?
        .into_iter()
        .map(TreatmentIndex::from)
        .collect())
}
