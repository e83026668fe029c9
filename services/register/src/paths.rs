//! The register's path parameters, parsed before the handler runs (see the platform's
//! `path_param!`). A malformed identifier names a resource that cannot exist: 404, as for an
//! unknown one, so that the two cannot be told apart; a malformed year is a bad request: 422.

use praktijkregister_domain::{CycleYear, OefentherapieAgb};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::path_param;

path_param! {
    /// The practice (`{agb}`) of the path.
    pub struct PracticePath(OefentherapieAgb) = "agb",
        description = "AGB code of the practice", example = "07012345",
        parse = |raw| OefentherapieAgb::parse(raw).map_err(|_| ApiError::not_found("practice", raw));
}

path_param! {
    /// The therapist (`{agb}`) of the path.
    pub struct TherapistPath(OefentherapieAgb) = "agb",
        description = "AGB code of the therapist", example = "07123456",
        parse = |raw| OefentherapieAgb::parse(raw).map_err(|_| ApiError::not_found("therapist", raw));
}

path_param! {
    /// The therapist (`{therapist_agb}`) of a practice's or group's path.
    pub struct MemberTherapistPath(OefentherapieAgb) = "therapist_agb",
        description = "AGB code of the therapist", example = "07123456",
        parse = |raw| OefentherapieAgb::parse(raw).map_err(|_| ApiError::not_found("therapist", raw));
}

path_param! {
    /// The cycle year (`{year}`) of the path.
    pub struct CycleYearPath(CycleYear) = "year",
        description = "Cycle year", example = 2026, schema = integer,
        parse = |raw| CycleYear::parse(raw.trim()).map_err(|e| ApiError::invalid("year", &e));
}
