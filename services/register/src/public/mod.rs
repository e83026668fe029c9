//! The public register (openbaar register): the practices registered for the current or the
//! previous cycle year, with only what patients need to choose a practice (keuze-informatie).

pub mod repository;
pub mod routes;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Datelike, Utc};
use praktijkregister_domain::{amsterdam_date, CycleYear, PracticeTier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// A location (vestiging) as the public sees it: the address only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"street": "Dorpsstraat", "house_number": "12a", "postal_code": "3512 AB", "city": "Utrecht"}))]
pub struct PublicLocation {
    /// Straat.
    pub street: String,
    /// Huisnummer, with any addition (`12a`).
    pub house_number: String,
    /// Postcode, as `1234 AB`.
    pub postal_code: String,
    /// Plaats.
    pub city: String,
}

/// A practice in the public register (geregistreerde praktijk): who patients can choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "agb": "07012345", "name": "Oefentherapie De Beweging", "tier": "praktijkregister", "city": "Utrecht",
    "locations": [{"street": "Dorpsstraat", "house_number": "12a", "postal_code": "3512 AB", "city": "Utrecht"}],
    "registered_for": [2026, 2025]
}))]
pub struct PublicPractice {
    /// AGB code of the practice (onderneming), zorgsoort 07 (oefentherapie).
    pub agb: String,
    /// Praktijknaam.
    pub name: String,
    /// Register tier: `praktijkregister` (visitation every year) or `basispraktijkregister`
    /// (every two years).
    pub tier: PracticeTier,
    /// Plaats of the first location (hoofdvestiging); null only for a practice without locations.
    pub city: Option<String>,
    /// Vestigingen: the addresses where patients are treated.
    pub locations: Vec<PublicLocation>,
    /// Geregistreerd voor: the cycle years, newest first, among the current and the previous one,
    /// for which the practice is registered.
    pub registered_for: Vec<CycleYear>,
}

/// The cycle years whose registrations are public at `now`, newest first: the Amsterdam calendar
/// year of `now` (the current cycle) and the year before (whose 1 November list is in force).
pub fn public_years(now: DateTime<Utc>) -> Vec<CycleYear> {
    let current = amsterdam_date(now).year();
    [current, current - 1]
        .into_iter()
        .filter_map(|year| u16::try_from(year).ok())
        .filter_map(|year| CycleYear::new(year).ok())
        .collect()
}

/// The strong ETag of a response body: the SHA-256 of its exact bytes, base64url, quoted.
pub fn body_etag(body: &[u8]) -> String {
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(Sha256::digest(body)))
}

/// Whether an `If-None-Match` value (`*` or a list of entity tags) matches `etag`. The comparison
/// is weak (RFC 9110 §13.1.2): a `W/` prefix is ignored.
pub fn none_match<'a>(values: impl IntoIterator<Item = &'a str>, etag: &str) -> bool {
    values
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn utc(at: &str) -> DateTime<Utc> {
        at.parse().unwrap()
    }

    fn years(values: &[CycleYear]) -> Vec<u16> {
        values.iter().map(|y| y.value()).collect()
    }

    #[test]
    fn the_public_years_follow_the_amsterdam_calendar_year() {
        assert_eq!(
            years(&public_years(utc("2026-06-01T12:00:00Z"))),
            [2026, 2025]
        );
        // 31 December 23:30 UTC is already 1 January in Amsterdam.
        assert_eq!(
            years(&public_years(utc("2026-12-31T23:30:00Z"))),
            [2027, 2026]
        );
        assert_eq!(
            years(&public_years(utc("2026-12-31T22:59:59Z"))),
            [2026, 2025]
        );
        assert_eq!(years(&public_years(utc("2000-06-01T00:00:00Z"))), [2000]);
    }

    #[test]
    fn the_etag_is_a_quoted_hash_of_the_bytes() {
        let tag = body_etag(b"{}");
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert_eq!(tag.len(), 45);
        assert_eq!(tag, body_etag(b"{}"));
        assert_ne!(tag, body_etag(b"{} "));
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_the_wildcard() {
        let tag = "\"abc\"";
        assert!(none_match(["\"abc\""], tag));
        assert!(none_match(["\"x\", \"abc\""], tag));
        assert!(none_match(["\"x\"", "W/\"abc\""], tag));
        assert!(none_match(["*"], tag));
        assert!(!none_match(["\"abd\""], tag));
        assert!(!none_match(["abc"], tag));
        assert!(!none_match([], tag));
    }
}
