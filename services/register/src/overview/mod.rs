//! The registrar's overview of a cycle year: how many registrations stand where, and which
//! practices need attention (no annual plan, a plan to assess, a visitation to plan, KP lacking).

pub mod repository;
pub mod routes;

use chrono::{DateTime, NaiveDate, Utc};
use praktijkregister_domain::{CycleCalendar, RegistrationState};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use repository::YearFigures;

/// The number of registrations of the year in each state, and of practices.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "applied": 3, "plan_submitted": 12, "plan_approved": 40, "plan_rejected": 2,
    "visitation_planned": 85, "awaiting_kp": 4, "registered": 310, "refused": 1, "withdrawn": 2,
    "practices_total": 480, "without_registration": 21
}))]
pub struct RegistrationCounts {
    pub applied: i64,
    pub plan_submitted: i64,
    pub plan_approved: i64,
    pub plan_rejected: i64,
    pub visitation_planned: i64,
    pub awaiting_kp: i64,
    pub registered: i64,
    pub refused: i64,
    pub withdrawn: i64,
    /// Every practice of the register.
    pub practices_total: i64,
    /// Practices with no registration for the year.
    pub without_registration: i64,
}

impl RegistrationCounts {
    /// Adds `n` registrations in `state`.
    pub fn add(&mut self, state: RegistrationState, n: i64) {
        let count = match state {
            RegistrationState::Applied => &mut self.applied,
            RegistrationState::PlanSubmitted => &mut self.plan_submitted,
            RegistrationState::PlanApproved => &mut self.plan_approved,
            RegistrationState::PlanRejected => &mut self.plan_rejected,
            RegistrationState::VisitationPlanned => &mut self.visitation_planned,
            RegistrationState::AwaitingKp => &mut self.awaiting_kp,
            RegistrationState::Registered => &mut self.registered,
            RegistrationState::Refused => &mut self.refused,
            RegistrationState::Withdrawn => &mut self.withdrawn,
        };
        *count += n;
    }
}

/// A practice, by AGB code and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"agb": "07012345", "name": "Oefentherapie De Beweging"}))]
pub struct PracticeRef {
    pub agb: String,
    pub name: String,
}

/// An annual plan of the year that has not been assessed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "annual_plan_id": "0192f3a4-5b6c-7d8e-9f01-23456789abcd", "agb": "07012345",
    "name": "Oefentherapie De Beweging", "version": 1, "submitted_at": "2026-06-12T14:03:00Z"
}))]
pub struct PlanAwaitingAssessment {
    pub annual_plan_id: Uuid,
    /// AGB code of the practice.
    pub agb: String,
    /// Name of the practice.
    pub name: String,
    /// The plan's version: 2 and up for a resubmission after a rejection.
    pub version: i32,
    pub submitted_at: DateTime<Utc>,
}

/// A practice whose annual plan is approved and whose visitation is not planned yet.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "agb": "07012345", "name": "Oefentherapie De Beweging",
    "visitation_deadline": "2026-10-15", "days_left": 10
}))]
pub struct ApprovedWithoutVisitation {
    pub agb: String,
    pub name: String,
    /// The last day a visitation of the year can take place.
    pub visitation_deadline: NaiveDate,
    /// Days from today (Europe/Amsterdam) to the visitation deadline: 0 on the deadline itself,
    /// negative once it has passed.
    pub days_left: i64,
}

/// A practice whose visitation was positive, waiting until every therapist is
/// kwaliteitsgeregistreerd in the Kwaliteitsregister Paramedici.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "agb": "07012345", "name": "Oefentherapie De Beweging", "lacking_kp": ["07000123", "07000456"]
}))]
pub struct AwaitingKp {
    pub agb: String,
    pub name: String,
    /// AGB codes of the therapists not (yet) kwaliteitsgeregistreerd.
    pub lacking_kp: Vec<String>,
}

/// Where a cycle year stands, for the registrar. Every list is complete and ordered by AGB code,
/// except `awaiting_assessment` (oldest submission first).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "cycle_year": 2026, "today": "2026-10-05",
    "counts": {
        "applied": 0, "plan_submitted": 1, "plan_approved": 1, "plan_rejected": 0,
        "visitation_planned": 0, "awaiting_kp": 1, "registered": 1, "refused": 0, "withdrawn": 0,
        "practices_total": 6, "without_registration": 2
    },
    "without_annual_plan": [{"agb": "07000005", "name": "Oefentherapie Noord"}],
    "awaiting_assessment": [{
        "annual_plan_id": "0192f3a4-5b6c-7d8e-9f01-23456789abcd", "agb": "07000001",
        "name": "Oefentherapie De Beweging", "version": 1, "submitted_at": "2026-06-12T14:03:00Z"
    }],
    "approved_without_visitation": [{
        "agb": "07000002", "name": "Oefentherapie Zuid", "visitation_deadline": "2026-10-15", "days_left": 10
    }],
    "awaiting_kp": [{"agb": "07000003", "name": "Oefentherapie Oost", "lacking_kp": ["07000123"]}]
}))]
pub struct CycleOverview {
    pub cycle_year: u16,
    /// The date in Europe/Amsterdam the overview was made on; `days_left` counts from it.
    pub today: NaiveDate,
    pub counts: RegistrationCounts,
    /// Practices with no annual plan for the year at all.
    pub without_annual_plan: Vec<PracticeRef>,
    /// Annual plans of the year not assessed yet, oldest submission first.
    pub awaiting_assessment: Vec<PlanAwaitingAssessment>,
    /// Registrations with an approved plan and no visitation planned.
    pub approved_without_visitation: Vec<ApprovedWithoutVisitation>,
    /// Registrations with a positive visitation waiting for KP registration of therapists.
    pub awaiting_kp: Vec<AwaitingKp>,
}

impl CycleOverview {
    /// Puts the year's figures against its calendar as it stands on `today`.
    pub fn new(calendar: &CycleCalendar, today: NaiveDate, figures: YearFigures) -> Self {
        let visitation_deadline = calendar.visitation_deadline();
        let days_left = calendar.days_until_visitation_deadline(today);
        Self {
            cycle_year: calendar.year().value(),
            today,
            counts: figures.counts,
            without_annual_plan: figures.without_annual_plan,
            awaiting_assessment: figures.awaiting_assessment,
            approved_without_visitation: figures
                .approved_without_visitation
                .into_iter()
                .map(|p| ApprovedWithoutVisitation {
                    agb: p.agb,
                    name: p.name,
                    visitation_deadline,
                    days_left,
                })
                .collect(),
            awaiting_kp: figures.awaiting_kp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_its_own_count() {
        let mut counts = RegistrationCounts::default();
        for (n, state) in (1..).zip(RegistrationState::ALL) {
            counts.add(state, n);
        }
        let json = serde_json::to_value(&counts).unwrap_or_default();
        for (n, state) in (1..).zip(RegistrationState::ALL) {
            assert_eq!(json[state.as_str()], n, "{state}");
        }
    }
}
