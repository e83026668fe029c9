//! The planner.

pub mod routes;
