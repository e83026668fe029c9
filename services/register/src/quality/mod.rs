//! Quality data of therapists and practices: the individual development plan (IOP, individueel
//! ontwikkelplan, 001 §1.6) per therapist per year, and the treatment index (behandelindex, 001;
//! DESIGN §3.2) per practice per year.

pub mod repository;
pub mod routes;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use praktijkregister_domain::IsoDate;
use praktijkregister_domain::Text;
use praktijkregister_platform::error::{checked, ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The years the register keeps quality data for.
pub const MIN_YEAR: i32 = 2000;
pub const MAX_YEAR: i32 = 2099;

/// Parses a year from the path or the query: 4 digits within [`MIN_YEAR`]..=[`MAX_YEAR`].
pub(crate) fn parse_year(raw: &str, field: &str) -> Result<i32, ApiError> {
    crate::cycles::parse_year(raw, field).map(|year| i32::from(year.value()))
}

/// An IOP as sent: what happened with the plan in the year, never the plan's content.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "drawn_up_on": "2026-01-15", "uploaded_to_kp_on": "2026-01-20",
    "quarterly_updates": ["2026-03-28", "2026-06-30", "2026-09-29", "2026-12-18"],
    "used_in_appraisal": true, "used_in_360_feedback": false
}))]
pub struct IopRequest {
    /// The day the plan for the year was drawn up (opgesteld); not after the year.
    pub drawn_up_on: IsoDate,
    /// The day it was uploaded to the Kwaliteitsregister Paramedici (001 §1.6a); on or after
    /// `drawn_up_on`.
    pub uploaded_to_kp_on: Option<IsoDate>,
    /// The days the plan was updated (001 §1.6b: every quarter); each in the year, on or after
    /// `drawn_up_on`, no day twice.
    pub quarterly_updates: Vec<IsoDate>,
    /// Taken into the appraisal interview (functioneringsgesprek, 001 §1.6d).
    pub used_in_appraisal: bool,
    /// Taken into 360-degree feedback (001 §1.6d).
    pub used_in_360_feedback: bool,
}

/// A therapist's IOP for a year, as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "therapist_agb": "07123456", "year": 2026, "drawn_up_on": "2026-01-15", "uploaded_to_kp_on": "2026-01-20",
    "quarterly_updates": ["2026-03-28", "2026-06-30", "2026-09-29", "2026-12-18"],
    "used_in_appraisal": true, "used_in_360_feedback": false,
    "updated_at": "2026-12-18T16:00:00Z", "updated_by": "practice-07012345"
}))]
pub struct Iop {
    pub therapist_agb: String,
    pub year: i32,
    pub drawn_up_on: NaiveDate,
    pub uploaded_to_kp_on: Option<NaiveDate>,
    /// Ascending.
    pub quarterly_updates: Vec<NaiveDate>,
    pub used_in_appraisal: bool,
    pub used_in_360_feedback: bool,
    pub updated_at: DateTime<Utc>,
    /// The client that recorded it.
    pub updated_by: String,
}

/// Validated IOP fields, ready for the repository.
#[derive(Debug, Clone)]
pub struct IopFields {
    pub drawn_up_on: NaiveDate,
    pub uploaded_to_kp_on: Option<NaiveDate>,
    pub quarterly_updates: Vec<NaiveDate>,
    pub used_in_appraisal: bool,
    pub used_in_360_feedback: bool,
}

/// More than weekly updates would not be quarterly bookkeeping but a mistake.
const MAX_QUARTERLY_UPDATES: usize = 53;

impl IopRequest {
    /// Validates every field at once, so one answer names every problem.
    pub fn parse(self, year: i32) -> Result<IopFields, ApiError> {
        let mut errors = FieldErrors::new();
        if self.drawn_up_on.year() > year {
            errors.push(
                "drawn_up_on",
                "date_after_year",
                format!("the IOP for {year} must be drawn up in {year} or before"),
            );
        }
        if self
            .uploaded_to_kp_on
            .is_some_and(|uploaded| uploaded < self.drawn_up_on)
        {
            errors.push(
                "uploaded_to_kp_on",
                "date_order",
                "uploaded_to_kp_on must be on or after drawn_up_on",
            );
        }
        if self.quarterly_updates.len() > MAX_QUARTERLY_UPDATES {
            errors.push(
                "quarterly_updates",
                "too_many",
                format!("at most {MAX_QUARTERLY_UPDATES} updates a year"),
            );
        }
        for (i, day) in self.quarterly_updates.iter().enumerate() {
            let field = format!("quarterly_updates[{i}]");
            if day.year() != year {
                errors.push(
                    field,
                    "date_outside_year",
                    format!("{day} is not in {year}"),
                );
            } else if *day < self.drawn_up_on {
                errors.push(
                    field,
                    "date_order",
                    format!("{day} is before drawn_up_on ({})", self.drawn_up_on),
                );
            } else if self.quarterly_updates[..i].contains(day) {
                errors.push(field, "date_duplicate", format!("{day} is given twice"));
            }
        }
        errors.into_result()?;
        let mut quarterly_updates: Vec<NaiveDate> = self
            .quarterly_updates
            .into_iter()
            .map(IsoDate::date)
            .collect();
        quarterly_updates.sort_unstable();
        Ok(IopFields {
            drawn_up_on: self.drawn_up_on.date(),
            uploaded_to_kp_on: self.uploaded_to_kp_on.map(IsoDate::date),
            quarterly_updates,
            used_in_appraisal: self.used_in_appraisal,
            used_in_360_feedback: self.used_in_360_feedback,
        })
    }
}

/// A treatment index as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "value": 160.0, "ci_lower": 151.5, "ci_upper": 168.2, "patient_count": 212, "source": "Vektis"
}))]
pub struct TreatmentIndexRequest {
    /// The practice's index (100 = the national average).
    pub value: f64,
    /// Lower bound of the confidence interval; at most `value`.
    pub ci_lower: Option<f64>,
    /// Upper bound of the confidence interval; at least `value`.
    pub ci_upper: Option<f64>,
    /// The number of patients the index is computed over.
    #[schema(minimum = 0)]
    pub patient_count: i32,
    /// Where the figure comes from, e.g. `Vektis`; 1 to 100 characters.
    #[schema(format = "text-line", max_length = 100)]
    pub source: String,
}

/// A practice's treatment index for a year, as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "practice_agb": "07012345", "year": 2025, "value": 160.0, "ci_lower": 151.5, "ci_upper": 168.2,
    "patient_count": 212, "source": "Vektis", "entered_at": "2026-06-20T09:00:00Z", "entered_by": "registrar"
}))]
pub struct TreatmentIndex {
    pub practice_agb: String,
    /// The year the index was computed over (Vektis; used for contract year + 2).
    pub year: i32,
    pub value: f64,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    pub patient_count: i32,
    pub source: String,
    pub entered_at: DateTime<Utc>,
    /// The client that entered it.
    pub entered_by: String,
}

/// Validated treatment-index fields, ready for the repository.
#[derive(Debug, Clone)]
pub struct TreatmentIndexFields {
    pub value: f64,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    pub patient_count: i32,
    pub source: Text,
}

/// Far above any index Vektis publishes; a larger figure is a typing error.
const MAX_INDEX: f64 = 10_000.0;

fn check_index(errors: &mut FieldErrors, field: &str, value: f64) -> bool {
    if value.is_finite() && (0.0..=MAX_INDEX).contains(&value) {
        true
    } else {
        errors.push(
            field,
            "index_range",
            format!("must be between 0 and {MAX_INDEX}"),
        );
        false
    }
}

impl TreatmentIndexRequest {
    /// Validates every field at once, so one answer names every problem.
    pub fn parse(self) -> Result<TreatmentIndexFields, ApiError> {
        let mut errors = FieldErrors::new();
        let value_ok = check_index(&mut errors, "value", self.value);
        let lower_ok = self
            .ci_lower
            .is_none_or(|lower| check_index(&mut errors, "ci_lower", lower));
        let upper_ok = self
            .ci_upper
            .is_none_or(|upper| check_index(&mut errors, "ci_upper", upper));
        if value_ok && lower_ok && upper_ok {
            if self.ci_lower.is_some_and(|lower| lower > self.value) {
                errors.push("ci_lower", "ci_order", "ci_lower must be at most value");
            }
            if self.ci_upper.is_some_and(|upper| upper < self.value) {
                errors.push("ci_upper", "ci_order", "ci_upper must be at least value");
            }
        }
        if self.patient_count < 0 {
            errors.push(
                "patient_count",
                "count_negative",
                "patient_count must be 0 or more",
            );
        }
        let source = errors.check("source", Text::line(&self.source, 100));
        errors.into_result()?;
        Ok(TreatmentIndexFields {
            value: self.value,
            ci_lower: self.ci_lower,
            ci_upper: self.ci_upper,
            patient_count: self.patient_count,
            source: checked(source)?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day<T: std::str::FromStr>(s: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        s.parse().unwrap()
    }

    #[test]
    fn years_are_four_digits_in_range() {
        assert_eq!(parse_year("2026", "year").unwrap(), 2026);
        assert!(parse_year("26", "year").is_err());
        assert!(parse_year("1999", "year").is_err());
        assert!(parse_year("20x6", "year").is_err());
    }

    #[test]
    fn quarterly_updates_lie_in_the_year_and_are_sorted() {
        let request = IopRequest {
            drawn_up_on: day("2025-12-20"),
            uploaded_to_kp_on: None,
            quarterly_updates: vec![day("2026-06-30"), day("2026-03-31")],
            used_in_appraisal: true,
            used_in_360_feedback: false,
        };
        let fields = request.parse(2026).unwrap();
        assert_eq!(
            fields.quarterly_updates,
            vec![day("2026-03-31"), day("2026-06-30")]
        );
        let request = IopRequest {
            drawn_up_on: day("2026-01-10"),
            uploaded_to_kp_on: Some(day("2026-01-01")),
            quarterly_updates: vec![
                day("2027-01-02"),
                day("2026-01-05"),
                day("2026-04-01"),
                day("2026-04-01"),
            ],
            used_in_appraisal: true,
            used_in_360_feedback: true,
        };
        let Err(ApiError::Validation(errors)) = request.parse(2026) else {
            panic!("expected validation errors");
        };
        let codes: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("uploaded_to_kp_on", "date_order"),
                ("quarterly_updates[0]", "date_outside_year"),
                ("quarterly_updates[1]", "date_order"),
                ("quarterly_updates[3]", "date_duplicate"),
            ]
        );
    }

    #[test]
    fn confidence_bounds_enclose_the_value() {
        let request = |lower, upper| TreatmentIndexRequest {
            value: 160.0,
            ci_lower: lower,
            ci_upper: upper,
            patient_count: 10,
            source: "Vektis".into(),
        };
        assert!(request(Some(150.0), Some(170.0)).parse().is_ok());
        assert!(request(None, None).parse().is_ok());
        assert!(request(Some(161.0), None).parse().is_err());
        assert!(request(None, Some(159.0)).parse().is_err());
    }
}
