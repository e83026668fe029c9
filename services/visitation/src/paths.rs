//! The service's path parameters, parsed before the handler runs: a malformed identifier names a
//! resource that cannot exist (404, like an unknown one); a malformed year is a bad request (422).

use praktijkregister_domain::{CycleYear, VisitorId};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::path_param;
use uuid::Uuid;

path_param! {
    /// The visitor (`{id}`) of the path.
    pub struct VisitorPath(VisitorId) = "id",
        description = "The visitor's id", example = "visitor-1",
        parse = |raw| VisitorId::parse(raw).map_err(|_| ApiError::not_found("visitor", raw));
}

path_param! {
    /// The session (`{id}`) of the path.
    pub struct SessionPath(Uuid) = "id",
        description = "The session's id", example = "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d30",
        parse = |raw| Uuid::parse_str(raw).map_err(|_| ApiError::not_found("visitation session", raw));
}

path_param! {
    /// The visitation (`{id}`) of the path.
    pub struct VisitationPath(Uuid) = "id",
        description = "The visitation's id", example = "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d31",
        parse = |raw| Uuid::parse_str(raw).map_err(|_| ApiError::not_found("visitation", raw));
}

path_param! {
    /// The cycle year (`{year}`) of the path.
    pub struct CycleYearPath(CycleYear) = "year",
        description = "Cycle year", example = 2026, schema_of = CycleYear,
        parse = |raw| CycleYear::parse(if raw.trim() == raw { raw } else { "\u{0}" })
            .map_err(|e| ApiError::invalid("year", &e));
}
