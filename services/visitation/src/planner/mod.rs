//! The planner (DESIGN §3.3): for the practices of a cycle year that await a visitation, reciprocal
//! conflict-free pairs, a visitor per session and a part of a day within the visitors' availability
//! and capacity and before the deadline; and every practice it could not place, with the reason.
//!
//! Exact where it counts, in two steps:
//! 1. Pairs: a maximum-cardinality matching on the graph of conflict-free pairs (Edmonds' blossom
//!    algorithm, [`matching`]), started from a greedy matching that prefers partners in the same
//!    postal region that did not meet last year. The number of paired practices is the largest
//!    possible; the preferences only choose among maximum matchings as far as the greedy start
//!    reaches (they are not optimised exactly).
//! 2. Visitors: a maximum flow ([`flow`]) from the pairs to the visitors who have no conflict with
//!    either practice, each visitor bounded by their remaining capacity in the year and the parts
//!    of days they can still give per ISO week. Each visitor's sessions then take their free parts
//!    of days in date order (a pair never before the approval of both plans); a pair that finds
//!    none is listed as unplaced.
//!
//! Pure: the directory, the visitors and the relations are inputs; the same input gives the same
//! plan.

pub mod flow;
pub mod matching;
pub mod routes;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use praktijkregister_domain::{
    practice_conflicts, visitor_conflicts, week_start, DeclaredRelation, PartOfDay,
    PracticeProfile, RelationParty, VisitorProfile,
};
use serde::Serialize;
use utoipa::ToSchema;

use self::flow::FlowNetwork;
use self::matching::{maximum_matching, ComplementGraph};

/// A practice to place.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub profile: PracticeProfile,
    /// Postal region (the first two digits of the postal code).
    pub region: String,
    /// The first day it may be visited: today, or the approval of its plan if later.
    pub earliest: NaiveDate,
}

/// A visitor as the planner sees them.
#[derive(Debug, Clone)]
pub struct PlannerVisitor {
    pub profile: VisitorProfile,
    /// Free parts of days within the season on which they are trained and authorised, in order.
    pub slots: Vec<(NaiveDate, PartOfDay)>,
    /// Sessions they can still take in the year.
    pub year_left: u32,
    /// Sessions they can still take per ISO week (by its Monday); a week not listed has
    /// `max_per_week`.
    pub week_left: BTreeMap<NaiveDate, u32>,
    pub max_per_week: u32,
}

/// Everything the planner decides on.
#[derive(Debug, Clone)]
pub struct PlanInput {
    /// In AGB order.
    pub candidates: Vec<Candidate>,
    /// In id order.
    pub visitors: Vec<PlannerVisitor>,
    pub relations: Vec<DeclaredRelation>,
    /// Pairs (lower AGB first) that met in a session last year.
    pub met_last_year: BTreeSet<(String, String)>,
    /// First and last day of what is left of the season.
    pub season: (NaiveDate, NaiveDate),
}

/// Why a practice was not placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnplacedReason {
    /// Due, but no approved annual plan of the year (000), or its registration awaits none.
    NoApprovedPlan,
    /// Every other practice to place has a conflict of interest with it.
    NoConflictFreePartner,
    /// Its conflict-free partners are all paired with others in a largest pairing.
    NoConflictFreePartnerLeft,
    /// The one practice left over: an odd number could be paired.
    OddOneOut,
    /// Paired, but no visitor without conflicts had a free part of a day within capacity.
    NoVisitorOrSlot,
}

/// A session the planner proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProposedSession {
    pub date: NaiveDate,
    pub part_of_day: PartOfDay,
    pub visitor_id: String,
    pub practice_a_agb: String,
    pub practice_b_agb: String,
    /// Both practices are in the same postal region.
    pub same_region: bool,
    /// The two practices met in a session last year.
    pub met_last_year: bool,
}

/// A practice the planner could not place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnplacedPractice {
    pub practice_agb: String,
    pub reason: UnplacedReason,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub sessions: Vec<ProposedSession>,
    pub unplaced: Vec<UnplacedPractice>,
}

/// For every candidate, the indices of the candidates it has a conflict of interest with, found
/// through what the conflicts share (a KvK number, an address, an intervision group, a declared
/// relation), never by comparing every pair.
pub fn conflict_sets(input: &PlanInput) -> Vec<BTreeSet<usize>> {
    let n = input.candidates.len();
    let mut by_key: BTreeMap<(u8, &str), Vec<usize>> = BTreeMap::new();
    for (i, c) in input.candidates.iter().enumerate() {
        by_key
            .entry((0, c.profile.kvk_number.as_str()))
            .or_default()
            .push(i);
        for address in &c.profile.addresses {
            by_key.entry((1, address.as_str())).or_default().push(i);
        }
        for group in &c.profile.intervision_groups {
            by_key.entry((2, group.as_str())).or_default().push(i);
        }
    }
    let mut conflicts = vec![BTreeSet::new(); n];
    for members in by_key.values() {
        for &u in members {
            for &v in members {
                if u != v {
                    conflicts[u].insert(v);
                }
            }
        }
    }
    let index: BTreeMap<&str, usize> = input
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.profile.agb.as_str(), i))
        .collect();
    for relation in &input.relations {
        if !relation.active_during(input.season.0, input.season.1) {
            continue;
        }
        if let RelationParty::Practice(other) = &relation.party {
            if let (Some(&u), Some(&v)) = (
                index.get(relation.practice_agb.as_str()),
                index.get(other.as_str()),
            ) {
                conflicts[u].insert(v);
                conflicts[v].insert(u);
            }
        }
    }
    conflicts
}

/// For every visitor, the indices of the candidates they have a conflict of interest with
/// ([`visitor_conflicts`]: where their therapist works, a declared relation, a shared intervision
/// group), found through indices rather than by trying every practice.
pub fn visitor_conflict_sets(input: &PlanInput) -> Vec<BTreeSet<usize>> {
    let mut by_agb: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_group: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in input.candidates.iter().enumerate() {
        by_agb.insert(c.profile.agb.as_str(), i);
        for group in &c.profile.intervision_groups {
            by_group.entry(group.as_str()).or_default().push(i);
        }
    }
    input
        .visitors
        .iter()
        .map(|visitor| {
            let mut blocked: BTreeSet<usize> = visitor
                .profile
                .practices
                .iter()
                .filter_map(|agb| by_agb.get(agb.as_str()).copied())
                .collect();
            for group in &visitor.profile.intervision_groups {
                blocked.extend(by_group.get(group.as_str()).into_iter().flatten());
            }
            for relation in &input.relations {
                let own = relation.party == RelationParty::Visitor(visitor.profile.id.clone());
                if own && relation.active_during(input.season.0, input.season.1) {
                    blocked.extend(by_agb.get(relation.practice_agb.as_str()));
                }
            }
            blocked
        })
        .collect()
}

fn met(input: &PlanInput, a: &str, b: &str) -> bool {
    let key = if a <= b { (a, b) } else { (b, a) };
    input
        .met_last_year
        .contains(&(key.0.to_string(), key.1.to_string()))
}

/// A first matching: each practice in turn takes the first free conflict-free partner, preferring
/// the same region and a partner it did not meet last year.
fn greedy(input: &PlanInput, conflicts: &[BTreeSet<usize>]) -> Vec<Option<usize>> {
    let n = input.candidates.len();
    let mut regions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in input.candidates.iter().enumerate() {
        regions.entry(c.region.as_str()).or_default().push(i);
    }
    let all: Vec<usize> = (0..n).collect();
    let mut mate: Vec<Option<usize>> = vec![None; n];
    for u in 0..n {
        if mate[u].is_some() {
            continue;
        }
        let agb = input.candidates[u].profile.agb.as_str();
        let free = |v: &usize, mate: &[Option<usize>]| {
            *v != u && mate[*v].is_none() && !conflicts[u].contains(v)
        };
        let own_region = &regions[input.candidates[u].region.as_str()];
        let fresh = |v: &usize| !met(input, agb, &input.candidates[*v].profile.agb);
        let choice = own_region
            .iter()
            .find(|v| free(v, &mate) && fresh(v))
            .or_else(|| own_region.iter().find(|v| free(v, &mate)))
            .or_else(|| all.iter().find(|v| free(v, &mate) && fresh(v)))
            .or_else(|| all.iter().find(|v| free(v, &mate)))
            .copied();
        if let Some(v) = choice {
            mate[u] = Some(v);
            mate[v] = Some(u);
        }
    }
    mate
}

/// The parts of days of `visitor` on or after `from`, in order.
fn usable(
    visitor: &PlannerVisitor,
    from: NaiveDate,
) -> impl Iterator<Item = &(NaiveDate, PartOfDay)> {
    visitor.slots.iter().filter(move |(date, _)| *date >= from)
}

/// How many sessions `visitor` can hold in all: within the year's capacity, and per week no more
/// than its capacity nor its free parts of days.
fn schedulable(visitor: &PlannerVisitor) -> u32 {
    let mut per_week: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    for (date, _) in &visitor.slots {
        *per_week.entry(week_start(*date)).or_default() += 1;
    }
    let total: u32 = per_week
        .iter()
        .map(|(week, free)| {
            let left = visitor
                .week_left
                .get(week)
                .copied()
                .unwrap_or(visitor.max_per_week);
            (*free).min(left)
        })
        .sum();
    total.min(visitor.year_left)
}

/// Plans (see the module documentation).
pub fn propose(input: &PlanInput) -> Proposal {
    let n = input.candidates.len();
    let conflicts = conflict_sets(input);
    let initial = greedy(input, &conflicts);
    let mate = maximum_matching(
        &ComplementGraph {
            conflicts: &conflicts,
        },
        initial,
    );
    let pairs: Vec<(usize, usize)> = (0..n)
        .filter_map(|u| mate[u].filter(|v| u < *v).map(|v| (u, v)))
        .collect();

    let blocked = visitor_conflict_sets(input);
    // Visitors by maximum flow: source → pair → visitor → sink.
    let (source, sink) = (0, 1);
    let pair_node = |p: usize| 2 + p;
    let visitor_node = |v: usize| 2 + pairs.len() + v;
    let mut network = FlowNetwork::new(2 + pairs.len() + input.visitors.len());
    let mut assignment_edges = Vec::new();
    for (p, &(a, b)) in pairs.iter().enumerate() {
        network.add_edge(source, pair_node(p), 1);
        let (pa, pb) = (&input.candidates[a], &input.candidates[b]);
        let earliest = pa.earliest.max(pb.earliest);
        for (v, visitor) in input.visitors.iter().enumerate() {
            let free_of_conflicts = !blocked[v].contains(&a) && !blocked[v].contains(&b);
            if free_of_conflicts && usable(visitor, earliest).next().is_some() {
                let edge = network.add_edge(pair_node(p), visitor_node(v), 1);
                assignment_edges.push((p, v, edge));
            }
        }
    }
    for (v, visitor) in input.visitors.iter().enumerate() {
        network.add_edge(visitor_node(v), sink, schedulable(visitor));
    }
    network.max_flow(source, sink);
    let mut by_visitor: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (p, v, edge) in assignment_edges {
        if network.flow_on(edge) > 0 {
            by_visitor.entry(v).or_default().push(p);
        }
    }

    // Each visitor's pairs take their free parts of days in date order, the pair that may start
    // earliest first, within the weekly capacity.
    let mut sessions = Vec::new();
    let mut placed = vec![false; pairs.len()];
    for (v, mut assigned) in by_visitor {
        let visitor = &input.visitors[v];
        let earliest = |p: usize| {
            let (a, b) = pairs[p];
            input.candidates[a]
                .earliest
                .max(input.candidates[b].earliest)
        };
        assigned.sort_by_key(|p| (earliest(*p), *p));
        let mut used_in_week: BTreeMap<NaiveDate, u32> = BTreeMap::new();
        let mut year_used = 0;
        for &(date, part) in &visitor.slots {
            if year_used >= visitor.year_left {
                break;
            }
            let week = week_start(date);
            let left = visitor
                .week_left
                .get(&week)
                .copied()
                .unwrap_or(visitor.max_per_week);
            if used_in_week.get(&week).copied().unwrap_or(0) >= left {
                continue;
            }
            let Some(position) = assigned.iter().position(|p| earliest(*p) <= date) else {
                continue;
            };
            let p = assigned.remove(position);
            *used_in_week.entry(week).or_default() += 1;
            year_used += 1;
            placed[p] = true;
            let (a, b) = pairs[p];
            let (pa, pb) = (&input.candidates[a], &input.candidates[b]);
            sessions.push(ProposedSession {
                date,
                part_of_day: part,
                visitor_id: visitor.profile.id.clone(),
                practice_a_agb: pa.profile.agb.clone(),
                practice_b_agb: pb.profile.agb.clone(),
                same_region: pa.region == pb.region,
                met_last_year: met(input, &pa.profile.agb, &pb.profile.agb),
            });
        }
    }
    sessions.sort_by(|x, y| {
        (x.date, x.part_of_day, &x.visitor_id).cmp(&(y.date, y.part_of_day, &y.visitor_id))
    });

    let unmatched_with_partner = (0..n)
        .filter(|&u| mate[u].is_none() && conflicts[u].len() + 1 < n)
        .count();
    let mut unplaced = Vec::new();
    for u in 0..n {
        let reason = match mate[u] {
            None if conflicts[u].len() + 1 >= n => UnplacedReason::NoConflictFreePartner,
            None if unmatched_with_partner == 1 && n % 2 == 1 => UnplacedReason::OddOneOut,
            None => UnplacedReason::NoConflictFreePartnerLeft,
            Some(_) => {
                let p = pairs
                    .iter()
                    .position(|&(a, b)| a == u || b == u)
                    .unwrap_or(usize::MAX);
                if placed.get(p).copied().unwrap_or(false) {
                    continue;
                }
                UnplacedReason::NoVisitorOrSlot
            }
        };
        unplaced.push(UnplacedPractice {
            practice_agb: input.candidates[u].profile.agb.clone(),
            reason,
        });
    }
    Proposal { sessions, unplaced }
}

/// Whether the proposal keeps every rule it decides on (a check for tests and for the run that
/// accepts it, which re-checks everything against the tables anyway).
pub fn violations(input: &PlanInput, proposal: &Proposal) -> Vec<String> {
    let mut found = Vec::new();
    let by_agb: BTreeMap<&str, &Candidate> = input
        .candidates
        .iter()
        .map(|c| (c.profile.agb.as_str(), c))
        .collect();
    let visitors: BTreeMap<&str, &PlannerVisitor> = input
        .visitors
        .iter()
        .map(|v| (v.profile.id.as_str(), v))
        .collect();
    let mut practices_seen = BTreeSet::new();
    let mut slots_seen = BTreeSet::new();
    let mut per_visitor: BTreeMap<&str, u32> = BTreeMap::new();
    let mut per_week: BTreeMap<(&str, NaiveDate), u32> = BTreeMap::new();
    for s in &proposal.sessions {
        let (Some(a), Some(b), Some(v)) = (
            by_agb.get(s.practice_a_agb.as_str()),
            by_agb.get(s.practice_b_agb.as_str()),
            visitors.get(s.visitor_id.as_str()),
        ) else {
            found.push(format!("{s:?} names an unknown party"));
            continue;
        };
        let period = (s.date, s.date);
        if !practice_conflicts(&a.profile, &b.profile, &input.relations, period).is_empty() {
            found.push(format!("{s:?}: the practices conflict"));
        }
        for c in [a, b] {
            if !visitor_conflicts(&v.profile, &c.profile, &input.relations, period).is_empty() {
                found.push(format!(
                    "{s:?}: the visitor conflicts with {}",
                    c.profile.agb
                ));
            }
            if !practices_seen.insert(c.profile.agb.as_str()) {
                found.push(format!("{} is in two sessions", c.profile.agb));
            }
            if s.date < c.earliest {
                found.push(format!("{s:?}: before {} may be visited", c.profile.agb));
            }
        }
        if !v.slots.contains(&(s.date, s.part_of_day)) {
            found.push(format!("{s:?}: not a free part of a day of the visitor"));
        }
        if !slots_seen.insert((s.visitor_id.as_str(), s.date, s.part_of_day)) {
            found.push(format!("{s:?}: the visitor is double-booked"));
        }
        *per_visitor.entry(v.profile.id.as_str()).or_default() += 1;
        *per_week
            .entry((v.profile.id.as_str(), week_start(s.date)))
            .or_default() += 1;
    }
    for (id, count) in per_visitor {
        if count > visitors[id].year_left {
            found.push(format!("{id} over capacity in the year"));
        }
    }
    for ((id, week), count) in per_week {
        let v = visitors[id];
        if count > v.week_left.get(&week).copied().unwrap_or(v.max_per_week) {
            found.push(format!("{id} over capacity in the week of {week}"));
        }
    }
    found
}
