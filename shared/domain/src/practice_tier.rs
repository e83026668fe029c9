use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::IdentifierError;

/// Register tier of a practice; it sets how often a visitation is due (DESIGN §3.2;
/// Kwaliteitskader, 002).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PracticeTier {
    /// Praktijkregister: visitation every year; the default.
    #[default]
    Praktijkregister,
    /// Basispraktijkregister: visitation every two years.
    Basispraktijkregister,
}

impl PracticeTier {
    pub const ALL: [Self; 2] = [Self::Praktijkregister, Self::Basispraktijkregister];

    /// The wire name, identical to the serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Praktijkregister => "praktijkregister",
            Self::Basispraktijkregister => "basispraktijkregister",
        }
    }

    /// Parses the wire name exactly.
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        Self::ALL
            .into_iter()
            .find(|tier| tier.as_str() == input)
            .ok_or(IdentifierError::PracticeTier)
    }

    /// Years between visitations: 1 for the praktijkregister, 2 for the basispraktijkregister
    /// (Kwaliteitskader, 002).
    pub fn visitation_interval_years(self) -> u16 {
        match self {
            Self::Praktijkregister => 1,
            Self::Basispraktijkregister => 2,
        }
    }
}

impl fmt::Display for PracticeTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PracticeTier {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // Kwaliteitskader, 002: yearly visitation by default, every two years for the basis tier.
    #[test]
    fn visitation_interval_per_tier() {
        assert_eq!(PracticeTier::default(), PracticeTier::Praktijkregister);
        assert_eq!(
            PracticeTier::Praktijkregister.visitation_interval_years(),
            1
        );
        assert_eq!(
            PracticeTier::Basispraktijkregister.visitation_interval_years(),
            2
        );
    }

    #[test]
    fn practice_tier_wire_names_match_serde() {
        for tier in PracticeTier::ALL {
            let json = serde_json::to_string(&tier).unwrap();
            assert_eq!(json, format!("\"{}\"", tier.as_str()));
            assert_eq!(serde_json::from_str::<PracticeTier>(&json).unwrap(), tier);
            assert_eq!(tier.as_str().parse::<PracticeTier>().unwrap(), tier);
        }
    }

    #[test]
    fn practice_tier_refuses_unknown() {
        for bad in ["", "basis", "Praktijkregister", "basis_praktijkregister"] {
            assert_eq!(
                PracticeTier::parse(bad).unwrap_err().code(),
                "practice_tier",
                "{bad:?}"
            );
        }
    }
}
