//! The register service: API clients and tokens, practices, therapists and their
//! Kwaliteitsregister Paramedici data.

pub mod annual_plans;
pub mod audit_trail;
pub mod bootstrap;
pub mod clients;
pub mod credentials;
pub mod cycles;
pub mod demo;
pub mod kp;
pub mod oauth;
pub mod overview;
pub mod practices;
pub mod public;
pub mod registrations;
pub mod schema;
pub mod signing;
pub mod startup;
pub mod therapists;
