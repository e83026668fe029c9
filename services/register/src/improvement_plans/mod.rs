//! Improvement plans (verbeterplannen, 003; DESIGN §3.5): a practice whose treatment index is
//! above an insurer's ceiling sets out, for that insurer, how it will bring the index down to a
//! target, as Plan / Do / Check / Act with evaluation points.

pub mod repository;
pub mod routes;

use chrono::{DateTime, Utc};
use praktijkregister_domain::{Text, UzoviCode};
use praktijkregister_platform::error::{checked, ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::quality::{MAX_YEAR, MIN_YEAR};

/// What a plan improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Behandelindex: treatments per patient against the national average (Vektis).
    TreatmentIndex,
}

/// A measure name that is not one of [`Measure::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a measure is treatment_index")]
pub struct UnknownMeasure;

praktijkregister_domain::wire_names!(Measure, error = UnknownMeasure, unknown = UnknownMeasure, {
    TreatmentIndex = "treatment_index",
});

/// An improvement plan as sent (the VGZ example of 003: from 160 to 130 under a ceiling of 149).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "insurer_uzovi": "7095", "year": 2025, "measure": "treatment_index",
    "current_value": 160.0, "ceiling": 149.0, "target": 130.0,
    "plan": "Lumbosacraal radiculair syndroom wordt met 18 behandelingen uitbehandeld.",
    "do": "Adviezen vanaf het eerste contact overdragen; evalueren na 4, 8 en 12 behandelingen met klinimetrie.",
    "check": "De cliënt pakt de adviezen op, zodat minder behandelingen nodig zijn.",
    "act": "Blijft verandering uit, dan gesprek met de cliënt en de interventie aanpassen.",
    "evaluation_points": [4, 8, 12]
}))]
pub struct NewImprovementPlanRequest {
    /// UZOVI code of the insurer the plan is for.
    #[schema(value_type = praktijkregister_domain::UzoviCode, inline)]
    pub insurer_uzovi: String,
    /// The year of the treatment index the plan answers.
    #[schema(minimum = 2000, maximum = 2099)]
    pub year: i32,
    pub measure: Measure,
    /// The practice's current value.
    #[schema(minimum = 0, maximum = 10000)]
    pub current_value: f64,
    /// The insurer's ceiling (e.g. 149).
    #[schema(minimum = 0, maximum = 10000)]
    pub ceiling: f64,
    /// The value aimed at: at most `ceiling` and below `current_value`.
    #[schema(minimum = 0, maximum = 10000)]
    pub target: f64,
    /// Plan: the goal. 1 to 4000 characters.
    #[schema(format = "text-lines", max_length = 4000)]
    pub plan: String,
    /// Do: what the practice will do. 1 to 4000 characters.
    #[serde(rename = "do")]
    #[schema(format = "text-lines", max_length = 4000)]
    pub do_text: String,
    /// Check: how the effect shows. 1 to 4000 characters.
    #[schema(format = "text-lines", max_length = 4000)]
    pub check: String,
    /// Act: what follows when it does not work. 1 to 4000 characters.
    #[schema(format = "text-lines", max_length = 4000)]
    pub act: String,
    /// After how many treatments the effect is evaluated: positive, ascending (e.g. 4, 8, 12).
    #[schema(min_items = 1, max_items = 20)]
    pub evaluation_points: Vec<i32>,
}

/// An improvement plan as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d20", "practice_agb": "07012345", "insurer_uzovi": "7095",
    "year": 2025, "measure": "treatment_index", "current_value": 160.0, "ceiling": 149.0, "target": 130.0,
    "plan": "Lumbosacraal radiculair syndroom wordt met 18 behandelingen uitbehandeld.",
    "do": "Adviezen vanaf het eerste contact overdragen; evalueren na 4, 8 en 12 behandelingen met klinimetrie.",
    "check": "De cliënt pakt de adviezen op, zodat minder behandelingen nodig zijn.",
    "act": "Blijft verandering uit, dan gesprek met de cliënt en de interventie aanpassen.",
    "evaluation_points": [4, 8, 12], "created_at": "2026-07-10T09:00:00Z", "created_by": "practice-07012345"
}))]
pub struct ImprovementPlan {
    pub id: Uuid,
    pub practice_agb: String,
    pub insurer_uzovi: String,
    pub year: i32,
    pub measure: Measure,
    pub current_value: f64,
    pub ceiling: f64,
    pub target: f64,
    pub plan: String,
    #[serde(rename = "do")]
    pub do_text: String,
    pub check: String,
    pub act: String,
    pub evaluation_points: Vec<i32>,
    pub created_at: DateTime<Utc>,
    /// The client that recorded it.
    pub created_by: String,
}

/// A practice above an insurer's ceiling, and whether it has a plan for that insurer and year.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "practice_agb": "07012345", "name": "Oefentherapie De Beweging", "year": 2025,
    "value": 160.0, "ci_lower": null, "ceiling": 149.0,
    "has_plan": true, "improvement_plan_id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d20"
}))]
pub struct PracticeAboveCeiling {
    pub practice_agb: String,
    pub name: String,
    /// The year of the treatment index.
    pub year: i32,
    /// The practice's treatment index.
    pub value: f64,
    /// Lower bound of its confidence interval; where given, this is what exceeds the ceiling.
    pub ci_lower: Option<f64>,
    /// The insurer's ceiling.
    pub ceiling: f64,
    pub has_plan: bool,
    /// The latest plan for the insurer and year.
    pub improvement_plan_id: Option<Uuid>,
}

/// Filter of a practice's plans.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanListParams {
    /// Only plans for this treatment-index year (2000 to 2099, as `year` of a plan).
    #[param(value_type = Option<u16>, minimum = 2000, maximum = 2099, example = 2025)]
    pub year: Option<String>,
}

/// Which insurer and year the list of practices above the ceiling is for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AboveCeilingParams {
    /// UZOVI code of the insurer; an insurer client may leave it out for its own.
    #[param(value_type = Option<praktijkregister_domain::UzoviCode>, inline, example = "7095")]
    pub insurer: Option<String>,
    /// The year of the treatment index (2000 to 2099).
    #[param(value_type = u16, minimum = 2000, maximum = 2099, example = 2025)]
    pub year: Option<String>,
}

/// Validated plan fields, ready for the repository.
#[derive(Debug, Clone)]
pub struct PlanFields {
    pub insurer_uzovi: UzoviCode,
    /// The year of the treatment index: a plain year, not a cycle year.
    pub year: i32,
    pub measure: Measure,
    pub current_value: f64,
    pub ceiling: f64,
    pub target: f64,
    pub plan: Text,
    pub do_text: Text,
    pub check: Text,
    pub act: Text,
    pub evaluation_points: Vec<i32>,
}

const MAX_TEXT: usize = 4000;
const MAX_EVALUATION_POINTS: usize = 20;
/// More treatments than any episode of exercise therapy has.
const MAX_EVALUATION_POINT: i32 = 1000;
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

impl NewImprovementPlanRequest {
    /// Validates every field at once, so one answer names every problem.
    pub fn parse(self) -> Result<PlanFields, ApiError> {
        let mut errors = FieldErrors::new();
        let insurer = errors.check("insurer_uzovi", UzoviCode::parse(&self.insurer_uzovi));
        if !(MIN_YEAR..=MAX_YEAR).contains(&self.year) {
            errors.push(
                "year",
                "year_range",
                format!("the year must be between {MIN_YEAR} and {MAX_YEAR}"),
            );
        }
        let figures_ok = [
            check_index(&mut errors, "current_value", self.current_value),
            check_index(&mut errors, "ceiling", self.ceiling),
            check_index(&mut errors, "target", self.target),
        ]
        .iter()
        .all(|ok| *ok);
        if figures_ok {
            if self.target > self.ceiling {
                errors.push(
                    "target",
                    "target_above_ceiling",
                    format!("the target must be at most the ceiling ({})", self.ceiling),
                );
            }
            if self.target >= self.current_value {
                errors.push(
                    "target",
                    "target_not_below_current",
                    format!(
                        "the target must be below the current value ({})",
                        self.current_value
                    ),
                );
            }
        }
        let plan = errors.check("plan", Text::lines(&self.plan, MAX_TEXT));
        let do_text = errors.check("do", Text::lines(&self.do_text, MAX_TEXT));
        let check = errors.check("check", Text::lines(&self.check, MAX_TEXT));
        let act = errors.check("act", Text::lines(&self.act, MAX_TEXT));
        if self.evaluation_points.is_empty() || self.evaluation_points.len() > MAX_EVALUATION_POINTS
        {
            errors.push(
                "evaluation_points",
                "evaluation_points_count",
                format!("give 1 to {MAX_EVALUATION_POINTS} evaluation points"),
            );
        }
        for (i, point) in self.evaluation_points.iter().enumerate() {
            let field = format!("evaluation_points[{i}]");
            if !(1..=MAX_EVALUATION_POINT).contains(point) {
                errors.push(
                    field,
                    "evaluation_point_range",
                    format!("an evaluation point is a number of treatments, 1 to {MAX_EVALUATION_POINT}"),
                );
            } else if i > 0 && self.evaluation_points[i - 1] >= *point {
                errors.push(
                    field,
                    "evaluation_points_order",
                    "evaluation points must be strictly ascending",
                );
            }
        }
        errors.into_result()?;
        Ok(PlanFields {
            insurer_uzovi: checked(insurer)?,
            year: self.year,
            measure: self.measure,
            current_value: self.current_value,
            ceiling: self.ceiling,
            target: self.target,
            plan: checked(plan)?,
            do_text: checked(do_text)?,
            check: checked(check)?,
            act: checked(act)?,
            evaluation_points: self.evaluation_points,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vgz(target: f64, points: Vec<i32>) -> NewImprovementPlanRequest {
        NewImprovementPlanRequest {
            insurer_uzovi: "7095".into(),
            year: 2025,
            measure: Measure::TreatmentIndex,
            current_value: 160.0,
            ceiling: 149.0,
            target,
            plan: "Plan".into(),
            do_text: "Do".into(),
            check: "Check".into(),
            act: "Act".into(),
            evaluation_points: points,
        }
    }

    fn codes(request: NewImprovementPlanRequest) -> Vec<String> {
        match request.parse() {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.code).collect(),
            other => panic!("expected validation errors, got {other:?}"),
        }
    }

    #[test]
    fn the_vgz_example_of_003_is_valid() {
        let fields = vgz(130.0, vec![4, 8, 12]).parse().unwrap();
        assert_eq!(fields.evaluation_points, vec![4, 8, 12]);
        assert_eq!(fields.target, 130.0);
    }

    #[test]
    fn the_target_lies_under_the_ceiling_and_the_current_value() {
        assert_eq!(codes(vgz(150.0, vec![4])), vec!["target_above_ceiling"]);
        let mut below = vgz(130.0, vec![4]);
        below.current_value = 120.0;
        assert_eq!(codes(below), vec!["target_not_below_current"]);
    }

    #[test]
    fn evaluation_points_ascend_and_are_positive() {
        assert_eq!(
            codes(vgz(130.0, vec![4, 4, 0])),
            vec!["evaluation_points_order", "evaluation_point_range"]
        );
        assert_eq!(codes(vgz(130.0, vec![])), vec!["evaluation_points_count"]);
    }

    #[test]
    fn texts_keep_line_breaks_but_no_other_control_characters() {
        let mut request = vgz(130.0, vec![4]);
        request.plan = "Doel:\n\t18 behandelingen".into();
        assert!(request.parse().is_ok());
        let mut request = vgz(130.0, vec![4]);
        request.act = "Act\u{0}".into();
        assert_eq!(codes(request), vec!["text_characters"]);
    }
}
