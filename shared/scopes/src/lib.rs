//! The scopes of the suite (DESIGN §5): each names what a token may do and which roles a client
//! may be granted it. Each service checks and documents its own module's scopes; the register's
//! token endpoint grants from all of them, so one catalogue serves the issuer and every service
//! that verifies its tokens.

pub mod insurer_export;
pub mod register;
pub mod visitation;

use praktijkregister_domain::ClientRole;
use praktijkregister_platform::auth::Scope;

/// Every scope of every service: what the token endpoint may grant.
pub fn all() -> impl Iterator<Item = Scope> {
    [register::ALL, visitation::ALL, insurer_export::ALL]
        .into_iter()
        .flatten()
        .copied()
}

/// The scope named `name`, of any service.
pub fn find(name: &str) -> Option<Scope> {
    all().find(|scope| scope.as_str() == name)
}

/// The scopes a client of `role` may be granted.
pub fn allowed_for(role: ClientRole) -> impl Iterator<Item = Scope> {
    all().filter(move |scope| scope.allows(role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_are_unique_across_the_suite() {
        let mut names: Vec<&str> = all().map(|s| s.as_str()).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn every_scope_can_be_granted_to_some_role() {
        use ClientRole::*;
        let roles = [Registrar, Practice, EpdVendor, Insurer, Visitor, Service];
        for scope in all() {
            assert!(
                roles.iter().any(|role| scope.allows(*role)),
                "{} is granted to nobody",
                scope.as_str()
            );
        }
    }
}
