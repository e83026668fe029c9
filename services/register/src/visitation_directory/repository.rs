//! The queries behind the visitation directory: one per kind of fact, each over the whole year.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{Date, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{amsterdam_date, normalise_address, CycleCalendar, CycleYear};
use praktijkregister_events::{
    DirectoryIntervisionGroup, DirectoryLocation, DirectoryPractice, DirectoryPracticeGroup,
    VisitationDirectory,
};
use praktijkregister_platform::error::ApiError;
use uuid::Uuid;

/// The columns the due rule needs of practice `p` in cycle year `$1`: `tier`, `registered_before`
/// and `last_positive`. A positive visitation is the transition it caused, on the day recorded
/// with the outcome (or else the day of the transition); "registered before" is a registration of
/// an earlier year that reached `registered`. One text for the directory and the register's own
/// check, so both judge the same facts.
macro_rules! visitation_history_columns {
    () => {
        "p.tier, \
         EXISTS (SELECT 1 FROM registrations e WHERE e.practice_agb = p.agb \
            AND e.cycle_year < $1 AND e.registered_at IS NOT NULL) AS registered_before, \
         (SELECT max(COALESCE(v.visitation_outcome_date, \
              (t.occurred_at AT TIME ZONE 'Europe/Amsterdam')::date)) FROM registrations v \
            JOIN registration_transitions t ON t.registration_id = v.id \
              AND t.event = 'visitation_positive' \
            WHERE v.practice_agb = p.agb AND v.cycle_year <= $1) AS last_positive"
    };
}

/// What the due rule ([`praktijkregister_domain::visitation_due`]) needs to know of a practice.
#[derive(diesel::QueryableByName)]
pub struct VisitationHistory {
    #[diesel(sql_type = Text)]
    pub tier: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub registered_before: bool,
    #[diesel(sql_type = Nullable<Date>)]
    pub last_positive: Option<NaiveDate>,
}

/// The visitation history of one practice for cycle year `year`, as the directory reports it;
/// `None` for an unknown practice.
pub async fn visitation_history(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    year: CycleYear,
) -> diesel::QueryResult<Option<VisitationHistory>> {
    use diesel::OptionalExtension;
    diesel::sql_query(concat!(
        "SELECT ",
        visitation_history_columns!(),
        " FROM practices p WHERE p.agb = $2"
    ))
    .bind::<Int4, _>(i32::from(year.value()))
    .bind::<Text, _>(practice_agb)
    .get_result(conn)
    .await
    .optional()
}

#[derive(diesel::QueryableByName)]
struct PracticeRow {
    #[diesel(sql_type = Text)]
    agb: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kvk_number: String,
    #[diesel(sql_type = Text)]
    tier: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    plan_approved_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    registered_before: bool,
    #[diesel(sql_type = Nullable<Date>)]
    last_positive: Option<NaiveDate>,
}

#[derive(diesel::QueryableByName)]
struct LocationRow {
    #[diesel(sql_type = Text)]
    practice_agb: String,
    #[diesel(sql_type = Text)]
    postal_code: String,
    #[diesel(sql_type = Text)]
    house_number: String,
    #[diesel(sql_type = Text)]
    city: String,
}

#[derive(diesel::QueryableByName)]
struct MembershipRow {
    #[diesel(sql_type = Text)]
    practice_agb: String,
    #[diesel(sql_type = Text)]
    therapist_agb: String,
}

#[derive(diesel::QueryableByName)]
struct GroupMemberRow {
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
    #[diesel(sql_type = Text)]
    therapist_agb: String,
}

/// The directory of `year` as it stands on `today` (Europe/Amsterdam): memberships and intervision
/// memberships current on that day.
pub async fn directory(
    conn: &mut AsyncPgConnection,
    calendar: &CycleCalendar,
    today: NaiveDate,
) -> Result<VisitationDirectory, ApiError> {
    let year: CycleYear = calendar.year();
    let y = i32::from(year.value());
    let practices: Vec<PracticeRow> = diesel::sql_query(concat!(
        "SELECT p.agb, p.name, p.kvk_number, r.state, \
           (SELECT max(a.assessed_at) FROM annual_plans a WHERE a.practice_agb = p.agb \
              AND a.cycle_year = $1 AND a.assessment = 'approved') AS plan_approved_at, ",
        visitation_history_columns!(),
        " FROM practices p JOIN registrations r ON r.practice_agb = p.agb AND r.cycle_year = $1 \
         ORDER BY p.agb",
    ))
    .bind::<Int4, _>(y)
    .load(conn)
    .await?;
    let locations: Vec<LocationRow> = diesel::sql_query(
        "SELECT l.practice_agb, l.postal_code, l.house_number, l.city FROM practice_locations l \
         JOIN registrations r ON r.practice_agb = l.practice_agb AND r.cycle_year = $1 \
         ORDER BY l.practice_agb, l.position",
    )
    .bind::<Int4, _>(y)
    .load(conn)
    .await?;
    let memberships: Vec<MembershipRow> = diesel::sql_query(
        "SELECT practice_agb, therapist_agb FROM practice_memberships \
         WHERE start_date <= $1 AND (end_date IS NULL OR end_date >= $1) \
         ORDER BY practice_agb, therapist_agb",
    )
    .bind::<Date, _>(today)
    .load(conn)
    .await?;
    let members: Vec<GroupMemberRow> = diesel::sql_query(
        "SELECT group_id, therapist_agb FROM intervision_members \
         WHERE joined_on <= $1 AND (left_on IS NULL OR left_on >= $1) \
         ORDER BY group_id, therapist_agb",
    )
    .bind::<Date, _>(today)
    .load(conn)
    .await?;
    Ok(assemble(
        calendar,
        practices,
        locations,
        memberships,
        members,
    ))
}

fn assemble(
    calendar: &CycleCalendar,
    practices: Vec<PracticeRow>,
    locations: Vec<LocationRow>,
    memberships: Vec<MembershipRow>,
    members: Vec<GroupMemberRow>,
) -> VisitationDirectory {
    let mut locations_of: BTreeMap<String, Vec<DirectoryLocation>> = BTreeMap::new();
    for l in locations {
        locations_of
            .entry(l.practice_agb)
            .or_default()
            .push(DirectoryLocation {
                address_key: normalise_address(&l.postal_code, &l.house_number),
                postal_code: l.postal_code,
                house_number: l.house_number,
                city: l.city,
            });
    }
    let mut therapists_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut practices_of_therapist: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in memberships {
        therapists_of
            .entry(m.practice_agb.clone())
            .or_default()
            .insert(m.therapist_agb.clone());
        practices_of_therapist
            .entry(m.therapist_agb)
            .or_default()
            .insert(m.practice_agb);
    }
    let mut groups: BTreeMap<Uuid, BTreeSet<String>> = BTreeMap::new();
    let mut groups_of_therapist: BTreeMap<String, BTreeSet<Uuid>> = BTreeMap::new();
    for m in members {
        groups
            .entry(m.group_id)
            .or_default()
            .insert(m.therapist_agb.clone());
        groups_of_therapist
            .entry(m.therapist_agb)
            .or_default()
            .insert(m.group_id);
    }
    let group_practices: BTreeMap<Uuid, Vec<String>> = groups
        .iter()
        .map(|(id, therapists)| {
            let practices: BTreeSet<&String> = therapists
                .iter()
                .filter_map(|t| practices_of_therapist.get(t))
                .flatten()
                .collect();
            (*id, practices.into_iter().cloned().collect())
        })
        .collect();
    let practices = practices
        .into_iter()
        .map(|p| {
            let therapists = therapists_of.remove(&p.agb).unwrap_or_default();
            let group_ids: BTreeSet<Uuid> = therapists
                .iter()
                .filter_map(|t| groups_of_therapist.get(t))
                .flatten()
                .copied()
                .collect();
            DirectoryPractice {
                locations: locations_of.remove(&p.agb).unwrap_or_default(),
                intervision_groups: group_ids
                    .into_iter()
                    .map(|id| DirectoryPracticeGroup {
                        id,
                        practice_agbs: group_practices.get(&id).cloned().unwrap_or_default(),
                    })
                    .collect(),
                therapist_agbs: therapists.into_iter().collect(),
                plan_approved_on: p.plan_approved_at.map(amsterdam_date),
                new_to_register: !p.registered_before,
                last_positive_visitation_on: p.last_positive,
                registration_state: p.state,
                agb: p.agb,
                name: p.name,
                kvk_number: p.kvk_number,
                tier: p.tier,
            }
        })
        .collect();
    VisitationDirectory {
        cycle_year: calendar.year().value(),
        visitation_deadline: calendar.visitation_deadline(),
        entry_visitation_deadline: calendar.entry_visitation_deadline(),
        practices,
        intervision_groups: groups
            .into_iter()
            .map(|(id, therapists)| DirectoryIntervisionGroup {
                id,
                therapist_agbs: therapists.into_iter().collect(),
            })
            .collect(),
    }
}
