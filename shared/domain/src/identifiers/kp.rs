use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::IdentifierError;

/// Longest KP number accepted; see [`KpNumber`] for why the bound is loose.
const KP_NUMBER_MAX_DIGITS: usize = 12;

/// KP-nummer: a therapist's number in the Kwaliteitsregister Paramedici.
///
/// Rule (DESIGN §3.1): KP publishes no strict format and has no public API, so we accept 1 to 12
/// digits after trimming and refuse letters and empty input. The digits are kept exactly as given
/// (leading zeros included) so the number still matches what KP issued.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KpNumber(String);

impl KpNumber {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let s = input.trim();
        if (1..=KP_NUMBER_MAX_DIGITS).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdentifierError::KpFormat)
        }
    }
}

string_newtype!(
    KpNumber,
    description: "KP-nummer (Kwaliteitsregister Paramedici): 1 to 12 digits; KP publishes no \
        stricter format.",
    pattern: "^[0-9]{1,12}$",
    example: "123456",
);

/// KP-registratiestatus: a therapist's status in the Kwaliteitsregister Paramedici.
///
/// Rule (DESIGN §3.1, §3.2; 000, 001): a practice is registered for a cycle year only when every
/// therapist is `kwaliteitsgeregistreerd`. `not_registered` (niet geregistreerd) records that KP
/// no longer lists the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KpStatus {
    /// Kwaliteitsgeregistreerd: meets the KP quality criteria.
    Kwaliteitsgeregistreerd,
    /// Diplomageregistreerd: diploma registered, quality criteria not (yet) met.
    Diplomageregistreerd,
    /// Niet geregistreerd: KP no longer lists the number.
    NotRegistered,
}

crate::wire_names!(KpStatus, error = IdentifierError, unknown = IdentifierError::KpStatus, {
    Kwaliteitsgeregistreerd = "kwaliteitsgeregistreerd",
    Diplomageregistreerd = "diplomageregistreerd",
    NotRegistered = "not_registered",
});

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // DESIGN §3.1: KP format is undocumented; decision: 1 to 12 digits after trimming.
    #[test]
    fn kp_number_is_one_to_twelve_digits_kept_as_given() {
        assert_eq!(KpNumber::parse("7").unwrap().as_str(), "7");
        assert_eq!(KpNumber::parse(" 000123 ").unwrap().as_str(), "000123");
        assert_eq!(
            KpNumber::parse("123456789012").unwrap().as_str(),
            "123456789012"
        );
    }

    #[test]
    fn kp_number_refuses_empty_letters_and_too_long() {
        for bad in ["", "   ", "12a4", "KP123", "1234567890123", "12 34", "-1"] {
            assert_eq!(
                KpNumber::parse(bad).unwrap_err().code(),
                "kp_format",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn kp_number_serde_round_trip() {
        let kp: KpNumber = serde_json::from_str("\"000123\"").unwrap();
        assert_eq!(serde_json::to_string(&kp).unwrap(), "\"000123\"");
        assert!(serde_json::from_str::<KpNumber>("\"\"").is_err());
    }

    // DESIGN §3.1: the statuses are kwaliteitsgeregistreerd and diplomageregistreerd (+ not_registered).
    #[test]
    fn kp_status_wire_names_match_serde() {
        for status in KpStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(KpStatus::parse(status.as_str()).unwrap(), status);
            assert_eq!(serde_json::from_str::<KpStatus>(&json).unwrap(), status);
        }
        assert_eq!(
            "kwaliteitsgeregistreerd".parse::<KpStatus>().unwrap(),
            KpStatus::Kwaliteitsgeregistreerd
        );
    }

    #[test]
    fn kp_status_refuses_unknown() {
        for bad in [
            "",
            "uitgeschreven",
            "Kwaliteitsgeregistreerd",
            "niet geregistreerd",
        ] {
            assert_eq!(
                KpStatus::parse(bad).unwrap_err().code(),
                "kp_status",
                "{bad:?}"
            );
        }
    }
}
