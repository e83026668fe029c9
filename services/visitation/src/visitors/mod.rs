//! Visitors (visiteurs): trained, authorised for a period (001 §1.2c), with their availability per
//! part of a day and their capacity per cycle year and per week. A visitor is usually a practising
//! therapist: their therapist AGB brings the practices and intervision groups that count for
//! conflicts of interest.

pub mod repository;
pub mod routes;

use chrono::NaiveDate;
use praktijkregister_domain::{EmailAddress, OefentherapieAgb, PartOfDay, PhoneNumber, Text};
use praktijkregister_platform::error::{checked, ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most available parts of days one visitor may declare.
pub const MAX_AVAILABILITY: usize = 1000;
/// The highest capacity per year a visitor may be given.
pub const MAX_CAPACITY: u32 = 1000;

/// What the registrar records of a visitor.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "A. Jansen", "email": "a.jansen@example.nl", "phone": "030 123 4567",
    "therapist_agb": "07123456", "trained_on": "2025-03-01", "authorised_from": "2025-04-01",
    "authorised_until": "2027-03-31", "max_sessions_per_year": 12, "max_sessions_per_week": 2
}))]
pub struct VisitorDetails {
    #[schema(format = "text-line", max_length = 200)]
    pub name: String,
    #[schema(value_type = praktijkregister_domain::EmailAddress, inline)]
    pub email: String,
    #[schema(value_type = Option<praktijkregister_domain::PhoneNumber>, inline)]
    pub phone: Option<String>,
    /// The visitor's own AGB code as a therapist, if they are one.
    #[schema(value_type = Option<praktijkregister_domain::OefentherapieAgb>, inline)]
    pub therapist_agb: Option<String>,
    /// The day the visitor training was finished.
    pub trained_on: NaiveDate,
    /// First day of the authorisation (autorisatie).
    pub authorised_from: NaiveDate,
    /// Last day of the authorisation (inclusive); absent: open.
    pub authorised_until: Option<NaiveDate>,
    /// Sessions per cycle year at most.
    #[schema(minimum = 1, maximum = 1000)]
    pub max_sessions_per_year: u32,
    /// Sessions per ISO week at most.
    #[schema(minimum = 1, maximum = 1000)]
    pub max_sessions_per_week: u32,
}

/// Checked visitor details.
pub struct ParsedDetails {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub therapist_agb: Option<String>,
    pub trained_on: NaiveDate,
    pub authorised_from: NaiveDate,
    pub authorised_until: Option<NaiveDate>,
    pub max_sessions_per_year: i32,
    pub max_sessions_per_week: i32,
}

impl VisitorDetails {
    pub fn parse(&self, errors: &mut FieldErrors) -> Option<ParsedDetails> {
        let name = errors.check("name", Text::line(&self.name, 200));
        let email = errors.check("email", EmailAddress::parse(&self.email));
        let phone = match self.phone.as_deref() {
            Some(phone) => errors.check("phone", PhoneNumber::parse(phone)).map(Some),
            None => Some(None),
        };
        let therapist = match self.therapist_agb.as_deref() {
            Some(agb) => errors
                .check("therapist_agb", OefentherapieAgb::parse(agb))
                .map(Some),
            None => Some(None),
        };
        if self
            .authorised_until
            .is_some_and(|until| until < self.authorised_from)
        {
            errors.push(
                "authorised_until",
                "authorisation_period",
                "the authorisation ends on or after the day it starts",
            );
        }
        for (field, value) in [
            ("max_sessions_per_year", self.max_sessions_per_year),
            ("max_sessions_per_week", self.max_sessions_per_week),
        ] {
            if !(1..=MAX_CAPACITY).contains(&value) {
                errors.push(
                    field,
                    "capacity_range",
                    format!("a capacity is 1 to {MAX_CAPACITY}"),
                );
            }
        }
        Some(ParsedDetails {
            name: name?.into_string(),
            email: email?.as_str().to_string(),
            phone: phone?.map(|p| p.as_str().to_string()),
            therapist_agb: therapist?.map(|a| a.as_str().to_string()),
            trained_on: self.trained_on,
            authorised_from: self.authorised_from,
            authorised_until: self.authorised_until,
            max_sessions_per_year: i32::try_from(self.max_sessions_per_year).ok()?,
            max_sessions_per_week: i32::try_from(self.max_sessions_per_week).ok()?,
        })
    }
}

impl VisitorDetails {
    /// Every refusal of the body at once.
    pub fn parsed(&self) -> Result<ParsedDetails, ApiError> {
        let mut errors = FieldErrors::new();
        let details = self.parse(&mut errors);
        errors.into_result()?;
        checked(details)
    }
}

/// A visitor.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "visitor-jansen", "name": "A. Jansen", "email": "a.jansen@example.nl", "phone": "030 123 4567",
    "therapist_agb": "07123456", "trained_on": "2025-03-01", "authorised_from": "2025-04-01",
    "authorised_until": "2027-03-31", "max_sessions_per_year": 12, "max_sessions_per_week": 2,
    "availability": [{"date": "2026-09-14", "part_of_day": "morning"}]
}))]
pub struct Visitor {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub therapist_agb: Option<String>,
    pub trained_on: NaiveDate,
    pub authorised_from: NaiveDate,
    pub authorised_until: Option<NaiveDate>,
    pub max_sessions_per_year: i32,
    pub max_sessions_per_week: i32,
    /// The parts of days the visitor declared available, in order.
    pub availability: Vec<Slot>,
}

/// One part of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"date": "2026-09-14", "part_of_day": "morning"}))]
pub struct Slot {
    pub date: NaiveDate,
    pub part_of_day: PartOfDay,
}

/// The parts of days a visitor is available: replaces what they declared before.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"slots": [{"date": "2026-09-14", "part_of_day": "morning"}, {"date": "2026-09-14", "part_of_day": "afternoon"}]}))]
pub struct Availability {
    #[schema(schema_with = availability_slots_schema)]
    pub slots: Vec<Slot>,
}

/// At most [`MAX_AVAILABILITY`] parts of days, each listed once.
fn availability_slots_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name("Slot"))
        .max_items(Some(MAX_AVAILABILITY))
        .unique_items(true)
        .build()
}
