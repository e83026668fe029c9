//! Declared relations: business ties the registrar records between two practices, or between a
//! visitor and a practice (001 §1.2c "verbonden of zakelijk belang"), with a reason and a period.
//! While one holds, the two may not be paired in a session.

pub mod repository;
pub mod routes;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A relation to declare: a practice and either another practice or a visitor.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "practice_agb": "07012345", "other_practice_agb": "07054321",
    "reason": "same owner since 2024", "valid_from": "2024-01-01"
}))]
pub struct NewRelation {
    #[schema(value_type = praktijkregister_domain::OefentherapieAgb, inline)]
    pub practice_agb: String,
    /// The other practice; exactly one of this and `visitor_id`.
    #[schema(value_type = Option<praktijkregister_domain::OefentherapieAgb>, inline)]
    pub other_practice_agb: Option<String>,
    /// The visitor; exactly one of this and `other_practice_agb`.
    #[schema(value_type = Option<praktijkregister_domain::VisitorId>, inline)]
    pub visitor_id: Option<String>,
    #[schema(format = "text-lines", max_length = 2000)]
    pub reason: String,
    pub valid_from: NaiveDate,
    /// Last day (inclusive); absent: open.
    pub valid_until: Option<NaiveDate>,
}

/// A declared relation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d40", "practice_agb": "07012345",
    "other_practice_agb": "07054321", "visitor_id": null, "reason": "same owner since 2024",
    "valid_from": "2024-01-01", "valid_until": null
}))]
pub struct Relation {
    pub id: Uuid,
    pub practice_agb: String,
    pub other_practice_agb: Option<String>,
    pub visitor_id: Option<String>,
    pub reason: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}
