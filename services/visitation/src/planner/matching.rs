//! Maximum-cardinality matching in a general graph: Edmonds' blossom algorithm (Edmonds 1965,
//! "Paths, trees, and flowers"). The graph is given by its complement, the conflicts, because the
//! graph of conflict-free pairs is nearly complete: a vertex's neighbours are every other vertex
//! but its conflicts.

use std::collections::{BTreeSet, VecDeque};

const NONE: usize = usize::MAX;

/// A graph on `n` vertices where `u` and `v` are adjacent unless `v` is in `conflicts[u]`.
pub struct ComplementGraph<'a> {
    pub conflicts: &'a [BTreeSet<usize>],
}

impl ComplementGraph<'_> {
    fn len(&self) -> usize {
        self.conflicts.len()
    }

    fn adjacent(&self, u: usize, v: usize) -> bool {
        u != v && !self.conflicts[u].contains(&v)
    }
}

/// A maximum matching that extends `initial` (a matching: `initial[v]` is `v`'s mate or `None`).
/// Deterministic: vertices and neighbours are visited in index order.
pub fn maximum_matching(
    graph: &ComplementGraph<'_>,
    initial: Vec<Option<usize>>,
) -> Vec<Option<usize>> {
    let n = graph.len();
    let mut mate: Vec<usize> = initial.into_iter().map(|m| m.unwrap_or(NONE)).collect();
    // No matching pairs more than the vertices with a neighbour, two by two: when the start
    // already does, it is maximum (the usual case on a nearly complete graph) and no search is
    // needed.
    let with_neighbour = (0..n).filter(|&v| graph.conflicts[v].len() + 1 < n).count();
    let matched = mate.iter().filter(|&&m| m != NONE).count();
    if matched >= with_neighbour / 2 * 2 {
        return mate.into_iter().map(|m| (m != NONE).then_some(m)).collect();
    }
    // Berge: a matching is maximum when no augmenting path exists; a vertex without one now has
    // none after later augmentations either, so each exposed vertex is searched once.
    for root in 0..n {
        // A vertex without neighbours has no augmenting path.
        if mate[root] != NONE || graph.conflicts[root].len() + 1 >= n {
            continue;
        }
        if let Some((end, parent)) = augmenting_path(graph, &mate, root) {
            let mut v = end;
            while v != NONE {
                let pv = parent[v];
                let next = mate[pv];
                mate[v] = pv;
                mate[pv] = v;
                v = next;
            }
        }
    }
    mate.into_iter().map(|m| (m != NONE).then_some(m)).collect()
}

/// Breadth-first search for an augmenting path from the exposed vertex `root`, contracting odd
/// cycles (blossoms) into their base as they are found. Answers the exposed end of the path and
/// the parent links along it.
fn augmenting_path(
    graph: &ComplementGraph<'_>,
    mate: &[usize],
    root: usize,
) -> Option<(usize, Vec<usize>)> {
    let n = graph.len();
    let mut used = vec![false; n];
    let mut parent = vec![NONE; n];
    let mut base: Vec<usize> = (0..n).collect();
    let mut queue = VecDeque::new();
    used[root] = true;
    queue.push_back(root);
    while let Some(v) = queue.pop_front() {
        for to in 0..n {
            if !graph.adjacent(v, to) || base[v] == base[to] || mate[v] == to {
                continue;
            }
            if to == root || (mate[to] != NONE && parent[mate[to]] != NONE) {
                let current = lowest_common_ancestor(mate, &base, &parent, v, to);
                let mut blossom = vec![false; n];
                mark_path(mate, &base, &mut parent, &mut blossom, v, current, to);
                mark_path(mate, &base, &mut parent, &mut blossom, to, current, v);
                for i in 0..n {
                    if blossom[base[i]] {
                        base[i] = current;
                        if !used[i] {
                            used[i] = true;
                            queue.push_back(i);
                        }
                    }
                }
            } else if parent[to] == NONE {
                parent[to] = v;
                if mate[to] == NONE {
                    return Some((to, parent));
                }
                used[mate[to]] = true;
                queue.push_back(mate[to]);
            }
        }
    }
    None
}

fn lowest_common_ancestor(
    mate: &[usize],
    base: &[usize],
    parent: &[usize],
    mut a: usize,
    mut b: usize,
) -> usize {
    let mut seen = vec![false; mate.len()];
    loop {
        a = base[a];
        seen[a] = true;
        if mate[a] == NONE {
            break;
        }
        a = parent[mate[a]];
    }
    loop {
        b = base[b];
        if seen[b] {
            return b;
        }
        b = parent[mate[b]];
    }
}

fn mark_path(
    mate: &[usize],
    base: &[usize],
    parent: &mut [usize],
    blossom: &mut [bool],
    mut v: usize,
    b: usize,
    mut child: usize,
) {
    while base[v] != b {
        blossom[base[v]] = true;
        blossom[base[mate[v]]] = true;
        parent[v] = child;
        child = mate[v];
        v = parent[mate[v]];
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// The size of a maximum matching by trying every matching (small graphs only).
    fn brute_force(conflicts: &[BTreeSet<usize>]) -> usize {
        fn best(conflicts: &[BTreeSet<usize>], free: &mut Vec<bool>, from: usize) -> usize {
            let n = conflicts.len();
            let Some(u) = (from..n).find(|&u| free[u]) else {
                return 0;
            };
            free[u] = false;
            // u stays unmatched ...
            let mut result = best(conflicts, free, u + 1);
            // ... or is matched with a free neighbour.
            for v in u + 1..n {
                if free[v] && !conflicts[u].contains(&v) {
                    free[v] = false;
                    result = result.max(1 + best(conflicts, free, u + 1));
                    free[v] = true;
                }
            }
            free[u] = true;
            result
        }
        best(conflicts, &mut vec![true; conflicts.len()], 0)
    }

    fn random_conflicts(rng: &mut StdRng, n: usize, density: f64) -> Vec<BTreeSet<usize>> {
        let mut conflicts = vec![BTreeSet::new(); n];
        for u in 0..n {
            for v in u + 1..n {
                if rng.gen_bool(density) {
                    conflicts[u].insert(v);
                    conflicts[v].insert(u);
                }
            }
        }
        conflicts
    }

    fn check(mate: &[Option<usize>], conflicts: &[BTreeSet<usize>]) -> usize {
        for (u, m) in mate.iter().enumerate() {
            if let Some(v) = *m {
                assert_eq!(mate[v], Some(u), "symmetric");
                assert!(
                    u != v && !conflicts[u].contains(&v),
                    "{u}-{v} is a conflict"
                );
            }
        }
        mate.iter().filter(|m| m.is_some()).count() / 2
    }

    // The matching is maximum: as large as the best of all matchings, on random graphs of every
    // density (sparse ones have odd cycles, where a greedy or bipartite method falls short).
    #[test]
    fn the_matching_is_as_large_as_a_brute_force_finds() {
        let mut rng = StdRng::seed_from_u64(20261201);
        for round in 0..300 {
            let n = rng.gen_range(1..=11);
            let density = [0.2, 0.5, 0.8, 0.95][round % 4];
            let conflicts = random_conflicts(&mut rng, n, density);
            let mate = maximum_matching(
                &ComplementGraph {
                    conflicts: &conflicts,
                },
                vec![None; n],
            );
            assert_eq!(
                check(&mate, &conflicts),
                brute_force(&conflicts),
                "round {round}: {conflicts:?}"
            );
        }
    }

    // A five-cycle plus a pendant: the augmenting path runs through a blossom.
    #[test]
    fn a_blossom_is_contracted() {
        let n = 6;
        let edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (4, 5)];
        let conflicts: Vec<BTreeSet<usize>> = (0..n)
            .map(|u| {
                (0..n)
                    .filter(|&v| {
                        u != v
                            && !edges
                                .iter()
                                .any(|&(a, b)| (a, b) == (u, v) || (b, a) == (u, v))
                    })
                    .collect()
            })
            .collect();
        // A start that leaves 5 exposed behind the blossom: 0-1, 2-3.
        let mut initial = vec![None; n];
        for (a, b) in [(0, 1), (2, 3)] {
            initial[a] = Some(b);
            initial[b] = Some(a);
        }
        let mate = maximum_matching(
            &ComplementGraph {
                conflicts: &conflicts,
            },
            initial,
        );
        assert_eq!(check(&mate, &conflicts), 3);
    }
}
