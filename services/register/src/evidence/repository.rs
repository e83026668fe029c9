//! SQL that gathers the compliance evidence of many practices at once: one query per kind of
//! evidence for a whole batch, so that the national feed stays a handful of queries per batch.

use chrono::NaiveDate;
use diesel::sql_types::{Array, BigInt, Bool, Date, Double, Int4, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::OefentherapieAgb;
use praktijkregister_platform::db::{decode, prepared};
use praktijkregister_platform::error::ApiError;

/// Chooses, for the rest of the transaction, how the statements below are planned for a call
/// on `practices` practices. Their parameters are arrays, so PostgreSQL, left to choose, first
/// plans each call afresh (it estimates the generic plan above a custom one) and after five
/// calls may switch to the generic plan for good. For one practice (compliance) the generic
/// plan, made once per connection, is as good and planning costs more than running; for the
/// feed's batches of hundreds the generic plan is several times slower than a custom one, and
/// planning once per batch costs nothing (DESIGN §7).
pub async fn choose_plans(
    conn: &mut AsyncPgConnection,
    practices: usize,
) -> diesel::QueryResult<()> {
    let mode = if practices == 1 {
        "force_generic_plan"
    } else {
        "force_custom_plan"
    };
    prepared("SELECT set_config('plan_cache_mode', $1, true)")
        .bind::<Text, _>(mode)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, QueryableByName)]
pub struct MonthRow {
    #[diesel(sql_type = Text)]
    pub practice_agb: String,
    #[diesel(sql_type = Date)]
    pub period: NaiveDate,
    #[diesel(sql_type = Nullable<Date>)]
    pub ldo_upload_date: Option<NaiveDate>,
    #[diesel(sql_type = BigInt)]
    pub ldo_records_delivered: i64,
    #[diesel(sql_type = BigInt)]
    pub ldo_records_complete: i64,
    #[diesel(sql_type = BigInt)]
    pub prem_eligible: i64,
    #[diesel(sql_type = BigInt)]
    pub prem_offered: i64,
}

/// Practice totals of the current version of each monthly delivery in `[from, to)`. Each
/// practice's months are read by its own index range (practice, month, version), so that a plan
/// made once for any practices (see [`choose_plans`]) never scans the months of the nation.
pub async fn months(
    conn: &mut AsyncPgConnection,
    agbs: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> diesel::QueryResult<Vec<MonthRow>> {
    prepared(
        "SELECT p.agb AS practice_agb, c.period, max(r.ldo_upload_date) AS ldo_upload_date, \
             coalesce(sum(r.ldo_records_delivered), 0)::int8 AS ldo_records_delivered, \
             coalesce(sum(r.ldo_records_complete), 0)::int8 AS ldo_records_complete, \
             coalesce(sum(r.prem_eligible), 0)::int8 AS prem_eligible, \
             coalesce(sum(r.prem_offered), 0)::int8 AS prem_offered \
         FROM unnest($1::text[]) AS p(agb) \
         CROSS JOIN LATERAL ( \
             SELECT DISTINCT ON (d.period) d.id, d.period FROM deliveries d \
             WHERE d.practice_agb = p.agb AND d.period >= $2 AND d.period < $3 \
             ORDER BY d.period, d.version DESC) c \
         LEFT JOIN delivery_rows r ON r.delivery_id = c.id \
         GROUP BY p.agb, c.period",
    )
    .bind::<Array<Text>, _>(agbs)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
    .await
}

#[derive(Debug, QueryableByName)]
pub struct TherapistRow {
    #[diesel(sql_type = Text)]
    pub practice_agb: String,
    #[diesel(sql_type = Text)]
    pub agb: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub kp_status: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    pub kp_valid_from: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    pub kp_valid_until: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    pub iop_drawn_up_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    pub iop_uploaded_to_kp_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Array<Date>>)]
    pub iop_quarterly_updates: Option<Vec<NaiveDate>>,
}

/// Therapists with a membership active in `[from, to]`, with KP data and the IOP of `year`.
pub async fn therapists(
    conn: &mut AsyncPgConnection,
    agbs: &[String],
    from: NaiveDate,
    to: NaiveDate,
    year: i32,
) -> diesel::QueryResult<Vec<TherapistRow>> {
    prepared(
        "SELECT DISTINCT m.practice_agb, t.agb, t.kp_status, t.kp_valid_from, t.kp_valid_until, \
             i.drawn_up_on AS iop_drawn_up_on, i.uploaded_to_kp_on AS iop_uploaded_to_kp_on, \
             i.quarterly_updates AS iop_quarterly_updates \
         FROM practice_memberships m \
         JOIN therapists t ON t.agb = m.therapist_agb \
         LEFT JOIN iops i ON i.therapist_agb = t.agb AND i.year = $4 \
         WHERE m.practice_agb = ANY($1) AND m.start_date <= $3 AND (m.end_date IS NULL OR m.end_date >= $2) \
         ORDER BY m.practice_agb, t.agb",
    )
    .bind::<Array<Text>, _>(agbs)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Int4, _>(year)
    .load(conn)
    .await
}

#[derive(Debug, QueryableByName)]
pub struct IntervisionRow {
    #[diesel(sql_type = Text)]
    pub therapist_agb: String,
    #[diesel(sql_type = Text)]
    pub group_id: String,
    #[diesel(sql_type = BigInt)]
    pub group_size: i64,
    #[diesel(sql_type = BigInt)]
    pub practices_in_group: i64,
    #[diesel(sql_type = BigInt)]
    pub physical_meetings_attended: i64,
    #[diesel(sql_type = Bool)]
    pub facilitator_trained_all: bool,
    #[diesel(sql_type = Bool)]
    pub adap_accredited_for_year: bool,
}

/// The statement of [`intervision`]: $1 the therapists, $2..$3 the period, $4 the year.
pub const INTERVISION: &str = "WITH mine AS ( \
             SELECT group_id, therapist_agb FROM intervision_members \
             WHERE therapist_agb = ANY($1) AND joined_on <= $3 AND (left_on IS NULL OR left_on >= $2)), \
         active AS ( \
             SELECT m.group_id, m.therapist_agb FROM intervision_members m \
             WHERE m.group_id IN (SELECT group_id FROM mine) \
               AND m.joined_on <= $3 AND (m.left_on IS NULL OR m.left_on >= $2)), \
         sizes AS ( \
             SELECT a.group_id, count(DISTINCT a.therapist_agb) AS group_size, \
                 count(DISTINCT pm.practice_agb) AS practices_in_group \
             FROM active a LEFT JOIN practice_memberships pm ON pm.therapist_agb = a.therapist_agb \
                 AND pm.start_date <= $3 AND (pm.end_date IS NULL OR pm.end_date >= $2) \
             GROUP BY a.group_id), \
         meetings AS ( \
             SELECT group_id, bool_and(facilitator_trained) AS facilitator_trained_all, \
                 bool_or(adap_accreditation_year = $4 AND adap_accreditation_number IS NOT NULL) AS adap \
             FROM intervision_meetings \
             WHERE group_id IN (SELECT group_id FROM mine) AND held_on BETWEEN $2 AND $3 \
             GROUP BY group_id), \
         attended AS ( \
             SELECT att.therapist_agb, im.group_id, count(*) AS physical \
             FROM intervision_meetings im JOIN intervision_attendance att ON att.meeting_id = im.id \
             JOIN intervision_members mm ON mm.group_id = im.group_id AND mm.therapist_agb = att.therapist_agb \
                 AND im.held_on >= mm.joined_on AND (mm.left_on IS NULL OR im.held_on <= mm.left_on) \
             WHERE im.group_id IN (SELECT group_id FROM mine) AND att.therapist_agb = ANY($1) \
                 AND im.physical AND im.held_on BETWEEN $2 AND $3 \
             GROUP BY att.therapist_agb, im.group_id) \
         SELECT mine.therapist_agb, mine.group_id::text AS group_id, \
             coalesce(s.group_size, 0) AS group_size, coalesce(s.practices_in_group, 0) AS practices_in_group, \
             coalesce(ad.physical, 0) AS physical_meetings_attended, \
             coalesce(mt.facilitator_trained_all, false) AS facilitator_trained_all, \
             coalesce(mt.adap, false) AS adap_accredited_for_year \
         FROM mine LEFT JOIN sizes s ON s.group_id = mine.group_id \
             LEFT JOIN meetings mt ON mt.group_id = mine.group_id \
             LEFT JOIN attended ad ON ad.therapist_agb = mine.therapist_agb AND ad.group_id = mine.group_id \
         ORDER BY mine.therapist_agb, group_id";

/// Every intervision group of the given therapists in `[from, to]`, with the figures of 001 §1.1.
/// A meeting counts for a therapist only while a member of its group.
/// Attendance is counted for all (therapist, group) pairs in one grouped join, not per pair: a
/// subquery per pair read every meeting of the nation for each (DESIGN §7). It starts from the
/// year's meetings of the therapists' own groups, so the planner never scans the year's meetings
/// of the nation to find a practice's few (8 ms → 0.4 ms per practice at a fifth of the scale).
pub async fn intervision(
    conn: &mut AsyncPgConnection,
    therapist_agbs: &[String],
    from: NaiveDate,
    to: NaiveDate,
    year: i32,
) -> diesel::QueryResult<Vec<IntervisionRow>> {
    prepared(INTERVISION)
        .bind::<Array<Text>, _>(therapist_agbs)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Int4, _>(year)
        .load(conn)
        .await
}

#[derive(Debug, QueryableByName)]
pub struct PremRow {
    #[diesel(sql_type = Text)]
    pub practice_agb: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub domain: Option<String>,
    #[diesel(sql_type = Nullable<Double>)]
    pub practice_mean: Option<f64>,
}

/// Per practice with PREM results in `[from, to)`: the response-weighted mean per domain.
pub async fn prem(
    conn: &mut AsyncPgConnection,
    agbs: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> diesel::QueryResult<Vec<PremRow>> {
    prepared(
        "WITH practice AS ( \
             SELECT practice_agb, domain, sum(mean_score * responses) / nullif(sum(responses), 0) AS mean \
             FROM prem_domain_scores WHERE practice_agb = ANY($1) AND period >= $2 AND period < $3 \
             GROUP BY practice_agb, domain) \
         SELECT r.practice_agb, p.domain, p.mean AS practice_mean \
         FROM (SELECT DISTINCT practice_agb FROM prem_results \
               WHERE practice_agb = ANY($1) AND period >= $2 AND period < $3) r \
         LEFT JOIN practice p ON p.practice_agb = r.practice_agb \
         ORDER BY r.practice_agb, p.domain",
    )
    .bind::<Array<Text>, _>(agbs)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
    .await
}

#[derive(Debug, QueryableByName)]
pub struct NationalPremRow {
    #[diesel(sql_type = Text)]
    pub domain: String,
    #[diesel(sql_type = Nullable<Double>)]
    pub mean: Option<f64>,
}

/// The national response-weighted mean per domain over `[from, to)`: the benchmark of 001
/// §1.5g. It reads every score of the nation's year, so callers share it
/// ([`crate::national::NationalCache`]).
pub async fn prem_national(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> diesel::QueryResult<Vec<NationalPremRow>> {
    prepared(
        "SELECT domain, sum(mean_score * responses) / nullif(sum(responses), 0) AS mean \
         FROM prem_domain_scores WHERE period >= $1 AND period < $2 GROUP BY domain",
    )
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
    .await
}

#[derive(Debug, QueryableByName)]
pub struct IndexRow {
    #[diesel(sql_type = Text)]
    pub practice_agb: String,
    #[diesel(sql_type = Double)]
    pub value: f64,
    #[diesel(sql_type = Nullable<Double>)]
    pub ci_lower: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub ci_upper: Option<f64>,
}

pub async fn treatment_indices(
    conn: &mut AsyncPgConnection,
    agbs: &[String],
    year: i32,
) -> diesel::QueryResult<Vec<IndexRow>> {
    prepared(
        "SELECT practice_agb, value, ci_lower, ci_upper FROM treatment_indices \
         WHERE practice_agb = ANY($1) AND year = $2",
    )
    .bind::<Array<Text>, _>(agbs)
    .bind::<Int4, _>(year)
    .load(conn)
    .await
}

#[derive(Debug, QueryableByName)]
pub struct RegistrationRow {
    #[diesel(sql_type = Text)]
    pub practice_agb: String,
    #[diesel(sql_type = Int4)]
    pub cycle_year: i32,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub visitation_outcome_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    pub visitation_report_sha256: Option<String>,
}

/// Registrations of `year` and the year before (an earlier registration means no entry visitation is due).
pub async fn registrations(
    conn: &mut AsyncPgConnection,
    agbs: &[String],
    year: i32,
) -> diesel::QueryResult<Vec<RegistrationRow>> {
    prepared(
        "SELECT practice_agb, cycle_year, state, visitation_outcome_date, \
           visitation_report_sha256 FROM registrations \
         WHERE practice_agb = ANY($1) AND cycle_year IN ($2, $2 - 1)",
    )
    .bind::<Array<Text>, _>(agbs)
    .bind::<Int4, _>(year)
    .load(conn)
    .await
}

#[derive(Debug, QueryableByName)]
pub struct SharedAddressRow {
    #[diesel(sql_type = Text)]
    pub practice_agb: String,
    #[diesel(sql_type = Text)]
    pub other_practice_agb: String,
    #[diesel(sql_type = Bool)]
    pub own_kvk: bool,
    #[diesel(sql_type = Bool)]
    pub own_entrance: bool,
    #[diesel(sql_type = Bool)]
    pub own_phone: bool,
    #[diesel(sql_type = Bool)]
    pub own_website: bool,
    #[diesel(sql_type = Bool)]
    pub own_waiting_room: bool,
    #[diesel(sql_type = Bool)]
    pub own_reception: bool,
    #[diesel(sql_type = Bool)]
    pub own_administration: bool,
    #[diesel(sql_type = Bool)]
    pub own_logo: bool,
}

/// For each practice, every other practice with a location at the same address (postal code and
/// house number), with this practice's distinguishing features there (001 §2.1b).
pub async fn shared_addresses(
    conn: &mut AsyncPgConnection,
    agbs: &[String],
) -> diesel::QueryResult<Vec<SharedAddressRow>> {
    prepared(
        "SELECT l.practice_agb, o.practice_agb AS other_practice_agb, \
             bool_and(p.kvk_number <> op.kvk_number) AS own_kvk, \
             bool_and(l.own_entrance) AS own_entrance, \
             bool_and(l.phone IS NOT NULL AND l.phone IS DISTINCT FROM o.phone) AS own_phone, \
             bool_and(l.website IS NOT NULL AND l.website IS DISTINCT FROM o.website) AS own_website, \
             bool_and(l.own_waiting_room) AS own_waiting_room, \
             bool_and(l.own_reception) AS own_reception, \
             bool_and(l.own_administration) AS own_administration, \
             bool_and(l.own_logo) AS own_logo \
         FROM practice_locations l \
         JOIN practice_locations o ON o.postal_code = l.postal_code \
             AND lower(o.house_number) = lower(l.house_number) AND o.practice_agb <> l.practice_agb \
         JOIN practices p ON p.agb = l.practice_agb \
         JOIN practices op ON op.agb = o.practice_agb \
         WHERE l.practice_agb = ANY($1) \
         GROUP BY l.practice_agb, o.practice_agb \
         ORDER BY l.practice_agb, o.practice_agb",
    )
    .bind::<Array<Text>, _>(agbs)
    .load(conn)
    .await
}

/// AGB codes of all practices after `after`, in order, `limit` at a time (the feed's batches).
pub async fn practice_batch(
    conn: &mut AsyncPgConnection,
    after: Option<&OefentherapieAgb>,
    limit: i64,
) -> Result<Vec<OefentherapieAgb>, ApiError> {
    #[derive(QueryableByName)]
    struct Agb {
        #[diesel(sql_type = Text)]
        agb: String,
    }
    let rows: Vec<Agb> = prepared("SELECT agb FROM practices WHERE agb > $1 ORDER BY agb LIMIT $2")
        .bind::<Text, _>(after.map_or("", OefentherapieAgb::as_str))
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|r| decode("practices.agb", &r.agb, OefentherapieAgb::parse))
        .collect()
}
