//! The visitation planner at the scale of the run (DESIGN §7: the nation's practices with 300
//! visitors in at most 2 s): a season generated the same way every run, planned in-process.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chrono::{Datelike, NaiveDate, Weekday};
use praktijkregister_domain::{
    DeclaredRelation, PartOfDay, PracticeProfile, RelationParty, VisitorProfile,
};
use praktijkregister_visitation::planner::{propose, Candidate, PlanInput, PlannerVisitor};

/// A deterministic stream of numbers (no randomness between runs).
struct Sequence(u64);

impl Sequence {
    fn below(&mut self, n: u64) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// `practices` practices in intervision groups of eight, a few sharing a KvK number or an address
/// or tied by a declared relation; one visitor per 33 practices (300 for the nation), available
/// two days a week from June to mid-October, some of them therapists at a practice.
pub fn season(practices: usize) -> PlanInput {
    let mut seq = Sequence(2027);
    let mut candidates: Vec<Candidate> = (0..practices)
        .map(|i| Candidate {
            profile: PracticeProfile {
                agb: format!("07{i:06}"),
                kvk_number: format!("{:08}", 10_000_000 + i),
                addresses: BTreeSet::from([format!("{:04}AB 1", 1000 + i % 8999)]),
                therapists: BTreeSet::new(),
                intervision_groups: BTreeSet::from([format!("g{}", i / 8)]),
            },
            region: format!("{}", 10 + i % 90),
            earliest: date(2027, 6, 1),
        })
        .collect();
    let mut relations = Vec::new();
    for i in 0..practices {
        match seq.below(50) {
            0 if i > 0 => {
                candidates[i].profile.kvk_number = candidates[i - 1].profile.kvk_number.clone()
            }
            1 => relations.push(DeclaredRelation {
                party: RelationParty::Practice(format!("07{:06}", seq.below(practices as u64))),
                practice_agb: format!("07{i:06}"),
                valid_from: date(2027, 1, 1),
                valid_until: None,
            }),
            _ => {}
        }
    }
    let mut days = Vec::new();
    let mut d = date(2027, 6, 1);
    while d <= date(2027, 10, 15) {
        days.push(d);
        d = d.succ_opt().unwrap_or(d);
    }
    let visitors = (practices / 33).max(3);
    let planner_visitors = (0..visitors)
        .map(|v| {
            let mut profile = VisitorProfile {
                id: format!("visitor-{v:03}"),
                ..VisitorProfile::default()
            };
            if seq.below(5) == 0 {
                let at = seq.below(practices as u64) as usize;
                profile.practices.insert(format!("07{at:06}"));
                profile.intervision_groups.insert(format!("g{}", at / 8));
            }
            let weekdays = [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ];
            let (first, second) = (weekdays[v % 5], weekdays[(v + 2) % 5]);
            let slots = days
                .iter()
                .filter(|d| d.weekday() == first || d.weekday() == second)
                .flat_map(|d| [(*d, PartOfDay::Morning), (*d, PartOfDay::Afternoon)])
                .collect();
            PlannerVisitor {
                profile,
                slots,
                year_left: 40,
                week_left: BTreeMap::new(),
                max_per_week: 4,
            }
        })
        .collect();
    PlanInput {
        candidates,
        visitors: planner_visitors,
        relations,
        met_last_year: BTreeSet::new(),
        season: (date(2027, 6, 1), date(2027, 10, 15)),
    }
}

/// Milliseconds of each of `runs` plans of the season, and what the last one placed.
pub fn measure(practices: usize, runs: usize) -> (Vec<f64>, serde_json::Value) {
    let input = season(practices);
    let mut times = Vec::new();
    let mut details = serde_json::Value::Null;
    for _ in 0..runs {
        let started = Instant::now();
        let plan = propose(&input);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        details = serde_json::json!({
            "practices": practices, "visitors": input.visitors.len(),
            "sessions": plan.sessions.len(), "unplaced": plan.unplaced.len()
        });
    }
    (times, details)
}
