//! Practices (praktijken) of the register, with their locations (vestigingen).

pub mod repository;
pub mod routes;

use chrono::{DateTime, Utc};
use praktijkregister_domain::{
    EmailAddress, KvkBranchNumber, KvkNumber, OefentherapieAgb, PhoneNumber, PostalCode,
    PracticeTier, Text,
};
use praktijkregister_platform::db::decode;
use praktijkregister_platform::error::{checked, ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The practice's contact person; private to the register.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "J. de Vries", "email": "info@debeweging.nl", "phone": "+31201234567"}))]
pub struct Contact {
    #[schema(format = "text-line", max_length = 200)]
    pub name: Option<String>,
    #[schema(value_type = Option<praktijkregister_domain::EmailAddress>, inline)]
    pub email: Option<String>,
    #[schema(value_type = Option<praktijkregister_domain::PhoneNumber>, inline)]
    pub phone: Option<String>,
}

/// A location (vestiging) as sent by a client.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "agb": "07012346", "kvk_branch_number": "000012345678", "street": "Dorpsstraat", "house_number": "12a",
    "postal_code": "1234 AB", "city": "Utrecht", "phone": "030 123 4567", "website": "https://debeweging.nl",
    "own_entrance": true, "own_waiting_room": true, "own_reception": true, "own_administration": true, "own_logo": true
}))]
pub struct LocationInput {
    /// AGB code of the location (vestiging), zorgsoort 07.
    #[schema(value_type = praktijkregister_domain::OefentherapieAgb, inline)]
    pub agb: String,
    /// KvK vestigingsnummer, 12 digits.
    #[schema(value_type = praktijkregister_domain::KvkBranchNumber, inline)]
    pub kvk_branch_number: String,
    #[schema(format = "text-line", max_length = 200)]
    pub street: String,
    #[schema(format = "text-line", max_length = 20)]
    pub house_number: String,
    /// Dutch postal code; stored as `1234 AB`.
    #[schema(value_type = praktijkregister_domain::PostalCode, inline)]
    pub postal_code: String,
    #[schema(format = "text-line", max_length = 100)]
    pub city: String,
    #[schema(value_type = Option<praktijkregister_domain::PhoneNumber>, inline)]
    pub phone: Option<String>,
    /// `http` or `https` URL.
    #[schema(
        pattern = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][^\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000-\u001F\u007F-\u009F]*)?[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub website: Option<String>,
    /// Own entrance (eigen ingang), 001 §2.1b.
    pub own_entrance: bool,
    /// Own waiting room (eigen wachtruimte), 001 §2.1b.
    pub own_waiting_room: bool,
    /// Own reception (eigen receptie), 001 §2.1b.
    pub own_reception: bool,
    /// Own administration (eigen administratie), 001 §2.1b.
    pub own_administration: bool,
    /// Own logo (eigen logo), 001 §2.1b.
    pub own_logo: bool,
}

/// A location as stored and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Location {
    pub agb: String,
    pub kvk_branch_number: String,
    pub street: String,
    pub house_number: String,
    pub postal_code: String,
    pub city: String,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub own_entrance: bool,
    pub own_waiting_room: bool,
    pub own_reception: bool,
    pub own_administration: bool,
    pub own_logo: bool,
}

/// Request to register a practice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "agb": "07012345", "name": "Oefentherapie De Beweging", "kvk_number": "12345678", "tier": "praktijkregister",
    "contact": {"name": "J. de Vries", "email": "info@debeweging.nl", "phone": "+31201234567"},
    "locations": [{
        "agb": "07012346", "kvk_branch_number": "000012345678", "street": "Dorpsstraat", "house_number": "12a",
        "postal_code": "1234 AB", "city": "Utrecht", "phone": "030 123 4567", "website": "https://debeweging.nl",
        "own_entrance": true, "own_waiting_room": true, "own_reception": true, "own_administration": true, "own_logo": true
    }]
}))]
pub struct NewPracticeRequest {
    /// AGB code of the practice (onderneming), zorgsoort 07 (oefentherapie).
    #[schema(value_type = praktijkregister_domain::OefentherapieAgb, inline)]
    pub agb: String,
    #[schema(format = "text-line", max_length = 200)]
    pub name: String,
    /// KvK number, 8 digits.
    #[schema(value_type = praktijkregister_domain::KvkNumber, inline)]
    pub kvk_number: String,
    /// Default `praktijkregister`.
    pub tier: Option<PracticeTier>,
    pub contact: Option<Contact>,
    /// At least one location.
    #[schema(min_items = 1, max_items = 50)]
    pub locations: Vec<LocationInput>,
}

/// Changes to a practice; absent fields stay as they are, `locations` replaces the whole list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Oefentherapie De Beweging Utrecht"}))]
pub struct PracticePatch {
    #[schema(format = "text-line", max_length = 200)]
    pub name: Option<String>,
    #[schema(value_type = Option<praktijkregister_domain::KvkNumber>, inline)]
    pub kvk_number: Option<String>,
    pub tier: Option<PracticeTier>,
    pub contact: Option<Contact>,
    #[schema(min_items = 1, max_items = 50)]
    pub locations: Option<Vec<LocationInput>>,
}

/// A practice with its locations. `version` is also the `ETag`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "agb": "07012345", "name": "Oefentherapie De Beweging", "kvk_number": "12345678", "tier": "praktijkregister",
    "contact": {"name": "J. de Vries", "email": "info@debeweging.nl", "phone": "+31201234567"},
    "locations": [{
        "agb": "07012346", "kvk_branch_number": "000012345678", "street": "Dorpsstraat", "house_number": "12a",
        "postal_code": "1234 AB", "city": "Utrecht", "phone": "+31301234567", "website": "https://debeweging.nl",
        "own_entrance": true, "own_waiting_room": true, "own_reception": true, "own_administration": true, "own_logo": true
    }],
    "version": 1, "created_at": "2026-11-01T09:00:00Z", "updated_at": "2026-11-01T09:00:00Z"
}))]
pub struct Practice {
    pub agb: String,
    pub name: String,
    pub kvk_number: String,
    pub tier: PracticeTier,
    pub contact: Contact,
    pub locations: Vec<Location>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Validated practice fields, ready for the repository.
#[derive(Debug, Clone)]
pub struct PracticeFields {
    /// Checked for length only: a NUL in it is refused by the database (see
    /// `frame::a_nul_character_in_text_is_refused_not_a_server_error`), not by the text rule.
    pub name: String,
    pub kvk_number: KvkNumber,
    pub tier: PracticeTier,
    pub contact: Contact,
    pub locations: Vec<Location>,
}

/// Normalises a postal-code prefix the way postal codes are stored (`1234 AB`):
/// `3512ab` → `3512 AB`, ` 35 ` → `35`.
pub fn normalise_postal_code_prefix(prefix: &str) -> String {
    let compact: Vec<char> = prefix
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    let digits: String = compact.iter().take(4).collect();
    let letters: String = compact.iter().skip(4).collect();
    if letters.is_empty() {
        digits
    } else {
        format!("{digits} {letters}")
    }
}

const MAX_LOCATIONS: usize = 50;

/// Longest name of a practice or its contact person.
pub const MAX_NAME: usize = 200;

fn parse_name(errors: &mut FieldErrors, field: &str, value: &str) -> Option<Text> {
    errors.check(field, Text::line(value, MAX_NAME))
}

/// The practice's own name: the text rule of one line of 1 to [`MAX_NAME`] characters.
fn parse_practice_name(errors: &mut FieldErrors, value: &str) -> Option<String> {
    parse_name(errors, "name", value).map(Text::into_string)
}

fn parse_contact(errors: &mut FieldErrors, contact: Contact) -> Contact {
    Contact {
        name: contact
            .name
            .and_then(|n| parse_name(errors, "contact.name", &n))
            .map(Text::into_string),
        email: contact
            .email
            .and_then(|e| errors.check("contact.email", EmailAddress::parse(&e)))
            .map(|e| e.as_str().to_string()),
        phone: contact
            .phone
            .and_then(|p| errors.check("contact.phone", PhoneNumber::parse(&p)))
            .map(|p| p.as_str().to_string()),
    }
}

/// A line of a location (street, city): the text rule; refused text is reported and left empty,
/// which the collected errors then refuse.
fn parse_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) -> String {
    errors
        .check(field, Text::line(value, max))
        .map(Text::into_string)
        .unwrap_or_default()
}

fn parse_locations(errors: &mut FieldErrors, locations: Vec<LocationInput>) -> Vec<Location> {
    if locations.is_empty() || locations.len() > MAX_LOCATIONS {
        errors.push(
            "locations",
            "locations_count",
            format!("a practice has 1 to {MAX_LOCATIONS} locations"),
        );
    }
    locations
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let field = |name: &str| format!("locations[{i}].{name}");
            let agb = errors
                .check(&field("agb"), OefentherapieAgb::parse(&input.agb))
                .map(|a| a.as_str().to_string())
                .unwrap_or_default();
            let kvk_branch_number = errors
                .check(
                    &field("kvk_branch_number"),
                    KvkBranchNumber::parse(&input.kvk_branch_number),
                )
                .map(|k| k.as_str().to_string())
                .unwrap_or_default();
            let postal_code = errors
                .check(&field("postal_code"), PostalCode::parse(&input.postal_code))
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            let phone = input
                .phone
                .and_then(|p| errors.check(&field("phone"), PhoneNumber::parse(&p)))
                .map(|p| p.as_str().to_string());
            let website = input.website.and_then(|w| match url::Url::parse(w.trim()) {
                // The URL parser would drop or encode spaces and controls; an address a person
                // typed with them is a typing error.
                Ok(url)
                    if matches!(url.scheme(), "http" | "https")
                        && url.host().is_some()
                        && !w
                            .trim()
                            .chars()
                            .any(|c| c.is_whitespace() || c.is_control()) =>
                {
                    Some(url.to_string())
                }
                _ => {
                    errors.push(
                        field("website"),
                        "website_format",
                        "give a full http or https address",
                    );
                    None
                }
            });
            Location {
                agb,
                kvk_branch_number,
                street: parse_text(errors, &field("street"), &input.street, 200),
                house_number: parse_text(errors, &field("house_number"), &input.house_number, 20),
                postal_code,
                city: parse_text(errors, &field("city"), &input.city, 100),
                phone,
                website,
                own_entrance: input.own_entrance,
                own_waiting_room: input.own_waiting_room,
                own_reception: input.own_reception,
                own_administration: input.own_administration,
                own_logo: input.own_logo,
            }
        })
        .collect()
}

impl NewPracticeRequest {
    /// Validates every field at once, so one answer names every problem.
    pub fn parse(self) -> Result<(OefentherapieAgb, PracticeFields), ApiError> {
        let mut errors = FieldErrors::new();
        let agb = errors.check("agb", OefentherapieAgb::parse(&self.agb));
        let name = parse_practice_name(&mut errors, &self.name);
        let kvk = errors.check("kvk_number", KvkNumber::parse(&self.kvk_number));
        let contact = parse_contact(&mut errors, self.contact.unwrap_or_default());
        let locations = parse_locations(&mut errors, self.locations);
        errors.into_result()?;
        Ok((
            checked(agb)?,
            PracticeFields {
                name: checked(name)?,
                kvk_number: checked(kvk)?,
                tier: self.tier.unwrap_or_default(),
                contact,
                locations,
            },
        ))
    }
}

impl PracticePatch {
    /// Applies the patch to `current` and validates the result.
    pub fn apply(self, current: &Practice) -> Result<PracticeFields, ApiError> {
        let mut errors = FieldErrors::new();
        let name = match self.name {
            Some(name) => parse_practice_name(&mut errors, &name),
            None => Some(current.name.clone()),
        };
        let kvk_number = match self.kvk_number {
            Some(kvk) => errors.check("kvk_number", KvkNumber::parse(&kvk)),
            None => Some(decode(
                "practices.kvk_number",
                &current.kvk_number,
                KvkNumber::parse,
            )?),
        };
        let contact = match self.contact {
            Some(contact) => parse_contact(&mut errors, contact),
            None => current.contact.clone(),
        };
        let locations = match self.locations {
            Some(locations) => parse_locations(&mut errors, locations),
            None => current.locations.clone(),
        };
        errors.into_result()?;
        Ok(PracticeFields {
            name: checked(name)?,
            kvk_number: checked(kvk_number)?,
            tier: self.tier.unwrap_or(current.tier),
            contact,
            locations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_postal_code_prefix;

    #[test]
    fn postal_code_prefixes_are_normalised_like_stored_codes() {
        assert_eq!(normalise_postal_code_prefix("3512ab"), "3512 AB");
        assert_eq!(normalise_postal_code_prefix("3512 a"), "3512 A");
        assert_eq!(normalise_postal_code_prefix(" 35 "), "35");
        assert_eq!(normalise_postal_code_prefix("3512"), "3512");
    }
}
