//! The insurer-export service: insurers and the criteria they apply, the register's events about
//! the practices on their lists, the signed snapshot of 1 November with eligibility per criterion
//! (as JSON, CSV and FHIR), the change feed after it and webhooks that push each change.

pub mod changes;
pub mod demo;
pub mod events;
pub mod insurers;
pub mod paths;
pub mod resync;
pub mod schedule;
pub mod schema;
pub mod settings;
pub mod snapshots;
pub mod startup;
pub mod verify;
pub mod webhooks;
