//! `posture graph [--format dot|mermaid] [--all]`: the configuration's
//! static dependency graph, as `terraform graph` prints it.
//!
//! By default only resources, with an arrow from each resource to the
//! resources it depends on (through any chain of locals, variables and
//! module outputs); `--all` shows every item. The output is deterministic
//! (sorted nodes and edges). Reads the configuration only, never the state.

use crate::output::print_diags;
use posture_engine::graph::Dag;
use posture_engine::plan::graph::{Item, StaticNode};
use std::collections::HashMap;

/// The text format of the graph.
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default)]
pub enum Format {
    /// Graphviz DOT (`posture graph | dot -Tsvg > graph.svg`).
    #[default]
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
}

/// Arguments of `posture graph`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Dot)]
    format: Format,
    /// Show every item (variables, locals, outputs, module calls), not only resources.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    vars: super::VarArgs,
}

/// Runs the command.
pub fn run(a: Args) -> u8 {
    let ws = match super::common::load(&a.vars) {
        Ok(w) => w,
        Err(c) => return c,
    };
    let graph = match posture_engine::plan::graph::build(&ws.tree) {
        Ok(g) => g,
        Err(d) => {
            print_diags(&d, &ws.sources);
            return 1;
        }
    };
    let text = if a.all {
        render(&graph.dag, a.format)
    } else {
        render(&resources_only(&graph), a.format)
    };
    print!("{text}");
    0
}

/// The resources and the dependencies planning uses between them.
fn resources_only(graph: &posture_engine::plan::graph::StaticGraph) -> Dag<StaticNode> {
    let mut dag = Dag::new();
    let mut ids = HashMap::new();
    let resources = graph
        .dag
        .node_ids()
        .filter_map(|id| graph.dag.node(id))
        .filter(|n| matches!(n.item, Item::Resource(_)));
    for n in resources {
        ids.insert(n.clone(), dag.add_node(n.clone()));
    }
    for (dependent, deps) in &graph.resource_deps {
        let Some(&from) = ids.get(dependent) else {
            continue;
        };
        for d in deps {
            if let Some(&to) = ids.get(d) {
                dag.add_dependency(from, to);
            }
        }
    }
    dag
}

fn render(dag: &Dag<StaticNode>, format: Format) -> String {
    match format {
        Format::Dot => dag.to_dot(),
        Format::Mermaid => dag.to_mermaid(),
    }
}
