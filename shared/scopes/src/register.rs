//! The register's scopes (DESIGN §5).

use praktijkregister_domain::ClientRole;
use praktijkregister_platform::auth::Scope;

use ClientRole::{EpdVendor, Insurer, Practice, Registrar, Service};

pub const CLIENTS_MANAGE: Scope = Scope::new(
    "clients:manage",
    "Create, list and revoke API clients (registrar)",
    &[Registrar],
);

pub const PRACTICES_READ: Scope = Scope::new(
    "practices:read",
    "Read practices (a practice client: only its own)",
    &[Registrar, Practice, Service],
);

pub const PRACTICES_WRITE: Scope = Scope::new(
    "practices:write",
    "Create and change practices (registrar)",
    &[Registrar],
);

pub const THERAPISTS_READ: Scope = Scope::new(
    "therapists:read",
    "Read therapists and memberships (a practice client: only its own)",
    &[Registrar, Practice, Service],
);

pub const THERAPISTS_WRITE: Scope = Scope::new(
    "therapists:write",
    "Create and change therapists and memberships (registrar)",
    &[Registrar],
);

pub const KP_IMPORT: Scope = Scope::new(
    "kp:import",
    "Import Kwaliteitsregister Paramedici data (registrar)",
    &[Registrar],
);

pub const KP_VERIFY: Scope = Scope::new(
    "kp:verify",
    "Verify a therapist with Kwaliteitsregister Paramedici (registrar)",
    &[Registrar],
);

pub const KP_EXPIRIES_READ: Scope = Scope::new(
    "kp-expiries:read",
    "Read the KP registrations that end soon (a practice client: only its own therapists)",
    &[Registrar, Practice],
);

pub const CYCLES_READ: Scope = Scope::new(
    "cycles:read",
    "Read the calendar of a cycle year",
    &[Registrar, Practice, Service],
);

pub const CYCLES_MANAGE: Scope = Scope::new(
    "cycles:manage",
    "Set a cycle year's calendar and read the registrar's overview (registrar)",
    &[Registrar],
);

pub const ANNUAL_PLANS_READ: Scope = Scope::new(
    "annual-plans:read",
    "Read annual plans (a practice client: only its own)",
    &[Registrar, Practice],
);

pub const ANNUAL_PLANS_SUBMIT: Scope = Scope::new(
    "annual-plans:submit",
    "Submit annual plans (a practice client: only its own)",
    &[Registrar, Practice],
);

pub const ANNUAL_PLANS_ASSESS: Scope = Scope::new(
    "annual-plans:assess",
    "Approve or reject annual plans (registrar)",
    &[Registrar],
);

pub const REGISTRATIONS_READ: Scope = Scope::new(
    "registrations:read",
    "Read registrations and their history (a practice client: only its own)",
    &[Registrar, Practice, Service],
);

pub const REGISTRATIONS_WITHDRAW: Scope = Scope::new(
    "registrations:withdraw",
    "Withdraw a registration (a practice client: only its own)",
    &[Registrar, Practice],
);

pub const VISITATION_OUTCOMES_WRITE: Scope = Scope::new(
    "visitation-outcomes:write",
    "Report visitation plans and outcomes (the visitation service)",
    &[Service],
);

pub const AUDIT_READ: Scope = Scope::new(
    "audit:read",
    "Read the audit trail (registrar)",
    &[Registrar],
);

pub const EPD_AUTHORIZATIONS_MANAGE: Scope = Scope::new(
    "epd-authorizations:manage",
    "Authorise EPD vendors to deliver for a practice (a practice: only its own)",
    &[Registrar, Practice],
);

pub const DELIVERIES_WRITE: Scope = Scope::new(
    "deliveries:write",
    "Deliver monthly practice data (an EPD vendor: only for practices that authorised it)",
    &[Registrar, EpdVendor],
);

pub const DELIVERIES_READ: Scope = Scope::new(
    "deliveries:read",
    "Read deliveries and their processing reports",
    &[Registrar, Practice, EpdVendor],
);

pub const PREM_WRITE: Scope = Scope::new(
    "prem:write",
    "Deliver PREM results (an EPD vendor: only for practices that authorised it)",
    &[Registrar, EpdVendor],
);

pub const QUALITY_WRITE: Scope = Scope::new(
    "quality:write",
    "Record intervision, IOPs and treatment indices (a practice: only its own)",
    &[Registrar, Practice],
);

pub const QUALITY_READ: Scope = Scope::new(
    "quality:read",
    "Read intervision, IOPs and treatment indices (a practice: only its own)",
    &[Registrar, Practice, Service],
);

pub const CONSENTS_MANAGE: Scope = Scope::new(
    "consents:manage",
    "Give or revoke consent to share quality data with an insurer (a practice: only its own)",
    &[Registrar, Practice],
);

pub const COMPLIANCE_READ: Scope = Scope::new(
    "compliance:read",
    "Read per-criterion compliance (an insurer: only practices that consented)",
    &[Registrar, Practice, Service, Insurer],
);

pub const BENCHMARK_READ: Scope = Scope::new(
    "benchmark:read",
    "Read a practice's benchmark (a practice: only its own)",
    &[Registrar, Practice],
);

pub const IMPROVEMENT_PLANS_WRITE: Scope = Scope::new(
    "improvement-plans:write",
    "Record improvement plans (a practice: only its own)",
    &[Registrar, Practice],
);

pub const IMPROVEMENT_PLANS_READ: Scope = Scope::new(
    "improvement-plans:read",
    "Read improvement plans (an insurer: only its own and with consent)",
    &[Registrar, Practice, Insurer],
);

pub const EVIDENCE_READ: Scope = Scope::new(
    "evidence:read",
    "Read the evidence feed (the insurer-export service)",
    &[Service],
);

pub const VISITATION_DIRECTORY_READ: Scope = Scope::new(
    "visitation-directory:read",
    "Read the practices of a cycle year for visitation (the visitation service)",
    &[Service],
);

pub const EXPORT_DIRECTORY_READ: Scope = Scope::new(
    "export-directory:read",
    "Read every practice with its registrations and consents (the insurer-export service)",
    &[Service],
);

/// Every scope of the register, in the order the OpenAPI document lists them.
pub const ALL: &[Scope] = &[
    CLIENTS_MANAGE,
    PRACTICES_READ,
    PRACTICES_WRITE,
    THERAPISTS_READ,
    THERAPISTS_WRITE,
    KP_IMPORT,
    KP_VERIFY,
    CYCLES_READ,
    CYCLES_MANAGE,
    ANNUAL_PLANS_READ,
    ANNUAL_PLANS_SUBMIT,
    ANNUAL_PLANS_ASSESS,
    REGISTRATIONS_READ,
    REGISTRATIONS_WITHDRAW,
    VISITATION_OUTCOMES_WRITE,
    AUDIT_READ,
    EPD_AUTHORIZATIONS_MANAGE,
    DELIVERIES_WRITE,
    DELIVERIES_READ,
    PREM_WRITE,
    QUALITY_WRITE,
    QUALITY_READ,
    CONSENTS_MANAGE,
    COMPLIANCE_READ,
    BENCHMARK_READ,
    IMPROVEMENT_PLANS_WRITE,
    IMPROVEMENT_PLANS_READ,
    EVIDENCE_READ,
    KP_EXPIRIES_READ,
    VISITATION_DIRECTORY_READ,
    EXPORT_DIRECTORY_READ,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_for;

    #[test]
    fn the_registrar_holds_everything_but_what_only_services_send() {
        assert!(
            allowed_for(Registrar).all(|s| s != VISITATION_OUTCOMES_WRITE
                && s != EVIDENCE_READ
                && s != VISITATION_DIRECTORY_READ
                && s != EXPORT_DIRECTORY_READ)
        );
        assert!(allowed_for(Insurer).any(|s| s == COMPLIANCE_READ));
        assert!(!allowed_for(EpdVendor).any(|s| s == PRACTICES_READ));
    }
}
