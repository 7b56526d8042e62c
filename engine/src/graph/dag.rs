//! The [`Dag`] type: nodes, dependency edges, cycle detection and orderings.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::fmt;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{EdgeRef, IntoNeighbors};

/// Identifies a node of one [`Dag`]. Ids are dense, start at 0 and follow the
/// order in which nodes were added; they are meaningless in another graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The position of the node in insertion order (0-based); handy to index
    /// caller-side `Vec`s that run parallel to the graph.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    pub(crate) fn ix(self) -> NodeIndex<u32> {
        NodeIndex::new(self.index())
    }

    pub(crate) fn from_ix(ix: NodeIndex<u32>) -> Self {
        // Indices come from a graph of at most u32::MAX nodes.
        NodeId(ix.index() as u32)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A directed acyclic graph of dependencies between nodes carrying a payload `N`.
///
/// Nothing prevents adding an edge that closes a cycle: call [`Dag::validate`]
/// after building, so the error can name every node of every cycle at once.
#[derive(Debug, Clone)]
pub struct Dag<N> {
    // Edge `a -> b` means "b depends on a" (execution order).
    pub(crate) graph: DiGraph<N, (), u32>,
    // (from, to) of every edge: petgraph's own duplicate check scans the
    // node's edge list, which is quadratic for a node with many dependents.
    edges: HashSet<(u32, u32)>,
}

impl<N> Default for Dag<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// One strongly connected group of nodes that depend on each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// Every node on the cycle, sorted by label.
    pub nodes: Vec<NodeId>,
    /// The labels (`Display` of the payload) of `nodes`, in the same order.
    pub labels: Vec<String>,
}

/// The graph has one or more dependency cycles; every node on each is named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe_cycles(.cycles))]
pub struct CycleError {
    /// Each cycle found, sorted by their first label.
    pub cycles: Vec<Cycle>,
}

fn describe_cycles(cycles: &[Cycle]) -> String {
    let parts: Vec<String> = cycles
        .iter()
        .map(|c| {
            if c.labels.len() == 1 {
                format!("{} depends on itself", c.labels[0])
            } else {
                format!("between {}", c.labels.join(", "))
            }
        })
        .collect();
    format!(
        "dependency cycle{} {}; remove one of the references or depends_on entries that link them",
        if cycles.len() > 1 { "s:" } else { ":" },
        parts.join("; ")
    )
}

impl<N> Dag<N> {
    /// An empty graph.
    pub fn new() -> Self {
        Dag {
            graph: DiGraph::default(),
            edges: HashSet::new(),
        }
    }

    /// An empty graph with room for `nodes` nodes and `edges` edges.
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        Dag {
            graph: DiGraph::with_capacity(nodes, edges),
            edges: HashSet::with_capacity(edges),
        }
    }

    /// Adds a node and returns its id.
    pub fn add_node(&mut self, payload: N) -> NodeId {
        NodeId::from_ix(self.graph.add_node(payload))
    }

    /// Records that `dependent` must not start before `dependency` finished.
    /// Adding the same dependency twice is a no-op.
    ///
    /// # Panics
    /// If either id does not belong to this graph (a programming error).
    pub fn add_dependency(&mut self, dependent: NodeId, dependency: NodeId) {
        assert!(
            dependent.index() < self.node_count() && dependency.index() < self.node_count(),
            "node id from another graph"
        );
        if self.edges.insert((dependency.0, dependent.0)) {
            self.graph.add_edge(dependency.ix(), dependent.ix(), ());
        }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of distinct dependency edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// The payload of a node, if the id belongs to this graph.
    pub fn node(&self, id: NodeId) -> Option<&N> {
        self.graph.node_weight(id.ix())
    }

    /// All node ids in insertion order.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.graph.node_indices().map(NodeId::from_ix)
    }

    /// The direct dependencies of `id` (nodes it waits for), in no particular order.
    pub fn dependencies(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.graph
            .neighbors_directed(id.ix(), Direction::Incoming)
            .map(NodeId::from_ix)
    }

    /// The direct dependents of `id` (nodes waiting for it), in no particular order.
    pub fn dependents(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.graph
            .neighbors_directed(id.ix(), Direction::Outgoing)
            .map(NodeId::from_ix)
    }

    /// Every `(dependent, dependency)` pair, in no particular order.
    pub fn dependency_pairs(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        self.graph
            .edge_references()
            .map(|e| (NodeId::from_ix(e.target()), NodeId::from_ix(e.source())))
    }

    /// The same graph with every dependency turned around, for destroy walks:
    /// a node that had to be created after another is destroyed before it.
    pub fn reversed(&self) -> Self
    where
        N: Clone,
    {
        let mut graph = self.graph.clone();
        graph.reverse();
        let edges = self.edges.iter().map(|(a, b)| (*b, *a)).collect();
        Dag { graph, edges }
    }

    /// Node ids ordered so that each comes after all its dependencies; among
    /// nodes that are ready together, lower ids (earlier insertions) come
    /// first, so the order is deterministic. O((V+E) log V).
    ///
    /// # Errors
    /// [`CycleError`] naming every node on every cycle.
    pub fn topological_order(&self) -> Result<Vec<NodeId>, CycleError>
    where
        N: fmt::Display,
    {
        let n = self.graph.node_count();
        let mut waiting: Vec<usize> = self
            .graph
            .node_indices()
            .map(|ix| {
                self.graph
                    .neighbors_directed(ix, Direction::Incoming)
                    .count()
            })
            .collect();
        let mut ready: BinaryHeap<Reverse<u32>> = waiting
            .iter()
            .enumerate()
            .filter(|(_, w)| **w == 0)
            .map(|(i, _)| Reverse(i as u32))
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse(i)) = ready.pop() {
            let id = NodeId(i);
            order.push(id);
            for next in self.graph.neighbors_directed(id.ix(), Direction::Outgoing) {
                waiting[next.index()] -= 1;
                if waiting[next.index()] == 0 {
                    ready.push(Reverse(next.index() as u32));
                }
            }
        }
        if order.len() == n {
            Ok(order)
        } else {
            Err(self.cycle_error())
        }
    }

    /// Checks that the graph has no cycle (including a node depending on
    /// itself). O(V+E).
    ///
    /// # Errors
    /// [`CycleError`] naming every node on every cycle, so one run reports
    /// them all.
    pub fn validate(&self) -> Result<(), CycleError>
    where
        N: fmt::Display,
    {
        let err = self.cycle_error();
        if err.cycles.is_empty() {
            Ok(())
        } else {
            Err(err)
        }
    }

    fn cycle_error(&self) -> CycleError
    where
        N: fmt::Display,
    {
        let mut cycles: Vec<Cycle> = petgraph::algo::tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1 || self.graph.find_edge(scc[0], scc[0]).is_some())
            .map(|scc| {
                let mut labelled: Vec<(String, NodeId)> = scc
                    .into_iter()
                    .map(|ix| (self.graph[ix].to_string(), NodeId::from_ix(ix)))
                    .collect();
                labelled.sort();
                Cycle {
                    nodes: labelled.iter().map(|(_, id)| *id).collect(),
                    labels: labelled.into_iter().map(|(l, _)| l).collect(),
                }
            })
            .collect();
        cycles.sort_by(|a, b| a.labels.cmp(&b.labels));
        CycleError { cycles }
    }

    /// The same graph without redundant edges: a dependency that is also
    /// reachable through another path is dropped (`a` needs `b` needs `c`
    /// makes `a` needs `c` redundant). Useful to render readable graphs; the
    /// walk order is unchanged.
    ///
    /// # Errors
    /// [`CycleError`] if the graph is not acyclic.
    pub fn transitive_reduction(&self) -> Result<Self, CycleError>
    where
        N: Clone + fmt::Display,
    {
        let order = self.topological_order()?;
        let toposorted: Vec<NodeIndex<u32>> = order.iter().map(|id| id.ix()).collect();
        let (adjacency, _revmap) = petgraph::algo::tred::dag_to_toposorted_adjacency_list::<_, u32>(
            &self.graph,
            &toposorted,
        );
        let (reduction, _closure) =
            petgraph::algo::tred::dag_transitive_reduction_closure(&adjacency);
        let mut graph: DiGraph<N, (), u32> =
            DiGraph::with_capacity(self.node_count(), self.edge_count());
        for ix in self.graph.node_indices() {
            graph.add_node(self.graph[ix].clone());
        }
        // `reduction` is indexed by topological position; map back to ids.
        for from in reduction.node_indices() {
            for to in (&reduction).neighbors(from) {
                graph.add_edge(toposorted[from as usize], toposorted[to as usize], ());
            }
        }
        let edges = graph
            .edge_references()
            .map(|e| (e.source().index() as u32, e.target().index() as u32))
            .collect();
        Ok(Dag { graph, edges })
    }
}
