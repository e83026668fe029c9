//! Moves registrations through their states: the pure rules of `praktijkregister_domain`
//! applied to stored rows, every transition kept with actor, time and reason.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::{
    amsterdam_date, counted_visitation, kp_requirement, transition, CycleYear, IllegalTransition,
    KpRequirement, PracticeTier, RegistrationEvent, RegistrationState, TherapistKp,
};
use praktijkregister_platform::error::ApiError;
use serde_json::{json, Map};

use super::repository::{self, NewTransition, RegistrationRow, StateChange};

/// 409 with the current state and the states the registration can move to.
pub fn conflict(error: &IllegalTransition) -> ApiError {
    let mut extensions = Map::new();
    extensions.insert("current_state".into(), json!(error.from));
    extensions.insert("allowed_next_states".into(), json!(error.allowed_next));
    ApiError::Conflict {
        detail: error.to_string(),
        extensions,
    }
}

/// Who causes a transition, when, and why.
#[derive(Clone, Copy)]
pub struct Cause<'a> {
    pub actor_client_id: &'a str,
    pub reason: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// The registration of the practice for `year`, created in `applied` (with its first transition)
/// when there is none yet. Locked for the rest of the transaction.
pub async fn find_or_apply(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    year: CycleYear,
    cause: Cause<'_>,
) -> Result<RegistrationRow, ApiError> {
    let year = i32::from(year.value());
    if let Some(row) = repository::find_for_update(conn, practice_agb, year).await? {
        return Ok(row);
    }
    let Some(row) = repository::insert_applied(conn, practice_agb, year, cause.at).await? else {
        // Created by a concurrent request since the lookup: take that one.
        return repository::find_for_update(conn, practice_agb, year)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("registration vanished")));
    };
    repository::insert_transition(
        conn,
        &NewTransition {
            registration_id: row.id,
            from: None,
            to: RegistrationState::Applied,
            event: "applied",
            actor_client_id: cause.actor_client_id,
            reason: cause.reason,
            at: cause.at,
        },
    )
    .await?;
    crate::export_events::registration(
        conn,
        practice_agb,
        year,
        None,
        RegistrationState::Applied,
        None,
        cause.reason,
        cause.at,
    )
    .await?;
    Ok(row)
}

/// The existing registration of the practice for `year`, locked; 404 when there is none.
pub async fn existing(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    year: CycleYear,
) -> Result<RegistrationRow, ApiError> {
    repository::find_for_update(conn, practice_agb, i32::from(year.value()))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "practice {practice_agb} has no registration for {year}"
            ))
        })
}

/// Applies `event` to `row`; `lacking_kp` is the list to keep when the registration waits for KP.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    row: &RegistrationRow,
    event: &RegistrationEvent,
    lacking_kp: Vec<String>,
    cause: Cause<'_>,
) -> Result<RegistrationRow, ApiError> {
    let from = row.state()?;
    let to = transition(from, event).map_err(|e| conflict(&e))?;
    let visitation_date = match event {
        RegistrationEvent::VisitationPlanned { date } => Some(*date),
        // The cancelled date is no longer planned.
        RegistrationEvent::VisitationCancelled => None,
        _ => row.visitation_date,
    };
    let registered_at = match to {
        RegistrationState::Registered if from != RegistrationState::Registered => Some(cause.at),
        _ => row.registered_at,
    };
    let lacking_kp = if to == RegistrationState::AwaitingKp {
        lacking_kp
    } else {
        Vec::new()
    };
    let updated = repository::update_state(
        conn,
        row.id,
        &StateChange {
            to,
            visitation_date,
            lacking_kp: &lacking_kp,
            registered_at,
            at: cause.at,
        },
    )
    .await?;
    repository::insert_transition(
        conn,
        &NewTransition {
            registration_id: row.id,
            from: Some(from),
            to,
            event: event.name(),
            actor_client_id: cause.actor_client_id,
            reason: cause.reason,
            at: cause.at,
        },
    )
    .await?;
    crate::export_events::registration(
        conn,
        &row.practice_agb,
        row.cycle_year,
        Some(from),
        to,
        registered_at,
        cause.reason,
        cause.at,
    )
    .await?;
    Ok(updated)
}

/// Right after the plan of `year` is approved: a practice that needs no visitation in `year` (002:
/// a basispraktijkregister practice visited positively in Y-1, by the due rule the visitation
/// service lists with) moves on as after a positive visitation, to `registered` or `awaiting_kp`
/// by the KP requirement on the day of approval. The transition's reason names the visitation
/// that counts. Any other registration is returned unchanged.
pub async fn register_if_not_due(
    conn: &mut AsyncPgConnection,
    row: RegistrationRow,
    year: CycleYear,
    cause: Cause<'_>,
) -> Result<RegistrationRow, ApiError> {
    let Some(history) =
        crate::visitation_directory::repository::visitation_history(conn, &row.practice_agb, year)
            .await?
    else {
        return Ok(row);
    };
    let tier = praktijkregister_platform::db::decode(
        "practices.tier",
        &history.tier,
        PracticeTier::parse,
    )?;
    let Some(counted) = counted_visitation(
        tier,
        year,
        !history.registered_before,
        history.last_positive,
    ) else {
        return Ok(row);
    };
    let (met, lacking) = kp_check(conn, &row.practice_agb, amsterdam_date(cause.at)).await?;
    let reason = format!(
        "basispraktijkregister: the positive visitation of {counted} counts for {year} \
         (a visitation every two years)"
    );
    apply(
        conn,
        &row,
        &RegistrationEvent::VisitationNotDue {
            all_therapists_kp_registered: met,
        },
        lacking,
        Cause {
            reason: Some(&reason),
            ..cause
        },
    )
    .await
}

/// The therapists of the practice not kwaliteitsgeregistreerd on `on`, and whether the KP
/// requirement of registration is met (000, 001; a practice without therapists is not).
pub async fn kp_check(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    on: NaiveDate,
) -> Result<(bool, Vec<String>), ApiError> {
    let therapists = repository::active_therapists_kp(conn, practice_agb, on).await?;
    let records: Vec<TherapistKp<'_>> = therapists
        .iter()
        .map(|(agb, status, valid_from, valid_until)| TherapistKp {
            therapist_agb: agb,
            status: *status,
            valid_from: *valid_from,
            valid_until: *valid_until,
        })
        .collect();
    Ok(match kp_requirement(&records, on) {
        KpRequirement::Met => (true, Vec::new()),
        KpRequirement::Lacking(lacking) => {
            (false, lacking.into_iter().map(str::to_string).collect())
        }
        KpRequirement::NoTherapists => (false, Vec::new()),
    })
}

/// Re-checks the registrations waiting for KP data (of `practices`, or all) on `on`: those whose
/// therapists are now all kwaliteitsgeregistreerd become registered; the others keep an updated
/// list of who is lacking. Returns the registrations that became registered.
pub async fn recheck_awaiting_kp(
    conn: &mut AsyncPgConnection,
    practices: Option<&[String]>,
    on: NaiveDate,
    cause: Cause<'_>,
) -> Result<Vec<(String, i32)>, ApiError> {
    let mut registered = Vec::new();
    for (practice_agb, year) in repository::awaiting_kp(conn, practices).await? {
        let Some(row) = repository::find_for_update(conn, &practice_agb, year).await? else {
            continue;
        };
        if row.state()? != RegistrationState::AwaitingKp {
            continue;
        }
        let (met, lacking) = kp_check(conn, &practice_agb, on).await?;
        if met {
            let reason = Cause {
                reason: Some("every therapist is kwaliteitsgeregistreerd in KP"),
                ..cause
            };
            apply(
                conn,
                &row,
                &RegistrationEvent::KpRequirementMet,
                Vec::new(),
                reason,
            )
            .await?;
            registered.push((practice_agb, year));
        } else if lacking != row.lacking_kp {
            repository::update_state(
                conn,
                row.id,
                &StateChange {
                    to: RegistrationState::AwaitingKp,
                    visitation_date: row.visitation_date,
                    lacking_kp: &lacking,
                    registered_at: row.registered_at,
                    at: cause.at,
                },
            )
            .await?;
        }
    }
    Ok(registered)
}

/// After KP data or memberships changed for `practices` (or for the practices of `therapists`):
/// registrations waiting for KP data become registered as soon as it is true, today.
pub async fn after_kp_change(
    conn: &mut AsyncPgConnection,
    practices: &[String],
    therapists: &[String],
    actor_client_id: &str,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut concerned = practices.to_vec();
    if !therapists.is_empty() {
        concerned.extend(repository::practices_of_therapists(conn, therapists).await?);
    }
    let cause = Cause {
        actor_client_id,
        reason: None,
        at,
    };
    recheck_awaiting_kp(
        conn,
        Some(&concerned),
        praktijkregister_domain::amsterdam_date(at),
        cause,
    )
    .await?;
    Ok(())
}
