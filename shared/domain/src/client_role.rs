use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::IdentifierError;

/// Role of an API client (DESIGN §1); a token carries exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientRole {
    /// VvOCM staff (registrar): manage practices and therapists, assess, decide, export.
    Registrar,
    /// A practice (praktijk), bound to one practice.
    Practice,
    /// A vendor of an electronic patient record (EPD-leverancier) delivering practice data.
    EpdVendor,
    /// A health insurer (zorgverzekeraar), bound to one UZOVI code.
    Insurer,
    /// A visitor (visiteur), bound to one visitor.
    Visitor,
    /// One of the register's own services calling another.
    Service,
}

crate::wire_names!(ClientRole, error = IdentifierError, unknown = IdentifierError::ClientRole, {
    Registrar = "registrar",
    Practice = "practice",
    EpdVendor = "epd_vendor",
    Insurer = "insurer",
    Visitor = "visitor",
    Service = "service",
});

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // DESIGN §1: the six roles and their wire names.
    #[test]
    fn client_role_wire_names_match_serde() {
        for role in ClientRole::ALL {
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<ClientRole>(&json).unwrap(), role);
            assert_eq!(role.as_str().parse::<ClientRole>().unwrap(), role);
        }
        assert_eq!(
            ClientRole::parse("epd_vendor").unwrap(),
            ClientRole::EpdVendor
        );
    }

    #[test]
    fn client_role_refuses_unknown() {
        for bad in ["", "admin", "Registrar", "epd-vendor", "epdVendor"] {
            assert_eq!(
                ClientRole::parse(bad).unwrap_err().code(),
                "client_role",
                "{bad:?}"
            );
        }
    }
}
