//! The directory of a cycle year's practices for the visitation service (DESIGN §2, §3.3): what
//! it needs to check conflicts of interest, list who is due and plan, read in a few set-based
//! queries so that the nation's practices come in one answer.

pub mod repository;
pub mod routes;
