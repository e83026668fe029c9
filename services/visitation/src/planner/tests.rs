//! The planner on generated sets: no proposed pair or visitor breaks a rule, nobody is
//! double-booked or over capacity, as many practices are placed as a brute force can, every
//! practice not placed has a reason, and the same input gives the same plan.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use praktijkregister_domain::{
    DeclaredRelation, PartOfDay, PracticeProfile, RelationParty, VisitorProfile,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// `n` practices with conflicts seeded at `rate` (shared KvK numbers, addresses, intervision
/// groups and declared relations), `visitors` visitors with a few parts of days each.
fn generated(seed: u64, n: usize, visitors: usize, rate: f64) -> PlanInput {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut candidates: Vec<Candidate> = (0..n)
        .map(|i| Candidate {
            profile: PracticeProfile {
                agb: format!("07{i:06}"),
                kvk_number: format!("{:08}", 10_000_000 + i),
                addresses: BTreeSet::from([format!("{:04}AA 1", 1000 + i)]),
                therapists: BTreeSet::new(),
                intervision_groups: BTreeSet::new(),
            },
            region: format!("{}", rng.gen_range(10..13)),
            earliest: day("2027-06-01"),
        })
        .collect();
    let mut relations = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            if !rng.gen_bool(rate) {
                continue;
            }
            match rng.gen_range(0..4) {
                0 => {
                    let kvk = candidates[i].profile.kvk_number.clone();
                    candidates[j].profile.kvk_number = kvk;
                }
                1 => {
                    let address = candidates[i]
                        .profile
                        .addresses
                        .iter()
                        .next()
                        .cloned()
                        .unwrap();
                    candidates[j].profile.addresses.insert(address);
                }
                2 => {
                    let group = format!("g{i}-{j}");
                    candidates[i]
                        .profile
                        .intervision_groups
                        .insert(group.clone());
                    candidates[j].profile.intervision_groups.insert(group);
                }
                _ => relations.push(DeclaredRelation {
                    party: RelationParty::Practice(candidates[j].profile.agb.clone()),
                    practice_agb: candidates[i].profile.agb.clone(),
                    valid_from: day("2027-01-01"),
                    valid_until: None,
                }),
            }
        }
    }
    let planner_visitors: Vec<PlannerVisitor> = (0..visitors)
        .map(|v| {
            let mut profile = VisitorProfile {
                id: format!("visitor-{v}"),
                ..VisitorProfile::default()
            };
            // Some visitors work at a practice, share an intervision group with one, or have a
            // declared relation with one.
            if n > 0 && rng.gen_bool(0.5) {
                profile
                    .practices
                    .insert(candidates[rng.gen_range(0..n)].profile.agb.clone());
            }
            if n > 0 && rng.gen_bool(0.3) {
                let group = format!("visitor-group-{v}");
                profile.intervision_groups.insert(group.clone());
                let i = rng.gen_range(0..n);
                candidates[i].profile.intervision_groups.insert(group);
            }
            if n > 0 && rng.gen_bool(0.3) {
                relations.push(DeclaredRelation {
                    party: RelationParty::Visitor(profile.id.clone()),
                    practice_agb: candidates[rng.gen_range(0..n)].profile.agb.clone(),
                    valid_from: day("2027-01-01"),
                    valid_until: if rng.gen_bool(0.5) {
                        Some(day("2027-03-01"))
                    } else {
                        None
                    },
                });
            }
            let mut slots = BTreeSet::new();
            for _ in 0..rng.gen_range(1..8) {
                let date = day("2027-06-01") + chrono::Days::new(rng.gen_range(0..40));
                let part = if rng.gen_bool(0.5) {
                    PartOfDay::Morning
                } else {
                    PartOfDay::Afternoon
                };
                slots.insert((date, part));
            }
            PlannerVisitor {
                profile,
                slots: slots.into_iter().collect(),
                year_left: rng.gen_range(1..6),
                week_left: BTreeMap::new(),
                max_per_week: rng.gen_range(1..3),
            }
        })
        .collect();
    PlanInput {
        candidates,
        visitors: planner_visitors,
        relations,
        met_last_year: BTreeSet::new(),
        season: (day("2027-06-01"), day("2027-10-15")),
    }
}

/// A visitor with room for everything, without conflicts.
fn ample_visitor(id: &str) -> PlannerVisitor {
    let mut slots = Vec::new();
    let mut d = day("2027-06-01");
    while d <= day("2027-10-15") {
        slots.push((d, PartOfDay::Morning));
        slots.push((d, PartOfDay::Afternoon));
        d = d.succ_opt().unwrap();
    }
    PlannerVisitor {
        profile: VisitorProfile {
            id: id.into(),
            ..VisitorProfile::default()
        },
        slots,
        year_left: 1000,
        week_left: BTreeMap::new(),
        max_per_week: 1000,
    }
}

/// The most practices that can be paired, by trying every pairing.
fn brute_force_pairs(input: &PlanInput) -> usize {
    let conflicts = conflict_sets(input);
    fn best(conflicts: &[BTreeSet<usize>], free: &mut [bool], from: usize) -> usize {
        let Some(u) = (from..conflicts.len()).find(|&u| free[u]) else {
            return 0;
        };
        free[u] = false;
        let mut result = best(conflicts, free, u + 1);
        for v in u + 1..conflicts.len() {
            if free[v] && !conflicts[u].contains(&v) {
                free[v] = false;
                result = result.max(2 + best(conflicts, free, u + 1));
                free[v] = true;
            }
        }
        free[u] = true;
        result
    }
    best(&conflicts, &mut vec![true; conflicts.len()], 0)
}

fn check(input: &PlanInput, proposal: &Proposal) {
    assert!(
        violations(input, proposal).is_empty(),
        "{:?}",
        violations(input, proposal)
    );
    // Every candidate is placed once or listed once with a reason.
    let mut seen: Vec<&str> = proposal
        .sessions
        .iter()
        .flat_map(|s| [s.practice_a_agb.as_str(), s.practice_b_agb.as_str()])
        .chain(proposal.unplaced.iter().map(|u| u.practice_agb.as_str()))
        .collect();
    seen.sort_unstable();
    let all: Vec<&str> = input
        .candidates
        .iter()
        .map(|c| c.profile.agb.as_str())
        .collect();
    assert_eq!(seen, all);
}

// DESIGN §3.3: on a generated set of 24 practices with seeded conflicts, no rule is broken, the
// pairing is as large as possible, every practice not placed has a reason, and the plan is the
// same every time.
#[test]
fn a_generated_season_is_planned_within_the_rules() {
    let mut input = generated(7, 24, 0, 0.08);
    input.visitors = vec![ample_visitor("a"), ample_visitor("b")];
    let proposal = propose(&input);
    check(&input, &proposal);
    let placed = proposal.sessions.len() * 2;
    let conflicts = conflict_sets(&input);
    let mate = maximum_matching(
        &ComplementGraph {
            conflicts: &conflicts,
        },
        vec![None; 24],
    );
    assert_eq!(placed, mate.iter().filter(|m| m.is_some()).count());
    assert!(placed >= 20, "{proposal:?}");
    assert_eq!(propose(&input), proposal);
}

// The number placed equals the brute-force maximum when visitors have room (small sets).
#[test]
fn as_many_are_placed_as_a_brute_force_can_pair() {
    for seed in 0..150 {
        let n = (seed % 11) as usize;
        let mut input = generated(seed, n, 0, [0.1, 0.3, 0.6][(seed % 3) as usize]);
        input.visitors = vec![ample_visitor("a")];
        let proposal = propose(&input);
        check(&input, &proposal);
        assert_eq!(
            proposal.sessions.len() * 2,
            brute_force_pairs(&input),
            "seed {seed}: {proposal:?}"
        );
    }
}

// Random small sets with scarce visitors: the rules hold, capacity holds, every practice is
// accounted for, and the same input gives the same plan.
#[test]
fn random_small_sets_keep_every_rule() {
    for seed in 1000..1300 {
        let input = generated(seed, (seed % 13) as usize, (seed % 4) as usize, 0.2);
        let proposal = propose(&input);
        check(&input, &proposal);
        assert!(proposal.sessions.len() * 2 <= brute_force_pairs(&input));
        assert_eq!(propose(&input), proposal, "seed {seed}");
    }
}

// The reasons: no partner at all, the odd one out, and no visitor or part of a day.
#[test]
fn unplaced_practices_have_their_reason() {
    let mut input = generated(1, 3, 0, 0.0);
    // 0 conflicts with both others: no partner; 1 and 2 pair, leaving nobody odd.
    let kvk = input.candidates[0].profile.kvk_number.clone();
    input.candidates[1].profile.addresses.insert("X".into());
    input.candidates[0].profile.addresses.insert("X".into());
    input.candidates[2].profile.kvk_number = kvk;
    input.visitors = vec![ample_visitor("a")];
    let proposal = propose(&input);
    assert_eq!(
        proposal.unplaced,
        [UnplacedPractice {
            practice_agb: "07000000".into(),
            reason: UnplacedReason::NoConflictFreePartner,
        }]
    );
    // Three practices without conflicts: one is the odd one out.
    let mut input = generated(1, 3, 0, 0.0);
    input.visitors = vec![ample_visitor("a")];
    let proposal = propose(&input);
    assert_eq!(proposal.unplaced.len(), 1);
    assert_eq!(proposal.unplaced[0].reason, UnplacedReason::OddOneOut);
    // No visitor: both of a pair are unplaced for want of one.
    let input = generated(1, 2, 0, 0.0);
    let proposal = propose(&input);
    let reasons: Vec<UnplacedReason> = proposal.unplaced.iter().map(|u| u.reason).collect();
    assert_eq!(
        reasons,
        [
            UnplacedReason::NoVisitorOrSlot,
            UnplacedReason::NoVisitorOrSlot
        ]
    );
}

// Pairs in the same region that did not meet last year come first.
#[test]
fn the_same_region_and_new_partners_are_preferred() {
    let mut input = generated(3, 4, 0, 0.0);
    for (c, region) in input.candidates.iter_mut().zip(["10", "11", "10", "11"]) {
        c.region = region.into();
    }
    input
        .met_last_year
        .insert(("07000001".into(), "07000003".into()));
    input.visitors = vec![ample_visitor("a")];
    let proposal = propose(&input);
    let pairs: BTreeSet<(String, String)> = proposal
        .sessions
        .iter()
        .map(|s| (s.practice_a_agb.clone(), s.practice_b_agb.clone()))
        .collect();
    assert!(
        pairs.contains(&("07000000".into(), "07000002".into())),
        "{pairs:?}"
    );
    assert!(proposal.sessions.iter().all(|s| s.same_region));
    // With the only same-region partner met last year, it is still chosen over none.
    assert!(proposal.sessions.iter().any(|s| s.met_last_year));
}

// The planner's indices of conflicts find exactly what the domain's rules find, pair by pair.
#[test]
fn the_conflict_indices_agree_with_the_domain_rules() {
    for seed in 0..60 {
        let input = generated(seed, 12, 6, 0.15);
        let practices = conflict_sets(&input);
        let visitors = visitor_conflict_sets(&input);
        for (i, a) in input.candidates.iter().enumerate() {
            for (j, b) in input.candidates.iter().enumerate() {
                if i != j {
                    let rule =
                        !practice_conflicts(&a.profile, &b.profile, &input.relations, input.season)
                            .is_empty();
                    assert_eq!(practices[i].contains(&j), rule, "seed {seed}: {i}-{j}");
                }
            }
            for (v, visitor) in input.visitors.iter().enumerate() {
                let rule = !visitor_conflicts(
                    &visitor.profile,
                    &a.profile,
                    &input.relations,
                    input.season,
                )
                .is_empty();
                assert_eq!(
                    visitors[v].contains(&i),
                    rule,
                    "seed {seed}: visitor {v}, {i}"
                );
            }
        }
    }
}
