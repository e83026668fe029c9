//! Intervision (intervisie, 001 §1.1): groups of therapists, who belongs to them when, their
//! meetings and who attended. What is discussed is confidential (001 §1.3c) and has no place
//! here: no request or record carries content, and unknown fields are refused.
//!
//! A group spans practices (001 §1.1d), but a therapist's membership counts for the compliance of
//! every practice the therapist works at, so no practice makes another practice's therapist a
//! member on its own: the group's owner invites, and a practice where the therapist works accepts
//! or declines ([`Invitation`]). The registrar enrols directly; a practice may end its own
//! therapist's membership of any group.

pub mod repository;
pub mod routes;

use chrono::{DateTime, NaiveDate, Utc};
use praktijkregister_domain::IsoDate;
use praktijkregister_domain::{OefentherapieAgb, Text};
use praktijkregister_platform::error::{checked, ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Request to form an intervision group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Intervisiegroep Utrecht-Oost", "owner_practice_agb": "07012345"}))]
pub struct NewGroupRequest {
    /// 1 to 200 characters.
    #[schema(format = "text-line", max_length = 200)]
    pub name: String,
    /// The practice that manages the group. A practice client's group is always its own; the
    /// registrar may name one or leave the group without owner.
    #[schema(value_type = Option<praktijkregister_domain::OefentherapieAgb>, inline)]
    pub owner_practice_agb: Option<String>,
}

/// Membership of a therapist in a group, by the days they joined and left.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"joined_on": "2026-01-01", "left_on": null}))]
pub struct MemberRequest {
    pub joined_on: IsoDate,
    /// Last day in the group, on or after `joined_on`; absent or null while a member.
    pub left_on: Option<IsoDate>,
}

/// A meeting that took place: its form, length, facilitator, accreditation and attendees.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "held_on": "2026-03-12", "physical": true, "duration_minutes": 120,
    "facilitator_name": "M. Bakker", "facilitator_trained": true,
    "adap_accreditation_number": "ADAP-2026-04711", "adap_accreditation_year": 2026,
    "attendees": ["07123456", "07123457", "07123458", "07123459"]
}))]
pub struct NewMeetingRequest {
    /// The day it was held; not after today (Europe/Amsterdam).
    pub held_on: IsoDate,
    /// Held in person (fysiek, 001 §1.1b).
    pub physical: bool,
    /// 1 to 1440.
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: i32,
    /// The process facilitator (procesbegeleider, 001 §1.1e); 1 to 200 characters.
    #[schema(format = "text-line", max_length = 200)]
    pub facilitator_name: String,
    /// Whether the facilitator is trained for it (001 §1.1e).
    pub facilitator_trained: bool,
    /// ADAP accreditation of the intervision track (001 §1.1f); 1 to 50 characters.
    #[schema(format = "text-line", max_length = 50)]
    pub adap_accreditation_number: Option<String>,
    /// The year the ADAP accreditation is for.
    #[schema(minimum = 2000, maximum = 2099)]
    pub adap_accreditation_year: Option<i32>,
    /// AGB codes of the therapists who attended; each a member of the group on `held_on`.
    #[schema(value_type = Vec<praktijkregister_domain::OefentherapieAgb>, inline)]
    pub attendees: Vec<String>,
}

/// A therapist's membership of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"therapist_agb": "07123456", "joined_on": "2026-01-01", "left_on": null}))]
pub struct GroupMember {
    pub therapist_agb: String,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
}

/// A recorded meeting; never its content.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d11", "held_on": "2026-03-12", "physical": true,
    "duration_minutes": 120, "facilitator_name": "M. Bakker", "facilitator_trained": true,
    "adap_accreditation_number": "ADAP-2026-04711", "adap_accreditation_year": 2026,
    "attendees": ["07123456", "07123457", "07123458", "07123459"]
}))]
pub struct Meeting {
    pub id: Uuid,
    pub held_on: NaiveDate,
    pub physical: bool,
    pub duration_minutes: i32,
    pub facilitator_name: String,
    pub facilitator_trained: bool,
    pub adap_accreditation_number: Option<String>,
    pub adap_accreditation_year: Option<i32>,
    /// AGB codes, ascending.
    pub attendees: Vec<String>,
}

/// A group with its members and meetings (oldest first).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "name": "Intervisiegroep Utrecht-Oost",
    "owner_practice_agb": "07012345", "created_at": "2026-01-05T10:00:00Z",
    "members": [{"therapist_agb": "07123456", "joined_on": "2026-01-01", "left_on": null}],
    "meetings": [{
        "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d11", "held_on": "2026-03-12", "physical": true,
        "duration_minutes": 120, "facilitator_name": "M. Bakker", "facilitator_trained": true,
        "adap_accreditation_number": "ADAP-2026-04711", "adap_accreditation_year": 2026,
        "attendees": ["07123456"]
    }]
}))]
pub struct IntervisionGroup {
    pub id: Uuid,
    pub name: String,
    pub owner_practice_agb: Option<String>,
    pub created_at: DateTime<Utc>,
    pub members: Vec<GroupMember>,
    pub meetings: Vec<Meeting>,
}

/// A group in a list: its counts instead of its members and meetings.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "name": "Intervisiegroep Utrecht-Oost",
    "owner_practice_agb": "07012345", "created_at": "2026-01-05T10:00:00Z",
    "member_count": 6, "meeting_count": 4
}))]
pub struct GroupSummary {
    pub id: Uuid,
    pub name: String,
    pub owner_practice_agb: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Members past and present.
    pub member_count: i64,
    pub meeting_count: i64,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// Waiting for a practice where the therapist works to answer.
    Pending,
    /// Accepted: the membership exists with the invitation's dates.
    Accepted,
    /// Declined: nothing changed.
    Declined,
    /// Withdrawn by the group before it was answered.
    Withdrawn,
}

praktijkregister_domain::wire_names!(InvitationState, error = UnknownState, unknown = UnknownState, {
    Pending = "pending",
    Accepted = "accepted",
    Declined = "declined",
    Withdrawn = "withdrawn",
});

/// A stored invitation state that is not one of [`InvitationState`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a known invitation state")]
pub struct UnknownState;

/// The proposal of a group's owner that a therapist of another practice join the group, with the
/// dates of the membership; the membership exists once a practice where the therapist works (or
/// the registrar) accepts it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d12",
    "group_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "group_name": "Intervisiegroep Utrecht-Oost",
    "owner_practice_agb": "07012345", "therapist_agb": "07123460",
    "joined_on": "2026-01-01", "left_on": null, "state": "pending",
    "created_at": "2026-01-05T10:00:00Z", "answered_at": null
}))]
pub struct Invitation {
    pub id: Uuid,
    pub group_id: Uuid,
    pub group_name: String,
    pub owner_practice_agb: Option<String>,
    /// The invited therapist.
    pub therapist_agb: String,
    /// The membership's first day, once accepted.
    pub joined_on: NaiveDate,
    /// The membership's last day, once accepted; null for open-ended.
    pub left_on: Option<NaiveDate>,
    pub state: InvitationState,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// Filter of the group list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupListParams {
    /// Groups the practice owns or in which one of its therapists is a member. A practice
    /// client's list is always of its own practice.
    #[param(value_type = Option<praktijkregister_domain::OefentherapieAgb>, inline, example = "07012345")]
    pub practice_agb: Option<String>,
}

/// Validated meeting fields, ready for the repository.
#[derive(Debug, Clone)]
pub struct MeetingFields {
    pub held_on: NaiveDate,
    pub physical: bool,
    pub duration_minutes: i32,
    pub facilitator_name: String,
    pub facilitator_trained: bool,
    pub adap_accreditation_number: Option<String>,
    pub adap_accreditation_year: Option<i32>,
    /// In the order given, each once.
    pub attendees: Vec<String>,
}

const MAX_ATTENDEES: usize = 50;

/// Free text under the one rule of the register ([`Text::line`]), named by its field.
fn line(errors: &mut FieldErrors, field: &str, value: &str, max: usize) -> Option<String> {
    errors
        .check(field, Text::line(value, max))
        .map(Text::into_string)
}

impl NewGroupRequest {
    /// The name and the owner's AGB code, each checked.
    pub fn parse(self) -> Result<(Text, Option<OefentherapieAgb>), ApiError> {
        let mut errors = FieldErrors::new();
        let name = errors.check("name", Text::line(&self.name, 200));
        let owner = self
            .owner_practice_agb
            .and_then(|agb| errors.check("owner_practice_agb", OefentherapieAgb::parse(&agb)));
        errors.into_result()?;
        Ok((checked(name)?, owner))
    }
}

impl MemberRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        match self.left_on {
            Some(left) if left < self.joined_on => Err(ApiError::field(
                "left_on",
                "date_order",
                "left_on must be on or after joined_on",
            )),
            _ => Ok(()),
        }
    }

    /// Whether these dates lie within `existing`'s: the change only ends or shortens the
    /// membership, which needs no invitation.
    pub fn within(&self, existing: &GroupMember) -> bool {
        let end = |day: Option<NaiveDate>| day.unwrap_or(NaiveDate::MAX);
        self.joined_on.date() >= existing.joined_on
            && end(self.left_on.map(IsoDate::date)) <= end(existing.left_on)
    }
}

impl NewMeetingRequest {
    /// Validates every field at once; whether the attendees were members is checked against the
    /// stored group afterwards.
    pub fn parse(self, today: NaiveDate) -> Result<MeetingFields, ApiError> {
        let mut errors = FieldErrors::new();
        if self.held_on.date() > today {
            errors.push(
                "held_on",
                "date_in_future",
                format!("a meeting is recorded once held; held_on is after today ({today})"),
            );
        }
        if !(1..=1440).contains(&self.duration_minutes) {
            errors.push(
                "duration_minutes",
                "duration_range",
                "duration_minutes must be between 1 and 1440",
            );
        }
        let facilitator_name = line(&mut errors, "facilitator_name", &self.facilitator_name, 200);
        let adap_accreditation_number = self
            .adap_accreditation_number
            .and_then(|n| line(&mut errors, "adap_accreditation_number", &n, 50));
        if self.adap_accreditation_year.is_some_and(|year| {
            !(crate::quality::MIN_YEAR..=crate::quality::MAX_YEAR).contains(&year)
        }) {
            errors.push(
                "adap_accreditation_year",
                "year_range",
                format!(
                    "the year must be between {} and {}",
                    crate::quality::MIN_YEAR,
                    crate::quality::MAX_YEAR
                ),
            );
        }
        if self.attendees.is_empty() || self.attendees.len() > MAX_ATTENDEES {
            errors.push(
                "attendees",
                "attendees_count",
                format!("a meeting has 1 to {MAX_ATTENDEES} attendees"),
            );
        }
        let mut attendees: Vec<String> = Vec::with_capacity(self.attendees.len());
        for (i, raw) in self.attendees.iter().enumerate() {
            let field = format!("attendees[{i}]");
            let Some(agb) = errors.check(&field, OefentherapieAgb::parse(raw)) else {
                continue;
            };
            let agb = agb.as_str().to_string();
            if attendees.contains(&agb) {
                errors.push(
                    field,
                    "attendee_duplicate",
                    format!("{agb} is listed twice"),
                );
            } else {
                attendees.push(agb);
            }
        }
        errors.into_result()?;
        Ok(MeetingFields {
            held_on: self.held_on.date(),
            physical: self.physical,
            duration_minutes: self.duration_minutes,
            facilitator_name: checked(facilitator_name)?,
            facilitator_trained: self.facilitator_trained,
            adap_accreditation_number,
            adap_accreditation_year: self.adap_accreditation_year,
            attendees,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn meeting(attendees: &[&str]) -> NewMeetingRequest {
        NewMeetingRequest {
            held_on: "2026-03-12".parse().unwrap(),
            physical: true,
            duration_minutes: 120,
            facilitator_name: " M. Bakker ".into(),
            facilitator_trained: true,
            adap_accreditation_number: None,
            adap_accreditation_year: Some(2026),
            attendees: attendees.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn a_meeting_names_each_bad_attendee() {
        let today = "2026-03-12".parse().unwrap();
        let fields = meeting(&["07123456", " 07123457"]).parse(today).unwrap();
        assert_eq!(fields.facilitator_name, "M. Bakker");
        assert_eq!(fields.attendees, vec!["07123456", "07123457"]);
        let Err(ApiError::Validation(errors)) =
            meeting(&["07123456", "04123456", "07123456"]).parse(today)
        else {
            panic!("expected validation errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["attendees[1]", "attendees[2]"]);
    }

    #[test]
    fn names_are_one_line_without_control_characters() {
        let today = "2026-03-12".parse().unwrap();
        let mut request = meeting(&["07123456"]);
        request.facilitator_name = "M.\u{0} Bakker".into();
        let Err(ApiError::Validation(errors)) = request.parse(today) else {
            panic!("expected validation errors");
        };
        assert_eq!(errors[0].field, "facilitator_name");
        assert_eq!(errors[0].code, "text_characters");
    }

    #[test]
    fn only_dates_within_the_membership_end_it() {
        let existing = GroupMember {
            therapist_agb: "07123456".into(),
            joined_on: "2026-01-01".parse().unwrap(),
            left_on: None,
        };
        let request = |joined: &str, left: Option<&str>| MemberRequest {
            joined_on: joined.parse().unwrap(),
            left_on: left.map(|l| l.parse().unwrap()),
        };
        assert!(request("2026-01-01", None).within(&existing));
        assert!(request("2026-01-01", Some("2026-06-30")).within(&existing));
        assert!(request("2026-02-01", Some("2026-06-30")).within(&existing));
        assert!(!request("2025-12-31", Some("2026-06-30")).within(&existing));
        let ended = GroupMember {
            left_on: Some("2026-06-30".parse().unwrap()),
            ..existing
        };
        assert!(!request("2026-01-01", None).within(&ended));
        assert!(!request("2026-01-01", Some("2026-07-01")).within(&ended));
        assert!(request("2026-01-01", Some("2026-06-30")).within(&ended));
    }

    #[test]
    fn a_meeting_in_the_future_is_refused() {
        let yesterday = "2026-03-11".parse().unwrap();
        assert!(meeting(&["07123456"]).parse(yesterday).is_err());
    }
}
