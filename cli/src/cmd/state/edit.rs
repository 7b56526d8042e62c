//! `posture state rm` and `posture state mv`: edits of the records only.
//!
//! Each edit is checked whole before anything is written (a missing source
//! or a taken destination changes nothing), then committed as one new
//! serial by [`Backend::rewrite`](posture_engine::state::Backend::rewrite).
//! No provider is called and no real object is touched.

use super::{canonical, canonical_all, load, open, under};
use crate::cmd::common::LockArgs;
use posture_engine::addrs::parse_instance;
use posture_engine::state::{Backend, State, StateError};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// `posture state rm ADDRESS...`
pub(super) fn rm(addresses: &[String], dry_run: bool, lock: &LockArgs) -> Result<(), u8> {
    let filters = canonical_all(addresses)?;
    let backend = open("state rm", lock)?;
    let mut state = load(&backend)?;
    let mut removed: BTreeSet<String> = BTreeSet::new();
    let mut missing = Vec::new();
    for f in &filters {
        let hits: Vec<String> = state
            .instances
            .keys()
            .filter(|k| under(k, f))
            .cloned()
            .collect();
        if hits.is_empty() {
            missing.push(f.as_str());
        }
        removed.extend(hits);
    }
    if !missing.is_empty() {
        eprintln!(
            "Error: Invalid target address\n\nNo instance in the state matches {}; nothing was removed. `posture state list` shows the addresses in the state.",
            missing.join(", ")
        );
        return Err(1);
    }
    if dry_run {
        for a in &removed {
            println!("Would remove {a}");
        }
        println!(
            "\nWould have removed {} resource instance(s).",
            removed.len()
        );
        return Ok(());
    }
    for a in &removed {
        state.instances.remove(a);
    }
    // Keep no dependency on an instance the state no longer knows.
    for rec in state.instances.values_mut() {
        rec.dependencies.retain(|d| !removed.contains(d));
    }
    let summary = format!("state rm: {}", short_list(removed.iter()));
    commit(&backend, &state, &summary)?;
    for a in &removed {
        println!("Removed {a}");
    }
    println!(
        "Successfully removed {} resource instance(s). The real objects were not touched; posture no longer manages them.",
        removed.len()
    );
    Ok(())
}

/// `posture state mv SOURCE DESTINATION`
pub(super) fn mv(src: &str, dst: &str, dry_run: bool, lock: &LockArgs) -> Result<(), u8> {
    let (s, d) = match (canonical(src), canonical(dst)) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("Error: Invalid address\n\n{e}.");
            return Err(1);
        }
    };
    if s == d {
        eprintln!(
            "Error: Invalid state move request\n\nThe source and destination are both {s}; give a different destination address."
        );
        return Err(1);
    }
    check_kinds(&s, &d)?;
    let backend = open("state mv", lock)?;
    let mut state = load(&backend)?;
    let moving: Vec<String> = if state.instances.contains_key(&s) {
        vec![s.clone()]
    } else {
        state
            .instances
            .keys()
            .filter(|k| under(k, &s))
            .cloned()
            .collect()
    };
    if moving.is_empty() {
        eprintln!(
            "Error: Invalid source address\n\nThere is nothing at {s} in the state; nothing was moved. `posture state list` shows the addresses in the state."
        );
        return Err(1);
    }
    let mapping: BTreeMap<String, String> = if moving == [s.clone()] {
        BTreeMap::from([(s.clone(), d.clone())])
    } else {
        if parse_instance(&d).is_ok_and(|a| a.key != posture_engine::addrs::InstanceKey::None) {
            eprintln!(
                "Error: Invalid target address\n\n{s} has {} instances, which cannot all move to the one instance {d}; give a resource address without a key (each instance keeps its key), or move the instances one by one.",
                moving.len()
            );
            return Err(1);
        }
        moving
            .iter()
            .map(|a| (a.clone(), format!("{d}{}", &a[s.len()..])))
            .collect()
    };
    let taken = state
        .instances
        .keys()
        .find(|k| !mapping.contains_key(*k) && (under(k, &d) || mapping.values().any(|n| n == *k)));
    if let Some(t) = taken {
        eprintln!(
            "Error: Invalid target address\n\nCannot move {s} to {d}: there is already a resource instance at {t} in the state. Nothing was moved; remove it first (`posture state rm {t}`) or choose another address."
        );
        return Err(1);
    }
    if dry_run {
        for (a, b) in &mapping {
            println!("Would move {a} to {b}");
        }
        return Ok(());
    }
    for (a, b) in &mapping {
        if let Some(mut rec) = state.instances.remove(a) {
            rec.address = b.clone();
            state.instances.insert(b.clone(), rec);
        }
    }
    // Other records name their dependencies by address: follow the move.
    for rec in state.instances.values_mut() {
        for dep in rec.dependencies.iter_mut() {
            if let Some(n) = mapping.get(dep) {
                *dep = n.clone();
            }
        }
    }
    commit(&backend, &state, &format!("state mv: {s} to {d}"))?;
    for (a, b) in &mapping {
        println!("Move {a} to {b}");
    }
    println!(
        "Successfully moved {} object(s). Rename them in the configuration too, or the next plan will destroy and recreate them.",
        mapping.len()
    );
    Ok(())
}

/// A module moves to a module; a resource or instance to one of the same type.
fn check_kinds(s: &str, d: &str) -> Result<(), u8> {
    match (parse_instance(s), parse_instance(d)) {
        (Ok(a), Ok(b)) => {
            if a.resource.mode != b.resource.mode || a.resource.type_name != b.resource.type_name {
                eprintln!(
                    "Error: Invalid state move request\n\nCannot move {s} to {d}: resource types don't match. An instance keeps its type; to change the type, import the object at the new address and `posture state rm` the old one."
                );
                return Err(1);
            }
            Ok(())
        }
        (Err(_), Err(_)) => Ok(()),
        _ => {
            eprintln!(
                "Error: Invalid state move request\n\nCannot move {s} to {d}: a module moves to a module address (module.NAME[KEY]), a resource or instance to a resource or instance address."
            );
            Err(1)
        }
    }
}

/// Commits an edit, or exit 1 saying why nothing changed.
pub(crate) fn commit(backend: &Arc<dyn Backend>, state: &State, summary: &str) -> Result<u64, u8> {
    backend.rewrite(state, summary).map_err(|e| {
        match e {
            // The backend's message suggests --force, which edits do not have.
            StateError::PendingIntents { count } => eprintln!(
                "Error: Failed to save state\n\n{count} operation(s) from an interrupted run are pending; run `posture plan` or `posture apply` first so posture reconciles them, then retry. Nothing was changed."
            ),
            e => eprintln!("Error: Failed to save state\n\n{e}\n\nNothing was changed."),
        }
        1
    })
}

/// Up to three items, then how many more: for history summaries.
fn short_list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let all: Vec<&String> = items.collect();
    let mut s = all
        .iter()
        .take(3)
        .map(|x| x.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() > 3 {
        s.push_str(&format!(" and {} more", all.len() - 3));
    }
    s
}
