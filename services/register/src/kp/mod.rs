//! Kwaliteitsregister Paramedici (KP) data: CSV import and verification (DESIGN §3.1).

pub mod routes;
pub mod verifier;
