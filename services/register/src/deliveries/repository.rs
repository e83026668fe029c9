//! SQL for deliveries and their rows.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{
    AcceptedRow, EpdVendorId, OefentherapieAgb, Period, RosterStatus, TherapistFigures,
};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::ApiError;
use serde_json::Value;

use super::DeliveredRow;
use crate::schema::{deliveries, delivery_rows, practice_memberships, therapists};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRecord {
    pub id: uuid::Uuid,
    pub practice_agb: String,
    pub period: NaiveDate,
    pub version: i32,
    pub delivered_at: DateTime<Utc>,
    pub delivered_by: String,
    pub epd_vendor: Option<String>,
    pub report: Value,
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = delivery_rows)]
struct RowRecord {
    delivery_id: uuid::Uuid,
    therapist_agb: String,
    patients: i32,
    treatments: i32,
    closed_episodes: i32,
    treatments_in_closed_episodes: i32,
    ldo_records_delivered: i32,
    ldo_records_complete: i32,
    prem_eligible: i32,
    prem_offered: i32,
    ldo_upload_date: Option<NaiveDate>,
}

/// Counts are at most `MAX_COUNT` on the way in and non-negative in the table.
fn stored(count: u32) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// A stored count; the table keeps them non-negative, a negative one is a fault in the data.
#[track_caller]
fn loaded(column: &'static str, count: i32) -> Result<u32, ApiError> {
    decode(column, &count.to_string(), str::parse::<u32>)
}

impl RowRecord {
    fn new(delivery_id: uuid::Uuid, row: &AcceptedRow) -> Self {
        let f = &row.figures;
        Self {
            delivery_id,
            therapist_agb: row.therapist_agb.as_str().to_string(),
            patients: stored(f.patients),
            treatments: stored(f.treatments),
            closed_episodes: stored(f.closed_episodes),
            treatments_in_closed_episodes: stored(f.treatments_in_closed_episodes),
            ldo_records_delivered: stored(f.ldo_records_delivered),
            ldo_records_complete: stored(f.ldo_records_complete),
            prem_eligible: stored(f.prem_eligible),
            prem_offered: stored(f.prem_offered),
            ldo_upload_date: f.ldo_upload_date,
        }
    }

    fn view(self) -> Result<DeliveredRow, ApiError> {
        let figures = TherapistFigures {
            patients: loaded("delivery_rows.patients", self.patients)?,
            treatments: loaded("delivery_rows.treatments", self.treatments)?,
            closed_episodes: loaded("delivery_rows.closed_episodes", self.closed_episodes)?,
            treatments_in_closed_episodes: loaded(
                "delivery_rows.treatments_in_closed_episodes",
                self.treatments_in_closed_episodes,
            )?,
            ldo_records_delivered: loaded(
                "delivery_rows.ldo_records_delivered",
                self.ldo_records_delivered,
            )?,
            ldo_records_complete: loaded(
                "delivery_rows.ldo_records_complete",
                self.ldo_records_complete,
            )?,
            prem_eligible: loaded("delivery_rows.prem_eligible", self.prem_eligible)?,
            prem_offered: loaded("delivery_rows.prem_offered", self.prem_offered)?,
            ldo_upload_date: self.ldo_upload_date,
        };
        let round = praktijkregister_domain::round_figure;
        Ok(DeliveredRow {
            therapist_agb: self.therapist_agb,
            ldo_fill_rate: figures.ldo_fill_rate().map(round),
            prem_offered_rate: figures.prem_offered_rate().map(round),
            treatments_per_closed_episode: figures.treatments_per_closed_episode().map(round),
            figures,
        })
    }
}

/// Where each of `therapist_agbs` stands with the practice in `period`: unknown to the register,
/// without a membership that includes a day of the month, or a member.
pub async fn roster(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    period: Period,
    candidates: &[OefentherapieAgb],
) -> QueryResult<HashMap<String, RosterStatus>> {
    let therapist_agbs: Vec<&str> = candidates.iter().map(OefentherapieAgb::as_str).collect();
    let known: Vec<String> = therapists::table
        .filter(therapists::agb.eq_any(&therapist_agbs))
        .select(therapists::agb)
        .load(conn)
        .await?;
    let memberships: Vec<(String, NaiveDate, Option<NaiveDate>)> = practice_memberships::table
        .filter(practice_memberships::practice_agb.eq(practice.as_str()))
        .filter(practice_memberships::therapist_agb.eq_any(&therapist_agbs))
        .select((
            practice_memberships::therapist_agb,
            practice_memberships::start_date,
            practice_memberships::end_date,
        ))
        .load(conn)
        .await?;
    let mut statuses: HashMap<String, RosterStatus> = known
        .into_iter()
        .map(|agb| (agb, RosterStatus::NotMember))
        .collect();
    for (agb, start, end) in memberships {
        if period.overlaps(start, end) {
            statuses.insert(agb, RosterStatus::Member);
        }
    }
    Ok(statuses)
}

/// Serialises deliveries for one practice and the year of `period` until the transaction ends,
/// so that two deliveries of a month get consecutive versions and the year's totals are
/// recomputed one delivery at a time.
pub async fn lock_year(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    period: Period,
) -> QueryResult<()> {
    let year = chrono::Datelike::year(&period.first_day());
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<diesel::sql_types::Text, _>(format!("delivery:{practice}:{year}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// The version the next delivery of the month gets.
pub async fn next_version(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    period: Period,
) -> QueryResult<i32> {
    let latest: Option<i32> = deliveries::table
        .filter(deliveries::practice_agb.eq(practice.as_str()))
        .filter(deliveries::period.eq(period.first_day()))
        .select(diesel::dsl::max(deliveries::version))
        .first(conn)
        .await?;
    Ok(latest.unwrap_or(0) + 1)
}

pub struct NewDelivery<'a> {
    pub id: uuid::Uuid,
    pub practice_agb: &'a OefentherapieAgb,
    pub period: Period,
    pub version: i32,
    pub delivered_at: DateTime<Utc>,
    pub delivered_by: &'a str,
    pub epd_vendor: Option<&'a EpdVendorId>,
    pub report: &'a Value,
}

/// Stores a delivery with its accepted rows.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    delivery: &NewDelivery<'_>,
    rows: &[AcceptedRow],
) -> QueryResult<()> {
    diesel::insert_into(deliveries::table)
        .values((
            deliveries::id.eq(delivery.id),
            deliveries::practice_agb.eq(delivery.practice_agb.as_str()),
            deliveries::period.eq(delivery.period.first_day()),
            deliveries::version.eq(delivery.version),
            deliveries::delivered_at.eq(delivery.delivered_at),
            deliveries::delivered_by.eq(delivery.delivered_by),
            deliveries::epd_vendor.eq(delivery.epd_vendor.map(EpdVendorId::as_str)),
            deliveries::report.eq(delivery.report),
        ))
        .execute(conn)
        .await?;
    let records: Vec<RowRecord> = rows
        .iter()
        .map(|row| RowRecord::new(delivery.id, row))
        .collect();
    diesel::insert_into(delivery_rows::table)
        .values(&records)
        .execute(conn)
        .await?;
    refresh_year_totals(
        conn,
        delivery.practice_agb,
        chrono::Datelike::year(&delivery.period.first_day()),
    )
    .await
}

/// Recomputes the practice's totals of `year` from the current version of each month's delivery,
/// so the national figures need not read every delivery row of the nation. One statement, the
/// same whatever came before: therapists no longer delivered keep a row of zeros, which no figure
/// counts (their ratios are undefined). Callers hold [`lock_year`], which covers the year.
pub const REFRESH_YEAR_TOTALS: &str = "INSERT INTO delivery_year_totals AS t (year, practice_agb, \
        therapist_agb, treatments_in_closed_episodes, closed_episodes, ldo_records_delivered, \
        ldo_records_complete, prem_eligible, prem_offered) \
    SELECT $2, $1, x.therapist_agb, sum(x.in_episodes), sum(x.episodes), sum(x.delivered), \
        sum(x.complete), sum(x.eligible), sum(x.offered) \
    FROM ( \
        SELECT r.therapist_agb, r.treatments_in_closed_episodes::int8 AS in_episodes, \
            r.closed_episodes::int8 AS episodes, r.ldo_records_delivered::int8 AS delivered, \
            r.ldo_records_complete::int8 AS complete, r.prem_eligible::int8 AS eligible, \
            r.prem_offered::int8 AS offered \
        FROM (SELECT DISTINCT ON (period) id FROM deliveries \
              WHERE practice_agb = $1 AND period >= make_date($2, 1, 1) \
                AND period < make_date($2 + 1, 1, 1) \
              ORDER BY period, version DESC) c \
        JOIN delivery_rows r ON r.delivery_id = c.id \
        UNION ALL \
        SELECT therapist_agb, 0, 0, 0, 0, 0, 0 FROM delivery_year_totals \
        WHERE year = $2 AND practice_agb = $1) x \
    GROUP BY x.therapist_agb ORDER BY x.therapist_agb \
    ON CONFLICT (year, practice_agb, therapist_agb) DO UPDATE SET \
        treatments_in_closed_episodes = excluded.treatments_in_closed_episodes, \
        closed_episodes = excluded.closed_episodes, \
        ldo_records_delivered = excluded.ldo_records_delivered, \
        ldo_records_complete = excluded.ldo_records_complete, \
        prem_eligible = excluded.prem_eligible, \
        prem_offered = excluded.prem_offered";

async fn refresh_year_totals(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    year: i32,
) -> QueryResult<()> {
    diesel::sql_query(REFRESH_YEAR_TOTALS)
        .bind::<diesel::sql_types::Text, _>(practice.as_str())
        .bind::<diesel::sql_types::Integer, _>(year)
        .execute(conn)
        .await?;
    Ok(())
}

/// The practice's deliveries, newest month first and within a month newest version first, after
/// the keyset position `after`, `limit + 1` at most.
pub async fn list(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    period: Option<Period>,
    after: Option<(NaiveDate, i32)>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRecord>> {
    let mut query = deliveries::table
        .filter(deliveries::practice_agb.eq(practice.as_str().to_string()))
        .select(DeliveryRecord::as_select())
        .order((deliveries::period.desc(), deliveries::version.desc()))
        .limit(limit + 1)
        .into_boxed();
    if let Some(period) = period {
        query = query.filter(deliveries::period.eq(period.first_day()));
    }
    if let Some((period, version)) = after {
        query = query.filter(
            deliveries::period.lt(period).or(deliveries::period
                .eq(period)
                .and(deliveries::version.lt(version))),
        );
    }
    query.load(conn).await
}

/// The latest version of each of the practice's `periods`.
pub async fn current_versions(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    periods: &[NaiveDate],
) -> QueryResult<HashMap<NaiveDate, i32>> {
    let latest: Vec<(NaiveDate, Option<i32>)> = deliveries::table
        .filter(deliveries::practice_agb.eq(practice.as_str()))
        .filter(deliveries::period.eq_any(periods))
        .group_by(deliveries::period)
        .select((deliveries::period, diesel::dsl::max(deliveries::version)))
        .load(conn)
        .await?;
    Ok(latest
        .into_iter()
        .filter_map(|(period, version)| Some((period, version?)))
        .collect())
}

/// One version of the month's delivery, the latest when `version` is `None`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    period: Period,
    version: Option<i32>,
) -> QueryResult<Option<DeliveryRecord>> {
    let mut query = deliveries::table
        .filter(deliveries::practice_agb.eq(practice.as_str().to_string()))
        .filter(deliveries::period.eq(period.first_day()))
        .select(DeliveryRecord::as_select())
        .order(deliveries::version.desc())
        .into_boxed();
    if let Some(version) = version {
        query = query.filter(deliveries::version.eq(version));
    }
    query.first(conn).await.optional()
}

/// The rows of a delivery by therapist AGB code.
pub async fn rows_of(
    conn: &mut AsyncPgConnection,
    delivery_id: uuid::Uuid,
) -> Result<Vec<DeliveredRow>, ApiError> {
    let rows: Vec<RowRecord> = delivery_rows::table
        .filter(delivery_rows::delivery_id.eq(delivery_id))
        .select(RowRecord::as_select())
        .order(delivery_rows::therapist_agb)
        .load(conn)
        .await?;
    rows.into_iter().map(RowRecord::view).collect()
}
