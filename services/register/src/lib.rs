//! The register service: API clients and tokens, practices, therapists and their
//! Kwaliteitsregister Paramedici data.

pub mod bootstrap;
pub mod clients;
pub mod credentials;
pub mod kp;
pub mod oauth;
pub mod practices;
pub mod schema;
pub mod signing;
pub mod startup;
pub mod therapists;
