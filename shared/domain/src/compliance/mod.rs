//! The conditions of 001 as criteria (DESIGN §3.5): each with a stable id, a rule, thresholds
//! from configuration and the evidence it was judged on, answered met / not met / unknown.
//!
//! The register runs [`evaluate`] over an [`Evidence`] record assembled from its tables, and
//! publishes those records in its evidence feed so that the insurer-export service (planned) can
//! run the same rules; no rule reads a clock or a table.

mod criteria;
mod evidence;

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

use crate::{CycleYear, OefentherapieAgb};

pub use evidence::{
    ldo_fill_rate_over_months, months_with_upload, prem_offered_rate_over_months, quarters_ended,
    Evidence, IntervisionMembership, IopEvidence, MonthEvidence, PremDomainScore, PremEvidence,
    SharedAddress, TherapistEvidence, TreatmentIndexEvidence, VisitationEvidence,
};

/// Which conditions of 001 a practice is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriteriaSet {
    /// Basisovereenkomst: the basis conditions.
    Basis,
    /// Module Leren door Inzicht: the basis conditions and those of the module (LDO data).
    Ldi,
    /// Plusovereenkomst: the basis conditions and the Plus conditions of the annex. The Plus
    /// LDO conditions (§1.3b, §1.3f: at least 90%) take the place of the module's.
    Plus,
}

crate::wire_names!(CriteriaSet, error = UnknownCriteriaSet, unknown = UnknownCriteriaSet, {
    Basis = "basis",
    Ldi = "ldi",
    Plus = "plus",
});

impl CriteriaSet {
    /// The criteria of the set, in report order (001).
    pub fn criteria(self) -> &'static [Criterion] {
        use Criterion as C;
        const BASIS: &[Criterion] = &[C::BasisKpRegistered, C::BasisPremMeasured];
        const LDI: &[Criterion] = &[
            C::BasisKpRegistered,
            C::BasisPremMeasured,
            C::LdiLdoMonthlyUpload,
            C::LdiLdoFillRate,
        ];
        const PLUS: &[Criterion] = &[
            C::BasisKpRegistered,
            C::BasisPremMeasured,
            C::PlusTreatmentIndex,
            C::PlusRegistered,
            C::PlusIntervisionParticipation,
            C::PlusIntervisionPhysicalMeetings,
            C::PlusIntervisionGroupSize,
            C::PlusIntervisionPractices,
            C::PlusIntervisionFacilitator,
            C::PlusIntervisionAdap,
            C::PlusVisitation,
            C::PlusLdoMonthlyUpload,
            C::PlusLdoFillRate,
            C::PlusConsent,
            C::PlusPremOffered,
            C::PlusPremScores,
            C::PlusIop,
            C::PlusSharedAddress,
        ];
        match self {
            Self::Basis => BASIS,
            Self::Ldi => LDI,
            Self::Plus => PLUS,
        }
    }
}

/// A criteria set name that is not one of [`CriteriaSet::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a criteria set is one of basis, ldi or plus")]
pub struct UnknownCriteriaSet;

impl UnknownCriteriaSet {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        "criteria_set"
    }
}

/// One condition of 001; on the wire its stable id, e.g. `plus.intervision.group_size`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum Criterion {
    #[serde(rename = "basis.kp_registered")]
    BasisKpRegistered,
    #[serde(rename = "basis.prem_measured")]
    BasisPremMeasured,
    #[serde(rename = "ldi.ldo_monthly_upload")]
    LdiLdoMonthlyUpload,
    #[serde(rename = "ldi.ldo_fill_rate")]
    LdiLdoFillRate,
    #[serde(rename = "plus.treatment_index")]
    PlusTreatmentIndex,
    #[serde(rename = "plus.registered")]
    PlusRegistered,
    #[serde(rename = "plus.intervision.participation")]
    PlusIntervisionParticipation,
    #[serde(rename = "plus.intervision.physical_meetings")]
    PlusIntervisionPhysicalMeetings,
    #[serde(rename = "plus.intervision.group_size")]
    PlusIntervisionGroupSize,
    #[serde(rename = "plus.intervision.practices")]
    PlusIntervisionPractices,
    #[serde(rename = "plus.intervision.facilitator")]
    PlusIntervisionFacilitator,
    #[serde(rename = "plus.intervision.adap")]
    PlusIntervisionAdap,
    #[serde(rename = "plus.visitation")]
    PlusVisitation,
    #[serde(rename = "plus.ldo_monthly_upload")]
    PlusLdoMonthlyUpload,
    #[serde(rename = "plus.ldo_fill_rate")]
    PlusLdoFillRate,
    #[serde(rename = "plus.consent")]
    PlusConsent,
    #[serde(rename = "plus.prem_offered")]
    PlusPremOffered,
    #[serde(rename = "plus.prem_scores")]
    PlusPremScores,
    #[serde(rename = "plus.iop")]
    PlusIop,
    #[serde(rename = "plus.shared_address")]
    PlusSharedAddress,
}

crate::wire_names!(Criterion, error = UnknownCriterion, unknown = UnknownCriterion, {
    BasisKpRegistered = "basis.kp_registered",
    BasisPremMeasured = "basis.prem_measured",
    LdiLdoMonthlyUpload = "ldi.ldo_monthly_upload",
    LdiLdoFillRate = "ldi.ldo_fill_rate",
    PlusTreatmentIndex = "plus.treatment_index",
    PlusRegistered = "plus.registered",
    PlusIntervisionParticipation = "plus.intervision.participation",
    PlusIntervisionPhysicalMeetings = "plus.intervision.physical_meetings",
    PlusIntervisionGroupSize = "plus.intervision.group_size",
    PlusIntervisionPractices = "plus.intervision.practices",
    PlusIntervisionFacilitator = "plus.intervision.facilitator",
    PlusIntervisionAdap = "plus.intervision.adap",
    PlusVisitation = "plus.visitation",
    PlusLdoMonthlyUpload = "plus.ldo_monthly_upload",
    PlusLdoFillRate = "plus.ldo_fill_rate",
    PlusConsent = "plus.consent",
    PlusPremOffered = "plus.prem_offered",
    PlusPremScores = "plus.prem_scores",
    PlusIop = "plus.iop",
    PlusSharedAddress = "plus.shared_address",
});

impl Criterion {
    /// What the criterion asks, in English.
    pub fn title(self) -> &'static str {
        match self {
            Self::BasisKpRegistered => {
                "All therapists are kwaliteitsgeregistreerd in the Kwaliteitsregister Paramedici"
            }
            Self::BasisPremMeasured => "Patient experiences are measured with the PREM",
            Self::LdiLdoMonthlyUpload | Self::PlusLdoMonthlyUpload => {
                "Data is uploaded from the EPD to the LDO at least once a month"
            }
            Self::LdiLdoFillRate => "The practice's LDO registration is filled to at least the minimum rate (80% in 001)",
            Self::PlusLdoFillRate => "The practice's LDO registration is filled to at least the minimum rate (90% in 001)",
            Self::PlusTreatmentIndex => {
                "The treatment index is at most the insurer's ceiling (3rd quartile of the \
                 national index)"
            }
            Self::PlusRegistered => "The practice is registered in the praktijkregister",
            Self::PlusIntervisionParticipation => {
                "All therapists take part in an intervision programme"
            }
            Self::PlusIntervisionPhysicalMeetings => {
                "Every therapist attends at least the minimum number of physical intervision meetings \
                 a year (4 in 001)"
            }
            Self::PlusIntervisionGroupSize => "Every intervision group has from the minimum to the maximum number of therapists (4 \
                 to 12 in 001)",
            Self::PlusIntervisionPractices => {
                "Every intervision group has members from at least the minimum number of practices \
                 (2 in 001)"
            }
            Self::PlusIntervisionFacilitator => {
                "Intervision is led by a trained facilitator (procesbegeleider)"
            }
            Self::PlusIntervisionAdap => {
                "The intervision programme is ADAP-accredited for the year"
            }
            Self::PlusVisitation => {
                "Visited at least once a year, entry visitation passed in time, report uploaded"
            }
            Self::PlusConsent => {
                "Consent to share practice-level quality data with the insurer"
            }
            Self::PlusPremOffered => {
                "The PREM is offered to at least the minimum share of eligible patients (70% in 001)"
            }
            Self::PlusPremScores => {
                "PREM scores are at least the benchmark average on every domain"
            }
            Self::PlusIop => {
                "Every therapist has an IOP of the year, uploaded to KP and updated each quarter"
            }
            Self::PlusSharedAddress => {
                "Practices at a shared address each have their own KvK registration, entrance, \
                 phone, website, waiting room, reception, administration and logo"
            }
        }
    }

    /// Whether the criterion is judged on the practice's quality data: its LDO registration,
    /// PREM results or treatment index. 001 §1.3c: the register shares practice-level quality
    /// data with an insurer only with the practice's consent, so without it such a criterion is
    /// not judged for that insurer. KP registration, registration, visitation, intervision
    /// participation (never its content), IOPs and the shared-address features are register
    /// data of the practice, shown with its registration.
    pub fn needs_quality_data(self) -> bool {
        matches!(
            self,
            Self::BasisPremMeasured
                | Self::LdiLdoMonthlyUpload
                | Self::LdiLdoFillRate
                | Self::PlusTreatmentIndex
                | Self::PlusLdoMonthlyUpload
                | Self::PlusLdoFillRate
                | Self::PlusPremOffered
                | Self::PlusPremScores
        )
    }

    /// Where the condition is written: document 001 and its section.
    pub fn source(self) -> &'static str {
        match self {
            Self::BasisKpRegistered => "001 Voorwaarden Basisovereenkomst, condition 1",
            Self::BasisPremMeasured => "001 Voorwaarden Basisovereenkomst, condition 2",
            Self::LdiLdoMonthlyUpload => "001 Voorwaarden module Leren door Inzicht, condition 2",
            Self::LdiLdoFillRate => "001 Voorwaarden module Leren door Inzicht, condition 5",
            Self::PlusTreatmentIndex => "001 Voorwaarden Plusovereenkomst, condition 2",
            Self::PlusRegistered => "001 Voorwaarden Plusovereenkomst, condition 3",
            Self::PlusIntervisionParticipation => "001 §1.1a",
            Self::PlusIntervisionPhysicalMeetings => "001 §1.1b",
            Self::PlusIntervisionGroupSize => "001 §1.1c",
            Self::PlusIntervisionPractices => "001 §1.1d",
            Self::PlusIntervisionFacilitator => "001 §1.1e",
            Self::PlusIntervisionAdap => "001 §1.1f, §1.1g",
            Self::PlusVisitation => "001 §1.2a, §1.2b, §1.2g",
            Self::PlusLdoMonthlyUpload => "001 §1.3b",
            Self::PlusLdoFillRate => "001 §1.3f",
            Self::PlusConsent => "001 §1.3c",
            Self::PlusPremOffered => "001 §1.5h",
            Self::PlusPremScores => "001 §1.5g",
            Self::PlusIop => "001 §1.6a, §1.6b",
            Self::PlusSharedAddress => "001 §2.1b",
        }
    }
}

/// A criterion id that is not one of [`Criterion::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("unknown criterion id")]
pub struct UnknownCriterion;

impl UnknownCriterion {
    /// Stable snake_case code for machines.
    pub fn code(&self) -> &'static str {
        "criterion"
    }
}

/// The configurable thresholds of the criteria (DESIGN §3.5). [`Default`] holds the values of
/// 001; on the wire every field may be left out and then takes its default, so an insurer's
/// criteria need only name what differs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Thresholds {
    /// Minimum LDO fill rate of the module Leren door Inzicht (001 module condition 5): 0.80.
    #[schema(minimum = 0, maximum = 1)]
    pub ldo_fill_rate_ldi: f64,
    /// Minimum LDO fill rate of the Plusovereenkomst (001 §1.3f): 0.90.
    #[schema(minimum = 0, maximum = 1)]
    pub ldo_fill_rate_plus: f64,
    /// Minimum share of eligible patients offered the PREM (001 §1.5h): 0.70.
    #[schema(minimum = 0, maximum = 1)]
    pub prem_offered_rate_plus: f64,
    /// Minimum physical intervision meetings a year per therapist (001 §1.1b): 4.
    #[schema(maximum = 1000)]
    pub intervision_min_physical_meetings: u32,
    /// Smallest intervision group (001 §1.1c): 4.
    #[schema(maximum = 1000)]
    pub intervision_group_min: u32,
    /// Largest intervision group (001 §1.1c): 12.
    #[schema(maximum = 1000)]
    pub intervision_group_max: u32,
    /// Minimum distinct practices in an intervision group (001 §1.1d): 2.
    #[schema(maximum = 1000)]
    pub intervision_min_practices: u32,
    /// Highest treatment index allowed when the insurer gives no ceiling of its own (001
    /// Plusovereenkomst condition 2): 149, the ceiling of the example in 003.
    #[schema(minimum = 0)]
    pub treatment_index_ceiling: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            ldo_fill_rate_ldi: 0.80,
            ldo_fill_rate_plus: 0.90,
            prem_offered_rate_plus: 0.70,
            intervision_min_physical_meetings: 4,
            intervision_group_min: 4,
            intervision_group_max: 12,
            intervision_min_practices: 2,
            treatment_index_ceiling: 149.0,
        }
    }
}

impl Thresholds {
    /// The largest count a threshold may name: far above any intervision figure, so that a
    /// typing error is refused rather than silently making a criterion unreachable.
    pub const MAX_COUNT: u32 = 1000;

    /// Checks configured thresholds: rates are fractions in `[0, 1]`, counts at most
    /// [`Self::MAX_COUNT`], the group bounds are in order, the ceiling is a finite number of at
    /// least 0.
    pub fn validate(&self) -> Result<(), ThresholdsError> {
        for (field, rate) in [
            ("ldo_fill_rate_ldi", self.ldo_fill_rate_ldi),
            ("ldo_fill_rate_plus", self.ldo_fill_rate_plus),
            ("prem_offered_rate_plus", self.prem_offered_rate_plus),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(ThresholdsError::Rate { field });
            }
        }
        for (field, count) in [
            (
                "intervision_min_physical_meetings",
                self.intervision_min_physical_meetings,
            ),
            ("intervision_group_min", self.intervision_group_min),
            ("intervision_group_max", self.intervision_group_max),
            ("intervision_min_practices", self.intervision_min_practices),
        ] {
            if count > Self::MAX_COUNT {
                return Err(ThresholdsError::Count { field });
            }
        }
        if self.intervision_group_min > self.intervision_group_max {
            return Err(ThresholdsError::GroupBounds);
        }
        if !(self.treatment_index_ceiling.is_finite() && self.treatment_index_ceiling >= 0.0) {
            return Err(ThresholdsError::Ceiling);
        }
        Ok(())
    }
}

/// Why configured [`Thresholds`] were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ThresholdsError {
    #[error("{field} is a fraction from 0 to 1, e.g. 0.9 for 90%")]
    Rate { field: &'static str },
    #[error("{field} is a count from 0 to 1000")]
    Count { field: &'static str },
    #[error("intervision_group_min must not exceed intervision_group_max")]
    GroupBounds,
    #[error("treatment_index_ceiling is a finite number of at least 0")]
    Ceiling,
}

impl ThresholdsError {
    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Rate { field } | Self::Count { field } => field,
            Self::GroupBounds => "intervision_group_min",
            Self::Ceiling => "treatment_index_ceiling",
        }
    }

    /// Stable snake_case code for machines; never reworded, unlike the message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rate { .. } => "threshold_rate",
            Self::Count { .. } => "threshold_count",
            Self::GroupBounds => "threshold_group_bounds",
            Self::Ceiling => "threshold_ceiling",
        }
    }
}

/// The answer on one criterion, and the overall answer of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComplianceStatus {
    Met,
    NotMet,
    /// The evidence needed is missing.
    Unknown,
}

impl ComplianceStatus {
    /// The wire name, identical to the serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::NotMet => "not_met",
            Self::Unknown => "unknown",
        }
    }

    /// The overall answer (DESIGN §3.5): not met when any is not met; else unknown when any is
    /// unknown; else met. An empty list is met.
    pub fn combine(statuses: impl IntoIterator<Item = Self>) -> Self {
        statuses
            .into_iter()
            .fold(Self::Met, |overall, status| match (overall, status) {
                (Self::NotMet, _) | (_, Self::NotMet) => Self::NotMet,
                (Self::Unknown, _) | (_, Self::Unknown) => Self::Unknown,
                (Self::Met, Self::Met) => Self::Met,
            })
    }
}

impl fmt::Display for ComplianceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value a criterion was judged on. On the wire `{"type": "number", "value": 0.93}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum EvidenceValue {
    Number(f64),
    Count(u64),
    Flag(bool),
    Date(NaiveDate),
    Text(String),
    List(Vec<String>),
}

/// A named value a criterion was judged on, e.g. `ldo_fill_rate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvidenceItem {
    pub name: String,
    pub value: EvidenceValue,
}

impl EvidenceItem {
    pub fn new(name: impl Into<String>, value: EvidenceValue) -> Self {
        Self {
            name: name.into(),
            value,
        }
    }
}

/// The answer on one criterion, with its evidence and source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CriterionResult {
    pub id: Criterion,
    /// [`Criterion::title`].
    pub title: String,
    /// [`Criterion::source`].
    pub source: String,
    pub status: ComplianceStatus,
    pub evidence: Vec<EvidenceItem>,
    /// Why the criterion is not met or unknown; `None` when it is met.
    pub reason: Option<String>,
}

/// The answer for one practice, year and criteria set (DESIGN §3.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComplianceReport {
    pub practice_agb: OefentherapieAgb,
    pub year: CycleYear,
    /// The day of the evaluation ([`Evidence::as_of`]).
    pub as_of: NaiveDate,
    pub criteria_set: CriteriaSet,
    /// [`ComplianceStatus::combine`] of the criteria.
    pub outcome: ComplianceStatus,
    /// The criteria of the set, in [`CriteriaSet::criteria`] order.
    pub criteria: Vec<CriterionResult>,
    /// Asked for one insurer: whether its own criteria set was applied, or why the register's was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurer_criteria: Option<InsurerCriteriaApplied>,
}

/// The criteria one insurer applies for one contract year (001 §2.2: the insurer checks its
/// contracts against the register's overview; DESIGN §3.5): a selection of [`Criterion::ALL`]
/// and its own thresholds. Kept by the insurer-export service; applied by the register's
/// compliance endpoint when it is asked for that insurer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "insurer_uzovi": "3311", "contract_year": 2027, "version": 2, "base_set": null,
    "criteria": ["basis.kp_registered", "plus.registered"],
    "thresholds": {"ldo_fill_rate_ldi": 0.8, "ldo_fill_rate_plus": 0.9, "prem_offered_rate_plus": 0.7,
        "intervision_min_physical_meetings": 4, "intervision_group_min": 4, "intervision_group_max": 12,
        "intervision_min_practices": 2, "treatment_index_ceiling": 140.0}
}))]
pub struct InsurerCriteriaSet {
    pub insurer_uzovi: String,
    pub contract_year: u16,
    /// The set's version (every change is a new one).
    pub version: i32,
    /// The named set the criteria are, when they are one.
    pub base_set: Option<CriteriaSet>,
    /// In report order.
    pub criteria: Vec<Criterion>,
    pub thresholds: Thresholds,
}

/// Which criteria a report asked for one insurer applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InsurerCriteriaApplied {
    pub insurer_uzovi: String,
    /// The contract year whose set was asked for: the cycle year plus one.
    pub contract_year: u16,
    /// The version of the insurer's set that was applied; absent when the register's set was.
    pub version: Option<i32>,
    /// Why the register's set was applied instead of the insurer's; absent when it was not.
    pub note: Option<String>,
}

/// Judges one practice on the criteria of `set` (DESIGN §3.5; 001).
pub fn evaluate(
    set: CriteriaSet,
    evidence: &Evidence,
    thresholds: &Thresholds,
) -> ComplianceReport {
    let criteria: Vec<CriterionResult> = set
        .criteria()
        .iter()
        .map(|criterion| evaluate_criterion(*criterion, evidence, thresholds))
        .collect();
    ComplianceReport {
        practice_agb: evidence.practice_agb.clone(),
        year: evidence.year,
        as_of: evidence.as_of,
        criteria_set: set,
        outcome: ComplianceStatus::combine(criteria.iter().map(|result| result.status)),
        criteria,
        insurer_criteria: None,
    }
}

/// Judges one practice on an insurer's own criteria with its thresholds. `criteria_set` is the
/// insurer's named set, or for a selection `plus`, the set all criteria belong to.
pub fn evaluate_for_insurer(set: &InsurerCriteriaSet, evidence: &Evidence) -> ComplianceReport {
    let criteria: Vec<CriterionResult> = set
        .criteria
        .iter()
        .map(|criterion| evaluate_criterion(*criterion, evidence, &set.thresholds))
        .collect();
    ComplianceReport {
        practice_agb: evidence.practice_agb.clone(),
        year: evidence.year,
        as_of: evidence.as_of,
        criteria_set: set.base_set.unwrap_or(CriteriaSet::Plus),
        outcome: ComplianceStatus::combine(criteria.iter().map(|result| result.status)),
        criteria,
        insurer_criteria: Some(InsurerCriteriaApplied {
            insurer_uzovi: set.insurer_uzovi.clone(),
            contract_year: set.contract_year,
            version: Some(set.version),
            note: None,
        }),
    }
}

/// Judges one practice on one criterion, e.g. for an insurer whose criteria are a selection of
/// [`Criterion::ALL`]; combine the answers with [`ComplianceStatus::combine`].
pub fn evaluate_criterion(
    criterion: Criterion,
    evidence: &Evidence,
    thresholds: &Thresholds,
) -> CriterionResult {
    let finding = criteria::judge(criterion, evidence, thresholds);
    CriterionResult {
        id: criterion,
        title: criterion.title().to_owned(),
        source: criterion.source().to_owned(),
        status: finding.status,
        evidence: finding.evidence,
        reason: finding.reason,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod test_support {
    //! A practice that meets every criterion of every set in cycle year 2026, evaluated on
    //! 1 November 2026; tests change one thing at a time.

    use super::*;
    use crate::KpStatus;

    pub fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    pub fn agb(s: &str) -> OefentherapieAgb {
        OefentherapieAgb::parse(s).unwrap()
    }

    pub fn group(id: &str) -> IntervisionMembership {
        IntervisionMembership {
            group_id: id.to_owned(),
            group_size: 8,
            practices_in_group: 3,
            physical_meetings_attended: 4,
            facilitator_trained_all: true,
            adap_accredited_for_year: true,
        }
    }

    pub fn therapist(agb_code: &str) -> TherapistEvidence {
        TherapistEvidence {
            agb: agb(agb_code),
            kp_status: Some(KpStatus::Kwaliteitsgeregistreerd),
            kp_valid_from: Some(date("2022-01-01")),
            kp_valid_until: Some(date("2026-12-31")),
            iop: Some(IopEvidence {
                drawn_up_on: date("2026-01-15"),
                uploaded_to_kp_on: Some(date("2026-01-20")),
                quarterly_updates: vec![date("2026-05-10"), date("2026-08-10")],
            }),
            intervision: vec![group("G1")],
        }
    }

    /// January to October 2026, each delivered with an upload; 95% of LDO records complete and
    /// 80% of eligible patients offered the PREM.
    pub fn months() -> Vec<MonthEvidence> {
        (1..=10)
            .map(|month| MonthEvidence {
                period: format!("2026-{month:02}").parse().unwrap(),
                delivered: true,
                ldo_upload_date: Some(date(&format!("2026-{month:02}-20"))),
                ldo_records_delivered: 100,
                ldo_records_complete: 95,
                prem_eligible: 10,
                prem_offered: 8,
            })
            .collect()
    }

    pub fn compliant() -> Evidence {
        Evidence {
            practice_agb: agb("07000001"),
            year: CycleYear::new(2026).unwrap(),
            as_of: date("2026-11-01"),
            months: months(),
            therapists: vec![therapist("07100001"), therapist("07100002")],
            prem: PremEvidence {
                measured: true,
                domain_scores: vec![
                    PremDomainScore {
                        domain: "bejegening".to_owned(),
                        practice_mean: Some(8.6),
                        benchmark_mean: Some(8.4),
                    },
                    PremDomainScore {
                        domain: "informatie".to_owned(),
                        practice_mean: Some(8.1),
                        benchmark_mean: Some(8.1),
                    },
                ],
            },
            treatment_index: Some(TreatmentIndexEvidence {
                value: 120.0,
                ci_lower: None,
                ci_upper: None,
            }),
            insurer_ceiling: None,
            consent_given: Some(true),
            visitation: VisitationEvidence {
                registered_for_year: true,
                visitation_positive_in_year: true,
                report_uploaded: Some(true),
                entry_visitation_in_time: Some(true),
            },
            shared_address: Vec::new(),
        }
    }

    /// Puts all LDO records in the first month, so the totals are exactly these.
    pub fn set_ldo(evidence: &mut Evidence, delivered: u32, complete: u32) {
        for (i, month) in evidence.months.iter_mut().enumerate() {
            let first = i == 0;
            month.ldo_records_delivered = if first { delivered } else { 0 };
            month.ldo_records_complete = if first { complete } else { 0 };
        }
    }

    /// Puts all PREM figures in the first month, so the totals are exactly these.
    pub fn set_prem(evidence: &mut Evidence, eligible: u32, offered: u32) {
        for (i, month) in evidence.months.iter_mut().enumerate() {
            let first = i == 0;
            month.prem_eligible = if first { eligible } else { 0 };
            month.prem_offered = if first { offered } else { 0 };
        }
    }

    /// The answer on one criterion with the default thresholds of 001.
    pub fn judge(evidence: &Evidence, criterion: Criterion) -> CriterionResult {
        evaluate_criterion(criterion, evidence, &Thresholds::default())
    }

    pub fn status(evidence: &Evidence, criterion: Criterion) -> ComplianceStatus {
        judge(evidence, criterion).status
    }

    pub fn item<'a>(result: &'a CriterionResult, name: &str) -> &'a EvidenceValue {
        &result
            .evidence
            .iter()
            .find(|item| item.name == name)
            .unwrap_or_else(|| panic!("{} has no evidence {name}", result.id))
            .value
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::test_support::*;
    use super::*;
    use ComplianceStatus::{Met, NotMet, Unknown};
    use Criterion as C;

    // DESIGN §3.5: the fixture meets every criterion of every set.
    #[test]
    fn compliant_practice_meets_every_set() {
        let evidence = compliant();
        for set in CriteriaSet::ALL {
            let report = evaluate(set, &evidence, &Thresholds::default());
            for result in &report.criteria {
                assert_eq!(result.status, Met, "{}: {:?}", result.id, result.reason);
                assert_eq!(result.reason, None);
            }
            assert_eq!(report.outcome, Met, "{set}");
            assert_eq!(report.criteria_set, set);
            assert_eq!(report.practice_agb.as_str(), "07000001");
            assert_eq!(report.year.value(), 2026);
            assert_eq!(report.as_of, date("2026-11-01"));
        }
    }

    // DESIGN §3.5: met only when all are met; not met when any is not met; else unknown.
    #[test]
    fn combine_is_not_met_over_unknown_over_met() {
        assert_eq!(ComplianceStatus::combine([]), Met);
        assert_eq!(ComplianceStatus::combine([Met, Met]), Met);
        assert_eq!(ComplianceStatus::combine([Met, Unknown, Met]), Unknown);
        assert_eq!(ComplianceStatus::combine([Unknown, NotMet]), NotMet);
        assert_eq!(ComplianceStatus::combine([NotMet, Unknown]), NotMet);
        assert_eq!(ComplianceStatus::combine([Met, NotMet, Met]), NotMet);
    }

    // DESIGN §3.5: the report's outcome follows its criteria.
    #[test]
    fn report_outcome_met_unknown_not_met() {
        let thresholds = Thresholds::default();
        // 001 Plus condition 2: no treatment index is unknown, so Plus is unknown...
        let mut evidence = compliant();
        evidence.treatment_index = None;
        assert_eq!(
            evaluate(CriteriaSet::Plus, &evidence, &thresholds).outcome,
            Unknown
        );
        // ...while basis and the module do not look at it.
        assert_eq!(
            evaluate(CriteriaSet::Basis, &evidence, &thresholds).outcome,
            Met
        );
        assert_eq!(
            evaluate(CriteriaSet::Ldi, &evidence, &thresholds).outcome,
            Met
        );
        // 001 §1.3c: a refusal next to the unknown makes it not met.
        evidence.consent_given = Some(false);
        let report = evaluate(CriteriaSet::Plus, &evidence, &thresholds);
        assert_eq!(report.outcome, NotMet);
        let not_met: Vec<Criterion> = report
            .criteria
            .iter()
            .filter(|r| r.status == NotMet)
            .map(|r| r.id)
            .collect();
        assert_eq!(not_met, vec![C::PlusConsent]);
    }

    // 001: basis = basis conditions; LDI = basis + module; Plus = basis + annex, with the Plus
    // LDO conditions in place of the module's.
    #[test]
    fn criteria_sets_hold_their_conditions() {
        let ids =
            |set: CriteriaSet| -> Vec<&str> { set.criteria().iter().map(|c| c.as_str()).collect() };
        assert_eq!(
            ids(CriteriaSet::Basis),
            vec!["basis.kp_registered", "basis.prem_measured"]
        );
        assert_eq!(
            ids(CriteriaSet::Ldi),
            vec![
                "basis.kp_registered",
                "basis.prem_measured",
                "ldi.ldo_monthly_upload",
                "ldi.ldo_fill_rate"
            ]
        );
        let plus = ids(CriteriaSet::Plus);
        assert!(plus.starts_with(&["basis.kp_registered", "basis.prem_measured"]));
        assert!(plus.iter().all(|id| !id.starts_with("ldi.")));
        for id in [
            "plus.treatment_index",
            "plus.registered",
            "plus.intervision.physical_meetings",
            "plus.intervision.group_size",
            "plus.intervision.practices",
            "plus.intervision.facilitator",
            "plus.intervision.adap",
            "plus.visitation",
            "plus.ldo_monthly_upload",
            "plus.ldo_fill_rate",
            "plus.consent",
            "plus.prem_offered",
            "plus.prem_scores",
            "plus.iop",
            "plus.shared_address",
        ] {
            assert!(plus.contains(&id), "{id}");
        }
        // Every criterion belongs to some set.
        for criterion in Criterion::ALL {
            assert!(
                CriteriaSet::ALL
                    .iter()
                    .any(|set| set.criteria().contains(&criterion)),
                "{criterion}"
            );
        }
    }

    #[test]
    fn criterion_ids_are_unique_and_match_serde() {
        for (i, criterion) in Criterion::ALL.iter().enumerate() {
            let json = serde_json::to_string(criterion).unwrap();
            assert_eq!(json, format!("\"{}\"", criterion.as_str()));
            assert_eq!(
                serde_json::from_str::<Criterion>(&json).unwrap(),
                *criterion
            );
            assert_eq!(Criterion::parse(criterion.as_str()), Ok(*criterion));
            assert!(criterion.source().starts_with("001 "), "{criterion}");
            assert!(!criterion.title().is_empty());
            assert!(Criterion::ALL[..i]
                .iter()
                .all(|earlier| earlier.as_str() != criterion.as_str()));
        }
        assert_eq!(Criterion::parse("plus.nothing"), Err(UnknownCriterion));
    }

    #[test]
    fn criteria_set_wire_names() {
        for set in CriteriaSet::ALL {
            let json = serde_json::to_string(&set).unwrap();
            assert_eq!(json, format!("\"{}\"", set.as_str()));
            assert_eq!("ldi".parse::<CriteriaSet>(), Ok(CriteriaSet::Ldi));
        }
        assert_eq!(CriteriaSet::parse("Plus"), Err(UnknownCriteriaSet));
        assert_eq!(UnknownCriteriaSet.code(), "criteria_set");
    }

    // 001: the default thresholds are the values of 001 (and the ceiling of the example of 003).
    #[test]
    fn default_thresholds_are_those_of_001() {
        let t = Thresholds::default();
        assert_eq!(t.ldo_fill_rate_ldi, 0.80);
        assert_eq!(t.ldo_fill_rate_plus, 0.90);
        assert_eq!(t.prem_offered_rate_plus, 0.70);
        assert_eq!(t.intervision_min_physical_meetings, 4);
        assert_eq!((t.intervision_group_min, t.intervision_group_max), (4, 12));
        assert_eq!(t.intervision_min_practices, 2);
        assert_eq!(t.treatment_index_ceiling, 149.0);
        assert_eq!(t.validate(), Ok(()));
    }

    // DESIGN §3.5: an insurer's thresholds name only what differs from 001.
    #[test]
    fn thresholds_default_missing_fields_and_validate() {
        let t: Thresholds = serde_json::from_str("{}").unwrap();
        assert_eq!(t, Thresholds::default());
        let t: Thresholds = serde_json::from_str(r#"{"treatment_index_ceiling": 130.5}"#).unwrap();
        assert_eq!(t.treatment_index_ceiling, 130.5);
        assert_eq!(t.ldo_fill_rate_plus, 0.90);

        let bad = Thresholds {
            ldo_fill_rate_plus: 90.0,
            ..Thresholds::default()
        };
        let err = bad.validate().unwrap_err();
        assert_eq!(
            (err.field(), err.code()),
            ("ldo_fill_rate_plus", "threshold_rate")
        );
        let bad = Thresholds {
            intervision_group_min: 13,
            ..Thresholds::default()
        };
        assert_eq!(bad.validate(), Err(ThresholdsError::GroupBounds));
        let bad = Thresholds {
            treatment_index_ceiling: f64::NAN,
            ..Thresholds::default()
        };
        assert_eq!(bad.validate().unwrap_err().code(), "threshold_ceiling");
    }

    // The evidence record is one NDJSON line of the feed: it survives a JSON round trip and
    // names every field.
    #[test]
    fn evidence_is_a_self_describing_json_line() {
        let evidence = compliant();
        let line = serde_json::to_string(&evidence).unwrap();
        assert!(!line.contains('\n'));
        let back: Evidence = serde_json::from_str(&line).unwrap();
        assert_eq!(back, evidence);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["practice_agb"], "07000001");
        assert_eq!(value["year"], 2026);
        assert_eq!(value["as_of"], "2026-11-01");
        assert_eq!(value["months"][0]["period"], "2026-01");
        assert_eq!(
            value["therapists"][0]["kp_status"],
            "kwaliteitsgeregistreerd"
        );
        assert_eq!(value["visitation"]["report_uploaded"], true);
        // Identifiers are validated on the way in.
        let bad = line.replace("\"07000001\"", "\"04000001\"");
        assert!(serde_json::from_str::<Evidence>(&bad).is_err());
    }

    #[test]
    fn report_wire_shape() {
        let mut evidence = compliant();
        set_ldo(&mut evidence, 1000, 899);
        let report = evaluate(CriteriaSet::Plus, &evidence, &Thresholds::default());
        let value = serde_json::to_value(&report).unwrap();
        assert_eq!(value["criteria_set"], "plus");
        assert_eq!(value["outcome"], "not_met");
        let fill = value["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "plus.ldo_fill_rate")
            .unwrap();
        assert_eq!(fill["status"], "not_met");
        assert_eq!(fill["source"], "001 §1.3f");
        assert_eq!(
            fill["evidence"][2],
            serde_json::json!({"name": "minimum", "value": {"type": "number", "value": 0.9}})
        );
        assert_eq!(
            fill["reason"],
            "LDO fill rate 89.9% (899 of 1000 records complete) is below 90.0%"
        );
        let back: ComplianceReport = serde_json::from_value(value).unwrap();
        assert_eq!(back, report);
    }

    // The wire types have OpenAPI schemas.
    #[test]
    fn schemas_name_the_fields() {
        use utoipa::PartialSchema;
        let evidence = serde_json::to_string(&Evidence::schema()).unwrap();
        for field in [
            "practice_agb",
            "as_of",
            "months",
            "shared_address",
            "consent_given",
        ] {
            assert!(evidence.contains(field), "{field}");
        }
        let report = serde_json::to_string(&ComplianceReport::schema()).unwrap();
        assert!(report.contains("outcome"));
        let value = serde_json::to_string(&EvidenceValue::schema()).unwrap();
        assert!(value.contains("number") && value.contains("list"));
    }
}
