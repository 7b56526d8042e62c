//! The operations of a plan as a graph: creates and updates after what they
//! depend on, deletes before what they depend on is deleted, replacements
//! split in two ordered halves, and operations a provider can batch merged
//! into one node.

use crate::addrs::Mode;
use crate::plan::{Action, Plan};
use crate::provider::Providers;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What is done to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    /// Create a new object.
    Create,
    /// Change it in place.
    Update,
    /// Remove it.
    Delete,
}

/// Operations merge when they share provider, type, batch key, kind and dependencies.
type GroupKey = (String, String, String, OpKind, Vec<usize>);

/// A node: one or more operations done in one provider call.
#[derive(Debug, Clone, Default)]
pub struct OpNode {
    /// (index into plan.changes, operation)
    pub ops: Vec<(usize, OpKind)>,
    /// Nodes that must finish first.
    pub deps: BTreeSet<usize>,
    /// Nodes waiting for this one.
    pub dependents: Vec<usize>,
}

/// All operations of a plan.
#[derive(Debug, Default)]
pub struct OpGraph {
    /// The nodes.
    pub nodes: Vec<OpNode>,
}

impl OpGraph {
    /// Builds the graph of `plan`'s operations.
    pub fn build(plan: &Plan, providers: &Providers) -> OpGraph {
        // One op per half of each change.
        let mut ops: Vec<(usize, OpKind)> = Vec::new();
        for (i, c) in plan.changes.iter().enumerate() {
            match c.action {
                Action::Create => ops.push((i, OpKind::Create)),
                Action::Update => ops.push((i, OpKind::Update)),
                Action::Delete => ops.push((i, OpKind::Delete)),
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    ops.push((i, OpKind::Delete));
                    ops.push((i, OpKind::Create));
                }
                Action::NoOp | Action::Read => {}
            }
        }
        // The ops of each address's current object (a deposed object's
        // delete shares the address, not the object).
        let index: HashMap<(&str, OpKind), usize> = ops
            .iter()
            .enumerate()
            .filter(|(_, (ci, _))| plan.changes[*ci].deposed.is_none())
            .map(|(o, (ci, k))| ((plan.changes[*ci].address.as_str(), *k), o))
            .collect();
        let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); ops.len()];
        for (o, (ci, kind)) in ops.iter().enumerate() {
            let c = &plan.changes[*ci];
            match kind {
                OpKind::Create | OpKind::Update => {
                    for d in &c.dependencies {
                        for k in [OpKind::Create, OpKind::Update] {
                            if let Some(&x) = index.get(&(d.as_str(), k)) {
                                deps[o].insert(x);
                            }
                        }
                    }
                    if c.action == Action::DeleteThenCreate
                        && let Some(&x) = index.get(&(c.address.as_str(), OpKind::Delete))
                    {
                        deps[o].insert(x);
                    }
                }
                OpKind::Delete => {
                    // What I depend on is deleted after me.
                    for d in &c.dependencies {
                        if let Some(&x) = index.get(&(d.as_str(), OpKind::Delete)) {
                            deps[x].insert(o);
                        }
                    }
                    if c.action == Action::CreateThenDelete
                        && let Some(&x) = index.get(&(c.address.as_str(), OpKind::Create))
                    {
                        deps[o].insert(x);
                    }
                    // A deposed object goes once its successor is in place.
                    if c.deposed.is_some() {
                        for k in [OpKind::Create, OpKind::Update] {
                            if let Some(&x) = index.get(&(c.address.as_str(), k)) {
                                deps[o].insert(x);
                            }
                        }
                    }
                }
            }
        }
        // Merge operations of one provider call: same provider, type, batch
        // key and kind, and the same dependencies.
        let mut groups: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
        let mut alone: Vec<usize> = Vec::new();
        for (o, (ci, kind)) in ops.iter().enumerate() {
            let c = &plan.changes[*ci];
            let mode = if c.data { Mode::Data } else { Mode::Managed };
            let key = providers.for_type(mode, &c.type_name).and_then(|(_, p)| {
                let v = if *kind == OpKind::Delete {
                    &c.before
                } else {
                    &c.after
                };
                p.batch_key(&c.type_name, v)
            });
            match key {
                Some(k) if !c.action.is_replace() => {
                    groups
                        .entry((
                            c.provider.clone(),
                            c.type_name.clone(),
                            k,
                            *kind,
                            deps[o].iter().copied().collect(),
                        ))
                        .or_default()
                        .push(o);
                }
                _ => alone.push(o),
            }
        }
        let mut node_of = vec![0usize; ops.len()];
        let mut nodes: Vec<OpNode> = Vec::new();
        for members in groups
            .into_values()
            .chain(alone.into_iter().map(|o| vec![o]))
        {
            let id = nodes.len();
            for &m in &members {
                node_of[m] = id;
            }
            nodes.push(OpNode {
                ops: members.iter().map(|&m| ops[m]).collect(),
                ..OpNode::default()
            });
        }
        for (o, ds) in deps.iter().enumerate() {
            for &d in ds {
                let (a, b) = (node_of[o], node_of[d]);
                if a != b && nodes[a].deps.insert(b) {
                    nodes[b].dependents.push(a);
                }
            }
        }
        // Keep ops in plan order within a node, for stable output.
        for n in &mut nodes {
            n.ops.sort();
        }
        OpGraph { nodes }
    }

    /// Every node that waits, directly or not, on `id`.
    pub fn transitive_dependents(&self, id: usize) -> Vec<usize> {
        let mut seen = BTreeSet::new();
        let mut todo = self.nodes[id].dependents.clone();
        while let Some(n) = todo.pop() {
            if seen.insert(n) {
                todo.extend(self.nodes[n].dependents.iter().copied());
            }
        }
        seen.into_iter().collect()
    }
}
