//! Visitations: the visitation of one practice in a session, with its findings on each component
//! (000), the explanations of deviating outcome indicators (001 §1.2f), the report (001 §1.2g) and
//! the outcome the register learns through the outbox.

pub mod repository;
pub mod routes;

use chrono::{DateTime, NaiveDate, Utc};
use praktijkregister_domain::{ComponentScore, PartOfDay};
use praktijkregister_events::VisitationOutcome;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The score of one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"component": "hygiene_privacy_safety", "score": "sufficient", "remarks": "in orde"}))]
pub struct Finding {
    pub component: String,
    pub score: ComponentScore,
    #[schema(format = "text-lines", max_length = 4000)]
    pub remarks: Option<String>,
}

/// A deviating outcome indicator (`prem`, `results` or `treatment_index`) and the practice's
/// explanation (001 §1.2f).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"indicator": "treatment_index", "explanation": "many complex patients after a hospital merger"}))]
pub struct Deviation {
    pub indicator: String,
    #[schema(format = "text-lines", max_length = 4000)]
    pub explanation: Option<String>,
}

/// The findings of a visitation: replaces what was recorded before.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "components": [{"component": "annual_plan", "score": "sufficient", "remarks": null}],
    "deviations": [{"indicator": "prem", "explanation": "new questionnaire this year"}]
}))]
pub struct FindingsInput {
    pub components: Vec<Finding>,
    #[serde(default)]
    pub deviations: Vec<Deviation>,
}

/// The outcome to finalise.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "positive", "remarks": "alle onderdelen voldoende"}))]
pub struct OutcomeInput {
    pub outcome: VisitationOutcome,
    #[schema(format = "text-lines-or-blank", max_length = 4000)]
    pub remarks: Option<String>,
}

/// What is known of an uploaded report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportInfo {
    pub sha256: String,
    pub size_bytes: i64,
    pub uploaded_at: DateTime<Utc>,
}

/// A visitation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d31", "session_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d30",
    "cycle_year": 2026, "date": "2026-09-14", "part_of_day": "morning", "visitor_id": "visitor-jansen",
    "practice_agb": "07012345", "colleague_practice_agb": "07054321", "status": "finalised",
    "outcome": "positive", "outcome_remarks": null, "finalised_at": "2026-09-15T10:00:00Z",
    "components": ["annual_plan"],
    "findings": [{"component": "annual_plan", "score": "sufficient", "remarks": null}],
    "deviations": [],
    "report": {"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "size_bytes": 48213, "uploaded_at": "2026-09-15T09:00:00Z"}
}))]
pub struct Visitation {
    pub id: Uuid,
    pub session_id: Uuid,
    pub cycle_year: i32,
    pub date: NaiveDate,
    pub part_of_day: PartOfDay,
    pub visitor_id: String,
    pub practice_agb: String,
    pub colleague_practice_agb: String,
    /// `open`, `cancelled` or `finalised`.
    pub status: String,
    pub outcome: Option<VisitationOutcome>,
    pub outcome_remarks: Option<String>,
    pub finalised_at: Option<DateTime<Utc>>,
    /// The components of the year this visitation is scored on.
    pub components: Vec<String>,
    pub findings: Vec<Finding>,
    pub deviations: Vec<Deviation>,
    pub report: Option<ReportInfo>,
}

/// A year's components.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"cycle_year": 2026, "components": ["kwaliteitsregister_paramedici", "annual_plan"], "frozen": false}))]
pub struct ComponentList {
    pub cycle_year: u16,
    pub components: Vec<String>,
    /// Findings of the year exist: the list can no longer change.
    pub frozen: bool,
}

/// The components to score the year's visitations on.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"components": ["records", "hygiene", "complaints", "communication", "quality_report", "logistics", "entrepreneurship", "quality_policy"]}))]
pub struct ComponentListInput {
    #[schema(schema_with = component_list_schema)]
    pub components: Vec<String>,
}

/// 1 to 50 distinct component names (see `settings::valid_component`).
fn component_list_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!(
                    "^[a-z0-9_]{{1,{}}}$",
                    crate::settings::MAX_COMPONENT_CHARS
                ))),
        )
        .min_items(Some(1))
        .max_items(Some(50))
        .unique_items(true)
        .build()
}

/// Filters of the visitation list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitationFilter {
    /// Only visitations of this cycle year.
    #[param(value_type = Option<praktijkregister_domain::CycleYear>, inline, example = 2026)]
    pub cycle_year: Option<String>,
}
