use serde::{Deserialize, Serialize};

use super::exact_digits;
use crate::IdentifierError;

/// Zorgsoort: the first two digits of an AGB code, naming the kind of care (AGB register, Vektis).
pub mod zorgsoort {
    /// Oefentherapie. Fysiotherapie, for contrast, is `04`.
    ///
    /// Source: DESIGN §3.1. `93`/`94` are UZI/BIG profession codes, not AGB prefixes, and are
    /// deliberately not interpreted here.
    pub const OEFENTHERAPIE: &str = "07";
}

/// AGB code (Algemeen GegevensBeheer zorgverleners) of any zorgsoort: of a practice (onderneming),
/// a location (vestiging) or a therapist (zorgverlener).
///
/// Rule (DESIGN §3.1, AGB register by Vektis): exactly 8 digits, kept as a string because leading
/// zeros matter; the first two digits are the zorgsoort. No check digit is known, so none is
/// checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgbCode(String);

impl AgbCode {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        exact_digits(input, 8, IdentifierError::AgbFormat).map(Self)
    }

    /// The zorgsoort: the first two digits, e.g. `07` for oefentherapie.
    pub fn zorgsoort(&self) -> &str {
        // Parsing guarantees 8 ASCII digits, so the slice is on a char boundary.
        &self.0[..2]
    }
}

string_newtype!(
    AgbCode,
    description: "AGB code (Algemeen GegevensBeheer zorgverleners): exactly 8 digits, leading zeros \
        significant; the first two digits are the zorgsoort (07 = oefentherapie).",
    pattern: "^[0-9]{8}$",
    example: "07012345",
);

/// AGB code of zorgsoort `07` (oefentherapie): the AGB code of a practice (onderneming) or
/// therapist (zorgverlener) of this register.
///
/// Rule (DESIGN §3.1): the register holds oefentherapie practices and therapists only, so on top
/// of the [`AgbCode`] rule the zorgsoort must be [`zorgsoort::OEFENTHERAPIE`]; any other zorgsoort
/// is refused with [`IdentifierError::AgbZorgsoort`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OefentherapieAgb(String);

impl OefentherapieAgb {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        Self::try_from(AgbCode::parse(input)?)
    }

    /// The same code as an [`AgbCode`], e.g. to compare with a location's AGB code.
    pub fn to_agb(&self) -> AgbCode {
        AgbCode(self.0.clone())
    }
}

impl TryFrom<AgbCode> for OefentherapieAgb {
    type Error = IdentifierError;

    fn try_from(agb: AgbCode) -> Result<Self, Self::Error> {
        if agb.zorgsoort() == zorgsoort::OEFENTHERAPIE {
            Ok(Self(agb.0))
        } else {
            Err(IdentifierError::AgbZorgsoort {
                found: agb.zorgsoort().to_owned(),
            })
        }
    }
}

impl From<OefentherapieAgb> for AgbCode {
    fn from(agb: OefentherapieAgb) -> Self {
        Self(agb.0)
    }
}

string_newtype!(
    OefentherapieAgb,
    description: "AGB code (Algemeen GegevensBeheer zorgverleners) of zorgsoort 07 (oefentherapie): \
        8 digits starting with 07; this register only holds oefentherapie practices and therapists.",
    pattern: "^07[0-9]{6}$",
    example: "07012345",
);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // DESIGN §3.1: 8 digits, leading zeros significant, first two digits = zorgsoort.
    #[test]
    fn agb_is_eight_digits_with_leading_zeros_kept() {
        let agb = AgbCode::parse(" 00123456 ").unwrap();
        assert_eq!(agb.as_str(), "00123456");
        assert_eq!(agb.zorgsoort(), "00");
        assert_eq!(AgbCode::parse("04123456").unwrap().zorgsoort(), "04");
    }

    #[test]
    fn agb_refuses_anything_but_eight_digits() {
        for bad in [
            "",
            "0712345",
            "071234567",
            "0712345a",
            "07 12345",
            "０７１２３４５６",
            "+7123456",
        ] {
            let err = AgbCode::parse(bad).unwrap_err();
            assert_eq!(err.code(), "agb_format", "{bad:?}");
            assert_eq!(err.to_string(), "an AGB code is exactly 8 digits");
        }
    }

    // DESIGN §3.1: 93/94 are UZI/BIG profession codes, not Mensendieck/Cesar; no special meaning.
    #[test]
    fn agb_does_not_interpret_93_or_94() {
        assert_eq!(AgbCode::parse("93123456").unwrap().zorgsoort(), "93");
        let err = OefentherapieAgb::parse("94123456").unwrap_err();
        assert_eq!(err.code(), "agb_zorgsoort");
    }

    // DESIGN §3.1: practices and therapists of this register are zorgsoort 07.
    #[test]
    fn oefentherapie_agb_accepts_zorgsoort_07() {
        let agb = OefentherapieAgb::parse("07012345").unwrap();
        assert_eq!(agb.as_str(), "07012345");
        assert_eq!(agb.to_agb().zorgsoort(), zorgsoort::OEFENTHERAPIE);
        assert_eq!(AgbCode::from(agb.clone()), agb.to_agb());
    }

    #[test]
    fn oefentherapie_agb_refuses_fysiotherapie_with_reason() {
        let err = OefentherapieAgb::parse("04123456").unwrap_err();
        assert_eq!(
            err,
            IdentifierError::AgbZorgsoort {
                found: "04".to_owned()
            }
        );
        assert_eq!(err.code(), "agb_zorgsoort");
        assert_eq!(
            err.to_string(),
            "zorgsoort 04 is not oefentherapie (07); this register only holds oefentherapie \
             practices and therapists"
        );
    }

    #[test]
    fn oefentherapie_agb_checks_format_before_zorgsoort() {
        assert_eq!(
            OefentherapieAgb::parse("0412").unwrap_err().code(),
            "agb_format"
        );
        let general = AgbCode::parse("04123456").unwrap();
        assert_eq!(
            OefentherapieAgb::try_from(general).unwrap_err().code(),
            "agb_zorgsoort"
        );
    }

    #[test]
    fn agb_serde_is_the_string_and_deserialize_parses() {
        let agb: OefentherapieAgb = serde_json::from_str("\"07012345\"").unwrap();
        assert_eq!(serde_json::to_string(&agb).unwrap(), "\"07012345\"");
        let any: AgbCode = serde_json::from_str("\"04123456\"").unwrap();
        assert_eq!(serde_json::to_string(&any).unwrap(), "\"04123456\"");
        assert!(serde_json::from_str::<OefentherapieAgb>("\"04123456\"").is_err());
        assert!(serde_json::from_str::<AgbCode>("7012345").is_err());
    }

    #[test]
    fn agb_from_str_and_display() {
        let agb: AgbCode = "07012345".parse().unwrap();
        assert_eq!(agb.to_string(), "07012345");
    }
}
