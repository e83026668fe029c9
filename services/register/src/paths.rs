//! The register's path parameters, parsed before the handler runs (see the platform's
//! `path_param!`). A malformed identifier names a resource that cannot exist: 404, as for an
//! unknown one, so that the two cannot be told apart; a malformed year is a bad request: 422.

use praktijkregister_domain::{CycleYear, EpdVendorId, OefentherapieAgb, Period, UzoviCode};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::path_param;
use praktijkregister_platform::paths::exact;
use uuid::Uuid;

path_param! {
    /// The practice (`{agb}`) of the path.
    pub struct PracticePath(OefentherapieAgb) = "agb",
        description = "AGB code of the practice", example = "07012345", schema_of = OefentherapieAgb,
        parse = |raw| OefentherapieAgb::parse(exact(raw)).map_err(|_| ApiError::not_found("practice", raw));
}

path_param! {
    /// The therapist (`{agb}`) of the path.
    pub struct TherapistPath(OefentherapieAgb) = "agb",
        description = "AGB code of the therapist", example = "07123456", schema_of = OefentherapieAgb,
        parse = |raw| OefentherapieAgb::parse(exact(raw)).map_err(|_| ApiError::not_found("therapist", raw));
}

path_param! {
    /// The therapist (`{therapist_agb}`) of a practice's or group's path.
    pub struct MemberTherapistPath(OefentherapieAgb) = "therapist_agb",
        description = "AGB code of the therapist", example = "07123456", schema_of = OefentherapieAgb,
        parse = |raw| OefentherapieAgb::parse(exact(raw)).map_err(|_| ApiError::not_found("therapist", raw));
}

path_param! {
    /// The cycle year (`{year}`) of the path.
    pub struct CycleYearPath(CycleYear) = "year",
        description = "Cycle year", example = 2026, schema_of = CycleYear,
        parse = |raw| CycleYear::parse(exact(raw)).map_err(|e| ApiError::invalid("year", &e));
}

path_param! {
    /// The year (`{year}`) of a practice's deliveries.
    pub struct DeliveryYearPath(CycleYear) = "year",
        description = "Year of the deliveries", example = 2026, schema_of = CycleYear,
        parse = |raw| CycleYear::parse(exact(raw)).map_err(|e| ApiError::invalid("year", &e));
}

path_param! {
    /// The year (`{year}`) a treatment index was computed over.
    pub struct IndexYearPath(CycleYear) = "year",
        description = "The year the index was computed over", example = 2025, schema_of = CycleYear,
        parse = |raw| CycleYear::parse(exact(raw)).map_err(|e| ApiError::invalid("year", &e));
}

path_param! {
    /// The year (`{year}`) of an IOP.
    pub struct IopYearPath(CycleYear) = "year",
        description = "The year of the IOP", example = 2026, schema_of = CycleYear,
        parse = |raw| CycleYear::parse(exact(raw)).map_err(|e| ApiError::invalid("year", &e));
}

path_param! {
    /// The month (`{period}`, `YYYY-MM`) of a delivery or PREM result.
    pub struct PeriodPath(Period) = "period",
        description = "The month, YYYY-MM", example = "2026-10", schema_of = Period,
        parse = |raw| Period::parse(exact(raw)).map_err(|e| ApiError::invalid("period", &e));
}

path_param! {
    /// The insurer (`{uzovi}`) of a consent.
    pub struct InsurerPath(UzoviCode) = "uzovi",
        description = "UZOVI code of the insurer", example = "7095", schema_of = UzoviCode,
        parse = |raw| UzoviCode::parse(exact(raw)).map_err(|e| ApiError::invalid("uzovi", &e));
}

path_param! {
    /// The EPD vendor (`{vendor_id}`) of an authorisation.
    pub struct VendorPath(EpdVendorId) = "vendor_id",
        description = "The EPD vendor's id", example = "acme-epd", schema_of = EpdVendorId,
        parse = |raw| EpdVendorId::parse(exact(raw)).map_err(|e| ApiError::invalid("vendor_id", &e));
}

path_param! {
    /// The annual plan (`{id}`) of the path.
    pub struct AnnualPlanPath(Uuid) = "id",
        description = "The plan's id", schema = uuid,
        parse = |raw| Uuid::parse_str(exact(raw)).map_err(|_| ApiError::not_found("annual plan", raw));
}

path_param! {
    /// The intervision group (`{id}`) of the path.
    pub struct GroupPath(Uuid) = "id",
        description = "The group's id", schema = uuid,
        parse = |raw| Uuid::parse_str(exact(raw)).map_err(|_| ApiError::not_found("intervision group", raw));
}

path_param! {
    /// The API client (`{client_id}`) of the path.
    pub struct ClientPath(String) = "client_id",
        description = "The client id",
        parse = |raw| Ok(raw.to_string());
}

path_param! {
    /// The intervision invitation (`{id}`) of the path.
    pub struct InvitationPath(Uuid) = "id",
        description = "The invitation's id", schema = uuid,
        parse = |raw| Uuid::parse_str(exact(raw)).map_err(|_| ApiError::not_found("intervision invitation", raw));
}
