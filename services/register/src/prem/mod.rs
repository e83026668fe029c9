//! PREM results (klantervaringsonderzoek, 001 §1.5): per practice per month the number of
//! responses and the mean score per domain, with the practice's consents to share them with the
//! national processor (§1.5c) and ZorgkaartNederland (§1.5d). Delivered by an authorised EPD
//! vendor (or the measuring office through it) or the registrar; a later delivery for the month
//! replaces the earlier one.

pub mod repository;
pub mod routes;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use praktijkregister_domain::{Period, Text};
use praktijkregister_platform::error::{ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::deliveries::{count, object, text, unknown_fields};

/// The mean score of one PREM domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"domain": "communicatie", "responses": 35, "mean_score": 8.7}))]
pub struct PremDomainScore {
    /// Short code of the domain (vraagdomein) of the PREM paramedische zorg: 1 to 64 letters,
    /// digits, `-` or `_`.
    pub domain: String,
    /// Responses that scored the domain; at most the result's `responses`.
    #[schema(maximum = 2147483647)]
    pub responses: u32,
    /// Mean score of the domain.
    pub mean_score: f64,
}

/// The PREM result of a month, as sent.
#[derive(Debug, Clone, ToSchema)]
#[schema(example = json!({
    "responses": 38, "measuring_office": "Meetbureau Voorbeeld", "consent_national_processor": true,
    "consent_zorgkaart": true,
    "domains": [{"domain": "communicatie", "responses": 35, "mean_score": 8.7},
                {"domain": "informatie", "responses": 38, "mean_score": 8.2}]
}))]
pub struct PremResultRequest {
    /// Completed questionnaires (respons).
    #[schema(maximum = 2147483647)]
    pub responses: u32,
    /// The measuring office (meetbureau) that sent out the questionnaire, 1 to 200 characters.
    #[schema(format = "text-line", max_length = 200)]
    pub measuring_office: Option<String>,
    /// Consent to share with the national processor for the benchmark (001 §1.5c).
    pub consent_national_processor: bool,
    /// Consent to pass results to ZorgkaartNederland (001 §1.5d).
    pub consent_zorgkaart: bool,
    /// Mean score per domain, each domain once; at most 50.
    pub domains: Vec<PremDomainScore>,
}

/// A practice's PREM result for a month.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "practice_agb": "07012345", "period": "2026-10", "responses": 38,
    "measuring_office": "Meetbureau Voorbeeld", "consent_national_processor": true, "consent_zorgkaart": true,
    "domains": [{"domain": "communicatie", "responses": 35, "mean_score": 8.7}],
    "submitted_at": "2026-11-03T08:00:00Z", "submitted_by": "0193a1f2-0000-7000-8000-000000000002"
}))]
pub struct PremResult {
    pub practice_agb: String,
    pub period: Period,
    pub responses: u32,
    pub measuring_office: Option<String>,
    pub consent_national_processor: bool,
    pub consent_zorgkaart: bool,
    /// By domain code.
    pub domains: Vec<PremDomainScore>,
    pub submitted_at: DateTime<Utc>,
    /// The API client that delivered it.
    pub submitted_by: String,
}

/// Filter of the PREM result list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PremListParams {
    /// Only this month (`YYYY-MM`).
    #[param(value_type = Option<praktijkregister_domain::Period>, inline, example = "2026-10")]
    pub period: Option<String>,
}

/// Validated PREM fields, ready for the repository.
#[derive(Debug, Clone, PartialEq)]
pub struct PremFields {
    pub responses: u32,
    /// Checked by the text rule ([`Text::line`]).
    pub measuring_office: Option<String>,
    pub consent_national_processor: bool,
    pub consent_zorgkaart: bool,
    pub domains: Vec<PremDomainScore>,
}

const MAX_DOMAINS: usize = 50;

const BODY_FIELDS: [&str; 5] = [
    "responses",
    "measuring_office",
    "consent_national_processor",
    "consent_zorgkaart",
    "domains",
];

const DOMAIN_FIELDS: [&str; 3] = ["domain", "responses", "mean_score"];

fn boolean(errors: &mut FieldErrors, field: &str, value: Option<&Value>) -> Option<bool> {
    match value {
        Some(Value::Bool(b)) => Some(*b),
        None => {
            errors.push(field, "required", "give true or false");
            None
        }
        Some(_) => {
            errors.push(field, "not_a_boolean", "must be true or false");
            None
        }
    }
}

fn is_domain_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn parse_domain(
    errors: &mut FieldErrors,
    i: usize,
    value: &Value,
    total_responses: Option<u32>,
) -> Option<PremDomainScore> {
    let prefix = format!("domains[{i}].");
    let members = object(errors, &format!("domains[{i}]"), value)?;
    unknown_fields(errors, &prefix, members, &DOMAIN_FIELDS);
    let field = |name: &str| format!("{prefix}{name}");
    let domain = text(errors, &field("domain"), members.get("domain"))
        .map(str::trim)
        .filter(|code| {
            let valid = is_domain_code(code);
            if !valid {
                errors.push(
                    field("domain"),
                    "domain_format",
                    "a domain is a code of 1 to 64 letters, digits, `-` or `_`",
                );
            }
            valid
        });
    let responses = count(errors, &field("responses"), members.get("responses"));
    if let (Some(responses), Some(total)) = (responses, total_responses) {
        if responses > total {
            errors.push(
                field("responses"),
                "exceeds_responses",
                format!(
                    "{responses} responses for the domain, but {total} for the whole result; a \
                     domain is scored by at most every respondent"
                ),
            );
        }
    }
    let mean_score = match members.get("mean_score") {
        Some(Value::Number(n)) => n.as_f64().filter(|s| s.is_finite()),
        _ => None,
    };
    if mean_score.is_none() {
        errors.push(
            field("mean_score"),
            "not_a_number",
            "give the domain's mean score as a number",
        );
    }
    Some(PremDomainScore {
        domain: domain?.to_string(),
        responses: responses?,
        mean_score: mean_score?,
    })
}

/// Reads a PREM result body, every field checked at once (422 naming each).
pub fn parse_prem(body: &Value) -> Result<PremFields, ApiError> {
    let mut errors = FieldErrors::new();
    let Some(members) = object(&mut errors, "body", body) else {
        return Err(ApiError::field(
            "body",
            "not_an_object",
            "send a JSON object with responses, consents and domains",
        ));
    };
    unknown_fields(&mut errors, "", members, &BODY_FIELDS);
    let responses = count(&mut errors, "responses", members.get("responses"));
    let measuring_office = match members.get("measuring_office") {
        None | Some(Value::Null) => None,
        Some(value) => text(&mut errors, "measuring_office", Some(value))
            .and_then(|name| errors.check("measuring_office", Text::line(name, 200)))
            .map(Text::into_string),
    };
    let consent_national_processor = boolean(
        &mut errors,
        "consent_national_processor",
        members.get("consent_national_processor"),
    );
    let consent_zorgkaart = boolean(
        &mut errors,
        "consent_zorgkaart",
        members.get("consent_zorgkaart"),
    );
    let domains: Vec<PremDomainScore> = match members.get("domains") {
        None => {
            errors.push(
                "domains",
                "required",
                "give `domains`, the mean score per domain (may be empty)",
            );
            Vec::new()
        }
        Some(Value::Array(items)) if items.len() > MAX_DOMAINS => {
            errors.push(
                "domains",
                "domains_count",
                format!("at most {MAX_DOMAINS} domains"),
            );
            Vec::new()
        }
        Some(Value::Array(items)) => {
            let domains = items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| parse_domain(&mut errors, i, item, responses))
                .collect();
            // On the codes as sent, so that a later copy is named even when an earlier one is invalid.
            let mut seen = BTreeSet::new();
            for (i, item) in items.iter().enumerate() {
                let code = item.get("domain").and_then(Value::as_str).map(str::trim);
                if let Some(code) = code.filter(|code| !seen.insert(*code)) {
                    errors.push(
                        format!("domains[{i}].domain"),
                        "duplicate_domain",
                        format!("domain {code} appears more than once; send each domain once"),
                    );
                }
            }
            domains
        }
        Some(_) => {
            errors.push("domains", "not_an_array", "must be a JSON array");
            Vec::new()
        }
    };
    errors.into_result()?;
    match (responses, consent_national_processor, consent_zorgkaart) {
        (Some(responses), Some(consent_national_processor), Some(consent_zorgkaart)) => {
            Ok(PremFields {
                responses,
                measuring_office,
                consent_national_processor,
                consent_zorgkaart,
                domains,
            })
        }
        _ => Err(ApiError::internal(anyhow::anyhow!(
            "validated PREM fields missing"
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn codes(error: ApiError) -> Vec<(String, String)> {
        match error {
            ApiError::Validation(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn a_prem_result_is_read_with_its_domains() {
        let fields = parse_prem(&json!({
            "responses": 38, "measuring_office": " Meetbureau ", "consent_national_processor": true,
            "consent_zorgkaart": false,
            "domains": [{"domain": "communicatie", "responses": 35, "mean_score": 8.7}]
        }))
        .unwrap();
        assert_eq!(fields.measuring_office.as_deref(), Some("Meetbureau"));
        assert_eq!(fields.domains[0].mean_score, 8.7);
        assert!(!fields.consent_zorgkaart);
    }

    #[test]
    fn every_invalid_prem_field_is_named() {
        let errors = codes(
            parse_prem(&json!({
                "responses": 10, "consent_national_processor": "yes",
                "domains": [
                    {"domain": "communicatie", "responses": 11, "mean_score": "8"},
                    {"domain": "communicatie", "responses": 5, "mean_score": 7.5},
                    {"domain": "met spatie", "responses": -1, "mean_score": 7.5}
                ]
            }))
            .unwrap_err(),
        );
        assert_eq!(
            errors,
            [
                ("consent_national_processor".into(), "not_a_boolean".into()),
                ("consent_zorgkaart".into(), "required".into()),
                ("domains[0].responses".into(), "exceeds_responses".into()),
                ("domains[0].mean_score".into(), "not_a_number".into()),
                ("domains[2].domain".into(), "domain_format".into()),
                ("domains[2].responses".into(), "not_a_count".into()),
                ("domains[1].domain".into(), "duplicate_domain".into()),
            ]
        );
    }
}
