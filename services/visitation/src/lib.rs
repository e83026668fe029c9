//! The visitation service: visitors, declared relations, conflict-free reciprocal sessions,
//! findings, reports and outcomes, the due list and the planner (DESIGN §3.3). Practices come
//! from the register's directory; what happens here reaches the register through the outbox.

pub mod demo;
pub mod directory;
pub mod due;
pub mod events;
pub mod paths;
pub mod planner;
pub mod relations;
pub mod schema;
pub mod scopes;
pub mod sessions;
pub mod settings;
pub mod startup;
pub mod visitations;
pub mod visitors;

use praktijkregister_domain::CycleYear;
use praktijkregister_platform::error::ApiError;

/// A `cycle_year` query filter: absent, or a valid cycle year (422 naming the field otherwise).
pub fn parse_year_filter(raw: Option<&str>) -> Result<Option<i32>, ApiError> {
    raw.map(|raw| {
        CycleYear::parse(raw)
            .map(|year| i32::from(year.value()))
            .map_err(|e| ApiError::invalid("cycle_year", &e))
    })
    .transpose()
}
