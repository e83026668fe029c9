//! The register's scopes live in the suite's catalogue, beside those of the other services its
//! token endpoint grants.

pub use praktijkregister_scopes::register::*;
