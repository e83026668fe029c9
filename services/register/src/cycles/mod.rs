//! The calendar of each cycle year: configured defaults, overridden per year by the registrar.

pub mod repository;
pub mod routes;

use chrono::{DateTime, NaiveDate, Utc};
use praktijkregister_domain::IsoDate;
use praktijkregister_domain::{CycleCalendar, CycleYear};
use praktijkregister_platform::error::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a year's calendar comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CalendarSource {
    /// The configured defaults.
    Default,
    /// Set for this year by the registrar.
    Override,
}

/// A cycle year's calendar, with the instants the deadlines pass (Europe/Amsterdam midnight).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "cycle_year": 2026, "annual_plan_deadline": "2026-07-01", "visitation_deadline": "2026-10-15",
    "entry_visitation_deadline": "2026-11-01", "export_date": "2026-11-01",
    "annual_plan_deadline_at": "2026-06-30T22:00:00Z", "resubmission_deadline_at": "2026-10-15T22:00:00Z",
    "contract_year": 2027, "treatment_index_year": 2025, "source": "default"
}))]
pub struct CycleCalendarView {
    pub cycle_year: u16,
    /// Uiterste datum jaarplan: a first annual plan must be received before this day (000).
    pub annual_plan_deadline: NaiveDate,
    /// Laatste visitatiedatum: the last day a visitation can take place, and a rejected plan be resubmitted (000).
    pub visitation_deadline: NaiveDate,
    /// Uiterste datum entreevisitatie: a new practice must have passed its entry visitation before this day (001 §1.2a).
    pub entry_visitation_deadline: NaiveDate,
    /// Exportdatum: the list of registered practices goes to the insurers (000, 001 §2.2).
    pub export_date: NaiveDate,
    /// The instant the annual plan deadline passes.
    pub annual_plan_deadline_at: DateTime<Utc>,
    /// The instant after which a rejected plan can no longer be resubmitted.
    pub resubmission_deadline_at: DateTime<Utc>,
    /// The contract year the registrations of this cycle serve (Y+1).
    pub contract_year: u16,
    /// The year of the national treatment index (behandelindex) used (Y-1, 001).
    pub treatment_index_year: u16,
    pub source: CalendarSource,
}

impl CycleCalendarView {
    pub fn new(calendar: &CycleCalendar, source: CalendarSource) -> Self {
        Self {
            cycle_year: calendar.year().value(),
            annual_plan_deadline: calendar.annual_plan_deadline(),
            visitation_deadline: calendar.visitation_deadline(),
            entry_visitation_deadline: calendar.entry_visitation_deadline(),
            export_date: calendar.export_date(),
            annual_plan_deadline_at: calendar.annual_plan_deadline_instant(),
            resubmission_deadline_at: calendar.resubmission_deadline_instant(),
            contract_year: calendar.contract_year().value(),
            treatment_index_year: calendar.treatment_index_year(),
            source,
        }
    }
}

/// The four dates of a year's calendar, as the registrar sets them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "annual_plan_deadline": "2026-07-01", "visitation_deadline": "2026-10-15",
    "entry_visitation_deadline": "2026-11-01", "export_date": "2026-11-01"
}))]
pub struct CalendarOverride {
    pub annual_plan_deadline: IsoDate,
    pub visitation_deadline: IsoDate,
    pub entry_visitation_deadline: IsoDate,
    pub export_date: IsoDate,
}

impl CalendarOverride {
    pub fn parse(self, year: CycleYear) -> Result<CycleCalendar, ApiError> {
        CycleCalendar::new(
            year,
            self.annual_plan_deadline.date(),
            self.visitation_deadline.date(),
            self.entry_visitation_deadline.date(),
            self.export_date.date(),
        )
        .map_err(|e| ApiError::field(e.field().as_str(), e.code(), &e))
    }
}

/// Parses a year given as text (path or query) under `field`: 4 digits, within the cycle years.
pub fn parse_year(raw: &str, field: &str) -> Result<CycleYear, ApiError> {
    CycleYear::parse(raw.trim()).map_err(|e| ApiError::field(field, e.code(), &e))
}
