use serde::{Deserialize, Serialize};

use super::exact_digits;
use crate::IdentifierError;

/// UZOVI-code (Unieke Zorgverzekeraars Identificatie), identifying a health insurer
/// (zorgverzekeraar).
///
/// Rule (DESIGN §3.1, UZOVI register by Vektis): exactly 4 digits, kept as a string because
/// leading zeros matter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UzoviCode(String);

impl UzoviCode {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        exact_digits(input, 4, IdentifierError::UzoviFormat).map(Self)
    }
}

string_newtype!(
    UzoviCode,
    description: "UZOVI-code (Unieke Zorgverzekeraars Identificatie) of a health insurer: exactly 4 digits.",
    pattern: "^[0-9]{4}$",
    example: "3311",
);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // DESIGN §3.1: UZOVI code is 4 digits.
    #[test]
    fn uzovi_is_four_digits() {
        assert_eq!(UzoviCode::parse("0101").unwrap().as_str(), "0101");
        for bad in ["", "101", "31111", "33a1"] {
            assert_eq!(
                UzoviCode::parse(bad).unwrap_err().code(),
                "uzovi_format",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn uzovi_serde_round_trip() {
        let uzovi: UzoviCode = serde_json::from_str("\"3311\"").unwrap();
        assert_eq!(serde_json::to_string(&uzovi).unwrap(), "\"3311\"");
        assert!(serde_json::from_str::<UzoviCode>("3311").is_err());
    }
}
