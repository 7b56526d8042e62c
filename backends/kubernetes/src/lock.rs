//! The lock: a `coordination.k8s.io/v1` Lease `<base>-lock`. Taken by
//! creating it, or by replacing a free or expired one with its
//! resourceVersion as precondition; renewed by a heartbeat every third of
//! `lock_ttl` (`renewTime`), again conditional on our last write; released
//! by clearing `holderIdentity`. Each step is one conditional write, so of
//! two runs racing for it exactly one wins.
//!
//! `holderIdentity` is the lock id (what `force-unlock` takes); the
//! annotation `posture.dev/lock` holds who, where and what, and
//! `posture.dev/took-over` the expired holder a takeover replaced.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use posture_engine::state::{LockInfo, LockOptions, StateError};

use crate::store::{Store, Write};

const LOCK_ANNOTATION: &str = "posture.dev/lock";
const TOOK_OVER_ANNOTATION: &str = "posture.dev/took-over";

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn micro(ms: u64) -> Option<MicroTime> {
    let ms = i64::try_from(ms).ok()?;
    Timestamp::from_millisecond(ms).ok().map(MicroTime)
}

/// The Lease as found.
pub(crate) enum Found {
    /// No Lease, or one nobody holds; the Lease to replace, if any.
    Free(Option<Box<Lease>>),
    /// Held: the holder, the expired lock, whether it has expired, the Lease.
    Held {
        info: Box<LockInfo>,
        took_over: Option<Box<LockInfo>>,
        expired: bool,
        lease: Box<Lease>,
    },
    /// Held by an identity without a posture lock record (another tool, or
    /// an edited annotation): who holds it cannot be shown.
    Damaged { detail: String, holder: String },
}

fn annotation(l: &Lease, key: &str) -> Option<String> {
    l.metadata.annotations.as_ref()?.get(key).cloned()
}

/// When the Lease ends: `renewTime` (else `acquireTime`) plus its duration.
fn ends_ms(spec: &LeaseSpec) -> u64 {
    let at = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map_or(0, |t| t.0.as_millisecond().max(0) as u64);
    let secs = spec.lease_duration_seconds.unwrap_or(0).max(0) as u64;
    at + secs * 1000
}

pub(crate) async fn read(store: &Store, name: &str) -> Result<Found, StateError> {
    let Some(lease) = store.get_lease(name).await? else {
        return Ok(Found::Free(None));
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.clone().unwrap_or_default();
    if holder.is_empty() {
        return Ok(Found::Free(Some(Box::new(lease))));
    }
    let info = annotation(&lease, LOCK_ANNOTATION)
        .ok_or_else(|| format!("no `{LOCK_ANNOTATION}` annotation"))
        .and_then(|a| serde_json::from_str::<LockInfo>(&a).map_err(|e| e.to_string()))
        .and_then(|i| {
            if i.id == holder {
                Ok(i)
            } else {
                Err(format!(
                    "`{LOCK_ANNOTATION}` names lock {} but holderIdentity is {holder}",
                    i.id
                ))
            }
        });
    let mut info = match info {
        Ok(i) => i,
        Err(detail) => return Ok(Found::Damaged { detail, holder }),
    };
    // The Lease's own fields decide expiry, as for any Lease holder.
    let ends = ends_ms(&spec);
    info.lease_expires_unix_ms = ends;
    let took_over = annotation(&lease, TOOK_OVER_ANNOTATION)
        .and_then(|a| serde_json::from_str::<LockInfo>(&a).ok())
        .map(Box::new);
    Ok(Found::Held {
        info: Box::new(info),
        took_over,
        expired: now_ms() > ends,
        lease: Box::new(lease),
    })
}

/// The Lease saying `info` holds the lock, based on `old` (its resourceVersion).
fn lease_for(
    name: &str,
    info: &LockInfo,
    took_over: Option<&LockInfo>,
    old: Option<&Lease>,
    seconds: i32,
    acquired_ms: u64,
) -> Lease {
    let mut ann = BTreeMap::new();
    ann.insert(
        LOCK_ANNOTATION.to_string(),
        serde_json::to_string(info).unwrap_or_default(),
    );
    if let Some(t) = took_over {
        ann.insert(
            TOOK_OVER_ANNOTATION.to_string(),
            serde_json::to_string(t).unwrap_or_default(),
        );
    }
    let old_spec = old.and_then(|l| l.spec.clone()).unwrap_or_default();
    let transitions = old_spec.lease_transitions.unwrap_or(0);
    let new_holder = old_spec.holder_identity.as_deref() != Some(info.id.as_str());
    Lease {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            annotations: Some(ann),
            labels: old.and_then(|l| l.metadata.labels.clone()),
            resource_version: old.and_then(|l| l.metadata.resource_version.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(info.id.clone()),
            lease_duration_seconds: Some(seconds),
            acquire_time: micro(acquired_ms),
            renew_time: micro(now_ms()),
            lease_transitions: Some(transitions + i32::from(new_holder && old.is_some())),
            ..LeaseSpec::default()
        }),
    }
}

/// The Lease released: no holder, no annotations, same resourceVersion.
fn released(old: &Lease) -> Lease {
    let mut l = old.clone();
    l.metadata.annotations = None;
    let mut spec = l.spec.take().unwrap_or_default();
    spec.holder_identity = None;
    spec.acquire_time = None;
    spec.renew_time = None;
    l.spec = Some(spec);
    l
}

/// A held lock, renewed in the background until released.
pub(crate) struct HeldLock {
    store: Store,
    name: String,
    pub(crate) info: LockInfo,
    pub(crate) took_over: Option<LockInfo>,
    /// The Lease after our last write to it.
    lease: Arc<Mutex<Lease>>,
    lost: Arc<AtomicBool>,
    stop_tx: Option<tokio::sync::oneshot::Sender<()>>,
}

impl HeldLock {
    /// Takes the lock, waiting up to `options.timeout`; an expired Lease is
    /// taken over.
    pub(crate) fn acquire(
        store: &Store,
        name: &str,
        options: &LockOptions,
    ) -> Result<HeldLock, StateError> {
        let ttl = store.settings.lock_ttl;
        let seconds = store.settings.lease_seconds();
        let deadline = Instant::now() + options.timeout;
        let mut told = false;
        loop {
            let (s, n) = (store.clone(), name.to_string());
            let found = store.run(async move { read(&s, &n).await })??;
            let (old, previous) = match found {
                Found::Free(old) => (old, None),
                Found::Held {
                    info,
                    expired: true,
                    lease,
                    ..
                } => (Some(lease), Some(*info)),
                Found::Held { info, .. } => {
                    if Instant::now() >= deadline {
                        return Err(StateError::Locked { holder: info });
                    }
                    if !told {
                        told = true;
                        if let Some(f) = &options.on_wait {
                            f(&info);
                        }
                    }
                    // Polling is how a Lease is waited for (as leader election does).
                    std::thread::sleep((deadline - Instant::now()).min(Duration::from_millis(500)));
                    continue;
                }
                Found::Damaged { detail, holder } => {
                    return Err(StateError::LockFileCorrupt {
                        path: store.url(name).into(),
                        detail,
                        unlock_id: holder,
                    });
                }
            };
            let info = LockInfo::for_this_process(&options.operation, ttl);
            let now = now_ms();
            let lease = lease_for(name, &info, previous.as_ref(), old.as_deref(), seconds, now);
            let (s, create) = (store.clone(), old.is_none());
            // Refused: another run won the race; look again.
            if let Write::Done(l) =
                store.run(async move { s.write_lease(lease, create).await })??
            {
                return Ok(Self::start(store, name, info, previous, l, now));
            }
        }
    }

    fn start(
        store: &Store,
        name: &str,
        info: LockInfo,
        took_over: Option<LockInfo>,
        lease: Lease,
        acquired_ms: u64,
    ) -> HeldLock {
        let lease = Arc::new(Mutex::new(lease));
        let lost = Arc::new(AtomicBool::new(false));
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (s, n, l, lo, i, t) = (
            store.clone(),
            name.to_string(),
            lease.clone(),
            lost.clone(),
            info.clone(),
            took_over.clone(),
        );
        let ttl = store.settings.lock_ttl;
        let seconds = store.settings.lease_seconds();
        store.spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stop_rx => return,
                    () = tokio::time::sleep(ttl / 3) => {}
                }
                let Ok(current) = l.lock().map(|g| g.clone()) else {
                    return;
                };
                let mut info = i.clone();
                info.lease_expires_unix_ms = now_ms() + ttl.as_millis() as u64;
                let next = lease_for(&n, &info, t.as_ref(), Some(&current), seconds, acquired_ms);
                match s.write_lease(next, false).await {
                    Ok(Write::Done(new)) => {
                        if let Ok(mut g) = l.lock() {
                            *g = new;
                        }
                    }
                    // Force-unlocked or taken over: every later write fails.
                    Ok(Write::Refused) => {
                        lo.store(true, Ordering::SeqCst);
                        return;
                    }
                    // A network failure: try again at the next beat; if the
                    // Lease runs out meanwhile, the next renewal is refused.
                    Err(_) => {}
                }
            }
        });
        HeldLock {
            store: store.clone(),
            name: name.to_string(),
            info,
            took_over,
            lease,
            lost,
            stop_tx: Some(stop_tx),
        }
    }

    /// Fails once the lock is known lost; reads the Lease so that a
    /// force-unlock stops the very next write, not the next heartbeat.
    pub(crate) fn check(&self) -> Result<(), StateError> {
        let lost = || StateError::LockLost {
            lock_id: self.info.id.clone(),
        };
        if self.lost.load(Ordering::SeqCst) {
            return Err(lost());
        }
        let (s, n) = (self.store.clone(), self.name.clone());
        match self.store.run(async move { read(&s, &n).await })?? {
            Found::Held { info, .. } if info.id == self.info.id => Ok(()),
            _ => {
                self.lost.store(true, Ordering::SeqCst);
                Err(lost())
            }
        }
    }

    /// Stops the heartbeat and clears the Lease's holder if it is still ours.
    pub(crate) fn release(&mut self) -> Result<(), StateError> {
        let Some(tx) = self.stop_tx.take() else {
            return Ok(());
        };
        let _ = tx.send(());
        if self.lost.load(Ordering::SeqCst) {
            return Ok(());
        }
        let ours = self.lease.lock().map(|g| g.clone()).ok();
        let (s, n, id) = (self.store.clone(), self.name.clone(), self.info.id.clone());
        self.store.run(async move {
            let mut candidate = ours;
            // Refused: renewed concurrently by our own last beat, or no
            // longer ours; ours is checked by id on the Lease as it is now.
            for _ in 0..3 {
                if let Some(l) = candidate.take()
                    && let Write::Done(_) = s.write_lease(released(&l), false).await?
                {
                    return Ok(());
                }
                match read(&s, &n).await? {
                    Found::Held { info, lease, .. } if info.id == id => candidate = Some(*lease),
                    _ => return Ok(()),
                }
            }
            Ok(())
        })?
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

/// Who holds the lock, without taking it.
pub(crate) fn holder(store: &Store, name: &str) -> Result<Option<LockInfo>, StateError> {
    let (s, n) = (store.clone(), name.to_string());
    match store.run(async move { read(&s, &n).await })?? {
        Found::Free(_) => Ok(None),
        Found::Held { info, .. } => Ok(Some(*info)),
        Found::Damaged { detail, holder } => Err(StateError::LockFileCorrupt {
            path: store.url(name).into(),
            detail,
            unlock_id: holder,
        }),
    }
}

/// Who held the lock before the current holder took it over after it
/// expired, if it did.
pub(crate) fn took_over(store: &Store, name: &str) -> Result<Option<LockInfo>, StateError> {
    let (s, n) = (store.clone(), name.to_string());
    match store.run(async move { read(&s, &n).await })?? {
        Found::Held { took_over, .. } => Ok(took_over.map(|b| *b)),
        _ => Ok(None),
    }
}

/// Clears the Lease's holder if its id is `lock_id` (for a damaged record,
/// its holderIdentity); returns who held it. Conditional on the
/// resourceVersion read, so a lock retaken in between is not removed.
pub(crate) fn force_unlock(
    store: &Store,
    name: &str,
    lock_id: &str,
) -> Result<Option<LockInfo>, StateError> {
    let (s, n, id) = (store.clone(), name.to_string(), lock_id.to_string());
    store.run(async move {
        for _ in 0..3 {
            let (holder, lease) = match read(&s, &n).await? {
                Found::Free(_) => {
                    return Err(StateError::NotLocked {
                        path: s.url(&n).into(),
                    });
                }
                Found::Damaged { detail, holder } => {
                    if holder != id {
                        return Err(StateError::LockFileCorrupt {
                            path: s.url(&n).into(),
                            detail,
                            unlock_id: holder,
                        });
                    }
                    let Some(l) = s.get_lease(&n).await? else {
                        continue;
                    };
                    (None, l)
                }
                Found::Held { info, lease, .. } => {
                    if info.id != id {
                        return Err(StateError::LockIdMismatch {
                            given: id,
                            holder: info,
                        });
                    }
                    (Some(*info), *lease)
                }
            };
            // Refused: renewed between our read and write; read again.
            if let Write::Done(_) = s.write_lease(released(&lease), false).await? {
                return Ok(holder);
            }
        }
        Err(StateError::Conflict {
            location: s.url(&n),
            detail: "the lock Lease kept changing while it was being released".into(),
        })
    })?
}
