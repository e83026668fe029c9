//! Pure domain of the VvOCM praktijkregister, the rules every service shares (DESIGN §2, §3):
//!
//! - identifiers validated at the edge and kept as newtypes: AGB, KvK, KP, UZOVI, contact data
//!   (DESIGN §3.1), and the roles of API clients (DESIGN §1);
//! - the yearly cycle: cycle and contract years, the calendar of a cycle year with its deadlines
//!   in Europe/Amsterdam, register tiers, and the registration state machine with the KP
//!   requirement (DESIGN §3.2; 000, 001);
//! - monthly practice data from the EPD: periods, the checks behind the processing report, the
//!   guard against patient data and the derived figures (DESIGN §3.4; 001 §1.3, §1.5);
//! - the conditions of 001 as compliance criteria, with configurable thresholds, the evidence they
//!   read and the answer per criterion (DESIGN §3.5);
//! - visitation: conflicts of interest, the rules of a session, who is due, the components and
//!   the outcome, and what a report must be (DESIGN §3.3; 000, 001 §1.2, 002).
//!
//! No I/O: no clock, no database, no HTTP. "Now" and everything stored are parameters. Sources are
//! cited by the names in `docs/sources.md`.

mod client_role;
mod compliance;
mod cycle_calendar;
mod cycle_year;
mod delivery;
mod error;
mod identifiers;
mod iso_date;
mod practice_tier;
mod registration;
mod text;
mod visitation;
mod wire_names;

pub use client_role::ClientRole;
pub use compliance::{
    evaluate, evaluate_criterion, ldo_fill_rate_over_months, months_with_upload,
    prem_offered_rate_over_months, quarters_ended, ComplianceReport, ComplianceStatus, CriteriaSet,
    Criterion, CriterionResult, Evidence, EvidenceItem, EvidenceValue, IntervisionMembership,
    IopEvidence, MonthEvidence, PremDomainScore, PremEvidence, SharedAddress, TherapistEvidence,
    Thresholds, ThresholdsError, TreatmentIndexEvidence, UnknownCriteriaSet, UnknownCriterion,
    VisitationEvidence,
};
pub use compliance::{evaluate_for_insurer, InsurerCriteriaApplied, InsurerCriteriaSet};
pub use cycle_calendar::{
    amsterdam_date, deadline_instant, CalendarDefaults, CalendarError, CalendarField,
    CycleCalendar, MonthDay, MonthDayError,
};
pub use cycle_year::{ContractYear, CycleYear};
pub use delivery::{
    assess_delivery, is_patient_identifier_key, looks_like_bsn, passes_bsn_elfproef, round_figure,
    AcceptedRow, DeliveryAssessment, DeliveryRowInput, DeliveryTotals, EpdVendorId, Period,
    PeriodError, RosterStatus, RowFinding, TherapistFigures, VendorIdError, VisitorId,
    LDO_FILL_RATE_NORM, MAX_COUNT, PREM_OFFERED_RATE_NORM,
};
pub use error::{CodedError, IdentifierError};
pub use identifiers::{
    zorgsoort, AgbCode, EmailAddress, KpNumber, KpStatus, KvkBranchNumber, KvkNumber,
    OefentherapieAgb, PhoneNumber, PostalCode, UzoviCode,
};
pub use iso_date::{DateError, IsoDate};
pub use practice_tier::PracticeTier;
pub use registration::{
    allowed_next, check_visitation_date, kp_requirement, therapists_lacking_kp, transition,
    IllegalTransition, KpRequirement, RegistrationEvent, RegistrationState, TherapistKp,
    UnknownRegistrationState, VisitationDateError,
};
pub use text::{
    Lines, Text, TextError, BLANK_PATTERN as TEXT_BLANK_PATTERN,
    LINES_PATTERN as TEXT_LINES_PATTERN, ONE_LINE_PATTERN as TEXT_LINE_PATTERN,
};
pub use visitation::{
    check_outcome, check_pdf, counted_visitation, normalise_address, practice_conflicts,
    session_violations, unexplained_deviations, visitation_due, visitor_conflicts, week_start,
    ComponentScore, Conflict, DeclaredRelation, DueReason, IndicatorDeviation, NotDueReason,
    OutcomeError, PartOfDay, PracticeProfile, PracticeStanding, RelationParty, ReportDigest,
    ReportDigestError, ReportError, SessionDay, SessionParties, UnknownPartOfDay, Violation,
    VisitorProfile, VisitorStanding, DEFAULT_COMPONENTS, OUTCOME_INDICATORS,
};
