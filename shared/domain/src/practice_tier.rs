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

crate::wire_names!(PracticeTier, error = IdentifierError, unknown = IdentifierError::PracticeTier, {
    Praktijkregister = "praktijkregister",
    Basispraktijkregister = "basispraktijkregister",
});

impl PracticeTier {
    /// Years between visitations: 1 for the praktijkregister, 2 for the basispraktijkregister
    /// (Kwaliteitskader, 002).
    pub fn visitation_interval_years(self) -> u16 {
        match self {
            Self::Praktijkregister => 1,
            Self::Basispraktijkregister => 2,
        }
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
