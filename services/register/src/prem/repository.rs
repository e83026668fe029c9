//! SQL for PREM results and their domain scores.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{OefentherapieAgb, Period};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::ApiError;

use super::{PremDomainScore, PremFields, PremResult};
use crate::schema::{prem_domain_scores, prem_results};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = prem_results)]
struct ResultRow {
    practice_agb: String,
    period: NaiveDate,
    responses: i32,
    measuring_office: Option<String>,
    consent_national_processor: bool,
    consent_zorgkaart: bool,
    submitted_at: DateTime<Utc>,
    submitted_by: String,
}

fn stored(count: u32) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// A stored count; the table keeps them non-negative, a negative one is a fault in the data.
#[track_caller]
fn loaded(column: &'static str, count: i32) -> Result<u32, ApiError> {
    decode(column, &count.to_string(), str::parse::<u32>)
}

fn assemble(row: ResultRow, domains: Vec<PremDomainScore>) -> Result<PremResult, ApiError> {
    Ok(PremResult {
        // Stored periods are first days (a CHECK of the table).
        period: Period::containing(row.period),
        practice_agb: row.practice_agb,
        responses: loaded("prem_results.responses", row.responses)?,
        measuring_office: row.measuring_office,
        consent_national_processor: row.consent_national_processor,
        consent_zorgkaart: row.consent_zorgkaart,
        domains,
        submitted_at: row.submitted_at,
        submitted_by: row.submitted_by,
    })
}

/// Stores the month's result, replacing an earlier one with all its domain scores. The flag
/// tells whether it was created.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    period: Period,
    fields: &PremFields,
    at: DateTime<Utc>,
    by: &str,
) -> Result<(PremResult, bool), ApiError> {
    let practice_agb = practice.as_str();
    let (row, created) = diesel::insert_into(prem_results::table)
        .values((
            prem_results::practice_agb.eq(practice_agb),
            prem_results::period.eq(period.first_day()),
            prem_results::responses.eq(stored(fields.responses)),
            prem_results::measuring_office.eq(fields.measuring_office.as_deref()),
            prem_results::consent_national_processor.eq(fields.consent_national_processor),
            prem_results::consent_zorgkaart.eq(fields.consent_zorgkaart),
            prem_results::submitted_at.eq(at),
            prem_results::submitted_by.eq(by),
        ))
        .on_conflict((prem_results::practice_agb, prem_results::period))
        .do_update()
        .set((
            prem_results::responses.eq(excluded(prem_results::responses)),
            prem_results::measuring_office.eq(excluded(prem_results::measuring_office)),
            prem_results::consent_national_processor
                .eq(excluded(prem_results::consent_national_processor)),
            prem_results::consent_zorgkaart.eq(excluded(prem_results::consent_zorgkaart)),
            prem_results::submitted_at.eq(excluded(prem_results::submitted_at)),
            prem_results::submitted_by.eq(excluded(prem_results::submitted_by)),
        ))
        // `xmax = 0` only for a freshly inserted row: one statement tells created from replaced.
        .returning((
            ResultRow::as_returning(),
            diesel::dsl::sql::<diesel::sql_types::Bool>("xmax = 0"),
        ))
        .get_result::<(ResultRow, bool)>(conn)
        .await?;
    diesel::delete(
        prem_domain_scores::table
            .filter(prem_domain_scores::practice_agb.eq(practice_agb))
            .filter(prem_domain_scores::period.eq(period.first_day())),
    )
    .execute(conn)
    .await?;
    let scores: Vec<_> = fields
        .domains
        .iter()
        .map(|score| {
            (
                prem_domain_scores::practice_agb.eq(practice_agb),
                prem_domain_scores::period.eq(period.first_day()),
                prem_domain_scores::domain.eq(score.domain.as_str()),
                prem_domain_scores::responses.eq(stored(score.responses)),
                prem_domain_scores::mean_score.eq(score.mean_score),
            )
        })
        .collect();
    if !scores.is_empty() {
        diesel::insert_into(prem_domain_scores::table)
            .values(scores)
            .execute(conn)
            .await?;
    }
    let mut domains = fields.domains.clone();
    domains.sort_by(|a, b| a.domain.cmp(&b.domain));
    Ok((assemble(row, domains)?, created))
}

/// The practice's PREM results, newest month first, after `after`, `limit + 1` at most.
pub async fn list(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    period: Option<Period>,
    after: Option<NaiveDate>,
    limit: i64,
) -> Result<Vec<PremResult>, ApiError> {
    let practice_agb = practice.as_str();
    let mut query = prem_results::table
        .filter(prem_results::practice_agb.eq(practice_agb.to_string()))
        .select(ResultRow::as_select())
        .order(prem_results::period.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(period) = period {
        query = query.filter(prem_results::period.eq(period.first_day()));
    }
    if let Some(after) = after {
        query = query.filter(prem_results::period.lt(after));
    }
    let rows = query.load(conn).await?;
    let periods: Vec<NaiveDate> = rows.iter().map(|r| r.period).collect();
    let scores: Vec<(NaiveDate, String, i32, f64)> = prem_domain_scores::table
        .filter(prem_domain_scores::practice_agb.eq(practice_agb))
        .filter(prem_domain_scores::period.eq_any(&periods))
        .order((prem_domain_scores::period, prem_domain_scores::domain))
        .select((
            prem_domain_scores::period,
            prem_domain_scores::domain,
            prem_domain_scores::responses,
            prem_domain_scores::mean_score,
        ))
        .load(conn)
        .await?;
    let mut by_period: HashMap<NaiveDate, Vec<PremDomainScore>> = HashMap::new();
    for (period, domain, responses, mean_score) in scores {
        by_period.entry(period).or_default().push(PremDomainScore {
            domain,
            responses: loaded("prem_domain_scores.responses", responses)?,
            mean_score,
        });
    }
    rows.into_iter()
        .map(|row| {
            // A month without domain scores has none.
            let domains = by_period.remove(&row.period).unwrap_or_default();
            assemble(row, domains)
        })
        .collect()
}
