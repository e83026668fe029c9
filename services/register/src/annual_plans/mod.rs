//! Annual plans (jaarplannen): submitted as PDF by the practice, assessed once by the registrar.
//! Their events drive the practice's registration for the cycle year (000; DESIGN §3.2).

pub mod repository;
pub mod routes;

use chrono::{DateTime, Utc};
use praktijkregister_domain::CycleYear;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Beoordeling: the registrar's decision on an annual plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Goedgekeurd: a visitation can be planned.
    Approved,
    /// Afgekeurd: the practice may resubmit until the visitation deadline.
    Rejected,
}

praktijkregister_domain::wire_names!(Decision, error = UnknownDecision, unknown = UnknownDecision, {
    Approved = "approved",
    Rejected = "rejected",
});

/// A decision name that is not one of [`Decision::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a decision is approved or rejected")]
pub struct UnknownDecision;

/// Longest remarks of an assessment.
pub const MAX_REMARKS: usize = 4000;

/// Where an annual plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    AwaitingAssessment,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Assessment {
    pub decision: Decision,
    pub remarks: Option<String>,
    pub assessed_at: DateTime<Utc>,
    pub assessed_by: String,
}

/// One submitted version of a practice's annual plan for a cycle year; the document itself is at
/// `/v1/annual-plans/{id}/document`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "practice_agb": "07012345", "cycle_year": 2026, "version": 1,
    "filename": "jaarplan-2026.pdf", "size_bytes": 183224,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "submitted_at": "2026-05-02T09:30:00Z", "submitted_by": "0193a1f2-0000-7000-8000-000000000001",
    "status": "approved",
    "assessment": {"decision": "approved", "remarks": "Clear goals.", "assessed_at": "2026-05-20T14:00:00Z", "assessed_by": "registrar"}
}))]
pub struct AnnualPlan {
    pub id: uuid::Uuid,
    pub practice_agb: String,
    pub cycle_year: u16,
    /// 1 for the first submission of the year, then one more per resubmission.
    pub version: i32,
    pub filename: Option<String>,
    pub size_bytes: i64,
    /// SHA-256 of the document, hex.
    pub sha256: String,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: String,
    pub status: PlanStatus,
    pub assessment: Option<Assessment>,
}

/// Query of a submission: the document is the body (`application/pdf`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubmitParams {
    /// The cycle year the plan is for.
    #[param(value_type = CycleYear, inline, example = 2026)]
    pub cycle_year: Option<String>,
    /// The file name to keep with the document.
    #[param(example = "jaarplan-2026.pdf")]
    pub filename: Option<String>,
}

/// Filter of the plan list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanListParams {
    /// Only plans of this cycle year.
    #[param(value_type = Option<CycleYear>, inline, example = 2026)]
    pub cycle_year: Option<String>,
}

/// The registrar's assessment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "rejected", "remarks": "The evaluation of last year's goals is missing."}))]
pub struct AssessmentRequest {
    pub decision: Decision,
    /// Required with `rejected`: what the practice must change.
    #[schema(format = "text-lines-or-blank", max_length = 4000)]
    pub remarks: Option<String>,
}

/// A PDF starts with `%PDF-` (ISO 32000-1 §7.5.2); checked on the content, not on the declared type.
pub fn looks_like_pdf(document: &[u8]) -> bool {
    document.starts_with(b"%PDF-")
}

#[cfg(test)]
mod tests {
    use super::looks_like_pdf;

    #[test]
    fn a_pdf_is_recognised_by_its_header_only() {
        assert!(looks_like_pdf(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"));
        assert!(!looks_like_pdf(b"PK\x03\x04 a zip or docx"));
        assert!(!looks_like_pdf(b" %PDF-1.7"));
        assert!(!looks_like_pdf(b""));
    }
}
