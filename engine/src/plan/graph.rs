//! The static dependency graph of a configuration: variables, locals,
//! outputs, module calls and resources of every module (not yet expanded),
//! with edges from the references their expressions make. It orders
//! planning, names cycles, and gives each resource the resources it depends
//! on (through any chain of locals, variables and module outputs).

use crate::addrs::{Mode, ResourceAddr};
use crate::config::{Expr, ModuleTree};
use crate::diag::{Diagnostic, Diagnostics};
use crate::graph::{Dag, NodeId};
use crate::lang::refs::{Reference, body_references, references};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// An item of one module (by its static path of call names).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StaticNode {
    /// Module call names from the root.
    pub module: Vec<String>,
    /// What it is.
    pub item: Item,
}

/// The kinds of items.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    /// `var.NAME`
    Var(String),
    /// `local.NAME`
    Local(String),
    /// `output.NAME`
    Output(String),
    /// A resource or data source.
    Resource(ResourceAddr),
    /// `module.NAME` (its outputs)
    ModuleCall(String),
    /// `cluster.NAME`
    Cluster(String),
}

impl fmt::Display for StaticNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.module {
            write!(f, "module.{m}.")?;
        }
        match &self.item {
            Item::Var(n) => write!(f, "var.{n}"),
            Item::Local(n) => write!(f, "local.{n}"),
            Item::Output(n) => write!(f, "output.{n}"),
            Item::Resource(a) => write!(f, "{a}"),
            Item::ModuleCall(n) => write!(f, "module.{n}"),
            Item::Cluster(n) => write!(f, "cluster.{n}"),
        }
    }
}

/// The graph and what planning needs from it.
pub struct StaticGraph {
    /// Every item, edges from dependency to dependent.
    pub dag: Dag<StaticNode>,
    /// Resources in an order where dependencies come first.
    pub resource_order: Vec<StaticNode>,
    /// For each resource, the resources it depends on (transitively through
    /// non-resource items, stopping at the first resource on each path).
    pub resource_deps: BTreeMap<StaticNode, BTreeSet<StaticNode>>,
}

fn exprs_refs(es: &[&Expr]) -> Vec<Reference> {
    es.iter().flat_map(|e| references(&e.expr)).collect()
}

/// Builds the graph of `tree`.
///
/// # Errors
/// A diagnostic naming every item of each reference cycle.
pub fn build(tree: &ModuleTree) -> Result<StaticGraph, Diagnostics> {
    let mut nodes: Vec<(StaticNode, Refs)> = Vec::new();
    collect(tree, &[], None, &mut nodes);
    let mut dag = Dag::with_capacity(nodes.len(), nodes.len() * 2);
    let mut ids: HashMap<StaticNode, NodeId> = HashMap::new();
    for (n, _) in &nodes {
        ids.insert(n.clone(), dag.add_node(n.clone()));
    }
    for (n, refs) in &nodes {
        let me = ids[n];
        for (module, r) in refs {
            for target in resolve(tree, module, r) {
                if let Some(&dep) = ids.get(&target)
                    && dep != me
                {
                    dag.add_dependency(me, dep);
                }
            }
        }
        // A module call's value is its outputs.
        if let Item::ModuleCall(name) = &n.item {
            let mut child = n.module.clone();
            child.push(name.clone());
            if let Some(ct) = tree.descendant(&child.iter().map(String::as_str).collect::<Vec<_>>())
            {
                for o in ct.module.outputs.keys() {
                    if let Some(&dep) = ids.get(&StaticNode {
                        module: child.clone(),
                        item: Item::Output(o.clone()),
                    }) {
                        dag.add_dependency(me, dep);
                    }
                }
            }
        }
    }
    let order = dag.topological_order().map_err(|e| {
        let mut d = Diagnostics::default();
        for c in &e.cycles {
            let names = &c.labels;
            d.push(Diagnostic::error(
                "Cycle in references",
                format!("These items refer to each other in a cycle, so none of them can be planned: {}.", names.join(", ")),
            ));
        }
        d
    })?;
    let mut resource_order = Vec::new();
    let mut resource_deps: BTreeMap<StaticNode, BTreeSet<StaticNode>> = BTreeMap::new();
    // Resource dependencies: walk non-resource dependencies until a resource.
    let mut reach: HashMap<NodeId, BTreeSet<StaticNode>> = HashMap::new();
    for id in &order {
        let Some(n) = dag.node(*id) else { continue };
        let mut deps = BTreeSet::new();
        for d in dag.dependencies(*id) {
            let Some(dn) = dag.node(d) else { continue };
            if matches!(dn.item, Item::Resource(_)) {
                deps.insert(dn.clone());
            } else if let Some(r) = reach.get(&d) {
                deps.extend(r.iter().cloned());
            }
        }
        if matches!(n.item, Item::Resource(_)) {
            resource_order.push(n.clone());
            resource_deps.insert(n.clone(), deps.clone());
        }
        reach.insert(*id, deps);
    }
    Ok(StaticGraph {
        dag,
        resource_order,
        resource_deps,
    })
}

type Refs = Vec<(Vec<String>, Reference)>;

fn collect(
    tree: &ModuleTree,
    path: &[String],
    parent_call: Option<Refs>,
    out: &mut Vec<(StaticNode, Refs)>,
) {
    let m = &tree.module;
    let here =
        |refs: Vec<Reference>| -> Refs { refs.into_iter().map(|r| (path.to_vec(), r)).collect() };
    let node = |item: Item| StaticNode {
        module: path.to_vec(),
        item,
    };
    for (name, v) in &m.variables {
        let mut refs = here(
            v.default
                .as_ref()
                .map(|d| references(&d.expr))
                .unwrap_or_default(),
        );
        if let Some(pc) = &parent_call {
            // A child's variable depends on the parent's input expressions
            // (and the call's count/for_each), which refer to the parent.
            refs.extend(pc.iter().cloned());
        }
        out.push((node(Item::Var(name.clone())), refs));
    }
    for (name, c) in &m.clusters {
        let es: Vec<&Expr> = c.attrs.values().chain(c.for_each.iter()).collect();
        out.push((node(Item::Cluster(name.clone())), here(exprs_refs(&es))));
    }
    for (name, l) in &m.locals {
        out.push((
            node(Item::Local(name.clone())),
            here(references(&l.value.expr)),
        ));
    }
    for (name, o) in &m.outputs {
        let mut es: Vec<&Expr> = vec![&o.value];
        es.extend(o.depends_on.iter());
        out.push((node(Item::Output(name.clone())), here(exprs_refs(&es))));
    }
    for (addr, r) in &m.resources {
        let mut es: Vec<&Expr> = r.count.iter().chain(r.for_each.iter()).collect();
        es.extend(r.depends_on.iter());
        es.extend(r.lifecycle.replace_triggered_by.iter());
        let mut refs = exprs_refs(&es);
        refs.extend(body_references(&r.body.body));
        out.push((node(Item::Resource(addr.clone())), here(refs)));
    }
    for (name, c) in &m.module_calls {
        let mut es: Vec<&Expr> = c.count.iter().chain(c.for_each.iter()).collect();
        es.extend(c.depends_on.iter());
        out.push((node(Item::ModuleCall(name.clone())), here(exprs_refs(&es))));
        if let Some(child) = tree.children.get(name) {
            let mut child_path = path.to_vec();
            child_path.push(name.clone());
            let mut call_refs: Vec<&Expr> = c.inputs.values().collect();
            call_refs.extend(c.count.iter().chain(c.for_each.iter()));
            let pc = here(exprs_refs(&call_refs));
            collect(child, &child_path, Some(pc), out);
        }
    }
}

/// The items a reference made from module `module` names.
fn resolve(tree: &ModuleTree, module: &[String], r: &Reference) -> Vec<StaticNode> {
    let Some(t) = tree.descendant(&module.iter().map(String::as_str).collect::<Vec<_>>()) else {
        return Vec::new();
    };
    let m = &t.module;
    let node = |item: Item| StaticNode {
        module: module.to_vec(),
        item,
    };
    let first = r.attrs.first().cloned().unwrap_or_default();
    match r.root.as_str() {
        "var" => vec![node(Item::Var(first))],
        "local" => vec![node(Item::Local(first))],
        "module" => vec![node(Item::ModuleCall(first))],
        "cluster" => vec![node(Item::Cluster(first))],
        "data" => {
            let name = r.attrs.get(1).cloned().unwrap_or_default();
            vec![node(Item::Resource(ResourceAddr {
                mode: Mode::Data,
                type_name: first,
                name,
            }))]
        }
        "each" | "count" | "path" | "self" | "terraform" => Vec::new(),
        t => {
            let addr = ResourceAddr {
                mode: Mode::Managed,
                type_name: t.to_string(),
                name: first,
            };
            if m.resources.contains_key(&addr) {
                vec![node(Item::Resource(addr))]
            } else {
                Vec::new()
            }
        }
    }
}
