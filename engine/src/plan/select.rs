//! `--cluster`: a plan of the selected state partitions only. An instance
//! on another cluster is neither read nor planned: it keeps its recorded
//! value, which is what its dependents see. One not recorded yet (it would
//! be created) is *pending*: a selected instance whose configuration it
//! leaves unknown cannot be planned, and the error says what to run.

use super::model::{Action, ResourceChange};
use crate::addrs::{InstanceKey, ModuleInstance, ResourceAddr};
use crate::diag::{Diagnostic, Diagnostics};
use crate::scope::Evaluation;
use crate::state::{InstanceRecord, Partition, Selection};
use crate::value::{Type, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The partition of a configured or planned object: the `name` of the
/// cluster object in its `cluster` argument, the no-cluster partition
/// without one; `None` while that name is unknown.
pub(crate) fn partition_of_value(v: &Value) -> Option<Partition> {
    let Some(cluster) = v.as_map().and_then(|m| m.get("cluster")) else {
        return Some(Partition::NoCluster);
    };
    if cluster.is_null() {
        return Some(Partition::NoCluster);
    }
    match cluster.as_map().and_then(|c| c.get("name")) {
        Some(n) if n.is_null() => Some(Partition::NoCluster),
        Some(n) => n.as_str().map(|s| Partition::Cluster(s.to_string())),
        None if cluster.is_unknown() => None,
        None => Some(Partition::NoCluster),
    }
}

/// Why an instance whose cluster is unknown is left out of a `--cluster` plan.
pub(super) const UNKNOWN: &str = "its cluster is not known until apply, so neither is its state partition: run without --cluster";

/// What a plan does with one configured instance.
pub(super) enum Decision {
    /// Plan it, as without `--cluster`.
    Plan,
    /// Skip it: it is on a partition this run does not select.
    Skip(Partition),
    /// Its cluster is not known yet, so neither is its partition.
    Unknown,
}

/// The selection of one plan and the pending instances it skipped.
pub(super) struct Selecting<'a> {
    selection: &'a Selection,
    pending: BTreeMap<String, Partition>,
    /// The partitions of the configured instances decided so far.
    seen: BTreeSet<Partition>,
}

impl<'a> Selecting<'a> {
    pub(super) fn new(selection: &'a Selection) -> Self {
        Selecting {
            selection,
            pending: BTreeMap::new(),
            seen: BTreeSet::new(),
        }
    }

    /// Whether a record or orphan of `rec`'s partition is planned.
    pub(super) fn selects_record(&self, rec: &InstanceRecord) -> bool {
        self.selection.selects(&Partition::of_record(rec))
    }

    /// The deletes of deposed objects of selected partitions only.
    pub(super) fn deposed(
        &self,
        deletes: Vec<ResourceChange>,
        state: &crate::state::State,
    ) -> Vec<ResourceChange> {
        deletes
            .into_iter()
            .filter(|c| {
                state
                    .instances
                    .get(&c.address)
                    .is_some_and(|r| self.selects_record(r))
            })
            .collect()
    }

    /// An error for each `--cluster` name that no configured instance and
    /// no record is on: a typo would otherwise plan nothing, silently.
    pub(super) fn unknown_names(&self, state: &crate::state::State) -> Diagnostics {
        let mut diags = Diagnostics::default();
        let Selection::Only(names) = self.selection else {
            return diags;
        };
        for p in names {
            let Partition::Cluster(name) = p else {
                continue;
            };
            let recorded = state
                .instances
                .values()
                .any(|r| Partition::of_record(r) == *p);
            if !self.seen.contains(p) && !recorded {
                diags.push(Diagnostic::error(
                    "No instance on this cluster",
                    format!(
                        "--cluster {name}: no instance of the configuration or the state is on a cluster named \"{name}\". Check the name against the cluster blocks' names and for_each keys (`--cluster {}` selects the resources on no cluster).",
                        Partition::NO_CLUSTER_NAME
                    ),
                ));
            }
        }
        diags
    }

    /// Whether the no-cluster partition (with the outputs) is planned.
    pub(super) fn selects_outputs(&self) -> bool {
        self.selection.selects(&Partition::NoCluster)
    }

    /// Whether `--cluster` was given.
    pub(super) fn active(&self) -> bool {
        *self.selection != Selection::All
    }

    /// Decides for one managed instance from its configuration and record:
    /// planned only when both (an instance changing cluster moves between
    /// two partitions) are selected.
    pub(super) fn decide(&mut self, config: &Value, record: Option<&InstanceRecord>) -> Decision {
        let Some(p) = partition_of_value(config) else {
            return Decision::Unknown;
        };
        self.seen.insert(p.clone());
        if !self.selection.selects(&p) {
            return Decision::Skip(p);
        }
        match record.map(Partition::of_record) {
            Some(q) if !self.selection.selects(&q) => Decision::Skip(q),
            _ => Decision::Plan,
        }
    }

    /// Records a skipped instance: its recorded value stands for it (a
    /// no-op, so apply sees it too), or, not recorded, it is pending and
    /// unknown to its dependents.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn skip(
        &mut self,
        ev: &Evaluation<'_>,
        module: &ModuleInstance,
        resource: &ResourceAddr,
        key: InstanceKey,
        address: &str,
        partition: Partition,
        prior: Option<&Value>,
        record: Option<&InstanceRecord>,
    ) -> Option<ResourceChange> {
        match (prior, record) {
            (Some(prior), Some(rec)) => {
                ev.set_instance_value(module, resource, key, prior.clone());
                let mut c = super::build::change(
                    address,
                    &rec.resource_type,
                    &rec.provider,
                    false,
                    Action::NoOp,
                    prior.clone(),
                    prior.clone(),
                );
                c.dependencies = rec.dependencies.clone();
                Some(c)
            }
            _ => {
                ev.set_instance_value(module, resource, key, Value::Unknown(Type::Dynamic));
                self.pending.insert(address.to_string(), partition);
                None
            }
        }
    }

    /// An error when the selected instance `address` (configured as
    /// `config`) depends on a pending skipped one that leaves part of its
    /// configuration unknown.
    pub(super) fn check(
        &self,
        address: &str,
        config: &Value,
        schema: &crate::schema::Schema,
        deps: &[String],
        diags: &mut Diagnostics,
    ) {
        let Some((dep, on)) = deps
            .iter()
            .find_map(|d| self.pending.get(d).map(|p| (d, p)))
        else {
            return;
        };
        // Computed attributes are unknown in every configuration.
        let unknown = config.as_map().is_some_and(|m| {
            m.iter().any(|(name, v)| {
                let computed_only = schema
                    .attributes
                    .get(name)
                    .is_some_and(|a| a.computed && !a.optional);
                !computed_only && !v.is_wholly_known()
            })
        });
        if !unknown {
            return;
        }
        let mine = partition_of_value(config).unwrap_or(Partition::NoCluster);
        diags.push(Diagnostic::error(
            "Depends on a cluster this run does not select",
            format!(
                "{address} (partition {mine}) depends on {dep} (partition {on}), which is not created yet, and this run does not apply partition {on}. Apply it first with `posture apply --cluster {on}`, or add `--cluster {on}` to this run."
            ),
        ));
    }
}
