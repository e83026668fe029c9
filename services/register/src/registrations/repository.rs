//! SQL for registrations and their transitions.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_domain::{KpStatus, RegistrationState};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::ApiError;

use super::{Registration, Transition};
use crate::schema::{practice_memberships, registration_transitions, registrations, therapists};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = registrations)]
pub struct RegistrationRow {
    pub id: i64,
    pub practice_agb: String,
    pub cycle_year: i32,
    pub state: String,
    pub visitation_date: Option<NaiveDate>,
    pub visitation_outcome_date: Option<NaiveDate>,
    pub lacking_kp: Vec<String>,
    pub registered_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl RegistrationRow {
    /// The stored state. The column's CHECK constraint keeps it one of the known names; a value
    /// outside them is a fault in the data, answered with a logged 500.
    #[track_caller]
    pub fn state(&self) -> Result<RegistrationState, ApiError> {
        decode("registrations.state", &self.state, RegistrationState::parse)
    }

    pub fn view(&self) -> Result<Registration, ApiError> {
        Ok(Registration {
            practice_agb: self.practice_agb.clone(),
            cycle_year: decode(
                "registrations.cycle_year",
                &self.cycle_year.to_string(),
                |raw| raw.parse::<u16>(),
            )?,
            state: self.state()?,
            visitation_date: self.visitation_date,
            visited_on: self.visitation_outcome_date,
            lacking_kp: self.lacking_kp.clone(),
            registered_at: self.registered_at,
            updated_at: self.updated_at,
        })
    }
}

/// A stored transition: from, to, event, actor, reason, time.
type TransitionColumns = (
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
);
/// A therapist's AGB code and stored KP status and period.
type KpColumns = (String, Option<String>, Option<NaiveDate>, Option<NaiveDate>);

/// The registration, locked for the rest of the transaction so that two events cannot race.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    cycle_year: i32,
) -> QueryResult<Option<RegistrationRow>> {
    registrations::table
        .filter(registrations::practice_agb.eq(practice_agb))
        .filter(registrations::cycle_year.eq(cycle_year))
        .select(RegistrationRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    cycle_year: i32,
) -> QueryResult<Option<RegistrationRow>> {
    registrations::table
        .filter(registrations::practice_agb.eq(practice_agb))
        .filter(registrations::cycle_year.eq(cycle_year))
        .select(RegistrationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Creates the registration in state `applied`; `None` when another request created it first.
pub async fn insert_applied(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    cycle_year: i32,
    at: DateTime<Utc>,
) -> QueryResult<Option<RegistrationRow>> {
    diesel::insert_into(registrations::table)
        .values((
            registrations::practice_agb.eq(practice_agb),
            registrations::cycle_year.eq(cycle_year),
            registrations::state.eq(RegistrationState::Applied.as_str()),
            registrations::created_at.eq(at),
            registrations::updated_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .returning(RegistrationRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The columns a transition changes besides the state.
pub struct StateChange<'a> {
    pub to: RegistrationState,
    pub visitation_date: Option<NaiveDate>,
    pub lacking_kp: &'a [String],
    pub registered_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

pub async fn update_state(
    conn: &mut AsyncPgConnection,
    id: i64,
    change: &StateChange<'_>,
) -> QueryResult<RegistrationRow> {
    diesel::update(registrations::table.find(id))
        .set((
            registrations::state.eq(change.to.as_str()),
            registrations::visitation_date.eq(change.visitation_date),
            registrations::lacking_kp.eq(change.lacking_kp),
            registrations::registered_at.eq(change.registered_at),
            registrations::updated_at.eq(change.at),
        ))
        .returning(RegistrationRow::as_returning())
        .get_result(conn)
        .await
}

/// Records the day the visitation took place and the SHA-256 of its report, if one was uploaded
/// (from an outcome event).
pub async fn record_outcome(
    conn: &mut AsyncPgConnection,
    id: i64,
    day: NaiveDate,
    report_sha256: Option<&str>,
) -> QueryResult<RegistrationRow> {
    diesel::update(registrations::table.find(id))
        .set((
            registrations::visitation_outcome_date.eq(day),
            registrations::visitation_report_sha256.eq(report_sha256),
        ))
        .returning(RegistrationRow::as_returning())
        .get_result(conn)
        .await
}

pub struct NewTransition<'a> {
    pub registration_id: i64,
    pub from: Option<RegistrationState>,
    pub to: RegistrationState,
    pub event: &'a str,
    pub actor_client_id: &'a str,
    pub reason: Option<&'a str>,
    pub at: DateTime<Utc>,
}

pub async fn insert_transition(
    conn: &mut AsyncPgConnection,
    transition: &NewTransition<'_>,
) -> QueryResult<()> {
    diesel::insert_into(registration_transitions::table)
        .values((
            registration_transitions::registration_id.eq(transition.registration_id),
            registration_transitions::from_state.eq(transition.from.map(RegistrationState::as_str)),
            registration_transitions::to_state.eq(transition.to.as_str()),
            registration_transitions::event.eq(transition.event),
            registration_transitions::actor_client_id.eq(transition.actor_client_id),
            registration_transitions::reason.eq(transition.reason),
            registration_transitions::occurred_at.eq(transition.at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn history(
    conn: &mut AsyncPgConnection,
    registration_id: i64,
) -> Result<Vec<Transition>, ApiError> {
    let rows: Vec<TransitionColumns> = registration_transitions::table
        .filter(registration_transitions::registration_id.eq(registration_id))
        .order(registration_transitions::id)
        .select((
            registration_transitions::from_state,
            registration_transitions::to_state,
            registration_transitions::event,
            registration_transitions::actor_client_id,
            registration_transitions::reason,
            registration_transitions::occurred_at,
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(from, to, event, actor_client_id, reason, occurred_at)| {
            Ok(Transition {
                from_state: from
                    .map(|f| {
                        decode(
                            "registration_transitions.from_state",
                            &f,
                            RegistrationState::parse,
                        )
                    })
                    .transpose()?,
                to_state: decode(
                    "registration_transitions.to_state",
                    &to,
                    RegistrationState::parse,
                )?,
                event,
                actor_client_id,
                reason,
                occurred_at,
            })
        })
        .collect()
}

/// The registrations of a practice, newest cycle year first, after the keyset position `after`.
pub async fn list_for_practice(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    before_year: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<RegistrationRow>> {
    let mut query = registrations::table
        .filter(registrations::practice_agb.eq(practice_agb))
        .select(RegistrationRow::as_select())
        .order(registrations::cycle_year.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(year) = before_year {
        query = query.filter(registrations::cycle_year.lt(year));
    }
    query.load(conn).await
}

/// KP data of the therapists working at the practice on `on` (membership active that day).
pub async fn active_therapists_kp(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    on: NaiveDate,
) -> QueryResult<
    Vec<(
        String,
        Option<KpStatus>,
        Option<NaiveDate>,
        Option<NaiveDate>,
    )>,
> {
    let rows: Vec<KpColumns> = practice_memberships::table
        .inner_join(therapists::table)
        .filter(practice_memberships::practice_agb.eq(practice_agb))
        .filter(practice_memberships::start_date.le(on))
        .filter(
            practice_memberships::end_date
                .is_null()
                .or(practice_memberships::end_date.ge(on)),
        )
        .order(therapists::agb)
        .select((
            therapists::agb,
            therapists::kp_status,
            therapists::kp_valid_from,
            therapists::kp_valid_until,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(agb, status, from, until)| {
            (
                agb,
                status.and_then(|s| KpStatus::parse(&s).ok()),
                from,
                until,
            )
        })
        .collect())
}

/// Registrations waiting for KP data, optionally only those of the given practices.
pub async fn awaiting_kp(
    conn: &mut AsyncPgConnection,
    practices: Option<&[String]>,
) -> QueryResult<Vec<(String, i32)>> {
    let mut query = registrations::table
        .filter(registrations::state.eq(RegistrationState::AwaitingKp.as_str()))
        .select((registrations::practice_agb, registrations::cycle_year))
        .into_boxed();
    if let Some(practices) = practices {
        query = query.filter(registrations::practice_agb.eq_any(practices));
    }
    query.load(conn).await
}

/// The practices a therapist works at (any period), to re-check their registrations when the
/// therapist's KP data changes.
pub async fn practices_of_therapists(
    conn: &mut AsyncPgConnection,
    therapist_agbs: &[String],
) -> QueryResult<Vec<String>> {
    practice_memberships::table
        .filter(practice_memberships::therapist_agb.eq_any(therapist_agbs))
        .select(practice_memberships::practice_agb)
        .distinct()
        .load(conn)
        .await
}

/// When the annual plan of the practice for `year` was approved, if it was (the latest approval
/// counts: a plan approved after a rejection and resubmission).
pub async fn plan_approved_at(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    year: praktijkregister_domain::CycleYear,
) -> QueryResult<Option<DateTime<Utc>>> {
    use crate::schema::annual_plans;
    annual_plans::table
        .filter(annual_plans::practice_agb.eq(practice_agb))
        .filter(annual_plans::cycle_year.eq(i32::from(year.value())))
        .filter(annual_plans::assessment.eq("approved"))
        .select(diesel::dsl::max(annual_plans::assessed_at))
        .first::<Option<DateTime<Utc>>>(conn)
        .await
}
