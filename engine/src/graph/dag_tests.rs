//! Tests of graph construction, cycles, orderings and rendering.

use super::{Dag, NodeId};

fn dag_of(names: &[&str], deps: &[(&str, &str)]) -> (Dag<String>, Vec<NodeId>) {
    let mut dag = Dag::new();
    let ids: Vec<NodeId> = names.iter().map(|n| dag.add_node(n.to_string())).collect();
    let find = |n: &str| {
        ids[names
            .iter()
            .position(|x| *x == n)
            .expect("test names a known node")]
    };
    for (dependent, dependency) in deps {
        dag.add_dependency(find(dependent), find(dependency));
    }
    (dag, ids)
}

fn labels(dag: &Dag<String>, order: &[NodeId]) -> Vec<String> {
    order
        .iter()
        .map(|id| dag.node(*id).cloned().unwrap_or_default())
        .collect()
}

#[test]
fn topological_order_puts_dependencies_first_and_is_deterministic() {
    let (dag, _) = dag_of(
        &["cm", "ns", "deploy", "zone"],
        &[("cm", "ns"), ("deploy", "cm"), ("deploy", "ns")],
    );
    let order = dag.topological_order().expect("acyclic");
    // Among ready nodes the earliest inserted goes first: ns and zone start ready,
    // ns wins; then cm (inserted first) beats zone, and deploy follows it.
    assert_eq!(labels(&dag, &order), vec!["ns", "cm", "deploy", "zone"]);
}

#[test]
fn duplicate_dependency_is_a_single_edge() {
    let (dag, _) = dag_of(&["a", "b"], &[("a", "b"), ("a", "b")]);
    assert_eq!(dag.edge_count(), 1);
}

#[test]
fn cycle_error_names_every_node_on_every_cycle() {
    let (dag, _) = dag_of(
        &["a", "b", "c", "d", "e", "self", "free"],
        &[
            ("a", "b"),
            ("b", "c"),
            ("c", "a"),
            ("d", "e"),
            ("e", "d"),
            ("self", "self"),
            ("free", "a"),
        ],
    );
    let err = dag.validate().expect_err("graph has cycles");
    let cycles: Vec<Vec<String>> = err.cycles.iter().map(|c| c.labels.clone()).collect();
    assert_eq!(
        cycles,
        vec![
            vec!["a".to_string(), "b".into(), "c".into()],
            vec!["d".to_string(), "e".into()],
            vec!["self".to_string()],
        ]
    );
    let message = err.to_string();
    assert_eq!(
        message,
        "dependency cycles: between a, b, c; between d, e; self depends on itself; \
         remove one of the references or depends_on entries that link them"
    );
    assert_eq!(dag.topological_order().expect_err("cyclic"), err);
}

#[test]
fn acyclic_graph_validates() {
    let (dag, _) = dag_of(&["a", "b", "c"], &[("a", "b"), ("a", "c"), ("b", "c")]);
    assert_eq!(dag.validate(), Ok(()));
}

#[test]
fn reversed_graph_orders_dependents_first_for_destroy() {
    let (dag, ids) = dag_of(&["ns", "cm", "deploy"], &[("cm", "ns"), ("deploy", "cm")]);
    let destroy = dag.reversed();
    let order = destroy.topological_order().expect("acyclic");
    assert_eq!(labels(&destroy, &order), vec!["deploy", "cm", "ns"]);
    assert_eq!(
        destroy.dependencies(ids[0]).collect::<Vec<_>>(),
        vec![ids[1]]
    );
}

#[test]
fn transitive_reduction_drops_only_redundant_edges() {
    let (dag, _) = dag_of(
        &["a", "b", "c", "d"],
        &[("a", "b"), ("b", "c"), ("a", "c"), ("d", "c")],
    );
    let reduced = dag.transitive_reduction().expect("acyclic");
    let mut pairs: Vec<(String, String)> = reduced
        .dependency_pairs()
        .map(|(x, y)| {
            (
                reduced.node(x).cloned().unwrap_or_default(),
                reduced.node(y).cloned().unwrap_or_default(),
            )
        })
        .collect();
    pairs.sort();
    let expected: Vec<(String, String)> = [("a", "b"), ("b", "c"), ("d", "c")]
        .iter()
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect();
    assert_eq!(pairs, expected);
}

#[test]
fn dot_output_is_sorted_and_escaped_whatever_the_insertion_order() {
    let (one, _) = dag_of(
        &["posture_data.x[\"a\"]", "b", "a"],
        &[("b", "a"), ("posture_data.x[\"a\"]", "b")],
    );
    let (two, _) = dag_of(
        &["a", "b", "posture_data.x[\"a\"]"],
        &[("posture_data.x[\"a\"]", "b"), ("b", "a")],
    );
    let expected = "digraph {\n  rankdir = \"RL\"\n  node [shape = \"box\"]\n  \"a\"\n  \"b\"\n  \
                    \"posture_data.x[\\\"a\\\"]\"\n  \"b\" -> \"a\"\n  \
                    \"posture_data.x[\\\"a\\\"]\" -> \"b\"\n}\n";
    assert_eq!(one.to_dot(), expected);
    assert_eq!(two.to_dot(), expected);
}

#[test]
fn mermaid_output_is_sorted_and_escaped() {
    let (dag, _) = dag_of(
        &["posture_data.x[\"a\"]", "a"],
        &[("posture_data.x[\"a\"]", "a")],
    );
    assert_eq!(
        dag.to_mermaid(),
        "flowchart RL\n  n0[\"a\"]\n  n1[\"posture_data.x[#quot;a#quot;]\"]\n  n1 --> n0\n"
    );
}

#[test]
fn a_node_with_a_hundred_thousand_dependents_builds_and_orders() {
    let mut dag = Dag::new();
    let hub = dag.add_node("kubernetes_namespace.shared".to_string());
    for i in 0..100_000 {
        let id = dag.add_node(format!("kubernetes_config_map.cm[{i}]"));
        dag.add_dependency(id, hub);
        dag.add_dependency(id, hub);
    }
    assert_eq!(dag.edge_count(), 100_000);
    let order = dag.topological_order().expect("acyclic");
    assert_eq!(order[0], hub);
    assert_eq!(
        dag.reversed().topological_order().expect("acyclic").last(),
        Some(&hub)
    );
}
