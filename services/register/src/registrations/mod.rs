//! Registrations (registraties): one per practice per cycle year, moved through the states of
//! DESIGN §3.2 by annual-plan assessments, visitation events, KP data and withdrawals.

pub mod internal;
pub mod lifecycle;
pub mod repository;
pub mod routes;

use chrono::{DateTime, NaiveDate, Utc};
use praktijkregister_domain::RegistrationState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One stored transition: who moved the registration, when, why.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "from_state": "plan_submitted", "to_state": "plan_approved", "event": "plan_approved",
    "actor_client_id": "registrar", "reason": "Clear goals and evaluation.", "occurred_at": "2026-05-02T10:00:00Z"
}))]
pub struct Transition {
    pub from_state: Option<RegistrationState>,
    pub to_state: RegistrationState,
    pub event: String,
    pub actor_client_id: String,
    pub reason: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// A practice's registration for one cycle year.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "practice_agb": "07012345", "cycle_year": 2026, "state": "registered", "visitation_date": "2026-09-14",
    "visited_on": "2026-09-14",
    "lacking_kp": [], "registered_at": "2026-09-15T08:00:00Z", "updated_at": "2026-09-15T08:00:00Z"
}))]
pub struct Registration {
    pub practice_agb: String,
    pub cycle_year: u16,
    pub state: RegistrationState,
    /// The planned visitation date.
    pub visitation_date: Option<NaiveDate>,
    /// The day the visitation took place, once its outcome is in.
    pub visited_on: Option<NaiveDate>,
    /// Therapists (AGB) not kwaliteitsgeregistreerd when the registration waits for KP data.
    pub lacking_kp: Vec<String>,
    pub registered_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A registration with every transition it went through, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationWithHistory {
    #[serde(flatten)]
    pub registration: Registration,
    pub history: Vec<Transition>,
}

/// Withdrawal (terugtrekking) of a registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The practice stops on 1 October."}))]
pub struct WithdrawalRequest {
    /// Why; kept with the transition.
    #[schema(format = "text-lines", max_length = 2000)]
    pub reason: String,
}
