//! The visitation service's scopes (DESIGN §5). A visitor client is bound to one visitor and sees
//! only their own sessions and visitations; a practice client sees its own visitations, findings
//! and report; the registrar sees all. The register's service client holds none of these: it
//! posts nothing to the visitation service.

use praktijkregister_domain::ClientRole;
use praktijkregister_platform::auth::Scope;

use ClientRole::{Practice, Registrar, Visitor};

pub const VISITORS_MANAGE: Scope = Scope::new(
    "visitors:manage",
    "Create, change and list visitors (registrar)",
    &[Registrar],
);

pub const VISITORS_READ: Scope = Scope::new(
    "visitors:read",
    "Read a visitor (a visitor: only themself)",
    &[Registrar, Visitor],
);

pub const VISITOR_AVAILABILITY_WRITE: Scope = Scope::new(
    "visitor-availability:write",
    "Declare a visitor's availability (a visitor: only their own)",
    &[Registrar, Visitor],
);

pub const DECLARED_RELATIONS_MANAGE: Scope = Scope::new(
    "declared-relations:manage",
    "Declare and read business relations between practices and visitors (registrar)",
    &[Registrar],
);

pub const VISITATION_SESSIONS_WRITE: Scope = Scope::new(
    "visitation-sessions:write",
    "Plan, move and cancel visitation sessions (registrar)",
    &[Registrar],
);

pub const VISITATION_SESSIONS_READ: Scope = Scope::new(
    "visitation-sessions:read",
    "Read visitation sessions (a visitor: only their own)",
    &[Registrar, Visitor],
);

pub const VISITATIONS_READ: Scope = Scope::new(
    "visitations:read",
    "Read visitations and their findings (a visitor: their own; a practice: its own)",
    &[Registrar, Visitor, Practice],
);

pub const FINDINGS_WRITE: Scope = Scope::new(
    "findings:write",
    "Record the findings of a visitation (a visitor: only their own)",
    &[Registrar, Visitor],
);

pub const REPORTS_WRITE: Scope = Scope::new(
    "visitation-reports:write",
    "Upload the report of a visitation (a visitor: only their own)",
    &[Registrar, Visitor],
);

pub const REPORTS_READ: Scope = Scope::new(
    "visitation-reports:read",
    "Download the report of a visitation (a visitor: their own; a practice: its own)",
    &[Registrar, Visitor, Practice],
);

pub const OUTCOMES_FINALISE: Scope = Scope::new(
    "visitation-outcomes:finalise",
    "Finalise the outcome of a visitation (a visitor: only their own)",
    &[Registrar, Visitor],
);

pub const VISITATION_PLAN_MANAGE: Scope = Scope::new(
    "visitation-plan:manage",
    "Read who is due, set a year's components and run the planner (registrar)",
    &[Registrar],
);

/// Every scope of the service, in the order its OpenAPI document lists them.
pub const ALL: &[Scope] = &[
    VISITORS_MANAGE,
    VISITORS_READ,
    VISITOR_AVAILABILITY_WRITE,
    DECLARED_RELATIONS_MANAGE,
    VISITATION_SESSIONS_WRITE,
    VISITATION_SESSIONS_READ,
    VISITATIONS_READ,
    FINDINGS_WRITE,
    REPORTS_WRITE,
    REPORTS_READ,
    OUTCOMES_FINALISE,
    VISITATION_PLAN_MANAGE,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_for;

    #[test]
    fn services_hold_no_visitation_scope_and_practices_only_read() {
        assert!(!ALL.iter().any(|s| s.allows(ClientRole::Service)));
        let practice: Vec<Scope> = allowed_for(Practice).filter(|s| ALL.contains(s)).collect();
        assert_eq!(practice, [VISITATIONS_READ, REPORTS_READ]);
    }
}
