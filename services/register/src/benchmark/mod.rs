//! Benchmark (spiegelinformatie, 001 §1.3f, §1.4): a practice's LDO fill rate, PREM offered rate
//! and treatments per closed episode beside the national quartiles, computed in SQL over the
//! current version of every monthly delivery of the year.

pub mod repository;
pub mod routes;

use serde::Serialize;
use utoipa::ToSchema;

/// The national distribution of a figure over practices (or therapists).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Quartiles {
    pub p25: Option<f64>,
    pub p50: Option<f64>,
    pub p75: Option<f64>,
    /// How many practices (or therapists) have the figure.
    pub count: i64,
}

/// One figure of the practice beside the national quartiles.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BenchmarkFigure {
    /// `ldo_fill_rate` (LDO-vulgraad), `prem_offered_rate` (PREM uitgezet) or
    /// `treatments_per_closed_episode` (behandelingen per afgesloten episode).
    pub figure: String,
    /// The practice's value; `None` when it delivered nothing to compute it from.
    pub practice: Option<f64>,
    pub national: Quartiles,
}

/// A therapist's treatments per closed episode beside the national quartiles of therapists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TherapistFigure {
    pub therapist_agb: String,
    pub treatments_per_closed_episode: Option<f64>,
    pub ldo_fill_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "practice_agb": "07012345", "year": 2026,
    "figures": [
        {"figure": "ldo_fill_rate", "practice": 0.93, "national": {"p25": 0.84, "p50": 0.9, "p75": 0.95, "count": 812}},
        {"figure": "prem_offered_rate", "practice": 0.74, "national": {"p25": 0.55, "p50": 0.68, "p75": 0.8, "count": 790}},
        {"figure": "treatments_per_closed_episode", "practice": 8.4, "national": {"p25": 7.1, "p50": 8.9, "p75": 10.6, "count": 812}}
    ],
    "therapists": [{"therapist_agb": "07654321", "treatments_per_closed_episode": 7.9, "ldo_fill_rate": 0.95}],
    "therapists_national": {"p25": 6.8, "p50": 8.7, "p75": 10.9, "count": 3950}
}))]
pub struct Benchmark {
    pub practice_agb: String,
    pub year: u16,
    pub figures: Vec<BenchmarkFigure>,
    /// The practice's therapists, for treatments per closed episode (001 §1.4: per therapist).
    pub therapists: Vec<TherapistFigure>,
    /// National quartiles of treatments per closed episode over therapists.
    pub therapists_national: Quartiles,
}

/// The national figures of a year: they read every delivery of the nation's year, so they are
/// computed once and shared (DESIGN §7, [`crate::national::NationalCache`]). A practice's own
/// figures are always fresh.
pub struct NationalFigures {
    pub practices: repository::NationalRow,
    pub therapists: Quartiles,
}
