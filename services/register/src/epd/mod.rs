//! EPD authorisations (machtigingen): which EPD vendors may deliver data for a practice
//! (DESIGN §3.4, §5: an EPD vendor writes only for practices that authorised it). The practice
//! itself or the registrar grants and revokes them; revoked ones stay, as history.

pub mod repository;
pub mod routes;

use chrono::{DateTime, Utc};
use praktijkregister_platform::error::ApiError;
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

/// Who writes practice data for a practice (DESIGN §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataWriter {
    /// The registrar, for any practice.
    Registrar,
    /// An EPD vendor the practice authorised.
    Vendor(String),
    /// An EPD vendor the practice has not authorised (or no longer does).
    UnauthorisedVendor(String),
}

impl DataWriter {
    /// The vendor a write is stored under; `None` for the registrar.
    pub fn vendor(&self) -> Option<&str> {
        match self {
            Self::Registrar => None,
            Self::Vendor(vendor) | Self::UnauthorisedVendor(vendor) => Some(vendor),
        }
    }

    /// The 403 for a vendor without the practice's authorisation.
    pub fn refusal(&self, practice_agb: &str) -> Option<ApiError> {
        match self {
            Self::UnauthorisedVendor(vendor) => Some(ApiError::Forbidden(format!(
                "EPD vendor {vendor} has no authorisation of practice {practice_agb}; the practice \
                 grants one at /v1/practices/{practice_agb}/epd-authorizations/{vendor}"
            ))),
            Self::Registrar | Self::Vendor(_) => None,
        }
    }
}
