//! Named constructors of the register's common problems, so that the same situation is always
//! answered with the same words: `ApiError::practice_not_found(&agb)`.

use std::fmt::Display;

use praktijkregister_platform::conditional::etag;
use praktijkregister_platform::error::ApiError;

pub trait Problems {
    /// 404: no such practice, or another tenant's (hidden).
    fn practice_not_found(agb: &impl Display) -> Self;
    /// 404: no such therapist, or one the caller may not see.
    fn therapist_not_found(agb: &impl Display) -> Self;
    /// 404: no such annual plan, or another practice's.
    fn annual_plan_not_found(id: &impl Display) -> Self;
    /// 404: no such intervision group, or one the caller may not see.
    fn group_not_found(id: &impl Display) -> Self;
    /// 404: no such API client.
    fn client_not_found(id: &impl Display) -> Self;
    /// 404: the practice has no registration for the cycle year.
    fn registration_not_found(agb: &impl Display, year: &impl Display) -> Self;
    /// 412: `kind` `id` changed since the version the caller read.
    fn changed_since(kind: &str, id: &impl Display, current_version: i32) -> Self;
}

impl Problems for ApiError {
    fn practice_not_found(agb: &impl Display) -> Self {
        Self::not_found("practice", agb)
    }

    fn therapist_not_found(agb: &impl Display) -> Self {
        Self::not_found("therapist", agb)
    }

    fn annual_plan_not_found(id: &impl Display) -> Self {
        Self::not_found("annual plan", id)
    }

    fn group_not_found(id: &impl Display) -> Self {
        Self::not_found("intervision group", id)
    }

    fn client_not_found(id: &impl Display) -> Self {
        Self::not_found("client", id)
    }

    fn registration_not_found(agb: &impl Display, year: &impl Display) -> Self {
        Self::NotFound(format!("practice {agb} has no registration for {year}"))
    }

    fn changed_since(kind: &str, id: &impl Display, current_version: i32) -> Self {
        Self::PreconditionFailed(format!(
            "{kind} {id} has changed; read it again (current ETag {})",
            etag(current_version)
        ))
    }
}
