//! Events of the register about what the insurers' list shows of a practice: its registration
//! state per cycle year, its name, KvK number, tier and locations, and its consent to share
//! quality data with an insurer (000: the registered practices go to the insurers; 001 §1.3c:
//! quality data only with consent). The register writes them to its outbox in the transaction
//! of the change; the insurer-export service applies each once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Event, KpEvent};

/// A location (vestiging) of a practice as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PracticeLocation {
    /// AGB code of the location (vestiging).
    pub agb: String,
    pub kvk_branch_number: String,
    pub street: String,
    pub house_number: String,
    pub postal_code: String,
    pub city: String,
}

/// What changed about the practice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PracticeChange {
    /// The registration of a cycle year moved to another state (DESIGN §3.2).
    Registration {
        cycle_year: u16,
        /// `None` when the registration was created.
        from_state: Option<String>,
        to_state: String,
        /// When it became registered; `None` while it is not.
        registered_at: Option<DateTime<Utc>>,
        reason: Option<String>,
    },
    /// The practice was created or its data changed; the data as it is now.
    Data {
        name: String,
        kvk_number: String,
        tier: String,
        locations: Vec<PracticeLocation>,
    },
    /// Consent to share practice-level quality data with the insurer was given or revoked.
    Consent { insurer_uzovi: String, given: bool },
}

/// One change of a practice, for the insurer-export service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "event_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d11", "practice_agb": "07012345",
    "occurred_at": "2026-11-03T09:00:00Z",
    "change": {"type": "registration", "cycle_year": 2026, "from_state": "registered",
               "to_state": "withdrawn", "registered_at": "2026-06-01T10:00:00Z", "reason": "Practice closed"}
}))]
pub struct PracticeEvent {
    pub event_id: Uuid,
    pub practice_agb: String,
    pub occurred_at: DateTime<Utc>,
    pub change: PracticeChange,
}

impl Event for PracticeEvent {
    fn event_id(&self) -> Uuid {
        self.event_id
    }

    fn kind(&self) -> &'static str {
        match self.change {
            PracticeChange::Registration { .. } => "registration_changed",
            PracticeChange::Data { .. } => "practice_data_changed",
            PracticeChange::Consent { .. } => "consent_changed",
        }
    }
}

/// Everything the register sends to the insurer-export destination, as that service receives it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RegisterEvent {
    Practice(PracticeEvent),
    Kp(KpEvent),
}

impl Event for RegisterEvent {
    fn event_id(&self) -> Uuid {
        match self {
            Self::Practice(event) => event.event_id(),
            Self::Kp(event) => event.event_id(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Practice(event) => event.kind(),
            Self::Kp(event) => event.kind(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn both_kinds_of_register_event_are_told_apart_and_strangers_refused() {
        let wire = json!({
            "event_id": Uuid::nil(), "practice_agb": "07012345", "occurred_at": "2026-11-03T09:00:00Z",
            "change": {"type": "consent", "insurer_uzovi": "3311", "given": true}
        });
        let event: RegisterEvent = serde_json::from_value(wire.clone()).unwrap();
        assert!(
            matches!(&event, RegisterEvent::Practice(p) if p.change == PracticeChange::Consent { insurer_uzovi: "3311".into(), given: true })
        );
        assert_eq!(event.kind(), "consent_changed");
        assert_eq!(serde_json::to_value(&event).unwrap(), wire);

        let kp = json!({
            "event_id": Uuid::nil(), "kind": "kp_registration_lost", "therapist_agb": "07123456",
            "kp_number": null, "practice_agbs": [], "effective_on": "2026-03-02", "run_id": Uuid::nil(),
            "before": {"status": null, "valid_from": null, "valid_until": null},
            "after": {"status": null, "valid_from": null, "valid_until": null}
        });
        let event: RegisterEvent = serde_json::from_value(kp).unwrap();
        assert_eq!(event.kind(), "kp_registration_lost");

        let mut stranger = wire;
        stranger["change"]["extra"] = json!(1);
        assert!(serde_json::from_value::<RegisterEvent>(stranger).is_err());
    }
}
