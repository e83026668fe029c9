//! Events of the visitation service, received by the register (DESIGN §3.3: the outcome reaches
//! the register service as an event).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Event;

/// What the visitation service reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitationEventKind {
    /// Visitatie gepland: the visitation has (another) date.
    VisitationPlanned,
    /// Visitatie afgerond: the visitation took place with an outcome.
    VisitationOutcome,
    /// Visitatie geannuleerd: the planned visitation was cancelled; the registration waits for a
    /// new date again (`plan_approved`).
    VisitationCancelled,
}

impl VisitationEventKind {
    /// The wire name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VisitationPlanned => "visitation_planned",
            Self::VisitationOutcome => "visitation_outcome",
            Self::VisitationCancelled => "visitation_cancelled",
        }
    }
}

/// Uitkomst: positive when every one of the 8 components is sufficient (000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitationOutcome {
    Positive,
    Negative,
}

/// An event of the visitation service.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "event_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "kind": "visitation_outcome", "practice_agb": "07012345",
    "cycle_year": 2026, "visitation_date": "2026-09-14", "outcome": "positive"
}))]
pub struct VisitationEvent {
    /// The event's id: the same id is applied once.
    pub event_id: uuid::Uuid,
    pub kind: VisitationEventKind,
    /// The practice (AGB code, zorgsoort 07).
    #[schema(pattern = "^07[0-9]{6}$")]
    pub practice_agb: String,
    /// The cycle year (2000 to 2099) the visitation is for.
    #[schema(minimum = 2000, maximum = 2099)]
    pub cycle_year: u16,
    /// The planned (or, for a cancellation, the cancelled) date, or the day the visitation took
    /// place.
    pub visitation_date: NaiveDate,
    /// Required for `visitation_outcome`, absent otherwise.
    pub outcome: Option<VisitationOutcome>,
    /// Up to 4000 characters under the one text rule; blank is none.
    #[schema(format = "text-lines-or-blank", max_length = 4000)]
    pub remarks: Option<String>,
    /// For `visitation_outcome`: the SHA-256 (hex) of the visitation report uploaded to the
    /// visitation service (001 §1.2g); absent when no report was uploaded. Left out of the
    /// serialised event when absent, so that events without it keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub report_sha256: Option<String>,
}

impl Event for VisitationEvent {
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
    use serde_json::{json, Value};
    use utoipa::PartialSchema;

    use super::*;

    fn outcome_event() -> VisitationEvent {
        VisitationEvent {
            event_id: "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10".parse().unwrap(),
            kind: VisitationEventKind::VisitationOutcome,
            practice_agb: "07012345".into(),
            cycle_year: 2026,
            visitation_date: NaiveDate::from_ymd_opt(2026, 9, 14).unwrap(),
            outcome: Some(VisitationOutcome::Positive),
            remarks: Some("alle onderdelen voldoende".into()),
            report_sha256: None,
        }
    }

    #[test]
    fn an_event_survives_the_wire() {
        let event = outcome_event();
        let wire = serde_json::to_value(&event).unwrap();
        assert_eq!(
            wire,
            json!({
                "event_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10",
                "kind": "visitation_outcome",
                "practice_agb": "07012345",
                "cycle_year": 2026,
                "visitation_date": "2026-09-14",
                "outcome": "positive",
                "remarks": "alle onderdelen voldoende"
            })
        );
        let back: VisitationEvent = serde_json::from_value(wire).unwrap();
        assert_eq!(back.event_id, event.event_id);
        assert_eq!(back.kind, event.kind);
        assert_eq!(back.practice_agb, event.practice_agb);
        assert_eq!(back.cycle_year, event.cycle_year);
        assert_eq!(back.visitation_date, event.visitation_date);
        assert_eq!(back.outcome, event.outcome);
        assert_eq!(back.remarks, event.remarks);
    }

    #[test]
    fn the_serialised_bytes_are_stable() {
        // The inbox fingerprints the serialised event; rows stored by earlier receivers were
        // fingerprinted over these exact bytes (field order, `null` for absent options).
        let mut event = outcome_event();
        event.kind = VisitationEventKind::VisitationPlanned;
        event.outcome = None;
        event.remarks = None;
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"event_id":"0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10","kind":"visitation_planned","practice_agb":"07012345","cycle_year":2026,"visitation_date":"2026-09-14","outcome":null,"remarks":null}"#
        );
    }

    #[test]
    fn the_report_hash_travels_only_when_present() {
        let mut event = outcome_event();
        event.report_sha256 = Some("ab".repeat(32));
        let wire = serde_json::to_value(&event).unwrap();
        assert_eq!(wire["report_sha256"], json!("ab".repeat(32)));
        let back: VisitationEvent = serde_json::from_value(wire).unwrap();
        assert_eq!(back.report_sha256, event.report_sha256);
    }

    #[test]
    fn unknown_members_are_refused() {
        let mut wire = serde_json::to_value(outcome_event()).unwrap();
        wire["bsn"] = json!("123456782");
        let error = serde_json::from_value::<VisitationEvent>(wire).unwrap_err();
        assert!(error.to_string().contains("unknown field `bsn`"), "{error}");
    }

    #[test]
    fn unknown_kinds_and_outcomes_are_refused() {
        let mut wire = serde_json::to_value(outcome_event()).unwrap();
        wire["kind"] = json!("visitation_postponed");
        assert!(serde_json::from_value::<VisitationEvent>(wire).is_err());
        let mut wire = serde_json::to_value(outcome_event()).unwrap();
        wire["outcome"] = json!("maybe");
        assert!(serde_json::from_value::<VisitationEvent>(wire).is_err());
    }

    #[test]
    fn absent_options_may_be_left_out() {
        let event: VisitationEvent = serde_json::from_value(json!({
            "event_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "kind": "visitation_planned",
            "practice_agb": "07012345", "cycle_year": 2026, "visitation_date": "2026-09-14"
        }))
        .unwrap();
        assert_eq!(event.outcome, None);
        assert_eq!(event.remarks, None);
    }

    #[test]
    fn the_event_trait_names_the_id_and_the_kind() {
        let event = outcome_event();
        assert_eq!(Event::event_id(&event), event.event_id);
        assert_eq!(Event::kind(&event), "visitation_outcome");
        for kind in [
            VisitationEventKind::VisitationPlanned,
            VisitationEventKind::VisitationOutcome,
            VisitationEventKind::VisitationCancelled,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
    }

    #[test]
    fn the_documented_example_is_a_valid_event() {
        let schema = serde_json::to_value(VisitationEvent::schema()).unwrap();
        let example = schema.get("example").cloned().expect("an example");
        let event: VisitationEvent = serde_json::from_value(example).unwrap();
        assert_eq!(event.kind, VisitationEventKind::VisitationOutcome);
        assert_eq!(
            schema.get("additionalProperties"),
            Some(&Value::Bool(false)),
            "deny_unknown_fields shows in the contract"
        );
    }
}
