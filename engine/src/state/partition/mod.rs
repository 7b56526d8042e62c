//! State partitions (`posture { state_partition = "cluster" }`): one state
//! and one lock per cluster, plus one for resources on no cluster, so that
//! runs on different clusters never wait for each other (docs/backends.md).
//!
//! - [`Partition`]: which partition an instance belongs to, read from the
//!   `name` of the cluster object in its `cluster` argument (the engine
//!   builds that object from a `cluster` block, so this is no provider
//!   knowledge);
//! - [`PartitionKey`]: the partition's name in a store, the same for every
//!   backend (`global`, `cluster-<name>`, readable, with a short hash when
//!   the name had to be changed to fit);
//! - [`PartitionedLocation`] / [`PartitionedBackend`]: the
//!   [`StateLocation`](super::StateLocation) and [`Backend`](super::Backend)
//!   over a store's partitions.

mod backend;
mod location;
#[cfg(test)]
mod tests;

pub use backend::PartitionedBackend;
pub use location::PartitionedLocation;

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use super::model::InstanceRecord;

/// Which partition of a partitioned state an instance's record lives in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Partition {
    /// Resources on no cluster (Route53 records, `posture_data`...) and the
    /// root outputs.
    NoCluster,
    /// Resources on the cluster of this `name` (block name or `for_each` key).
    Cluster(String),
}

impl Partition {
    /// How the no-cluster partition is named in messages and `--cluster`.
    pub const NO_CLUSTER_NAME: &'static str = "_global";

    /// The partition `--cluster NAME` names: [`Partition::NO_CLUSTER_NAME`]
    /// is the no-cluster partition, anything else a cluster.
    pub fn named(name: &str) -> Partition {
        if name == Self::NO_CLUSTER_NAME {
            Partition::NoCluster
        } else {
            Partition::Cluster(name.to_string())
        }
    }

    /// The partition of an object's attributes: the string at
    /// `cluster.name`, else none.
    pub fn of_attributes(attributes: &Value) -> Partition {
        match attributes.pointer("/cluster/name") {
            Some(Value::String(n)) => Partition::Cluster(n.clone()),
            _ => Partition::NoCluster,
        }
    }

    /// The partition of a record: its current object's cluster, else (only
    /// deposed objects are left) the first deposed object's.
    pub fn of_record(record: &InstanceRecord) -> Partition {
        if !record.attributes.is_null() {
            return Partition::of_attributes(&record.attributes);
        }
        record
            .deposed
            .values()
            .next()
            .map(|d| Partition::of_attributes(&d.attributes))
            .unwrap_or(Partition::NoCluster)
    }

    /// Its name in every store.
    pub fn key(&self) -> PartitionKey {
        match self {
            Partition::NoCluster => PartitionKey(NO_CLUSTER_KEY.to_string()),
            Partition::Cluster(n) => PartitionKey(format!("{CLUSTER_PREFIX}{}", encode(n))),
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partition::NoCluster => f.write_str(Self::NO_CLUSTER_NAME),
            Partition::Cluster(n) => f.write_str(n),
        }
    }
}

/// The key of the no-cluster partition.
const NO_CLUSTER_KEY: &str = "global";
/// Every cluster partition's key starts so: no cluster name can give
/// [`NO_CLUSTER_KEY`].
const CLUSTER_PREFIX: &str = "cluster-";
/// The longest readable part kept of a cluster name (DNS-1123 labels are
/// at most 63 characters; backends add their own prefix).
const MAX_READABLE: usize = 30;

/// A partition's name in a store: `global`, or `cluster-` and the cluster
/// name reduced to lowercase letters, digits and `-` (a DNS-1123 label, so
/// every backend takes it as a file, key or object name), with `-` and 8 hex
/// digits of a hash of the name when it had to be changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionKey(String);

impl PartitionKey {
    /// A key read back from a store; `None` when it is not one posture writes.
    pub fn parse(s: &str) -> Option<PartitionKey> {
        let ok = s == NO_CLUSTER_KEY
            || s.strip_prefix(CLUSTER_PREFIX).is_some_and(|r| {
                !r.is_empty()
                    && r.len() <= MAX_READABLE + 9
                    && r.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        ok.then(|| PartitionKey(s.to_string()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key in at most `max` characters (at least 10), for stores whose
    /// names are shorter: unchanged when it fits, else its start and `-`
    /// and 8 hex digits of a hash of the whole key.
    pub fn shortened(&self, max: usize) -> String {
        if self.0.len() <= max {
            return self.0.clone();
        }
        let hash = format!("{:08x}", fnv1a(self.0.as_bytes()) as u32);
        let keep = max.saturating_sub(9);
        let head = self.0[..keep].trim_end_matches('-');
        if head.is_empty() {
            hash
        } else {
            format!("{head}-{hash}")
        }
    }

    /// Whether this is the no-cluster partition's key.
    pub fn is_no_cluster(&self) -> bool {
        self.0 == NO_CLUSTER_KEY
    }
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which partitions a run locks and changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection {
    /// Every partition (no `--cluster`): the run behaves as on one state.
    #[default]
    All,
    /// Only these (`--cluster`, repeatable); the others are read, not locked.
    Only(BTreeSet<Partition>),
}

impl Selection {
    /// Whether the run changes instances of `p`.
    pub fn selects(&self, p: &Partition) -> bool {
        match self {
            Selection::All => true,
            Selection::Only(s) => s.contains(p),
        }
    }
}

fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut changed = false;
    for c in name.chars() {
        match c {
            'a'..='z' | '0'..='9' | '-' => out.push(c),
            'A'..='Z' => {
                out.push(c.to_ascii_lowercase());
                changed = true;
            }
            _ => {
                out.push('-');
                changed = true;
            }
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.len() != out.len() {
        changed = true;
    }
    let mut readable: String = trimmed.chars().take(MAX_READABLE).collect();
    if readable.len() != trimmed.len() {
        changed = true;
        readable = readable.trim_end_matches('-').to_string();
    }
    if !changed && !readable.is_empty() {
        return readable;
    }
    // Two names reduced alike stay apart by the hash of the original.
    let hash = format!("{:08x}", fnv1a(name.as_bytes()) as u32);
    if readable.is_empty() {
        hash
    } else {
        format!("{readable}-{hash}")
    }
}

/// FNV-1a, 64 bits: stable across versions and platforms (the hash is part
/// of stored names), which `std`'s hasher is not.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The cluster name in a value in the saved-plan codec's JSON form (what an
/// intent's `planned` holds), at `cluster.name`.
pub(crate) fn codec_cluster(v: &Value) -> Option<String> {
    fn unwrap(mut v: &Value) -> &Value {
        while let Some(inner) = v.get("sensitive") {
            v = inner;
        }
        v
    }
    let obj = unwrap(v).get("object")?;
    let cluster = unwrap(obj.get("cluster")?).get("object")?;
    let name = unwrap(cluster.get("name")?).get("string")?;
    name.as_str().map(str::to_string)
}
