//! SQL for deliveries and their rows.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Date, Int4, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{
    AcceptedRow, EpdVendorId, OefentherapieAgb, Period, RosterStatus, TherapistFigures,
};
use praktijkregister_platform::db::{decode, prepared};
use praktijkregister_platform::error::ApiError;
use serde_json::Value;

use super::DeliveredRow;
use crate::schema::{deliveries, delivery_rows};

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

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = delivery_rows)]
struct RowRecord {
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

/// Where the writer stands, read by [`open`].
pub struct Standing {
    pub practice_exists: bool,
    /// Whether the EPD vendor holds the practice's authorisation (false for no vendor).
    pub vendor_authorised: bool,
}

/// Opens a delivery's transaction in one statement: serialises deliveries for one practice and
/// the year of `period` until the transaction ends (so that two deliveries of a month get
/// consecutive versions and the year's totals change one delivery at a time), takes the lock of
/// the request's `Idempotency-Key` (`idempotency_lock`, see `IdempotentRequest::lock_key`), and
/// reads whether the practice exists and whether `vendor` holds its authorisation, holding that
/// for the rest of the transaction (a revocation waits until the write that relies on it is
/// done). Every delivery takes the two locks in this order.
pub async fn open(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    period: Period,
    vendor: Option<&EpdVendorId>,
    idempotency_lock: Option<&str>,
) -> QueryResult<Standing> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Bool)]
        practice_exists: bool,
        #[diesel(sql_type = Bool)]
        vendor_authorised: bool,
    }
    let year = chrono::Datelike::year(&period.first_day());
    let row: Row = prepared(OPEN)
        .bind::<Text, _>(practice.as_str())
        .bind::<Nullable<Text>, _>(vendor.map(EpdVendorId::as_str))
        .bind::<Text, _>(format!("delivery:{practice}:{year}"))
        .bind::<Nullable<Text>, _>(idempotency_lock)
        .get_result(conn)
        .await?;
    Ok(Standing {
        practice_exists: row.practice_exists,
        vendor_authorised: row.vendor_authorised,
    })
}

/// See [`open`]: $1 the practice, $2 the vendor (or null), $3 the year's lock, $4 the
/// `Idempotency-Key`'s lock (or null). Public for the benchmark harness, which runs a delivery's
/// statements as they are.
pub const OPEN: &str =
    "SELECT EXISTS (SELECT 1 FROM practices WHERE agb = $1) AS practice_exists, \
         EXISTS (SELECT 1 FROM epd_authorizations WHERE practice_agb = $1 \
             AND epd_vendor = $2 AND revoked_at IS NULL FOR SHARE) AS vendor_authorised \
     FROM (SELECT pg_advisory_xact_lock(hashtextextended($3, 0)), \
           pg_advisory_xact_lock(hashtextextended(coalesce($4, $3), 0))) AS locks";

/// See [`roster`]: $1 the practice, $2 the month, $3 the candidates.
pub const ROSTER: &str =
    "SELECT v.latest_version, t.agb AS therapist_agb, m.start_date, m.end_date \
     FROM (SELECT coalesce(max(version), 0) AS latest_version FROM deliveries \
           WHERE practice_agb = $1 AND period = $2) v \
     LEFT JOIN (therapists t LEFT JOIN practice_memberships m \
                ON m.therapist_agb = t.agb AND m.practice_agb = $1) \
         ON t.agb = ANY($3)";

/// The practice's month as a delivery finds it, read by [`roster`] under [`open`]'s lock.
pub struct Roster {
    /// The highest version of the month so far (0 when none).
    pub latest_version: i32,
    /// Each candidate known to the register: a member of the practice in (part of) the month,
    /// or not. A candidate not in the map is unknown to the register.
    pub statuses: HashMap<String, RosterStatus>,
}

impl Roster {
    pub fn status(&self, therapist: &OefentherapieAgb) -> RosterStatus {
        self.statuses
            .get(therapist.as_str())
            .copied()
            .unwrap_or(RosterStatus::Unknown)
    }
}

/// Where each of `candidates` stands with the practice in `period`, and the month's latest
/// version, in one statement. Call it under [`open`]'s lock, so that the version is final.
pub async fn roster(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    period: Period,
    candidates: &[OefentherapieAgb],
) -> QueryResult<Roster> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Int4)]
        latest_version: i32,
        #[diesel(sql_type = Nullable<Text>)]
        therapist_agb: Option<String>,
        #[diesel(sql_type = Nullable<Date>)]
        start_date: Option<NaiveDate>,
        #[diesel(sql_type = Nullable<Date>)]
        end_date: Option<NaiveDate>,
    }
    let therapist_agbs: Vec<&str> = candidates.iter().map(OefentherapieAgb::as_str).collect();
    let rows: Vec<Row> = prepared(ROSTER)
        .bind::<Text, _>(practice.as_str())
        .bind::<Date, _>(period.first_day())
        .bind::<Array<Text>, _>(&therapist_agbs)
        .load(conn)
        .await?;
    let latest_version = <[Row]>::first(&rows).map_or(0, |row| row.latest_version);
    let statuses = rows
        .into_iter()
        .filter_map(|row| {
            let member = row
                .start_date
                .is_some_and(|start| period.overlaps(start, row.end_date));
            let status = if member {
                RosterStatus::Member
            } else {
                RosterStatus::NotMember
            };
            Some((row.therapist_agb?, status))
        })
        .collect();
    Ok(Roster {
        latest_version,
        statuses,
    })
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

/// Stores a delivery with its accepted rows and brings the practice's totals of the year up to
/// date, in one statement. Callers hold [`open`]'s lock, so the version is final.
///
/// The totals (one row per year, practice and therapist: the sums over the current version of
/// each month) change by this delivery's rows minus those of the version it replaces (the
/// month's version before it), so the benchmark's national quartiles need not read every
/// delivery row of the nation, and a delivery need not re-read its year. A therapist the new
/// version leaves out keeps a row of zeros, which no figure counts (their ratios are undefined).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    delivery: &NewDelivery<'_>,
    rows: &[AcceptedRow],
) -> QueryResult<()> {
    let column = |figure: fn(&TherapistFigures) -> u32| -> Vec<i32> {
        rows.iter()
            .map(|row| stored(figure(&row.figures)))
            .collect()
    };
    prepared(INSERT_DELIVERY)
        .bind::<diesel::sql_types::Uuid, _>(delivery.id)
        .bind::<Text, _>(delivery.practice_agb.as_str())
        .bind::<Date, _>(delivery.period.first_day())
        .bind::<Int4, _>(delivery.version)
        .bind::<Timestamptz, _>(delivery.delivered_at)
        .bind::<Text, _>(delivery.delivered_by)
        .bind::<Nullable<Text>, _>(delivery.epd_vendor.map(EpdVendorId::as_str))
        .bind::<Jsonb, _>(delivery.report)
        .bind::<Array<Text>, _>(
            rows.iter()
                .map(|row| row.therapist_agb.as_str())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Int4>, _>(column(|f| f.patients))
        .bind::<Array<Int4>, _>(column(|f| f.treatments))
        .bind::<Array<Int4>, _>(column(|f| f.closed_episodes))
        .bind::<Array<Int4>, _>(column(|f| f.treatments_in_closed_episodes))
        .bind::<Array<Int4>, _>(column(|f| f.ldo_records_delivered))
        .bind::<Array<Int4>, _>(column(|f| f.ldo_records_complete))
        .bind::<Array<Int4>, _>(column(|f| f.prem_eligible))
        .bind::<Array<Int4>, _>(column(|f| f.prem_offered))
        .bind::<Array<Nullable<Date>>, _>(
            rows.iter()
                .map(|row| row.figures.ldo_upload_date)
                .collect::<Vec<_>>(),
        )
        .bind::<Int4, _>(chrono::Datelike::year(&delivery.period.first_day()))
        .execute(conn)
        .await?;
    Ok(())
}

/// See [`insert`]: $1..$8 the delivery, $9..$18 its rows column by column, $19 the year.
pub const INSERT_DELIVERY: &str = "WITH incoming AS ( \
        SELECT * FROM unnest($9::text[], $10::int4[], $11::int4[], $12::int4[], $13::int4[], \
            $14::int4[], $15::int4[], $16::int4[], $17::int4[], $18::date[]) \
            AS r(therapist_agb, patients, treatments, closed_episodes, \
                 treatments_in_closed_episodes, ldo_records_delivered, ldo_records_complete, \
                 prem_eligible, prem_offered, ldo_upload_date)), \
    delivery AS ( \
        INSERT INTO deliveries (id, practice_agb, period, version, delivered_at, delivered_by, \
            epd_vendor, report) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)), \
    stored_rows AS ( \
        INSERT INTO delivery_rows (delivery_id, therapist_agb, patients, treatments, \
            closed_episodes, treatments_in_closed_episodes, ldo_records_delivered, \
            ldo_records_complete, prem_eligible, prem_offered, ldo_upload_date) \
        SELECT $1, i.* FROM incoming i), \
    change AS ( \
        SELECT therapist_agb, treatments_in_closed_episodes::int8 AS in_episodes, \
            closed_episodes::int8 AS episodes, ldo_records_delivered::int8 AS delivered, \
            ldo_records_complete::int8 AS complete, prem_eligible::int8 AS eligible, \
            prem_offered::int8 AS offered \
        FROM incoming \
        UNION ALL \
        SELECT r.therapist_agb, -r.treatments_in_closed_episodes, -r.closed_episodes, \
            -r.ldo_records_delivered, -r.ldo_records_complete, -r.prem_eligible, -r.prem_offered \
        FROM deliveries replaced JOIN delivery_rows r ON r.delivery_id = replaced.id \
        WHERE replaced.practice_agb = $2 AND replaced.period = $3 AND replaced.version = $4 - 1) \
    INSERT INTO delivery_year_totals AS t (year, practice_agb, therapist_agb, \
        treatments_in_closed_episodes, closed_episodes, ldo_records_delivered, \
        ldo_records_complete, prem_eligible, prem_offered) \
    SELECT $19, $2, therapist_agb, sum(in_episodes), sum(episodes), sum(delivered), \
        sum(complete), sum(eligible), sum(offered) \
    FROM change GROUP BY therapist_agb ORDER BY therapist_agb \
    ON CONFLICT (year, practice_agb, therapist_agb) DO UPDATE SET \
        treatments_in_closed_episodes = \
            t.treatments_in_closed_episodes + excluded.treatments_in_closed_episodes, \
        closed_episodes = t.closed_episodes + excluded.closed_episodes, \
        ldo_records_delivered = t.ldo_records_delivered + excluded.ldo_records_delivered, \
        ldo_records_complete = t.ldo_records_complete + excluded.ldo_records_complete, \
        prem_eligible = t.prem_eligible + excluded.prem_eligible, \
        prem_offered = t.prem_offered + excluded.prem_offered";

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
