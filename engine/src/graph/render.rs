//! Text renderings of a [`Dag`]: Graphviz DOT and Mermaid.
//!
//! Output is deterministic: nodes are sorted by label and edges by
//! (dependent label, dependency label), so the same graph always renders to
//! the same bytes whatever the insertion order. Arrows go from a dependent to
//! its dependency, as in `terraform graph`.

use std::fmt::{self, Write as _};

use super::dag::{Dag, NodeId};

impl<N: fmt::Display> Dag<N> {
    /// Sorted labels and sorted (dependent, dependency) edges, by position in
    /// the sorted label list.
    fn sorted_view(&self) -> (Vec<String>, Vec<(usize, usize)>) {
        let mut labelled: Vec<(String, NodeId)> = self
            .node_ids()
            .map(|id| (self.graph[id.ix()].to_string(), id))
            .collect();
        labelled.sort();
        let mut position = vec![0usize; self.node_count()];
        for (pos, (_, id)) in labelled.iter().enumerate() {
            position[id.index()] = pos;
        }
        let mut edges: Vec<(usize, usize)> = self
            .dependency_pairs()
            .map(|(dependent, dependency)| {
                (position[dependent.index()], position[dependency.index()])
            })
            .collect();
        edges.sort_unstable();
        let labels = labelled.into_iter().map(|(l, _)| l).collect();
        (labels, edges)
    }

    /// Graphviz DOT text, for `posture graph`.
    pub fn to_dot(&self) -> String {
        let (labels, edges) = self.sorted_view();
        let mut out = String::from("digraph {\n  rankdir = \"RL\"\n  node [shape = \"box\"]\n");
        for label in &labels {
            // Writing to a String cannot fail.
            let _ = writeln!(out, "  \"{}\"", dot_escape(label));
        }
        for (from, to) in edges {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\"",
                dot_escape(&labels[from]),
                dot_escape(&labels[to])
            );
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart text, for `posture graph --format mermaid`.
    pub fn to_mermaid(&self) -> String {
        let (labels, edges) = self.sorted_view();
        let mut out = String::from("flowchart RL\n");
        for (pos, label) in labels.iter().enumerate() {
            let _ = writeln!(out, "  n{pos}[\"{}\"]", mermaid_escape(label));
        }
        for (from, to) in edges {
            let _ = writeln!(out, "  n{from} --> n{to}");
        }
        out
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn mermaid_escape(s: &str) -> String {
    // Mermaid labels take HTML entities; quotes would end the label.
    s.replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
        .replace('\n', " ")
}
