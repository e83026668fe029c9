//! Maximum flow by Dinic's algorithm (Dinic 1970): breadth-first levels, then blocking flows by
//! depth-first search. Integral capacities give an integral flow: each unit is one session.

use std::collections::VecDeque;

/// Node and edge indices are kept as `u32`: the nation's network has millions of edges.
struct Edge {
    to: u32,
    capacity: u32,
}

/// A flow network; edges keep their insertion order, so the flow found is deterministic.
pub struct FlowNetwork {
    edges: Vec<Edge>,
    out: Vec<Vec<u32>>,
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl FlowNetwork {
    pub fn new(nodes: usize) -> Self {
        Self {
            edges: Vec::new(),
            out: vec![Vec::new(); nodes],
        }
    }

    /// Adds an edge and answers its id (for [`FlowNetwork::flow_on`]).
    pub fn add_edge(&mut self, from: usize, to: usize, capacity: u32) -> usize {
        let id = self.edges.len();
        self.edges.push(Edge {
            to: index(to),
            capacity,
        });
        self.out[from].push(index(id));
        self.edges.push(Edge {
            to: index(from),
            capacity: 0,
        });
        self.out[to].push(index(id + 1));
        id
    }

    /// The flow through edge `id` after [`FlowNetwork::max_flow`].
    pub fn flow_on(&self, id: usize) -> u32 {
        self.edges[id + 1].capacity
    }

    pub fn max_flow(&mut self, source: usize, sink: usize) -> u32 {
        let mut total = 0;
        loop {
            let Some(level) = self.levels(source, sink) else {
                return total;
            };
            let mut next = vec![0usize; self.out.len()];
            loop {
                let pushed = self.push(source, sink, u32::MAX, &level, &mut next);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
    }

    fn levels(&self, source: usize, sink: usize) -> Option<Vec<u32>> {
        let mut level = vec![u32::MAX; self.out.len()];
        level[source] = 0;
        let mut queue = VecDeque::from([source]);
        while let Some(v) = queue.pop_front() {
            for &id in &self.out[v] {
                let edge = &self.edges[id as usize];
                let to = edge.to as usize;
                if edge.capacity > 0 && level[to] == u32::MAX {
                    level[to] = level[v] + 1;
                    queue.push_back(to);
                }
            }
        }
        (level[sink] != u32::MAX).then_some(level)
    }

    fn push(
        &mut self,
        v: usize,
        sink: usize,
        limit: u32,
        level: &[u32],
        next: &mut [usize],
    ) -> u32 {
        if v == sink {
            return limit;
        }
        while next[v] < self.out[v].len() {
            let id = self.out[v][next[v]] as usize;
            let (to, capacity) = (self.edges[id].to as usize, self.edges[id].capacity);
            if capacity > 0 && level[to] == level[v] + 1 {
                let pushed = self.push(to, sink, limit.min(capacity), level, next);
                if pushed > 0 {
                    self.edges[id].capacity -= pushed;
                    self.edges[id ^ 1].capacity += pushed;
                    return pushed;
                }
            }
            next[v] += 1;
        }
        0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_flow_respects_capacities_and_is_maximum() {
        // source 0 → {1, 2} → {3} and {4} → sink 5; 1 reaches both, 2 only 3; 3 takes one.
        let mut network = FlowNetwork::new(6);
        network.add_edge(0, 1, 1);
        network.add_edge(0, 2, 1);
        let a = network.add_edge(1, 3, 1);
        let b = network.add_edge(1, 4, 1);
        let c = network.add_edge(2, 3, 1);
        network.add_edge(3, 5, 1);
        network.add_edge(4, 5, 1);
        assert_eq!(network.max_flow(0, 5), 2);
        assert_eq!(
            (network.flow_on(a), network.flow_on(b), network.flow_on(c)),
            (0, 1, 1)
        );
    }
}
