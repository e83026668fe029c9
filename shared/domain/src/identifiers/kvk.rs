use serde::{Deserialize, Serialize};

use super::exact_digits;
use crate::IdentifierError;

/// KvK-nummer: the number of an enterprise in the Handelsregister of the Kamer van Koophandel.
///
/// Rule (DESIGN §3.1, KvK): exactly 8 digits, kept as a string because leading zeros matter.
/// Practices sharing an address must each have their own (001 §2.1b).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KvkNumber(String);

impl KvkNumber {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        exact_digits(input, 8, IdentifierError::KvkFormat).map(Self)
    }
}

string_newtype!(
    KvkNumber,
    description: "KvK-nummer (Kamer van Koophandel): exactly 8 digits.",
    pattern: "^[0-9]{8}$",
    example: "12345678",
);

/// Vestigingsnummer: the number of one branch (vestiging) of an enterprise in the Handelsregister
/// of the Kamer van Koophandel.
///
/// Rule (DESIGN §3.1, KvK): exactly 12 digits, kept as a string because leading zeros matter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KvkBranchNumber(String);

impl KvkBranchNumber {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        exact_digits(input, 12, IdentifierError::KvkBranchFormat).map(Self)
    }
}

string_newtype!(
    KvkBranchNumber,
    description: "Vestigingsnummer (Kamer van Koophandel branch number): exactly 12 digits.",
    pattern: "^[0-9]{12}$",
    example: "000012345678",
);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // DESIGN §3.1: KvK number is 8 digits.
    #[test]
    fn kvk_number_is_eight_digits() {
        assert_eq!(KvkNumber::parse(" 01234567").unwrap().as_str(), "01234567");
        for bad in ["", "1234567", "123456789", "1234567a", "1234 5678"] {
            assert_eq!(
                KvkNumber::parse(bad).unwrap_err().code(),
                "kvk_format",
                "{bad:?}"
            );
        }
    }

    // DESIGN §3.1: vestigingsnummer is 12 digits.
    #[test]
    fn kvk_branch_number_is_twelve_digits() {
        assert_eq!(
            KvkBranchNumber::parse("000012345678").unwrap().as_str(),
            "000012345678"
        );
        for bad in ["", "12345678", "0000123456789", "00001234567x"] {
            let err = KvkBranchNumber::parse(bad).unwrap_err();
            assert_eq!(err.code(), "kvk_branch_format", "{bad:?}");
        }
    }

    #[test]
    fn kvk_serde_round_trip() {
        let kvk: KvkNumber = serde_json::from_str("\"12345678\"").unwrap();
        assert_eq!(serde_json::to_string(&kvk).unwrap(), "\"12345678\"");
        let branch: KvkBranchNumber = serde_json::from_str("\"000012345678\"").unwrap();
        assert_eq!(serde_json::to_string(&branch).unwrap(), "\"000012345678\"");
        assert!(serde_json::from_str::<KvkNumber>("\"1234\"").is_err());
    }
}
