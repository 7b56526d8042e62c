//! Watches: `?watch=true` streams ADDED/MODIFIED/DELETED events (and BOOKMARKs when
//! asked) from a resourceVersion; a resourceVersion older than the kept event log gets
//! an ERROR event with a 410 `Expired` Status, as a real API server sends.
//!
//! Must not write objects; it only reads the store and its event channel.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::cluster::Cluster;
use crate::list::{FieldSelector, LabelSelector, table};
use crate::objects::{key_of, present};
use crate::registry::ResourceType;
use crate::status::{ApiError, ApiResult};
use crate::store::Event;

/// How often a watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

/// A parsed watch request.
pub struct WatchRequest {
    rt: ResourceType,
    version: String,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    from: Option<u64>,
    bookmarks: bool,
    send_initial: bool,
    timeout: Option<Duration>,
    table: bool,
}

impl WatchRequest {
    /// Reads the watch parameters of a request.
    pub fn from_query(
        rt: &ResourceType,
        version: &str,
        namespace: Option<String>,
        q: &HashMap<String, String>,
        table: bool,
    ) -> ApiResult<Self> {
        let labels =
            LabelSelector::parse(q.get("labelSelector").map(String::as_str).unwrap_or(""))?;
        let fields =
            FieldSelector::parse(q.get("fieldSelector").map(String::as_str).unwrap_or(""), rt)?;
        let from =
            match q.get("resourceVersion").map(String::as_str) {
                None | Some("") | Some("0") => None,
                Some(s) => Some(s.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!("invalid resource version {s:?}"))
                })?),
            };
        let send_initial = q.get("sendInitialEvents").is_some_and(|b| b == "true");
        let timeout = q
            .get("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .map(Duration::from_secs);
        Ok(WatchRequest {
            rt: rt.clone(),
            version: version.to_string(),
            namespace,
            labels,
            fields,
            // sendInitialEvents streams the current state whatever resourceVersion says.
            from: if send_initial { None } else { from },
            bookmarks: q.get("allowWatchBookmarks").is_some_and(|b| b == "true"),
            send_initial,
            timeout,
            table,
        })
    }

    fn selects(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    /// The event type this watcher sees, if any: a change that moves an object into the
    /// selection is ADDED, out of it DELETED.
    fn view(&self, ev: &Event) -> Option<&'static str> {
        if ev.key != key_of(&self.rt) || self.namespace.as_ref().is_some_and(|n| *n != ev.namespace)
        {
            return None;
        }
        let now = self.selects(&ev.object);
        match (ev.kind, &ev.previous) {
            ("MODIFIED", Some(prev)) => match (self.selects(prev), now) {
                (true, true) => Some("MODIFIED"),
                (false, true) => Some("ADDED"),
                (true, false) => Some("DELETED"),
                (false, false) => None,
            },
            (kind, _) => now.then_some(kind),
        }
    }

    fn line(&self, kind: &str, obj: &Value) -> Bytes {
        let object = if self.table && kind != "BOOKMARK" && kind != "ERROR" {
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(json!(""));
            table(&[obj], &self.rt, json!({"resourceVersion": rv}))
        } else if kind == "ERROR" {
            obj.clone()
        } else {
            present(obj, &self.rt, &self.version)
        };
        let mut s =
            serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        s.push(b'\n');
        Bytes::from(s)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.rt.kind, "apiVersion": self.rt.api_version(&self.version), "metadata": meta});
        self.line("BOOKMARK", &obj)
    }
}

/// Starts a watch; returns the stream of newline-delimited JSON events.
pub fn start(cluster: Arc<Cluster>, wr: WatchRequest) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel::<Bytes>(1024);
    // Under the lock: the initial events and the subscription, so nothing falls between.
    let (initial, mut sub, mut last) = {
        let st = cluster.state();
        let sub = st.events.subscribe();
        let mut initial: Vec<Bytes> = Vec::new();
        match wr.from {
            Some(rv) if rv < st.log_floor => {
                let status = ApiError::gone(rv).body();
                initial.push(wr.line("ERROR", &status));
                drop(st);
                tokio::spawn(async move {
                    for b in initial {
                        let _ = tx.send(b).await;
                    }
                });
                return rx;
            }
            Some(rv) => {
                for ev in st.log.iter().filter(|e| e.rv > rv) {
                    if let Some(kind) = wr.view(ev) {
                        initial.push(wr.line(kind, &ev.object));
                    }
                }
            }
            None => {
                for o in st.list(&key_of(&wr.rt), wr.namespace.as_deref()) {
                    if wr.labels.matches(o) && wr.fields.matches(o) {
                        initial.push(wr.line("ADDED", o));
                    }
                }
            }
        }
        (initial, sub, st.rv)
    };
    tokio::spawn(async move {
        for b in initial {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        if wr.bookmarks && wr.send_initial && tx.send(wr.bookmark(last, true)).await.is_err() {
            return;
        }
        let deadline = wr.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut tick = tokio::time::interval(BOOKMARK_EVERY);
        tick.tick().await;
        loop {
            let until_deadline = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ev = sub.recv() => match ev {
                    Ok(ev) => {
                        if ev.rv > last {
                            last = ev.rv;
                            if let Some(kind) = wr.view(&ev)
                                && tx.send(wr.line(kind, &ev.object)).await.is_err()
                            {
                                return;
                            }
                        }
                    }
                    // A watcher that fell behind is closed; clients re-list and resume.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick(), if wr.bookmarks => {
                    // Only events up to `last` were seen, so that is what a bookmark may promise.
                    if tx.send(wr.bookmark(last, false)).await.is_err() {
                        return;
                    }
                }
                _ = until_deadline => return,
                _ = tx.closed() => return,
            }
        }
    });
    rx
}
