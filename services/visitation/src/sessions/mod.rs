//! Visitation sessions: one part of one day, one visitor, two practices that visit each other
//! (DESIGN §3.3). Creating, moving and cancelling one re-checks every rule and tells the register
//! through the outbox.

pub mod repository;
pub mod routes;
pub mod rules;

use chrono::NaiveDate;
use praktijkregister_domain::PartOfDay;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A session to plan.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "date": "2026-09-14", "part_of_day": "morning", "visitor_id": "visitor-jansen",
    "practice_a_agb": "07012345", "practice_b_agb": "07054321"
}))]
pub struct NewSession {
    pub date: NaiveDate,
    pub part_of_day: PartOfDay,
    #[schema(value_type = praktijkregister_domain::VisitorId, inline)]
    pub visitor_id: String,
    /// Visited with practice B as colleague practice, and visits B in turn.
    #[schema(value_type = praktijkregister_domain::OefentherapieAgb, inline)]
    pub practice_a_agb: String,
    #[schema(value_type = praktijkregister_domain::OefentherapieAgb, inline)]
    pub practice_b_agb: String,
}

/// What a reschedule changes; what is absent stays.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"date": "2026-09-21", "part_of_day": "afternoon"}))]
pub struct SessionChange {
    pub date: Option<NaiveDate>,
    pub part_of_day: Option<PartOfDay>,
    pub visitor_id: Option<String>,
}

/// Why a session is cancelled.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "visitor ill"}))]
pub struct Cancellation {
    #[schema(format = "text-lines", max_length = 2000)]
    pub reason: String,
}

/// A session.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d30", "cycle_year": 2026, "date": "2026-09-14",
    "part_of_day": "morning", "visitor_id": "visitor-jansen", "practice_a_agb": "07012345",
    "practice_b_agb": "07054321", "status": "planned", "cancel_reason": null, "version": 1,
    "visitations": [
        {"id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d31", "practice_agb": "07012345", "colleague_practice_agb": "07054321", "status": "open"},
        {"id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d32", "practice_agb": "07054321", "colleague_practice_agb": "07012345", "status": "open"}
    ]
}))]
pub struct Session {
    pub id: Uuid,
    pub cycle_year: i32,
    pub date: NaiveDate,
    pub part_of_day: PartOfDay,
    pub visitor_id: String,
    pub practice_a_agb: String,
    pub practice_b_agb: String,
    /// `planned` or `cancelled`.
    pub status: String,
    pub cancel_reason: Option<String>,
    /// Changes with every move or cancellation; the ETag of the session.
    pub version: i32,
    /// The visitation of each practice in the session.
    pub visitations: Vec<SessionVisitation>,
}

/// The visitation of one practice in a session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionVisitation {
    pub id: Uuid,
    pub practice_agb: String,
    pub colleague_practice_agb: String,
    /// `open`, `cancelled` or `finalised`.
    pub status: String,
}

/// Filters of the session list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionFilter {
    /// Only sessions of this cycle year.
    #[param(value_type = Option<praktijkregister_domain::CycleYear>, inline, example = 2026)]
    pub cycle_year: Option<String>,
}
