//! The service's scopes live in the suite's catalogue, beside those of the other services the
//! register's token endpoint grants.

pub use praktijkregister_scopes::visitation::*;
