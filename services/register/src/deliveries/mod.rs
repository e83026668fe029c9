//! Monthly deliveries (maandelijkse aanleveringen) from the EPD (DESIGN §3.4; 001 §1.3): per
//! therapist the month's figures, answered with a processing report (verwerkingsverslag) of what
//! was accepted, with warnings, and what was rejected, field by field. A later delivery for the
//! same month is a new version that counts instead; earlier versions stay.
//!
//! The body is first inspected as raw JSON for patient data (DESIGN §3.1), then parsed by hand
//! so that every type error names its field.

pub mod repository;
pub mod routes;

use chrono::{DateTime, NaiveDate, Utc};
use praktijkregister_domain::IsoDate;
use praktijkregister_domain::{
    is_patient_identifier_key, looks_like_bsn, DeliveryAssessment, DeliveryRowInput,
    DeliveryTotals, OefentherapieAgb, Period, RowFinding, TherapistFigures, MAX_COUNT,
};
use praktijkregister_platform::error::{ApiError, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// One therapist's figures for the month.
#[derive(Debug, Clone, ToSchema)]
#[schema(example = json!({
    "therapist_agb": "07123456", "patients": 42, "treatments": 180, "closed_episodes": 12,
    "treatments_in_closed_episodes": 96, "ldo_records_delivered": 40, "ldo_records_complete": 38,
    "prem_eligible": 12, "prem_offered": 10, "ldo_upload_date": "2026-10-28"
}))]
pub struct DeliveryRowRequest {
    /// AGB code of the therapist (zorgverlener), zorgsoort 07, with a membership of the practice
    /// in the month.
    pub therapist_agb: String,
    /// Behandelde patiënten: patients treated in the month.
    #[schema(maximum = 2147483647)]
    pub patients: u32,
    /// Behandelingen: treatment sessions in the month.
    #[schema(maximum = 2147483647)]
    pub treatments: u32,
    /// Afgesloten episodes: episodes closed in the month.
    #[schema(maximum = 2147483647)]
    pub closed_episodes: u32,
    /// Treatments in those closed episodes; at most `treatments`.
    #[schema(maximum = 2147483647)]
    pub treatments_in_closed_episodes: u32,
    /// LDO records delivered to the Landelijke Database Oefentherapie.
    #[schema(maximum = 2147483647)]
    pub ldo_records_delivered: u32,
    /// Delivered LDO records with every field filled; at most `ldo_records_delivered`.
    #[schema(maximum = 2147483647)]
    pub ldo_records_complete: u32,
    /// Patients to whom the PREM questionnaire could be offered.
    #[schema(maximum = 2147483647)]
    pub prem_eligible: u32,
    /// Patients to whom it was offered; at most `prem_eligible`.
    #[schema(maximum = 2147483647)]
    pub prem_offered: u32,
    /// Day of the month's upload to the LDO; a warning when absent or outside the month.
    #[schema(value_type = Option<IsoDate>)]
    pub ldo_upload_date: Option<NaiveDate>,
}

/// A monthly delivery: one row per therapist, figures only. Never patient data: a field named
/// like a patient identifier (`bsn`, `patient_id`, `date_of_birth`, ...) or a value that is a BSN
/// refuses the whole delivery.
#[derive(Debug, Clone, ToSchema)]
#[schema(example = json!({"rows": [
    {"therapist_agb": "07123456", "patients": 42, "treatments": 180, "closed_episodes": 12,
     "treatments_in_closed_episodes": 96, "ldo_records_delivered": 40, "ldo_records_complete": 38,
     "prem_eligible": 12, "prem_offered": 10, "ldo_upload_date": "2026-10-28"},
    {"therapist_agb": "07123457", "patients": 30, "treatments": 150, "closed_episodes": 8,
     "treatments_in_closed_episodes": 70, "ldo_records_delivered": 10, "ldo_records_complete": 12,
     "prem_eligible": 8, "prem_offered": 7, "ldo_upload_date": "2026-10-28"}
]}))]
pub struct DeliveryRequest {
    /// 1 to 1000 rows, one per therapist.
    pub rows: Vec<DeliveryRowRequest>,
}

/// The processing report (verwerkingsverslag) of a delivery: the accepted rows, warnings on them,
/// and the rejected rows with each field and reason, so that the practice can correct and resend.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "delivery_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "practice_agb": "07012345",
    "period": "2026-10", "version": 1, "delivered_at": "2026-11-03T08:00:00Z",
    "accepted_rows": ["07123456"],
    "warnings": [],
    "rejected": [{"row": 1, "therapist_agb": "07123457", "field": "ldo_records_complete",
        "code": "complete_exceeds_delivered",
        "message": "ldo_records_complete (12) is more than ldo_records_delivered (10): a record can only be complete when it was delivered; correct one of the two and send the month again"}],
    "totals": {"rows_received": 2, "rows_accepted": 1, "rows_rejected": 1, "warnings": 0,
        "patients": 42, "treatments": 180, "closed_episodes": 12, "treatments_in_closed_episodes": 96,
        "ldo_records_delivered": 40, "ldo_records_complete": 38, "prem_eligible": 12, "prem_offered": 10,
        "ldo_fill_rate": 0.95, "prem_offered_rate": 0.8333, "treatments_per_closed_episode": 8.0,
        "ldo_uploaded_in_period": true}
}))]
pub struct ProcessingReport {
    /// The stored delivery; null when nothing was accepted and so nothing stored.
    pub delivery_id: Option<uuid::Uuid>,
    pub practice_agb: String,
    pub period: Period,
    /// 1 for the month's first stored delivery, one more for each later one; null when refused.
    pub version: Option<i32>,
    pub delivered_at: DateTime<Utc>,
    /// AGB codes of the therapists whose rows were stored, in row order.
    pub accepted_rows: Vec<String>,
    /// Remarks on accepted rows: stored, but worth a look.
    pub warnings: Vec<RowFinding>,
    /// Why rows were left out, field by field; a row may have several.
    pub rejected: Vec<RowFinding>,
    pub totals: DeliveryTotals,
}

/// The processing report of an assessed delivery, before it is stored: without id and version.
pub(crate) fn processing_report(
    practice: &OefentherapieAgb,
    period: Period,
    delivered_at: DateTime<Utc>,
    assessment: &DeliveryAssessment,
) -> ProcessingReport {
    ProcessingReport {
        delivery_id: None,
        practice_agb: practice.as_str().to_string(),
        period,
        version: None,
        delivered_at,
        accepted_rows: assessment
            .accepted
            .iter()
            .map(|row| row.therapist_agb.as_str().to_string())
            .collect(),
        warnings: assessment.warnings.clone(),
        rejected: assessment.rejected.clone(),
        totals: assessment.totals(period),
    }
}

/// A stored delivery with its report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliverySummary {
    pub delivery_id: uuid::Uuid,
    pub practice_agb: String,
    pub period: Period,
    pub version: i32,
    /// Whether this is the month's latest version: the one that counts.
    pub current: bool,
    pub delivered_at: DateTime<Utc>,
    /// The API client that delivered it.
    pub delivered_by: String,
    /// The EPD vendor it came from; null when the registrar delivered it.
    pub epd_vendor: Option<String>,
    pub report: ProcessingReport,
}

/// A stored row with its derived figures (DESIGN §3.4).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveredRow {
    pub therapist_agb: String,
    #[serde(flatten)]
    pub figures: TherapistFigures,
    /// LDO-vulling: complete / delivered; null without records.
    pub ldo_fill_rate: Option<f64>,
    /// PREM offered / eligible; null without eligible patients.
    pub prem_offered_rate: Option<f64>,
    /// Treatments in closed episodes / closed episodes; null without closed episodes.
    pub treatments_per_closed_episode: Option<f64>,
}

/// One version of a month's delivery with its rows and report.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "delivery_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "practice_agb": "07012345", "period": "2026-10",
    "version": 2, "current": true, "delivered_at": "2026-11-05T08:00:00Z",
    "delivered_by": "0193a1f2-0000-7000-8000-000000000002", "epd_vendor": "acme-epd",
    "rows": [{"therapist_agb": "07123456", "patients": 42, "treatments": 180, "closed_episodes": 12,
        "treatments_in_closed_episodes": 96, "ldo_records_delivered": 40, "ldo_records_complete": 38,
        "prem_eligible": 12, "prem_offered": 10, "ldo_upload_date": "2026-10-28",
        "ldo_fill_rate": 0.95, "prem_offered_rate": 0.8333, "treatments_per_closed_episode": 8.0}],
    "report": {"delivery_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d10", "practice_agb": "07012345",
        "period": "2026-10", "version": 2, "delivered_at": "2026-11-05T08:00:00Z", "accepted_rows": ["07123456"],
        "warnings": [], "rejected": [],
        "totals": {"rows_received": 1, "rows_accepted": 1, "rows_rejected": 0, "warnings": 0,
            "patients": 42, "treatments": 180, "closed_episodes": 12, "treatments_in_closed_episodes": 96,
            "ldo_records_delivered": 40, "ldo_records_complete": 38, "prem_eligible": 12, "prem_offered": 10,
            "ldo_fill_rate": 0.95, "prem_offered_rate": 0.8333, "treatments_per_closed_episode": 8.0,
            "ldo_uploaded_in_period": true}}
}))]
pub struct Delivery {
    pub delivery_id: uuid::Uuid,
    pub practice_agb: String,
    pub period: Period,
    pub version: i32,
    /// Whether this is the month's latest version: the one that counts.
    pub current: bool,
    pub delivered_at: DateTime<Utc>,
    pub delivered_by: String,
    pub epd_vendor: Option<String>,
    /// The accepted rows, by therapist AGB code.
    pub rows: Vec<DeliveredRow>,
    pub report: ProcessingReport,
}

/// Filter of the delivery list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListParams {
    /// Only the versions of this month (`YYYY-MM`).
    #[param(value_type = Option<praktijkregister_domain::Period>, inline, example = "2026-10")]
    pub period: Option<String>,
}

/// Which version of a month to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryVersionParams {
    /// An earlier version; the latest when absent.
    #[param(value_type = Option<i32>, minimum = 1, example = 1)]
    pub version: Option<String>,
}

impl DeliveryVersionParams {
    /// Parsed here rather than by serde so that a bad number names the parameter.
    pub fn version(&self) -> Result<Option<i32>, ApiError> {
        match self.version.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => match raw.parse::<i32>() {
                Ok(version) if version >= 1 => Ok(Some(version)),
                _ => Err(ApiError::field(
                    "version",
                    "version_format",
                    "version is a whole number from 1",
                )),
            },
        }
    }
}

/// The period of a path or query parameter: `YYYY-MM`, else 422 naming `field`.
pub(crate) fn parse_period(field: &str, raw: &str) -> Result<Period, ApiError> {
    Period::parse(raw).map_err(|e| ApiError::field(field, e.code(), &e))
}

/// The period data is written for: a month that has begun in Europe/Amsterdam at `now`.
pub(crate) fn writable_period(period: Period, now: DateTime<Utc>) -> Result<Period, ApiError> {
    period
        .ensure_begun(now)
        .map_err(|e| ApiError::field("period", e.code(), &e))
}

/// More findings than this make the answer no clearer.
const MAX_PATIENT_FINDINGS: usize = 50;

/// Every place in `body` that carries patient data (DESIGN §3.1): a field named like a patient
/// identifier, or a value that is a BSN (nine digits passing the elfproef), at any depth. The
/// value itself is never repeated in the answer.
pub fn find_patient_data(body: &Value) -> Vec<FieldError> {
    let mut found = Vec::new();
    walk_for_patient_data(body, "", &mut found);
    found.truncate(MAX_PATIENT_FINDINGS);
    found
}

fn walk_for_patient_data(value: &Value, path: &str, found: &mut Vec<FieldError>) {
    if found.len() >= MAX_PATIENT_FINDINGS {
        return;
    }
    let here = || {
        if path.is_empty() {
            "body".to_string()
        } else {
            path.to_string()
        }
    };
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                let member_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if is_patient_identifier_key(key) {
                    found.push(FieldError::new(
                        member_path,
                        "patient_data",
                        format!(
                            "`{key}` names patient-level data, which the register never accepts: \
                             remove the field and send figures per therapist only; nothing of \
                             this request was stored"
                        ),
                    ));
                } else {
                    walk_for_patient_data(member, &member_path, found);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_for_patient_data(item, &format!("{path}[{i}]"), found);
            }
        }
        Value::String(text) if looks_like_bsn(text) => found.push(bsn_finding(here())),
        // A BSN sent as a number is as much a BSN; no count of a month reaches nine digits.
        Value::Number(number)
            if number.as_u64().is_some_and(|n| {
                (100_000_000..=999_999_999).contains(&n) && looks_like_bsn(&n.to_string())
            }) =>
        {
            found.push(bsn_finding(here()))
        }
        _ => {}
    }
}

fn bsn_finding(path: String) -> FieldError {
    FieldError::new(
        path,
        "patient_data",
        "this value is a BSN (nine digits passing the elfproef); the register never accepts \
         patient data: remove it and send figures per therapist only; nothing of this request \
         was stored",
    )
}

/// 422 when `body` carries patient data; see [`find_patient_data`].
pub fn refuse_patient_data(body: &Value) -> Result<(), ApiError> {
    let found = find_patient_data(body);
    if found.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(found))
    }
}

/// The members of a JSON object, or a field error at `field`.
pub(crate) fn object<'a>(
    errors: &mut FieldErrors,
    field: &str,
    value: &'a Value,
) -> Option<&'a Map<String, Value>> {
    let members = value.as_object();
    if members.is_none() {
        errors.push(field, "not_an_object", "must be a JSON object");
    }
    members
}

/// Names each member of `members` that is not one of `known`.
pub(crate) fn unknown_fields(
    errors: &mut FieldErrors,
    prefix: &str,
    members: &Map<String, Value>,
    known: &[&str],
) {
    for key in members.keys().filter(|k| !known.contains(&k.as_str())) {
        errors.push(
            format!("{prefix}{key}"),
            "unknown_field",
            format!("unknown field `{key}`; the fields are {}", known.join(", ")),
        );
    }
}

/// A required count: a whole number from 0 to [`MAX_COUNT`].
pub(crate) fn count(errors: &mut FieldErrors, field: &str, value: Option<&Value>) -> Option<u32> {
    let Some(value) = value else {
        errors.push(
            field,
            "required",
            "give this count: a whole number of 0 or more",
        );
        return None;
    };
    let count = value
        .as_u64()
        .filter(|n| *n <= u64::from(MAX_COUNT))
        .and_then(|n| u32::try_from(n).ok());
    if count.is_none() {
        errors.push(
            field,
            "not_a_count",
            format!("must be a whole number from 0 to {MAX_COUNT}"),
        );
    }
    count
}

/// A required text.
pub(crate) fn text<'a>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&'a Value>,
) -> Option<&'a str> {
    match value {
        None => {
            errors.push(field, "required", "this field is required");
            None
        }
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            errors.push(field, "not_a_string", "must be a JSON string");
            None
        }
    }
}

/// The most rows a delivery takes: far more than any practice has therapists.
pub const MAX_ROWS: usize = 1000;

const BODY_FIELDS: [&str; 1] = ["rows"];

const ROW_FIELDS: [&str; 10] = [
    "therapist_agb",
    "patients",
    "treatments",
    "closed_episodes",
    "treatments_in_closed_episodes",
    "ldo_records_delivered",
    "ldo_records_complete",
    "prem_eligible",
    "prem_offered",
    "ldo_upload_date",
];

fn parse_row(errors: &mut FieldErrors, i: usize, value: &Value) -> Option<DeliveryRowInput> {
    let prefix = format!("rows[{i}].");
    let row = object(errors, &format!("rows[{i}]"), value)?;
    unknown_fields(errors, &prefix, row, &ROW_FIELDS);
    let field = |name: &str| format!("{prefix}{name}");
    let therapist_agb = text(errors, &field("therapist_agb"), row.get("therapist_agb"));
    let mut counts = [0u32; 8];
    let mut complete = true;
    for (slot, name) in counts.iter_mut().zip(&ROW_FIELDS[1..9]) {
        match count(errors, &field(name), row.get(*name)) {
            Some(n) => *slot = n,
            None => complete = false,
        }
    }
    let ldo_upload_date = match row.get("ldo_upload_date") {
        None | Some(Value::Null) => None,
        Some(value) => {
            let day = value
                .as_str()
                .and_then(|s| IsoDate::parse(s).ok())
                .map(IsoDate::date);
            if day.is_none() {
                errors.push(
                    field("ldo_upload_date"),
                    "date_format",
                    "must be a date YYYY-MM-DD, or null when there was no upload",
                );
                complete = false;
            }
            day
        }
    };
    let [patients, treatments, closed_episodes, treatments_in_closed_episodes, ldo_records_delivered, ldo_records_complete, prem_eligible, prem_offered] =
        counts;
    match therapist_agb {
        Some(agb) if complete => Some(DeliveryRowInput {
            therapist_agb: agb.to_string(),
            figures: TherapistFigures {
                patients,
                treatments,
                closed_episodes,
                treatments_in_closed_episodes,
                ldo_records_delivered,
                ldo_records_complete,
                prem_eligible,
                prem_offered,
                ldo_upload_date,
            },
        }),
        _ => None,
    }
}

/// Reads the rows of a delivery body. Types and shape are checked here, all at once (422 naming
/// each field); the rules on the figures are the processing report's.
pub fn parse_delivery(body: &Value) -> Result<Vec<DeliveryRowInput>, ApiError> {
    let mut errors = FieldErrors::new();
    let Some(members) = object(&mut errors, "body", body) else {
        return Err(ApiError::field(
            "body",
            "not_an_object",
            "send a JSON object {\"rows\": [...]}, one row per therapist",
        ));
    };
    unknown_fields(&mut errors, "", members, &BODY_FIELDS);
    let rows = match members.get("rows") {
        None => {
            errors.push("rows", "required", "give `rows`, one per therapist");
            Vec::new()
        }
        Some(Value::Array(items)) if items.is_empty() || items.len() > MAX_ROWS => {
            errors.push(
                "rows",
                "rows_count",
                format!("a delivery has 1 to {MAX_ROWS} rows, one per therapist who treated in the month"),
            );
            Vec::new()
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| parse_row(&mut errors, i, item))
            .collect(),
        Some(_) => {
            errors.push("rows", "not_an_array", "must be a JSON array of rows");
            Vec::new()
        }
    };
    errors.into_result()?;
    Ok(rows)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row() -> Value {
        json!({"therapist_agb": "07123456", "patients": 42, "treatments": 180, "closed_episodes": 12,
            "treatments_in_closed_episodes": 96, "ldo_records_delivered": 40, "ldo_records_complete": 38,
            "prem_eligible": 12, "prem_offered": 10, "ldo_upload_date": "2026-10-28"})
    }

    fn fields(error: ApiError) -> Vec<(String, String)> {
        match error {
            ApiError::Validation(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    // DESIGN §3.1: a BSN-like field or value anywhere refuses the request, named by its path.
    #[test]
    fn patient_data_is_found_by_key_and_by_value_at_any_depth() {
        let mut first = row();
        first["bsn"] = json!("whatever");
        let mut second = row();
        second["therapist_agb"] = json!("111222333");
        let body = json!({"rows": [first, second], "meta": {"Patient_ID": 7, "note": ["x", "1112.22.333"]}});
        let mut found: Vec<String> = find_patient_data(&body)
            .into_iter()
            .map(|e| e.field)
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                "meta.Patient_ID",
                "meta.note[1]",
                "rows[0].bsn",
                "rows[1].therapist_agb"
            ]
        );
        assert!(find_patient_data(&json!({"rows": [row()]})).is_empty());
        assert_eq!(find_patient_data(&json!(111222333))[0].field, "body");
        let message = &find_patient_data(&json!({"x": "111222333"}))[0].message;
        assert!(!message.contains("111222333"));
    }

    #[test]
    fn type_errors_name_each_field() {
        let mut bad = row();
        bad["patients"] = json!(-1);
        bad["treatments"] = json!("180");
        bad["closed_episodes"] = json!(1.5);
        bad["ldo_upload_date"] = json!("28-10-2026");
        bad.as_object_mut().unwrap().remove("prem_offered");
        bad["extra"] = json!(1);
        let errors = fields(parse_delivery(&json!({"rows": [row(), bad]})).unwrap_err());
        assert_eq!(
            errors,
            [
                ("rows[1].extra".into(), "unknown_field".into()),
                ("rows[1].patients".into(), "not_a_count".into()),
                ("rows[1].treatments".into(), "not_a_count".into()),
                ("rows[1].closed_episodes".into(), "not_a_count".into()),
                ("rows[1].prem_offered".into(), "required".into()),
                ("rows[1].ldo_upload_date".into(), "date_format".into()),
            ]
        );
        let too_big = json!({"rows": [{"patients": 2_147_483_648u64}]});
        assert!(fields(parse_delivery(&too_big).unwrap_err())
            .contains(&("rows[0].patients".into(), "not_a_count".into())));
        assert_eq!(
            fields(parse_delivery(&json!({"rows": []})).unwrap_err()),
            [("rows".to_string(), "rows_count".to_string())]
        );
        assert_eq!(
            fields(parse_delivery(&json!([1])).unwrap_err()),
            [("body".to_string(), "not_an_object".to_string())]
        );
    }

    #[test]
    fn a_well_formed_body_gives_its_rows() {
        let mut second = row();
        second["therapist_agb"] = json!("07123457");
        second["ldo_upload_date"] = Value::Null;
        let rows = parse_delivery(&json!({"rows": [row(), second]})).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].figures.treatments_in_closed_episodes, 96);
        assert_eq!(rows[0].figures.ldo_upload_date, "2026-10-28".parse().ok());
        assert_eq!(rows[1].figures.ldo_upload_date, None);
    }

    #[test]
    fn a_version_is_a_whole_number_from_one() {
        let params = |v: &str| DeliveryVersionParams {
            version: Some(v.into()),
        };
        assert_eq!(params("2").version().unwrap(), Some(2));
        assert_eq!(params("").version().unwrap(), None);
        assert!(params("0").version().is_err());
        assert!(params("two").version().is_err());
    }
}
