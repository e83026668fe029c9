//! The register's directory of the practices of a cycle year, as the visitation service reads it
//! (DESIGN §2: no service reads another's tables; DESIGN §3.3). The register answers it at
//! `GET /v1/internal/visitation-directory/{year}`; the visitation service checks conflicts of
//! interest, plans and lists who is due from it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The practices of one cycle year with what visitation needs of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "cycle_year": 2026, "visitation_deadline": "2026-10-15", "entry_visitation_deadline": "2026-11-01",
    "practices": [{
        "agb": "07012345", "name": "Oefentherapie Centrum", "kvk_number": "12345678",
        "tier": "praktijkregister",
        "locations": [{"postal_code": "1234 AB", "house_number": "12", "city": "Utrecht", "address_key": "1234AB 12"}],
        "registration_state": "plan_approved", "plan_approved_on": "2026-05-04", "new_to_register": false,
        "last_positive_visitation_on": "2025-09-14", "therapist_agbs": ["07123456"],
        "intervision_groups": [{"id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d20", "practice_agbs": ["07012345", "07054321"]}]
    }],
    "intervision_groups": [{"id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d20", "therapist_agbs": ["07123456", "07165432"]}]
}))]
pub struct VisitationDirectory {
    pub cycle_year: u16,
    /// The last day a visitation of the year may take place (the register's calendar).
    pub visitation_deadline: NaiveDate,
    /// The day before which an entry visitation must be passed (001 §1.2a).
    pub entry_visitation_deadline: NaiveDate,
    /// Every practice with a registration for the year, by AGB.
    pub practices: Vec<DirectoryPractice>,
    /// Every intervision group with its current members, for the conflicts of visitors who are
    /// therapists (001 §1.2d).
    pub intervision_groups: Vec<DirectoryIntervisionGroup>,
}

/// One practice of the directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryPractice {
    pub agb: String,
    pub name: String,
    pub kvk_number: String,
    /// `praktijkregister` (yearly visitation) or `basispraktijkregister` (every two years, 002).
    pub tier: String,
    pub locations: Vec<DirectoryLocation>,
    /// The state of the practice's registration for the year.
    pub registration_state: String,
    /// The day (Europe/Amsterdam) its annual plan of the year was approved; absent: none is.
    pub plan_approved_on: Option<NaiveDate>,
    /// Never registered before the year: its visitation is the entry visitation (001 §1.2a).
    pub new_to_register: bool,
    /// The day of its last positive visitation, of any year up to this one.
    pub last_positive_visitation_on: Option<NaiveDate>,
    /// The therapists working there now.
    pub therapist_agbs: Vec<String>,
    /// The intervision groups of those therapists, each with the practices of all its members.
    pub intervision_groups: Vec<DirectoryPracticeGroup>,
}

/// A location (vestiging) of a practice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryLocation {
    pub postal_code: String,
    pub house_number: String,
    pub city: String,
    /// The address as the same-address rule compares it: postal code and house number,
    /// normalised.
    pub address_key: String,
}

/// An intervision group of a practice's therapists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryPracticeGroup {
    pub id: Uuid,
    /// The practices where the group's members work.
    pub practice_agbs: Vec<String>,
}

/// An intervision group and its current members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryIntervisionGroup {
    pub id: Uuid,
    pub therapist_agbs: Vec<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;

    #[test]
    fn the_documented_example_is_a_valid_directory() {
        let schema = serde_json::to_value(VisitationDirectory::schema()).unwrap();
        let example = schema.get("example").cloned().expect("an example");
        let directory: VisitationDirectory = serde_json::from_value(example).unwrap();
        assert_eq!(directory.practices[0].intervision_groups.len(), 1);
        let back = serde_json::to_value(&directory).unwrap();
        assert_eq!(
            serde_json::from_value::<VisitationDirectory>(back).unwrap(),
            directory
        );
    }
}
