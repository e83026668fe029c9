//! The due list: which practices of a cycle year need a visitation, and why (000; 001 §1.2a-b;
//! 002).

pub mod routes;

use chrono::NaiveDate;
use praktijkregister_domain::{DueReason, NotDueReason};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The due list of a cycle year.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "cycle_year": 2026, "visitation_deadline": "2026-10-15", "entry_visitation_deadline": "2026-11-01",
    "items": [{
        "practice_agb": "07012345", "name": "Oefentherapie Centrum", "tier": "praktijkregister",
        "registration_state": "plan_approved", "due": true, "reason": "yearly", "not_due_reason": null,
        "due_by": "2026-10-15", "plan_approved": true, "session_id": null
    }]
}))]
pub struct DueList {
    pub cycle_year: u16,
    pub visitation_deadline: NaiveDate,
    pub entry_visitation_deadline: NaiveDate,
    /// Every practice with a registration for the year, by AGB.
    pub items: Vec<DueItem>,
}

/// One practice of the due list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueItem {
    pub practice_agb: String,
    pub name: String,
    pub tier: String,
    pub registration_state: String,
    /// Whether a visitation is needed in the year.
    pub due: bool,
    /// Why it is due: `entry_visitation`, `yearly` or `two_yearly`.
    pub reason: Option<DueReason>,
    /// Why it is not: `registration_closed`, `visited_this_year` or `visited_last_year`.
    pub not_due_reason: Option<NotDueReason>,
    /// The day by which the visitation must have taken place: the visitation deadline (000); an
    /// entry visitation must also be passed before the entry-visitation deadline (001 §1.2a).
    pub due_by: Option<NaiveDate>,
    /// Whether the annual plan of the year is approved (a visitation can be planned).
    pub plan_approved: bool,
    /// The session that holds its visitation of the year, if one is planned.
    pub session_id: Option<Uuid>,
}
