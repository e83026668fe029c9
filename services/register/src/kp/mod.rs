//! Kwaliteitsregister Paramedici (KP) data: CSV import, verification of one therapist, runs that
//! re-verify every therapist, and the expiry watch (DESIGN §3.1).

pub mod expiries;
pub mod import;
pub mod paths;
pub mod repository;
pub mod routes;
pub mod runs;
pub mod runs_routes;
pub mod schedule;
pub mod verifier;

use chrono::{DateTime, NaiveDate, Utc};
use praktijkregister_domain::KpStatus;
use praktijkregister_platform::error::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a therapist's KP data came from (bron).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KpSource {
    /// A CSV export of KP, imported by the registrar.
    Import,
    /// A lookup through the configured KP verifier.
    Verifier,
    /// Entered by the registrar (a KP number without status yet).
    Registrar,
}

praktijkregister_domain::wire_names!(KpSource, error = UnknownKpSource, unknown = UnknownKpSource, {
    Import = "import",
    Verifier = "verifier",
    Registrar = "registrar",
});

/// A KP source name that is not one of [`KpSource::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a KP source is one of import, verifier or registrar")]
pub struct UnknownKpSource;

/// A therapist's registration in the Kwaliteitsregister Paramedici (KP-registratie).
/// Every field is null until it is known; a new KP number has no status until it is verified or imported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "number": "123456", "status": "kwaliteitsgeregistreerd", "valid_from": "2024-01-01",
    "valid_until": "2028-12-31", "verified_at": "2026-10-01T09:00:00Z", "source": "import"
}))]
pub struct KpRegistration {
    /// KP-nummer.
    pub number: Option<String>,
    pub status: Option<KpStatus>,
    /// Start of the registration period.
    pub valid_from: Option<NaiveDate>,
    /// End of the registration period (normally 5 years after the start).
    pub valid_until: Option<NaiveDate>,
    /// When the status was last confirmed by an import or the verifier.
    pub verified_at: Option<DateTime<Utc>>,
    pub source: Option<KpSource>,
}

/// What happened to one row of a KP import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    /// Stored.
    Applied,
    /// Valid and would be stored; only in a dry run.
    WouldApply,
    /// Invalid or conflicting; see the reasons. Nothing of the row is stored.
    Rejected,
    /// Valid, but the therapist is not in this register (KP lists all paramedics); ignored.
    Skipped,
}

/// One data row of a KP import and its outcome.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "line": 3, "kp_number": "123457", "agb": "04123456", "outcome": "rejected",
    "reasons": [{"field": "agb", "code": "agb_zorgsoort", "message": "zorgsoort 04 is not oefentherapie (07); this register only holds oefentherapie practices and therapists"}]
}))]
pub struct ImportRowReport {
    /// Line in the file where the row starts; the header is line 1.
    pub line: u64,
    /// The KP number as given in the row.
    pub kp_number: Option<String>,
    /// The AGB code as given in the row.
    pub agb: Option<String>,
    pub outcome: ImportOutcome,
    /// Why the row was rejected or skipped; empty otherwise.
    pub reasons: Vec<FieldError>,
}

/// Row counts of a KP import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"rows": 4, "applied": 2, "would_apply": 0, "rejected": 1, "skipped": 1}))]
pub struct ImportTotals {
    /// Data rows in the file (the header not counted).
    pub rows: usize,
    /// Rows stored.
    pub applied: usize,
    /// Rows that a dry run found valid; always 0 when not a dry run.
    pub would_apply: usize,
    pub rejected: usize,
    pub skipped: usize,
}

/// The processing report of a KP import.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "import_id": "01933b4e-7f00-7c3a-9a1e-5b7f0e1d2c3a",
    "dry_run": false,
    "applied": true,
    "totals": {"rows": 2, "applied": 1, "would_apply": 0, "rejected": 1, "skipped": 0},
    "rows": [
        {"line": 2, "kp_number": "123456", "agb": "07123456", "outcome": "applied", "reasons": []},
        {"line": 3, "kp_number": "123457", "agb": "07123457", "outcome": "rejected",
         "reasons": [{"field": "valid_until", "code": "date_order", "message": "valid_until is before valid_from"}]}
    ]
}))]
pub struct ImportReport {
    /// Identifies the import in the audit log.
    pub import_id: String,
    pub dry_run: bool,
    /// Whether anything was written: false for a dry run and when no row was valid.
    pub applied: bool,
    pub totals: ImportTotals,
    /// Every data row, in file order.
    pub rows: Vec<ImportRowReport>,
}
