//! The insurer-export service's scopes (DESIGN §5). The registrar manages insurers, their
//! criteria sets and the snapshots; an insurer client (bound to its UZOVI code) reads only its
//! own; the register delivers its events as a service.

use praktijkregister_domain::ClientRole;
use praktijkregister_platform::auth::Scope;

use ClientRole::{Insurer, Registrar, Service};

pub const INSURERS_MANAGE: Scope = Scope::new(
    "insurers:manage",
    "Create and change insurers and their criteria sets (registrar)",
    &[Registrar],
);

pub const INSURERS_READ: Scope = Scope::new(
    "insurers:read",
    "Read insurers and their criteria sets (an insurer: only its own)",
    &[Registrar, Insurer],
);

pub const EXPORTS_BUILD: Scope = Scope::new(
    "exports:build",
    "Build and correct the yearly snapshot of an insurer's list (registrar)",
    &[Registrar],
);

pub const EXPORTS_READ: Scope = Scope::new(
    "exports:read",
    "Read snapshots, explanations and the change feed (an insurer: only its own)",
    &[Registrar, Insurer],
);

pub const WEBHOOKS_MANAGE: Scope = Scope::new(
    "webhooks:manage",
    "Register webhook endpoints and read or redeliver their deliveries (an insurer: only its own)",
    &[Registrar, Insurer],
);

pub const REGISTER_EVENTS_WRITE: Scope = Scope::new(
    "register-events:write",
    "Deliver the register's events (the register)",
    &[Service],
);

pub const REGISTER_COPY_RESYNC: Scope = Scope::new(
    "register-copy:resync",
    "Reload the copy of the register's practices, registrations and consents (registrar)",
    &[Registrar],
);

pub const CRITERIA_SETS_READ: Scope = Scope::new(
    "criteria-sets:read",
    "Read any insurer's criteria set (the register, for its compliance endpoint)",
    &[Service],
);

/// Every scope of the service, in the order its OpenAPI document lists them.
pub const ALL: &[Scope] = &[
    INSURERS_MANAGE,
    INSURERS_READ,
    EXPORTS_BUILD,
    EXPORTS_READ,
    WEBHOOKS_MANAGE,
    REGISTER_EVENTS_WRITE,
    REGISTER_COPY_RESYNC,
    CRITERIA_SETS_READ,
];
