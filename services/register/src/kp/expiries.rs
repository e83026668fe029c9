//! The expiry watch: therapists whose KP registration ends within a window (DESIGN §3.1: a
//! registration period normally runs 5 years and lapses without notice).

use chrono::NaiveDate;
use diesel::sql_types::{Array, BigInt, Date, Integer, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_platform::error::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::schedule::MAX_WINDOW_DAYS;

/// A therapist whose KP registration ends within the window.
#[derive(Debug, Clone, Serialize, ToSchema, QueryableByName)]
#[schema(example = json!({
    "therapist_agb": "07123456", "name": "A. Jansen", "kp_number": "123456",
    "valid_from": "2021-12-01", "valid_until": "2026-11-30", "days_left": 60,
    "practice_agbs": ["07012345"]
}))]
pub struct KpExpiry {
    #[diesel(sql_type = Text)]
    pub therapist_agb: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub kp_number: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    pub valid_from: Option<NaiveDate>,
    /// The last day of the registration.
    #[diesel(sql_type = Date)]
    pub valid_until: NaiveDate,
    /// Days from today (Europe/Amsterdam) to `valid_until`; 0 on the last day.
    #[diesel(sql_type = Integer)]
    pub days_left: i32,
    /// The practices (that the caller may see) the therapist works at today.
    #[diesel(sql_type = Array<Text>)]
    pub practice_agbs: Vec<String>,
}

/// The query of the expiry lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpiryParams {
    /// The window in days from today: registrations ending today up to and including today +
    /// `within_days` (default: the configured `expiry_window_days`, 90).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 1827, example = 90)]
    pub within_days: Option<String>,
}

impl ExpiryParams {
    pub fn within_days(&self, default: u32) -> Result<u32, ApiError> {
        match self.within_days.as_deref().map(|d| d.trim().parse::<u32>()) {
            None => Ok(default),
            Some(Ok(days)) if days <= MAX_WINDOW_DAYS => Ok(days),
            Some(_) => Err(ApiError::field(
                "within_days",
                "within_days_range",
                format!("within_days is a whole number of days from 0 to {MAX_WINDOW_DAYS}"),
            )),
        }
    }
}

/// The therapists with a membership active on `today` (of `practice`, or of any practice) who are
/// kwaliteitsgeregistreerd and whose registration ends from `today` to `today + window` (both
/// inclusive: `valid_until` is the last day of the registration), by end date and AGB code, after
/// the keyset position `after`.
pub async fn within(
    conn: &mut AsyncPgConnection,
    today: NaiveDate,
    window: u32,
    practice: Option<&str>,
    after: Option<(NaiveDate, String)>,
    limit: i64,
) -> Result<Vec<KpExpiry>, ApiError> {
    let last_day = today + chrono::Duration::days(i64::from(window));
    let (after_date, after_agb) = after.unzip();
    let rows = diesel::sql_query(
        "SELECT t.agb AS therapist_agb, t.name, t.kp_number, t.kp_valid_from AS valid_from, \
                t.kp_valid_until AS valid_until, (t.kp_valid_until - $1)::int AS days_left, \
                array_agg(DISTINCT m.practice_agb ORDER BY m.practice_agb) AS practice_agbs \
         FROM therapists t JOIN practice_memberships m ON m.therapist_agb = t.agb \
         WHERE t.kp_status = 'kwaliteitsgeregistreerd' \
           AND t.kp_valid_until BETWEEN $1 AND $2 \
           AND (t.kp_valid_from IS NULL OR t.kp_valid_from <= $1) \
           AND m.start_date <= $1 AND (m.end_date IS NULL OR m.end_date >= $1) \
           AND ($3::text IS NULL OR m.practice_agb = $3) \
           AND ($4::date IS NULL OR (t.kp_valid_until, t.agb) > ($4, $5)) \
         GROUP BY t.agb \
         ORDER BY t.kp_valid_until, t.agb LIMIT $6",
    )
    .bind::<Date, _>(today)
    .bind::<Date, _>(last_day)
    .bind::<Nullable<Text>, _>(practice)
    .bind::<Nullable<Date>, _>(after_date)
    .bind::<Text, _>(after_agb.unwrap_or_default())
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok(rows)
}
