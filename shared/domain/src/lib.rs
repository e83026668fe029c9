//! Pure domain of the VvOCM praktijkregister: identifiers validated at the edge, the years of the
//! registration cycle, register tiers and API client roles. No I/O.

mod client_role;
mod cycle_year;
mod error;
mod identifiers;
mod practice_tier;

pub use client_role::ClientRole;
pub use cycle_year::{ContractYear, CycleYear};
pub use error::IdentifierError;
pub use identifiers::{
    zorgsoort, AgbCode, EmailAddress, KpNumber, KpStatus, KvkBranchNumber, KvkNumber,
    OefentherapieAgb, PhoneNumber, PostalCode, UzoviCode,
};
pub use practice_tier::PracticeTier;
