use thiserror::Error;

use crate::cycle_year::{ContractYear, CycleYear};
use crate::identifiers::zorgsoort;

/// Why a value from outside (request body, path parameter, CSV import) was refused.
///
/// Each variant names the rule that was broken. [`IdentifierError::code`] is a stable machine code
/// and the `Display` text an English message a caller can show as is; the API layer puts both in
/// the `errors[{field, code, message}]` of a problem+json response.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdentifierError {
    #[error("an AGB code is exactly 8 digits")]
    AgbFormat,
    #[error(
        "zorgsoort {found} is not oefentherapie ({}); this register only holds oefentherapie \
         practices and therapists",
        zorgsoort::OEFENTHERAPIE
    )]
    AgbZorgsoort { found: String },
    #[error("a KvK number is exactly 8 digits")]
    KvkFormat,
    #[error("a KvK vestigingsnummer (branch number) is exactly 12 digits")]
    KvkBranchFormat,
    #[error("a KP number (Kwaliteitsregister Paramedici) is 1 to 12 digits")]
    KpFormat,
    #[error(
        "a KP status is one of kwaliteitsgeregistreerd, diplomageregistreerd or not_registered"
    )]
    KpStatus,
    #[error("a UZOVI code is exactly 4 digits")]
    UzoviFormat,
    #[error(
        "a Dutch postal code is 4 digits, the first not 0, followed by 2 letters, e.g. 1234 AB"
    )]
    PostalCodeFormat,
    #[error("postal code letters {letters} are not issued in the Netherlands (SA, SD and SS are never used)")]
    PostalCodeLetters { letters: String },
    #[error(
        "an e-mail address has exactly one @, a non-empty part before it, a domain with a dot \
         after it, no spaces, and at most 254 characters"
    )]
    EmailFormat,
    #[error(
        "a phone number is 0 followed by 9 digits (e.g. 020 123 4567), or + or 00 followed by \
         8 to 15 digits starting with the country code (e.g. +31 20 123 4567, with 9 digits \
         after 31 for Dutch numbers); spaces, dashes, dots and parentheses are ignored"
    )]
    PhoneFormat,
    #[error("a year is 4 digits, e.g. 2026")]
    YearFormat,
    #[error("cycle year {year} is outside {min}..={max}", min = CycleYear::MIN, max = CycleYear::MAX)]
    CycleYearRange { year: u16 },
    #[error("contract year {year} is outside {min}..={max}", min = ContractYear::MIN, max = ContractYear::MAX)]
    ContractYearRange { year: u16 },
    #[error(
        "a client role is one of registrar, practice, epd_vendor, insurer, visitor or service"
    )]
    ClientRole,
    #[error("a practice tier is praktijkregister or basispraktijkregister")]
    PracticeTier,
}

/// An error of the domain with a stable machine code beside its English message: the API layer
/// builds every validation problem (`errors[{field, code, message}]`) the same way from it.
pub trait CodedError: std::fmt::Display {
    /// Stable snake_case code for machines; never reworded, unlike the message.
    fn code(&self) -> &'static str;
}

impl IdentifierError {
    /// Stable snake_case code for machines; never reworded, unlike the message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AgbFormat => "agb_format",
            Self::AgbZorgsoort { .. } => "agb_zorgsoort",
            Self::KvkFormat => "kvk_format",
            Self::KvkBranchFormat => "kvk_branch_format",
            Self::KpFormat => "kp_format",
            Self::KpStatus => "kp_status",
            Self::UzoviFormat => "uzovi_format",
            Self::PostalCodeFormat => "postal_code_format",
            Self::PostalCodeLetters { .. } => "postal_code_letters",
            Self::EmailFormat => "email_format",
            Self::PhoneFormat => "phone_format",
            Self::YearFormat => "year_format",
            Self::CycleYearRange { .. } | Self::ContractYearRange { .. } => "year_range",
            Self::ClientRole => "client_role",
            Self::PracticeTier => "practice_tier",
        }
    }
}

/// Every domain error with an inherent `code` implements [`CodedError`] through it.
macro_rules! coded_errors {
    ($($ty:ty),+ $(,)?) => {
        $(impl CodedError for $ty {
            fn code(&self) -> &'static str {
                <$ty>::code(self)
            }
        })+
    };
}

coded_errors!(
    IdentifierError,
    crate::UnknownRegistrationState,
    crate::IllegalTransition,
    crate::UnknownCriteriaSet,
    crate::UnknownCriterion,
    crate::ThresholdsError,
    crate::PeriodError,
    crate::VendorIdError,
    crate::CalendarError,
    crate::MonthDayError,
    crate::VisitationDateError,
    crate::UnknownPartOfDay,
    crate::ReportError,
    crate::ReportDigestError,
    crate::OutcomeError,
);
