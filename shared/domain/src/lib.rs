//! Pure domain of the VvOCM praktijkregister: identifiers validated at the edge, the years of the
//! registration cycle, register tiers and API client roles. No I/O.

mod client_role;
mod cycle_calendar;
mod cycle_year;
mod error;
mod identifiers;
mod practice_tier;
mod registration;

pub use client_role::ClientRole;
pub use cycle_calendar::{
    amsterdam_date, deadline_instant, CalendarDefaults, CalendarError, CalendarField,
    CycleCalendar, MonthDay, MonthDayError,
};
pub use cycle_year::{ContractYear, CycleYear};
pub use error::IdentifierError;
pub use identifiers::{
    zorgsoort, AgbCode, EmailAddress, KpNumber, KpStatus, KvkBranchNumber, KvkNumber,
    OefentherapieAgb, PhoneNumber, PostalCode, UzoviCode,
};
pub use practice_tier::PracticeTier;
pub use registration::{
    allowed_next, kp_requirement, therapists_lacking_kp, transition, IllegalTransition,
    KpRequirement, RegistrationEvent, RegistrationState, TherapistKp, UnknownRegistrationState,
};
