//! The benchmark's SQL: practice and therapist figures and their national quartiles.

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Date, Double, Integer, Nullable, Text};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::OefentherapieAgb;

use super::Quartiles;

/// The same for one practice ($3), which its index answers without reading the nation.
const CURRENT_OF_PRACTICE: &str = "WITH current AS ( \
    SELECT DISTINCT ON (practice_agb, period) id, practice_agb FROM deliveries \
    WHERE practice_agb = $3 AND period >= $1 AND period < $2 ORDER BY practice_agb, period, version DESC)";

#[derive(Debug, Clone, QueryableByName)]
pub struct NationalRow {
    #[diesel(sql_type = Nullable<Double>)]
    pub ldo_p25: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub ldo_p50: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub ldo_p75: Option<f64>,
    #[diesel(sql_type = BigInt)]
    pub ldo_count: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub prem_p25: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub prem_p50: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub prem_p75: Option<f64>,
    #[diesel(sql_type = BigInt)]
    pub prem_count: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub episode_p25: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub episode_p50: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub episode_p75: Option<f64>,
    #[diesel(sql_type = BigInt)]
    pub episode_count: i64,
}

/// The three practice figures, over the current deliveries of the practice's CTE in front.
const PER_PRACTICE: &str = ", per_practice AS ( \
    SELECT c.practice_agb, \
        sum(r.ldo_records_complete)::float8 / nullif(sum(r.ldo_records_delivered), 0) AS ldo, \
        sum(r.prem_offered)::float8 / nullif(sum(r.prem_eligible), 0) AS prem, \
        sum(r.treatments_in_closed_episodes)::float8 / nullif(sum(r.closed_episodes), 0) AS episode \
    FROM current c JOIN delivery_rows r ON r.delivery_id = c.id GROUP BY c.practice_agb)";

/// National quartiles over practices for the deliveries of `year`, from the year totals each
/// delivery keeps up to date (one row per practice and therapist, not every delivery row).
pub async fn national(conn: &mut AsyncPgConnection, year: i32) -> diesel::QueryResult<NationalRow> {
    diesel::sql_query(
        "WITH per_practice AS ( \
             SELECT practice_agb, \
                 sum(ldo_records_complete)::float8 / nullif(sum(ldo_records_delivered), 0) AS ldo, \
                 sum(prem_offered)::float8 / nullif(sum(prem_eligible), 0) AS prem, \
                 sum(treatments_in_closed_episodes)::float8 / nullif(sum(closed_episodes), 0) AS episode \
             FROM delivery_year_totals WHERE year = $1 GROUP BY practice_agb) \
         SELECT \
             percentile_cont(0.25) WITHIN GROUP (ORDER BY ldo) AS ldo_p25, \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ldo) AS ldo_p50, \
             percentile_cont(0.75) WITHIN GROUP (ORDER BY ldo) AS ldo_p75, count(ldo) AS ldo_count, \
             percentile_cont(0.25) WITHIN GROUP (ORDER BY prem) AS prem_p25, \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY prem) AS prem_p50, \
             percentile_cont(0.75) WITHIN GROUP (ORDER BY prem) AS prem_p75, count(prem) AS prem_count, \
             percentile_cont(0.25) WITHIN GROUP (ORDER BY episode) AS episode_p25, \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY episode) AS episode_p50, \
             percentile_cont(0.75) WITHIN GROUP (ORDER BY episode) AS episode_p75, count(episode) AS episode_count \
         FROM per_practice",
    )
    .bind::<Integer, _>(year)
    .get_result(conn)
    .await
}

#[derive(Debug, QueryableByName)]
pub struct PracticeRow {
    #[diesel(sql_type = Nullable<Double>)]
    pub ldo: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub prem: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub episode: Option<f64>,
}

/// The practice's own figures over its deliveries in `[from, to)`.
pub async fn practice(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    from: NaiveDate,
    to: NaiveDate,
) -> diesel::QueryResult<PracticeRow> {
    let row = diesel::sql_query(format!(
        "{CURRENT_OF_PRACTICE}{PER_PRACTICE} SELECT ldo, prem, episode FROM per_practice"
    ))
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Text, _>(practice.as_str())
    .get_result(conn)
    .await
    .optional()?;
    // Without deliveries in the year the practice has no figures.
    Ok(row.unwrap_or(PracticeRow {
        ldo: None,
        prem: None,
        episode: None,
    }))
}

#[derive(Debug, QueryableByName)]
pub struct TherapistRow {
    #[diesel(sql_type = Text)]
    pub therapist_agb: String,
    #[diesel(sql_type = Nullable<Double>)]
    pub episode: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub ldo: Option<f64>,
}

/// The practice's therapists' figures over its deliveries in `[from, to)`.
pub async fn therapists(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    from: NaiveDate,
    to: NaiveDate,
) -> diesel::QueryResult<Vec<TherapistRow>> {
    diesel::sql_query(format!(
        "{CURRENT_OF_PRACTICE} SELECT r.therapist_agb, \
             sum(r.treatments_in_closed_episodes)::float8 / nullif(sum(r.closed_episodes), 0) AS episode, \
             sum(r.ldo_records_complete)::float8 / nullif(sum(r.ldo_records_delivered), 0) AS ldo \
         FROM current c JOIN delivery_rows r ON r.delivery_id = c.id \
         WHERE c.practice_agb = $3 GROUP BY r.therapist_agb ORDER BY r.therapist_agb"
    ))
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Text, _>(practice.as_str())
    .load(conn)
    .await
}

#[derive(Debug, QueryableByName)]
struct QuartileRow {
    #[diesel(sql_type = Nullable<Double>)]
    p25: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p50: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p75: Option<f64>,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// National quartiles of treatments per closed episode over therapists (a therapist working at
/// two practices counts once per practice), from the year totals.
pub async fn therapists_national(
    conn: &mut AsyncPgConnection,
    year: i32,
) -> diesel::QueryResult<Quartiles> {
    let row: QuartileRow = diesel::sql_query(
        "WITH per_therapist AS ( \
             SELECT treatments_in_closed_episodes::float8 / nullif(closed_episodes, 0) AS episode \
             FROM delivery_year_totals WHERE year = $1) \
         SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY episode) AS p25, \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY episode) AS p50, \
             percentile_cont(0.75) WITHIN GROUP (ORDER BY episode) AS p75, count(episode) AS count \
         FROM per_therapist",
    )
    .bind::<Integer, _>(year)
    .get_result(conn)
    .await?;
    Ok(Quartiles {
        p25: row.p25,
        p50: row.p50,
        p75: row.p75,
        count: row.count,
    })
}
