//! Events of the register about therapists' registration in the Kwaliteitsregister Paramedici
//! (KP), for the insurer-export service's change feed and for notifications (DESIGN §3.1, §3.2:
//! registration needs every therapist kwaliteitsgeregistreerd).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Event;

/// The outbox destination the register writes these events for.
pub const INSURER_EXPORT: &str = "insurer-export";

/// What the register reports about a therapist's KP registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KpEventKind {
    /// The therapist is no longer kwaliteitsgeregistreerd (expired, or no longer in KP): the
    /// practices' compliance changes from `effective_on`. A registration already granted for the
    /// year stays.
    KpRegistrationLost,
    /// The therapist's KP registration ends within the watch window; sent once per therapist and
    /// registration period.
    KpRegistrationExpiring,
}

impl KpEventKind {
    /// The wire name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KpRegistrationLost => "kp_registration_lost",
            Self::KpRegistrationExpiring => "kp_registration_expiring",
        }
    }
}

/// A KP registration as the register knew it before, or knows it after, a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KpState {
    /// `kwaliteitsgeregistreerd`, `diplomageregistreerd`, `not_registered`, or null (unknown).
    pub status: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

/// An event about one therapist's KP registration.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "event_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d11", "kind": "kp_registration_lost",
    "therapist_agb": "07123456", "kp_number": "123456", "practice_agbs": ["07012345"],
    "before": {"status": "kwaliteitsgeregistreerd", "valid_from": "2021-01-01", "valid_until": "2025-12-31"},
    "after": {"status": "not_registered", "valid_from": null, "valid_until": null},
    "effective_on": "2026-03-02", "run_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d12"
}))]
pub struct KpEvent {
    /// The event's id: the same id is applied once.
    pub event_id: Uuid,
    pub kind: KpEventKind,
    pub therapist_agb: String,
    pub kp_number: Option<String>,
    /// The practices the therapist works at on `effective_on` (active memberships).
    pub practice_agbs: Vec<String>,
    pub before: KpState,
    /// For `kp_registration_expiring`, the registration as it stands (it ends on `valid_until`).
    pub after: KpState,
    /// The day (Europe/Amsterdam) from which it holds: the day the loss was found, or the day the
    /// registration entered the window.
    pub effective_on: NaiveDate,
    /// The verification run that found it.
    pub run_id: Uuid,
}

impl Event for KpEvent {
    fn event_id(&self) -> Uuid {
        self.event_id
    }

    fn kind(&self) -> &'static str {
        self.kind.as_str()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_event_survives_the_wire_and_unknown_members_are_refused() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let event = KpEvent {
            event_id: Uuid::nil(),
            kind: KpEventKind::KpRegistrationLost,
            therapist_agb: "07123456".into(),
            kp_number: Some("123456".into()),
            practice_agbs: vec!["07012345".into()],
            before: KpState {
                status: Some("kwaliteitsgeregistreerd".into()),
                valid_from: None,
                valid_until: Some(day),
            },
            after: KpState {
                status: Some("not_registered".into()),
                valid_from: None,
                valid_until: None,
            },
            effective_on: day,
            run_id: Uuid::nil(),
        };
        let mut wire = serde_json::to_value(&event).unwrap();
        assert_eq!(wire["kind"], "kp_registration_lost");
        assert_eq!(wire["before"]["valid_until"], "2026-03-02");
        let back: KpEvent = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(back.after, event.after);
        assert_eq!(back.kind(), "kp_registration_lost");
        wire["extra"] = json!(1);
        assert!(serde_json::from_value::<KpEvent>(wire).is_err());
    }
}
