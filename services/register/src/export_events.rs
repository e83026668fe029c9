//! The events the register sends the insurer-export service (000: the registered practices go to
//! the insurers; 001 §1.3c: their quality data only with consent). Each is written to the outbox
//! on the connection of the change it reports, so the change and its event commit together.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use praktijkregister_domain::RegistrationState;
use praktijkregister_events::{PracticeChange, PracticeEvent, PracticeLocation, INSURER_EXPORT};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::outbox;

use crate::practices::Practice;

async fn send(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    occurred_at: DateTime<Utc>,
    change: PracticeChange,
) -> Result<(), ApiError> {
    let event = PracticeEvent {
        event_id: uuid::Uuid::now_v7(),
        practice_agb: practice_agb.to_string(),
        occurred_at,
        change,
    };
    outbox::enqueue(conn, INSURER_EXPORT, &event).await
}

/// The practice was created or changed: its data as the list shows it.
pub async fn practice_data(
    conn: &mut AsyncPgConnection,
    practice: &Practice,
) -> Result<(), ApiError> {
    let change = PracticeChange::Data {
        name: practice.name.clone(),
        kvk_number: practice.kvk_number.clone(),
        tier: practice.tier.as_str().to_string(),
        locations: practice
            .locations
            .iter()
            .map(|l| PracticeLocation {
                agb: l.agb.clone(),
                kvk_branch_number: l.kvk_branch_number.clone(),
                street: l.street.clone(),
                house_number: l.house_number.clone(),
                postal_code: l.postal_code.clone(),
                city: l.city.clone(),
            })
            .collect(),
    };
    send(conn, &practice.agb, practice.updated_at, change).await
}

/// A registration moved from `from` (none: created) to `to`.
#[allow(clippy::too_many_arguments)]
pub async fn registration(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    cycle_year: i32,
    from: Option<RegistrationState>,
    to: RegistrationState,
    registered_at: Option<DateTime<Utc>>,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let change = PracticeChange::Registration {
        cycle_year: u16::try_from(cycle_year).map_err(ApiError::internal)?,
        from_state: from.map(|s| s.as_str().to_string()),
        to_state: to.as_str().to_string(),
        registered_at,
        reason: reason.map(str::to_string),
    };
    send(conn, practice_agb, at, change).await
}

/// Consent to share quality data with the insurer was given or revoked.
pub async fn consent(
    conn: &mut AsyncPgConnection,
    practice_agb: &str,
    insurer_uzovi: &str,
    given: bool,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let change = PracticeChange::Consent {
        insurer_uzovi: insurer_uzovi.to_string(),
        given,
    };
    send(conn, practice_agb, at, change).await
}
