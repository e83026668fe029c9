//! Consent (toestemming) of a practice to share its practice-level quality data with an insurer
//! (001 §1.3c; DESIGN §3.6). Intervision content is never part of it.

pub mod repository;
pub mod routes;

use chrono::{DateTime, NaiveDate, Utc};
use praktijkregister_domain::IsoDate;
use praktijkregister_platform::error::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Request to grant consent, or to grant it again after a revocation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"granted_on": "2026-03-01"}))]
pub struct ConsentRequest {
    /// The day the practice gave consent; not after today (Europe/Amsterdam).
    pub granted_on: IsoDate,
}

/// A practice's consent for one insurer; `active` until it is revoked.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "practice_agb": "07012345", "insurer_uzovi": "7095", "granted_on": "2026-03-01",
    "granted_at": "2026-03-01T10:15:00Z", "granted_by": "practice-07012345",
    "active": true, "revoked_at": null, "revoked_by": null
}))]
pub struct Consent {
    pub practice_agb: String,
    /// UZOVI code of the insurer the consent is for.
    pub insurer_uzovi: String,
    pub granted_on: NaiveDate,
    /// When the consent was recorded.
    pub granted_at: DateTime<Utc>,
    /// The client that recorded it.
    pub granted_by: String,
    pub active: bool,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

impl ConsentRequest {
    /// Consent is a fact that happened: a date after `today` is refused.
    pub fn validate(&self, today: NaiveDate) -> Result<(), ApiError> {
        if self.granted_on.date() > today {
            return Err(ApiError::field(
                "granted_on",
                "date_in_future",
                format!("granted_on must not be after today ({today})"),
            ));
        }
        Ok(())
    }
}
