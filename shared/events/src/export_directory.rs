//! The register's directory of every practice with its registrations and consents, as the
//! insurer-export service reads it to (re)load its copy (DESIGN §2: no service reads another's
//! tables). The register answers it at `GET /v1/internal/export-directory`. Every time in it is
//! the time of the last change, the same as the `occurred_at` of the event that reported it, so
//! that a copy loaded from it and the events delivered after it agree on which is newer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::PracticeLocation;

/// Every practice of the register with what the insurers' list shows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "practices": [{
        "agb": "07012345", "name": "Oefentherapie Centrum", "kvk_number": "12345678",
        "tier": "praktijkregister", "updated_at": "2026-03-02T09:00:00Z",
        "locations": [{"agb": "07999999", "kvk_branch_number": "000012345678", "street": "Dorpsstraat",
                       "house_number": "12a", "postal_code": "3512AB", "city": "Utrecht"}],
        "registrations": [{"cycle_year": 2026, "state": "registered",
                           "registered_at": "2026-09-14T10:00:00Z", "updated_at": "2026-09-14T10:00:00Z"}],
        "consents": [{"insurer_uzovi": "3311", "given": true, "updated_at": "2026-04-01T08:00:00Z"}]
    }]
}))]
pub struct ExportDirectory {
    /// By AGB.
    pub practices: Vec<ExportDirectoryPractice>,
}

/// One practice: its data, its registration per cycle year and its consent per insurer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportDirectoryPractice {
    pub agb: String,
    pub name: String,
    pub kvk_number: String,
    pub tier: String,
    /// The practice's last change.
    pub updated_at: DateTime<Utc>,
    pub locations: Vec<PracticeLocation>,
    /// By cycle year.
    pub registrations: Vec<ExportDirectoryRegistration>,
    /// By insurer; a revoked consent is listed as not given.
    pub consents: Vec<ExportDirectoryConsent>,
}

/// The registration of one cycle year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportDirectoryRegistration {
    pub cycle_year: u16,
    pub state: String,
    /// When it became registered; `None` while it never was.
    pub registered_at: Option<DateTime<Utc>>,
    /// The registration's last state change.
    pub updated_at: DateTime<Utc>,
}

/// The consent (toestemming) to share quality data with one insurer (001 §1.3c).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportDirectoryConsent {
    pub insurer_uzovi: String,
    pub given: bool,
    /// When it was given or, if revoked, revoked.
    pub updated_at: DateTime<Utc>,
}
