//! The in-memory object store of one cluster: objects per resource type, the
//! resourceVersion counter, and the log of watch events kept for resuming watches.
//!
//! Holds no API semantics (validation, defaults, ownership): see `objects`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::registry::{Registry, ResKey};

/// How many past events a cluster keeps for watches that resume from a resourceVersion.
pub const EVENT_LOG_LEN: usize = 20_000;

/// A change to one object, as sent to watchers.
#[derive(Debug, Clone)]
pub struct Event {
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    /// Resource type of the object.
    pub key: ResKey,
    /// Namespace (empty for cluster-scoped).
    pub namespace: String,
    /// The object after the change (before it, for DELETED, with a new resourceVersion).
    pub object: Arc<Value>,
    /// The object before a MODIFIED change (watches with selectors turn a change into or
    /// out of their selection into ADDED or DELETED, as a real server's watch cache does).
    pub previous: Option<Arc<Value>>,
    /// resourceVersion of the change.
    pub rv: u64,
}

/// Objects of one resource type by (namespace, name).
pub type Objects = BTreeMap<(String, String), Arc<Value>>;

/// Mutable state of one cluster, behind its mutex.
pub struct State {
    /// Last resourceVersion handed out.
    pub rv: u64,
    /// Served resource types.
    pub registry: Registry,
    /// Objects per resource type.
    pub objects: HashMap<ResKey, Objects>,
    /// Recent events, oldest first.
    pub log: VecDeque<Arc<Event>>,
    /// Every event with rv greater than this is in `log`.
    pub log_floor: u64,
    /// Live watchers.
    pub events: broadcast::Sender<Arc<Event>>,
}

impl State {
    /// An empty store.
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(16_384);
        State {
            rv: 0,
            registry: Registry::new(),
            objects: HashMap::new(),
            log: VecDeque::new(),
            log_floor: 0,
            events,
        }
    }

    /// Hands out the next resourceVersion.
    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// One object.
    pub fn get(&self, key: &ResKey, ns: &str, name: &str) -> Option<&Arc<Value>> {
        self.objects
            .get(key)?
            .get(&(ns.to_string(), name.to_string()))
    }

    /// Objects of a type, optionally in one namespace.
    pub fn list<'a>(
        &'a self,
        key: &ResKey,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
        self.objects
            .get(key)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter(move |((n, _), _)| ns.is_none_or(|want| n == want))
            .map(|(_, v)| v)
    }

    /// Stores an object and records the event.
    pub fn put(
        &mut self,
        kind: &'static str,
        key: &ResKey,
        ns: &str,
        name: &str,
        obj: Value,
        rv: u64,
    ) -> Arc<Value> {
        let obj = Arc::new(obj);
        let previous = self
            .objects
            .entry(key.clone())
            .or_default()
            .insert((ns.to_string(), name.to_string()), obj.clone());
        self.emit(kind, key, ns, obj.clone(), previous, rv);
        obj
    }

    /// Removes an object and records a DELETED event with `final_obj`.
    pub fn remove(&mut self, key: &ResKey, ns: &str, name: &str, final_obj: Value, rv: u64) {
        if let Some(m) = self.objects.get_mut(key) {
            m.remove(&(ns.to_string(), name.to_string()));
        }
        self.emit("DELETED", key, ns, Arc::new(final_obj), None, rv);
    }

    fn emit(
        &mut self,
        kind: &'static str,
        key: &ResKey,
        ns: &str,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
        rv: u64,
    ) {
        let ev = Arc::new(Event {
            kind,
            key: key.clone(),
            namespace: ns.to_string(),
            object,
            previous: if kind == "MODIFIED" { previous } else { None },
            rv,
        });
        // No receiver is fine: nobody watches.
        let _ = self.events.send(ev.clone());
        self.log.push_back(ev);
        while self.log.len() > EVENT_LOG_LEN {
            if let Some(old) = self.log.pop_front() {
                self.log_floor = old.rv;
            }
        }
    }

    /// Forgets every event up to the current resourceVersion (used after loading state).
    pub fn compact(&mut self) {
        self.log.clear();
        self.log_floor = self.rv;
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn put_and_remove_emit_events_in_order() {
        let mut s = State::new();
        let mut rx = s.events.subscribe();
        let key = ("".to_string(), "configmaps".to_string());
        let rv = s.next_rv();
        s.put("ADDED", &key, "d", "a", json!({"x": 1}), rv);
        let rv = s.next_rv();
        s.remove(&key, "d", "a", json!({"x": 1}), rv);
        assert_eq!(rx.try_recv().expect("added").kind, "ADDED");
        let del = rx.try_recv().expect("deleted");
        assert_eq!((del.kind, del.rv), ("DELETED", 2));
        assert!(s.get(&key, "d", "a").is_none());
        assert_eq!(s.log.len(), 2);
    }
}
