//! `--target`: which planned changes a targeted run keeps.
//!
//! As in Terraform, a targeted plan keeps the targeted instances and, for a
//! normal plan, everything they depend on (it must exist for them to be
//! created or updated); for a destroy plan, everything that depends on them
//! (it cannot outlive them). A targeted destroy of one record never deletes
//! its zone: the zone is a dependency, not a dependent.

use super::model::{PlanMode, ResourceChange};
use std::collections::{BTreeMap, BTreeSet};

/// Whether `address` is `target` or inside it: an instance of a resource
/// named without index (`posture_data.app` → `posture_data.app[0]`), or a
/// resource of a module (`module.m` → `module.m["eu"].posture_data.x`).
pub(crate) fn matches(address: &str, target: &str) -> bool {
    match address.strip_prefix(target) {
        Some(rest) => rest.is_empty() || rest.starts_with('[') || rest.starts_with('.'),
        None => false,
    }
}

/// Whether the recorded dependency `dep` names `address` (older states may
/// record a resource without its instance key).
fn depends_on(dep: &str, address: &str) -> bool {
    dep == address
        || address
            .strip_prefix(dep)
            .is_some_and(|r| r.starts_with('['))
}

/// The addresses of `changes` a run targeting `targets` keeps, for a plan in
/// `mode`: the targets with their dependencies, or for a destroy plan with
/// their dependents, transitively.
pub(crate) fn targeted(
    changes: &[ResourceChange],
    targets: &[String],
    mode: PlanMode,
) -> BTreeSet<String> {
    // Edges to follow from a kept address: what it needs, or what needs it.
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in changes {
        for d in &c.dependencies {
            for other in changes.iter().filter(|o| depends_on(d, &o.address)) {
                if mode == PlanMode::Destroy {
                    next.entry(other.address.as_str())
                        .or_default()
                        .push(c.address.as_str());
                } else {
                    next.entry(c.address.as_str())
                        .or_default()
                        .push(other.address.as_str());
                }
            }
        }
    }
    let mut keep = BTreeSet::new();
    let mut todo: Vec<&str> = changes
        .iter()
        .filter(|c| targets.iter().any(|t| matches(&c.address, t)))
        .map(|c| c.address.as_str())
        .collect();
    while let Some(a) = todo.pop() {
        if !keep.insert(a.to_string()) {
            continue;
        }
        if let Some(ns) = next.get(a) {
            todo.extend(ns.iter().copied());
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;
    use crate::value::Value;

    fn change(addr: &str, deps: &[&str]) -> ResourceChange {
        ResourceChange {
            address: addr.to_string(),
            data: false,
            type_name: "posture_data".to_string(),
            provider: "posture".to_string(),
            action: Action::Delete,
            reason: None,
            before: Value::NULL,
            after: Value::NULL,
            replace_paths: Vec::new(),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            create_before_destroy: false,
            notes: Vec::new(),
            tainted: false,
            deposed: None,
        }
    }

    /// base ← app ← leaf, plus an unrelated `other`.
    fn chain() -> Vec<ResourceChange> {
        vec![
            change("posture_data.base", &[]),
            change("posture_data.app", &["posture_data.base"]),
            change("posture_data.leaf", &["posture_data.app"]),
            change("posture_data.other", &[]),
        ]
    }

    fn set(xs: &[&str]) -> BTreeSet<String> {
        xs.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn targeted_destroy_keeps_dependents_not_dependencies() {
        let keep = targeted(
            &chain(),
            &["posture_data.app".to_string()],
            PlanMode::Destroy,
        );
        assert_eq!(keep, set(&["posture_data.app", "posture_data.leaf"]));
    }

    #[test]
    fn targeted_apply_keeps_dependencies() {
        let keep = targeted(
            &chain(),
            &["posture_data.app".to_string()],
            PlanMode::Normal,
        );
        assert_eq!(keep, set(&["posture_data.app", "posture_data.base"]));
    }

    #[test]
    fn targeted_destroy_of_leaf_is_the_leaf_alone() {
        let keep = targeted(
            &chain(),
            &["posture_data.leaf".to_string()],
            PlanMode::Destroy,
        );
        assert_eq!(keep, set(&["posture_data.leaf"]));
    }

    #[test]
    fn target_without_index_and_module_targets() {
        let cs = vec![
            change("posture_data.a[0]", &[]),
            change("posture_data.a[1]", &[]),
            change("posture_data.ab", &[]),
            change("module.m[\"eu\"].posture_data.x", &[]),
            change("module.m[\"eu\"].posture_data.y", &["posture_data.a[0]"]),
            change("module.mm.posture_data.x", &[]),
        ];
        let keep = targeted(&cs, &["posture_data.a".to_string()], PlanMode::Destroy);
        assert_eq!(
            keep,
            set(&[
                "posture_data.a[0]",
                "posture_data.a[1]",
                "module.m[\"eu\"].posture_data.y"
            ])
        );
        let keep = targeted(&cs, &["module.m".to_string()], PlanMode::Normal);
        assert_eq!(
            keep,
            set(&[
                "module.m[\"eu\"].posture_data.x",
                "module.m[\"eu\"].posture_data.y",
                "posture_data.a[0]"
            ])
        );
    }

    #[test]
    fn dependency_recorded_without_index_still_counts() {
        let cs = vec![
            change("posture_data.base[0]", &[]),
            change("posture_data.app", &["posture_data.base"]),
        ];
        let keep = targeted(&cs, &["posture_data.base".to_string()], PlanMode::Destroy);
        assert_eq!(keep, set(&["posture_data.base[0]", "posture_data.app"]));
    }
}
