//! EPD authorisations (machtigingen): which EPD vendors may deliver data for a practice
//! (DESIGN §3.4, §5: an EPD vendor writes only for practices that authorised it). The practice
//! itself or the registrar grants and revokes them; revoked ones stay, as history.

pub mod repository;
pub mod routes;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A practice's authorisation of an EPD vendor (machtiging): active until revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "practice_agb": "07012345", "epd_vendor": "acme-epd", "active": true,
    "authorized_at": "2026-10-01T09:00:00Z", "authorized_by": "0193a1f2-0000-7000-8000-000000000001",
    "revoked_at": null, "revoked_by": null
}))]
pub struct EpdAuthorization {
    pub practice_agb: String,
    /// The vendor's id, as bound to its API clients (`epd_vendor`).
    pub epd_vendor: String,
    /// Whether the vendor may deliver for the practice now.
    pub active: bool,
    /// When it was (last) granted; a new grant after a revocation sets it again.
    pub authorized_at: DateTime<Utc>,
    /// The API client that granted it.
    pub authorized_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}
