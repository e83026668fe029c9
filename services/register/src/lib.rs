//! The register service: API clients and tokens, practices, therapists and their
//! Kwaliteitsregister Paramedici data.

pub mod access;
pub mod annual_plans;
pub mod audit_trail;
pub mod benchmark;
pub mod bootstrap;
pub mod clients;
pub mod consents;
pub mod credentials;
pub mod cycles;
pub mod deliveries;
pub mod demo;
pub mod epd;
pub mod evidence;
pub mod export_events;
pub mod improvement_plans;
pub mod intervision;
pub mod kp;
pub mod national;
pub mod oauth;
pub mod overview;
pub mod paths;
pub mod practices;
pub mod prem;
pub mod problems;
pub mod public;
pub mod quality;
pub mod registrations;
pub mod revocations;
pub mod schema;
pub mod scopes;
pub mod settings;
pub mod startup;
pub mod therapists;
pub mod visitation_directory;
