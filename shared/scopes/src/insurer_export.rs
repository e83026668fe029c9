//! The insurer-export service's scopes (DESIGN §5).

use praktijkregister_platform::auth::Scope;

/// Every scope of the service, in the order its OpenAPI document lists them.
pub const ALL: &[Scope] = &[];
