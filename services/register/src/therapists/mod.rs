//! Therapists (oefentherapeuten) and their memberships of practices.

pub mod repository;
pub mod routes;

use chrono::{DateTime, NaiveDate, Utc};
use praktijkregister_domain::IsoDate;
use praktijkregister_domain::{EmailAddress, KpNumber, KpStatus, OefentherapieAgb, Text};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::{checked, ApiError, FieldErrors};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::kp::KpRegistration;

/// Request to register a therapist (zorgverlener).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"agb": "07123456", "name": "A. Jansen", "email": "a.jansen@example.nl", "kp_number": "123456"}))]
pub struct NewTherapistRequest {
    /// AGB code of the therapist (zorgverlener), zorgsoort 07 (oefentherapie).
    #[schema(value_type = praktijkregister_domain::OefentherapieAgb, inline)]
    pub agb: String,
    #[schema(format = "text-line", max_length = 200)]
    pub name: String,
    #[schema(value_type = Option<praktijkregister_domain::EmailAddress>, inline)]
    pub email: Option<String>,
    /// KP-nummer (Kwaliteitsregister Paramedici); its status follows from an import or verification.
    #[schema(value_type = Option<praktijkregister_domain::KpNumber>, inline)]
    pub kp_number: Option<String>,
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn explicit_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Changes to a therapist; absent fields stay as they are, `null` clears `email` or `kp_number`.
/// A new KP number clears the status, period and verification time, which belonged to the old one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "A. Jansen-de Boer", "kp_number": "654321"}))]
pub struct TherapistPatch {
    #[schema(format = "text-line", max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<praktijkregister_domain::EmailAddress>, inline)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "explicit_null")]
    #[schema(value_type = Option<praktijkregister_domain::KpNumber>, inline)]
    pub kp_number: Option<Option<String>>,
}

/// A period in which a therapist works at a practice (werkzaam bij praktijk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"practice_agb": "07012345", "start_date": "2020-01-01", "end_date": null}))]
pub struct Membership {
    pub practice_agb: String,
    pub start_date: NaiveDate,
    /// Last day; null while ongoing.
    pub end_date: Option<NaiveDate>,
}

/// A therapist with KP data and memberships. `version` is also the `ETag`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "agb": "07123456", "name": "A. Jansen", "email": "a.jansen@example.nl",
    "kp": {"number": "123456", "status": "kwaliteitsgeregistreerd", "valid_from": "2024-01-01",
           "valid_until": "2028-12-31", "verified_at": "2026-10-01T09:00:00Z", "source": "import"},
    "memberships": [{"practice_agb": "07012345", "start_date": "2020-01-01", "end_date": null}],
    "version": 2, "created_at": "2026-09-01T09:00:00Z", "updated_at": "2026-10-01T09:00:00Z"
}))]
pub struct Therapist {
    pub agb: String,
    pub name: String,
    pub email: Option<String>,
    pub kp: KpRegistration,
    /// The practices the therapist works or worked at; a practice client sees only its own.
    pub memberships: Vec<Membership>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Start and end of a membership.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"start_date": "2024-01-01", "end_date": null}))]
pub struct MembershipRequest {
    pub start_date: IsoDate,
    /// Last day, on or after `start_date`; absent or null while ongoing.
    pub end_date: Option<IsoDate>,
}

impl MembershipRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        match self.end_date {
            Some(end) if end < self.start_date => Err(ApiError::field(
                "end_date",
                "date_order",
                "end_date must be on or after start_date",
            )),
            _ => Ok(()),
        }
    }
}

/// A membership as stored and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"practice_agb": "07012345", "therapist_agb": "07123456", "start_date": "2024-01-01", "end_date": null}))]
pub struct PracticeMembership {
    pub practice_agb: String,
    pub therapist_agb: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// A therapist in a practice's list: membership dates and KP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "agb": "07123456", "name": "A. Jansen", "start_date": "2020-01-01", "end_date": null,
    "kp_number": "123456", "kp_status": "kwaliteitsgeregistreerd", "kp_valid_until": "2028-12-31"
}))]
pub struct PracticeTherapist {
    /// AGB code of the therapist.
    pub agb: String,
    pub name: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub kp_number: Option<String>,
    pub kp_status: Option<KpStatus>,
    pub kp_valid_until: Option<NaiveDate>,
}

/// Validated therapist fields, ready for the repository.
#[derive(Debug, Clone)]
pub struct TherapistFields {
    pub name: Text,
    pub email: Option<EmailAddress>,
    pub kp_number: Option<KpNumber>,
    /// The KP number differs from the stored one, so the stored KP status no longer applies.
    pub kp_number_changed: bool,
}

/// Longest name of a therapist.
pub const MAX_NAME: usize = 200;

fn parse_name(errors: &mut FieldErrors, value: &str) -> Option<Text> {
    errors.check("name", Text::line(value, MAX_NAME))
}

fn parse_email(errors: &mut FieldErrors, value: &str) -> Option<EmailAddress> {
    errors.check("email", EmailAddress::parse(value))
}

fn parse_kp_number(errors: &mut FieldErrors, value: &str) -> Option<KpNumber> {
    errors.check("kp_number", KpNumber::parse(value))
}

impl NewTherapistRequest {
    /// Validates every field at once, so one answer names every problem.
    pub fn parse(self) -> Result<(OefentherapieAgb, TherapistFields), ApiError> {
        let mut errors = FieldErrors::new();
        let agb = errors.check("agb", OefentherapieAgb::parse(&self.agb));
        let name = parse_name(&mut errors, &self.name);
        let email = self.email.and_then(|e| parse_email(&mut errors, &e));
        let kp_number = self
            .kp_number
            .and_then(|k| parse_kp_number(&mut errors, &k));
        errors.into_result()?;
        Ok((
            checked(agb)?,
            TherapistFields {
                name: checked(name)?,
                email,
                kp_number_changed: kp_number.is_some(),
                kp_number,
            },
        ))
    }
}

impl TherapistPatch {
    /// Applies the patch to `current` and validates the result.
    pub fn apply(self, current: &Therapist) -> Result<TherapistFields, ApiError> {
        let mut errors = FieldErrors::new();
        let name = match self.name {
            Some(name) => parse_name(&mut errors, &name),
            None => Some(decode("therapists.name", &current.name, |raw| {
                Text::line(raw, MAX_NAME)
            })?),
        };
        let email = match self.email {
            Some(Some(email)) => parse_email(&mut errors, &email),
            Some(None) => None,
            None => current
                .email
                .as_deref()
                .map(|raw| decode("therapists.email", raw, EmailAddress::parse))
                .transpose()?,
        };
        let kp_number = match self.kp_number {
            Some(Some(kp)) => parse_kp_number(&mut errors, &kp),
            Some(None) => None,
            None => current
                .kp
                .number
                .as_deref()
                .map(|raw| decode("therapists.kp_number", raw, KpNumber::parse))
                .transpose()?,
        };
        errors.into_result()?;
        Ok(TherapistFields {
            name: checked(name)?,
            email,
            kp_number_changed: kp_number.as_ref().map(KpNumber::as_str)
                != current.kp.number.as_deref(),
            kp_number,
        })
    }
}
