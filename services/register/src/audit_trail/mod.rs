//! The audit trail (DESIGN §5): who did what, when, to which subject, with what outcome, read
//! back by the registrar.

pub mod repository;
pub mod routes;

use chrono::{DateTime, Utc};
use praktijkregister_domain::Text;
use praktijkregister_platform::audit::Outcome;
use praktijkregister_platform::error::{ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// One line of the audit trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 1042, "occurred_at": "2026-11-01T09:00:00.123Z", "actor_client_id": "registrar",
    "actor_role": "registrar", "on_behalf_of": null, "action": "practice.update",
    "subject_type": "practice", "subject_id": "07012345", "outcome": "success",
    "request_id": "5f0c8f0e-2a43-4d43-9a55-0d7d1c1f8a11", "detail": {}
}))]
pub struct AuditEventView {
    /// Position in the trail; a later event has a higher id.
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    /// The API client that acted.
    pub actor_client_id: String,
    /// The role of that client (`registrar`, `practice`, `service`, ...).
    pub actor_role: String,
    /// The person or organisation the client acted for, when it said so.
    pub on_behalf_of: Option<String>,
    /// What was done, a dotted verb such as `practice.update`.
    pub action: String,
    /// The kind of subject (`practice`, `therapist`, `cycle`, ...).
    pub subject_type: String,
    /// Which subject; `*` for a list or search.
    pub subject_id: String,
    /// `success`, `denied` or `failed`.
    pub outcome: String,
    /// The `X-Request-Id` of the request that did it.
    pub request_id: Option<String>,
    /// Particulars of the action.
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// How `action` is matched: exactly, or every action under a dotted prefix (`practice.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionFilter {
    Exact(String),
    /// The prefix, ending in the dot: `practice.` for `practice.*`.
    Prefix(String),
}

impl ActionFilter {
    pub fn parse(raw: String) -> Self {
        match raw.strip_suffix('*') {
            Some(prefix) if prefix.ends_with('.') => Self::Prefix(prefix.to_string()),
            _ => Self::Exact(raw),
        }
    }
}

/// The validated filters of an audit-trail query.
#[derive(Debug, Default, Clone, Serialize)]
pub struct AuditFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// As given, for the audit line of the read; [`AuditFilter::action_filter`] is what is matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl AuditFilter {
    pub fn action_filter(&self) -> Option<ActionFilter> {
        self.action.clone().map(ActionFilter::parse)
    }
}

/// The longest text filter accepted; no stored value is longer in practice.
const MAX_TEXT_FILTER: usize = 200;

/// A text filter: blank means absent; otherwise the one text rule (a line of at most
/// [`MAX_TEXT_FILTER`] characters).
fn text_filter(errors: &mut FieldErrors, field: &str, value: Option<String>) -> Option<String> {
    let value = value.filter(|v| !v.trim().is_empty())?;
    errors
        .check(field, Text::line(&value, MAX_TEXT_FILTER))
        .map(Text::into_string)
}

/// An RFC 3339 instant. A `+` sent unescaped in a query string arrives as a space, so a space
/// before the offset is read as `+`. An empty value is not an instant: refused like any other
/// (DESIGN §4).
fn instant_filter(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
) -> Option<DateTime<Utc>> {
    let value = value.map(|v| v.trim().to_string())?;
    let parsed = DateTime::parse_from_rfc3339(&value).or_else(|e| match value.rsplit_once(' ') {
        Some((head, offset)) => DateTime::parse_from_rfc3339(&format!("{head}+{offset}")),
        None => Err(e),
    });
    match parsed {
        Ok(at) => Some(at.with_timezone(&Utc)),
        Err(_) => {
            errors.push(
                field,
                "instant_format",
                "give an RFC 3339 instant with offset, e.g. 2026-11-01T09:00:00Z",
            );
            None
        }
    }
}

/// The filters of the audit trail as sent; [`AuditListParams::parse`] checks them all at once.
// Read as text so that a malformed value is reported against its own parameter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditListParams {
    /// Only events about this kind of subject.
    #[param(example = "practice")]
    pub subject_type: Option<String>,
    /// Only events about this subject (with `subject_type`, one subject exactly).
    #[param(example = "07012345")]
    pub subject_id: Option<String>,
    /// Only events of this API client (`actor_client_id`).
    #[param(example = "registrar")]
    pub actor: Option<String>,
    /// Only this action; ending in `.*` every action under the prefix (`practice.*`).
    #[param(example = "practice.*")]
    pub action: Option<String>,
    /// Only events at or after this instant (RFC 3339, inclusive).
    #[param(value_type = Option<DateTime<Utc>>, example = "2026-11-01T00:00:00Z")]
    pub from: Option<String>,
    /// Only events before this instant (RFC 3339, exclusive); later than `from`.
    #[param(value_type = Option<DateTime<Utc>>, example = "2026-12-01T00:00:00Z")]
    pub to: Option<String>,
    /// Only events with this outcome: `success`, `denied` or `failed`.
    #[param(example = "success")]
    pub outcome: Option<String>,
}

impl AuditListParams {
    /// Checks every filter; the answer names each invalid parameter.
    pub fn parse(self) -> Result<AuditFilter, ApiError> {
        let mut errors = FieldErrors::new();
        let subject_type = text_filter(&mut errors, "subject_type", self.subject_type);
        let subject_id = text_filter(&mut errors, "subject_id", self.subject_id);
        let actor = text_filter(&mut errors, "actor", self.actor);
        let action = text_filter(&mut errors, "action", self.action);
        let from = instant_filter(&mut errors, "from", self.from);
        let to = instant_filter(&mut errors, "to", self.to);
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                errors.push("to", "range_order", "`to` must be later than `from`");
            }
        }
        let outcomes = [Outcome::Success, Outcome::Denied, Outcome::Failed].map(Outcome::as_str);
        // A typed filter: empty is a value, and not one of the outcomes.
        let outcome = self.outcome;
        if let Some(outcome) = outcome.as_deref() {
            if !outcomes.contains(&outcome) {
                errors.push(
                    "outcome",
                    "outcome_unknown",
                    format!("an outcome is one of {}", outcomes.join(", ")),
                );
            }
        }
        errors.into_result()?;
        Ok(AuditFilter {
            subject_type,
            subject_id,
            actor,
            action,
            from,
            to,
            outcome,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn field_errors(result: Result<AuditFilter, ApiError>) -> Vec<String> {
        match result {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn an_action_ending_in_dot_star_is_a_prefix() {
        assert_eq!(
            ActionFilter::parse("practice.*".into()),
            ActionFilter::Prefix("practice.".into())
        );
        assert_eq!(
            ActionFilter::parse("practice.read".into()),
            ActionFilter::Exact("practice.read".into())
        );
        assert_eq!(
            ActionFilter::parse("practice*".into()),
            ActionFilter::Exact("practice*".into())
        );
    }

    #[test]
    fn instants_are_rfc_3339_and_the_range_is_ordered() {
        let filter = AuditListParams {
            from: Some("2026-11-01T10:00:00+01:00".into()),
            to: Some("2026-11-01T10:00:00 01:00".into()),
            ..Default::default()
        };
        assert_eq!(field_errors(filter.parse()), ["to"]);
        let filter = AuditListParams {
            from: Some("2026-11-01".into()),
            to: Some("yesterday".into()),
            ..Default::default()
        };
        assert_eq!(field_errors(filter.parse()), ["from", "to"]);
        let filter = AuditListParams {
            from: Some("2026-11-01T09:00:00Z".into()),
            to: Some("2026-11-01T10:00:00.5 01:00".into()),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert!(filter.outcome.is_none());
        // Typed filters sent empty are refused, not ignored.
        let empty = AuditListParams {
            from: Some(String::new()),
            to: Some(" ".into()),
            outcome: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(field_errors(empty.parse()), ["from", "to", "outcome"]);
        assert_eq!(
            filter.to.unwrap().to_rfc3339(),
            "2026-11-01T09:00:00.500+00:00"
        );
    }

    #[test]
    fn unknown_outcomes_and_control_characters_are_named() {
        let query = AuditListParams {
            outcome: Some("ok".into()),
            subject_id: Some("07\u{0}".into()),
            ..Default::default()
        };
        assert_eq!(field_errors(query.parse()), ["subject_id", "outcome"]);
    }
}
