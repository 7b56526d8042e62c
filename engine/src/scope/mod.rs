//! Evaluation of a whole configuration: variables, locals, outputs, module
//! calls and resources of every module instance, computed lazily on first
//! reference and memoised, with reference cycles reported by name.
//!
//! Each expression is evaluated by [`crate::lang::eval::Evaluator`] against a
//! [`ModuleScope`], which resolves `var.`, `local.`, `module.`, resource and
//! data references, `path.` and (through bindings) `each.` and `count.`.
//! Resource values come from decoding their bodies against the provider's
//! schema, with computed attributes unknown until apply.

mod compute;
mod depth;
mod expand;
mod resolve;

pub use depth::{MAX_VALUE_DEPTH, value_depth};
pub use expand::Expansion;
pub use resolve::ModuleScope;

use crate::addrs::{InstanceKey, ModuleInstance, ResourceAddr};
use crate::config::vars::RawVar;
use crate::config::{Expr, ModuleTree};
use crate::diag::{Diagnostic, Diagnostics, SourceMap, Span};
use crate::lang::eval::Evaluator;

use crate::schema::Schemas;
use crate::value::{Type, Value, convert};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// How strict evaluation is about values not known yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// `validate`: missing root variables are unknown, and so may be
    /// `count`/`for_each`; only the configuration's own mistakes are errors.
    Validate,
    /// `console`/`plan`: every required variable must have a value and
    /// `count`/`for_each` must be known.
    Full,
}

/// What had gone wrong when [`Evaluation::taint_mark`] was taken.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Taint {
    errors: usize,
    failed_reads: usize,
}

/// A value-producing item of one module instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Node {
    /// `var.NAME`
    Var(ModuleInstance, String),
    /// `local.NAME`
    Local(ModuleInstance, String),
    /// `output.NAME`
    Output(ModuleInstance, String),
    /// A resource, all instances.
    Resource(ModuleInstance, ResourceAddr),
    /// `module.NAME`, all instances.
    ModuleCall(ModuleInstance, String),
    /// `cluster.NAME`
    Cluster(ModuleInstance, String),
    /// The `count` / `for_each` of the boxed resource, module call or
    /// cluster: bookkeeping for [`Evaluation::expansion_of`], so that what
    /// the expression reads invalidates it like any node's value.
    Expansion(Box<Node>),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, rest) = match self {
            // Named as its item: users wrote `for_each` inside it.
            Node::Expansion(site) => return site.fmt(f),
            Node::Var(m, n) => (m, format!("var.{n}")),
            Node::Local(m, n) => (m, format!("local.{n}")),
            Node::Output(m, n) => (m, format!("output.{n}")),
            Node::Resource(m, a) => (m, a.to_string()),
            Node::ModuleCall(m, n) => (m, format!("module.{n}")),
            Node::Cluster(m, n) => (m, format!("cluster.{n}")),
        };
        if m.is_root() {
            f.write_str(&rest)
        } else {
            write!(f, "{m}.{rest}")
        }
    }
}

/// A configuration being evaluated.
pub struct Evaluation<'c> {
    tree: &'c ModuleTree,
    sources: &'c SourceMap,
    schemas: &'c dyn Schemas,
    root_dir: PathBuf,
    raw_vars: BTreeMap<String, RawVar>,
    strictness: Strictness,
    /// Impure functions return unknown values (`plan`, `validate`).
    pure_only: bool,
    /// Shared, so that reading a whole resource's value (every instance)
    /// lends it instead of copying it ([`Evaluation::get_shared`]).
    memo: RefCell<HashMap<Node, Arc<Value>>>,
    /// Nodes whose computation reported an error (their own or an
    /// upstream one): their value is a stand-in, not a real unknown.
    failed: RefCell<HashSet<Node>>,
    /// How many times a failed node's value has been read (see [`Taint`]).
    failed_reads: Cell<usize>,
    stack: RefCell<Vec<Node>>,
    reported_cycles: RefCell<HashSet<Vec<String>>>,
    /// `each`/`count` objects of module instances, set when their call expands.
    instance_bindings: RefCell<HashMap<ModuleInstance, (String, Value)>>,
    diags: RefCell<Diagnostics>,
    /// Values of resource instances known better than their configuration
    /// (planned at plan time, applied at apply time).
    pub(crate) overrides:
        RefCell<HashMap<(ModuleInstance, ResourceAddr), BTreeMap<InstanceKey, Value>>>,
    /// For each node, the nodes whose computation read it.
    dependents: RefCell<HashMap<Node, HashSet<Node>>>,
    /// Evaluated `count` / `for_each`, by [`Node::Expansion`]: a wide
    /// `for_each` (a for expression over 100,000 keys) was evaluated again
    /// by every phase that asked for a resource's instances.
    expansions: RefCell<HashMap<Node, Arc<Expansion>>>,
}

impl<'c> Evaluation<'c> {
    /// Prepares evaluation of `tree`; `raw_vars` are the root module's inputs.
    pub fn new(
        tree: &'c ModuleTree,
        sources: &'c SourceMap,
        schemas: &'c dyn Schemas,
        raw_vars: BTreeMap<String, RawVar>,
        strictness: Strictness,
    ) -> Evaluation<'c> {
        Evaluation {
            tree,
            sources,
            schemas,
            root_dir: tree.module.dir.clone(),
            raw_vars,
            strictness,
            pure_only: strictness == Strictness::Validate,
            memo: RefCell::default(),
            failed: RefCell::default(),
            failed_reads: Cell::new(0),
            stack: RefCell::default(),
            reported_cycles: RefCell::default(),
            instance_bindings: RefCell::default(),
            diags: RefCell::default(),
            overrides: RefCell::default(),
            dependents: RefCell::default(),
            expansions: RefCell::default(),
        }
    }

    /// Evaluation for a plan: `timestamp()` and `uuid()` are unknown
    /// (known after apply), as in Terraform. Without it (`console`,
    /// `apply`) they return real values; `validate` always has it.
    pub fn for_plan(mut self) -> Evaluation<'c> {
        self.pure_only = true;
        self
    }

    /// The diagnostics so far, sorted and without duplicates.
    pub fn diagnostics(&self) -> Diagnostics {
        let mut d = self.diags.borrow().clone();
        d.sort_dedup();
        d
    }

    /// How many errors have been reported so far (cheap: no copy).
    pub fn error_count(&self) -> usize {
        self.diags
            .borrow()
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .count()
    }

    pub(crate) fn push_diags(&self, d: Diagnostics) {
        self.diags.borrow_mut().extend(d);
    }

    /// Evaluates every item of every module instance (what `validate` does).
    pub fn evaluate_all(&self) {
        self.evaluate_module(&ModuleInstance::root());
    }

    fn evaluate_module(&self, path: &ModuleInstance) {
        let Some(tree) = self.tree.descendant(&path.static_path()) else {
            return;
        };
        let m = &tree.module;
        for name in m.variables.keys() {
            self.get_shared(&Node::Var(path.clone(), name.clone()));
        }
        for name in m.locals.keys() {
            self.get_shared(&Node::Local(path.clone(), name.clone()));
        }
        for name in m.clusters.keys() {
            self.get_shared(&Node::Cluster(path.clone(), name.clone()));
        }
        for addr in m.resources.keys() {
            self.get_shared(&Node::Resource(path.clone(), addr.clone()));
        }
        for name in m.outputs.keys() {
            self.get_shared(&Node::Output(path.clone(), name.clone()));
        }
        for name in m.module_calls.keys() {
            self.get_shared(&Node::ModuleCall(path.clone(), name.clone()));
            for key in self.module_instance_keys(path, name) {
                self.evaluate_module(&path.child(name, key));
            }
        }
    }

    /// Evaluates `src` (an expression typed at the console, which
    /// diagnostics call `file`) in the root module.
    ///
    /// # Errors
    /// The diagnostics of a syntax error or of the evaluation.
    pub fn eval_str(&self, src: &str, file: crate::diag::FileId) -> Result<Value, Diagnostics> {
        // Read as the loader reads a file: heredocs, repeated keys, huge numbers.
        let expr = crate::config::heredoc::parse_expr(src).map_err(|p| match p {
            crate::config::heredoc::Problem::Syntax(e) => {
                let off = e.location().offset().min(src.len());
                Diagnostics::from(
                    Diagnostic::error("Invalid expression", e.message().to_string())
                        .at(Span::new(file, off..(off + 1).min(src.len()))),
                )
            }
            crate::config::heredoc::Problem::Heredoc(d, at) => {
                Diagnostics::from((*d).at(Span::new(file, at)))
            }
        })?;
        let scope = ModuleScope {
            eval: self,
            path: ModuleInstance::root(),
        };
        let mut ev = Evaluator::new(
            file,
            src,
            &scope,
            &self.root_dir,
            &crate::lang::eval::FileTemplates,
        )
        .pure_only(self.pure_only);
        let v = ev.eval(&expr);
        let d = ev.take_diags();
        let mut all = self.diagnostics();
        all.extend(d);
        if all.has_errors() { Err(all) } else { Ok(v) }
    }

    /// The value of a node, computed once.
    pub fn get(&self, node: &Node) -> Value {
        Value::clone(&self.get_shared(node))
    }

    /// As [`Evaluation::get`], lent rather than copied: a resource's value
    /// holds every instance's configuration (100,000 objects for a wide
    /// `for_each`), and callers that only read it need no copy.
    pub fn get_shared(&self, node: &Node) -> Arc<Value> {
        if let Some(reader) = self.stack.borrow().last() {
            self.dependents
                .borrow_mut()
                .entry(node.clone())
                .or_default()
                .insert(reader.clone());
        }
        if let Some(v) = self.memo.borrow().get(node) {
            if self.failed.borrow().contains(node) {
                self.failed_reads.set(self.failed_reads.get() + 1);
            }
            return Arc::clone(v);
        }
        let on_stack = self.stack.borrow().iter().position(|n| n == node);
        if let Some(pos) = on_stack {
            self.report_cycle(pos, node);
            self.failed_reads.set(self.failed_reads.get() + 1);
            return Arc::new(Value::Unknown(Type::Dynamic));
        }
        let before = self.error_count();
        self.stack.borrow_mut().push(node.clone());
        let v = Arc::new(self.compute(node));
        self.stack.borrow_mut().pop();
        if self.error_count() > before {
            self.failed.borrow_mut().insert(node.clone());
            self.failed_reads.set(self.failed_reads.get() + 1);
        }
        self.memo.borrow_mut().insert(node.clone(), Arc::clone(&v));
        v
    }

    /// A mark to tell, with [`Evaluation::tainted_since`], whether what was
    /// evaluated after it failed or read the value of something that did.
    pub(crate) fn taint_mark(&self) -> Taint {
        Taint {
            errors: self.error_count(),
            failed_reads: self.failed_reads.get(),
        }
    }

    /// True when an error was reported, or a failed node's value read,
    /// since `mark`: an unknown value computed since then stands for that
    /// error, and must not be reported again as "not known until apply".
    pub(crate) fn tainted_since(&self, mark: Taint) -> bool {
        self.error_count() > mark.errors || self.failed_reads.get() > mark.failed_reads
    }

    /// Records the value of one resource instance (planned or applied):
    /// later references see it, and every value computed from the old one
    /// is forgotten so it is computed again.
    pub fn set_instance_value(
        &self,
        path: &ModuleInstance,
        addr: &ResourceAddr,
        key: InstanceKey,
        v: Value,
    ) {
        self.overrides
            .borrow_mut()
            .entry((path.clone(), addr.clone()))
            .or_default()
            .insert(key, v);
        self.invalidate(&Node::Resource(path.clone(), addr.clone()));
    }

    fn invalidate(&self, node: &Node) {
        let mut todo = vec![node.clone()];
        let mut seen = HashSet::new();
        while let Some(n) = todo.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            self.memo.borrow_mut().remove(&n);
            self.expansions.borrow_mut().remove(&n);
            self.failed.borrow_mut().remove(&n);
            if let Some(ds) = self.dependents.borrow_mut().remove(&n) {
                todo.extend(ds);
            }
        }
    }

    /// Every instance of the module at a static path (call names from the root).
    pub fn module_instances(&self, static_path: &[&str]) -> Vec<ModuleInstance> {
        let mut current = vec![ModuleInstance::root()];
        for name in static_path {
            let mut next = Vec::new();
            for inst in &current {
                for key in self.module_instance_keys(inst, name) {
                    next.push(inst.child(name, key));
                }
            }
            current = next;
        }
        current
    }

    fn report_cycle(&self, pos: usize, node: &Node) {
        let stack = self.stack.borrow();
        // Expansion nodes are bookkeeping: the cycle is named by its items,
        // closed on the first of them, as when for_each was not memoised.
        let items: Vec<&Node> = stack[pos..]
            .iter()
            .filter(|n| !matches!(n, Node::Expansion(_)))
            .collect();
        let node = match (node, items.first()) {
            (Node::Expansion(_), Some(first)) => *first,
            _ => node,
        };
        let members: Vec<String> = items.iter().map(|n| n.to_string()).collect();
        let mut key = members.clone();
        key.sort();
        if !self.reported_cycles.borrow_mut().insert(key) {
            return;
        }
        let chain = members
            .iter()
            .chain(std::iter::once(&node.to_string()))
            .cloned()
            .collect::<Vec<_>>()
            .join(" → ");
        let span = self.node_span(node);
        self.diags.borrow_mut().push(
            Diagnostic::error(
                "Cycle in references",
                format!("These items refer to each other in a cycle, so none of them can be evaluated: {}. Cycle: {chain}.", members.join(", ")),
            )
            .at_opt(span),
        );
    }

    fn node_span(&self, node: &Node) -> Option<Span> {
        let path = match node {
            Node::Expansion(site) => return self.node_span(site),
            Node::Var(p, _)
            | Node::Local(p, _)
            | Node::Output(p, _)
            | Node::Resource(p, _)
            | Node::ModuleCall(p, _)
            | Node::Cluster(p, _) => p,
        };
        let m = &self.tree.descendant(&path.static_path())?.module;
        match node {
            Node::Var(_, n) => m.variables.get(n).map(|v| v.span),
            Node::Local(_, n) => m.locals.get(n).map(|l| l.value.span()),
            Node::Output(_, n) => m.outputs.get(n).map(|o| o.span),
            Node::Resource(_, a) => m.resources.get(a).map(|r| r.span),
            Node::ModuleCall(_, n) => m.module_calls.get(n).map(|c| c.span),
            Node::Cluster(_, n) => m.clusters.get(n).map(|c| c.span),
            Node::Expansion(_) => None,
        }
    }

    /// Evaluates an expression of module instance `path`, with extra bindings.
    pub(crate) fn eval_expr(
        &self,
        path: &ModuleInstance,
        e: &Expr,
        bindings: &[(String, Value)],
        context: Option<String>,
    ) -> Value {
        let scope = ModuleScope {
            eval: self,
            path: path.clone(),
        };
        let dir = self
            .tree
            .descendant(&path.static_path())
            .map(|t| t.module.dir.clone())
            .unwrap_or_else(|| self.root_dir.clone());
        let mut ev = Evaluator::new(
            e.file,
            self.sources.text(e.file),
            &scope,
            &dir,
            &crate::lang::eval::FileTemplates,
        )
        .pure_only(self.pure_only)
        .with_context(context);
        for (n, v) in self
            .bindings_for(path)
            .into_iter()
            .chain(bindings.iter().cloned())
        {
            ev.bind(&n, v);
        }
        let v = ev.eval(&e.expr);
        self.push_diags(ev.take_diags());
        v
    }

    fn bindings_for(&self, _path: &ModuleInstance) -> Vec<(String, Value)> {
        // each/count of a module instance apply only to its call's
        // arguments (evaluated in the parent), never inside the child.
        Vec::new()
    }

    fn compute(&self, node: &Node) -> Value {
        let v = self.compute_unchecked(node);
        // Resource and module call values are built from checked parts.
        if matches!(node, Node::Var(..) | Node::Local(..) | Node::Output(..))
            && let Some(d) = depth::check(&v, &node.to_string(), self.node_span(node))
        {
            self.diags.borrow_mut().push(d);
            return Value::Unknown(Type::Dynamic);
        }
        v
    }

    fn compute_unchecked(&self, node: &Node) -> Value {
        match node {
            Node::Var(p, n) => self.compute_var(p, n),
            Node::Local(p, n) => {
                let Some(t) = self.tree.descendant(&p.static_path()) else {
                    return Value::NULL;
                };
                let Some(l) = t.module.locals.get(n) else {
                    return Value::NULL;
                };
                self.eval_expr(p, &l.value, &[], Some("locals".into()))
            }
            Node::Output(p, n) => self.compute_output(p, n),
            Node::Resource(p, a) => self.compute_resource(p, a),
            Node::ModuleCall(p, n) => self.compute_module_call(p, n),
            Node::Cluster(p, n) => self.compute_cluster(p, n),
            // Never a value: read through `expansion_of`.
            Node::Expansion(_) => Value::NULL,
        }
    }

    /// "file:line:col" of a span.
    pub fn describe_span(&self, s: Span) -> String {
        let p = self.sources.pos(s.file, s.start);
        format!("{}:{}:{}", self.sources.name(s.file), p.line, p.column)
    }

    /// The schemas resource bodies are decoded against.
    pub fn schemas(&self) -> &dyn Schemas {
        self.schemas
    }

    /// The configuration.
    pub fn tree(&self) -> &ModuleTree {
        self.tree
    }

    /// The strictness in force.
    pub fn strictness(&self) -> Strictness {
        self.strictness
    }

    pub(crate) fn set_instance_binding(&self, inst: ModuleInstance, binding: (String, Value)) {
        self.instance_bindings.borrow_mut().insert(inst, binding);
    }
}

fn split_last(path: &ModuleInstance) -> (ModuleInstance, (String, InstanceKey)) {
    let mut v = path.0.clone();
    let last = v
        .pop()
        .unwrap_or_else(|| (String::new(), InstanceKey::None));
    (ModuleInstance(v), last)
}

#[cfg(test)]
mod tests;
