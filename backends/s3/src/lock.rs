//! The lock object `<key>.lock`: taken with `If-None-Match: *`, renewed by a
//! heartbeat with `If-Match` on its own last ETag, taken over once expired
//! with `If-Match` on the expired lock's ETag. Each step is one conditional
//! write, so of two runs racing for it exactly one wins. The body is small
//! (a few hundred bytes) on purpose: stores that check conditions
//! non-atomically for large bodies (moto) still decide small ones in one step.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use posture_engine::state::{LockInfo, LockOptions, StateError};
use serde::{Deserialize, Serialize};

use crate::store::{Cond, Put, Store};

/// What the lock object holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LockBody {
    /// The holder, its lease end renewed by the heartbeat.
    pub(crate) lock: LockInfo,
    /// The expired lock this one took over, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) took_over: Option<LockInfo>,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    // Plain strings and numbers: serialising cannot fail.
    serde_json::to_vec(v).unwrap_or_default()
}

/// The lock object as found: its parsed body or why it is unreadable.
pub(crate) enum Found {
    Free,
    Held(Box<LockBody>, String),
    Damaged { detail: String, etag: String },
}

pub(crate) fn read(store: &Store, key: &str) -> Result<Found, StateError> {
    Ok(match store.get(key)? {
        None => Found::Free,
        Some(o) => match serde_json::from_slice::<LockBody>(&o.body) {
            Ok(b) => Found::Held(Box::new(b), o.etag),
            Err(e) => Found::Damaged {
                detail: e.to_string(),
                etag: o.etag,
            },
        },
    })
}

/// The id that force-unlocks a damaged lock object: its ETag, unquoted.
pub(crate) fn damaged_id(etag: &str) -> String {
    etag.trim_matches('"').to_string()
}

/// A held lock, renewed in the background until released.
pub(crate) struct HeldLock {
    store: Store,
    key: String,
    pub(crate) body: LockBody,
    /// The lock object's ETag after our last write to it.
    etag: Arc<Mutex<String>>,
    lost: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    stop_tx: Option<tokio::sync::oneshot::Sender<()>>,
}

impl HeldLock {
    /// Takes the lock, waiting up to `options.timeout`; an expired lock is
    /// taken over. `ttl` is how long the lock outlives its last heartbeat.
    pub(crate) fn acquire(
        store: &Store,
        key: &str,
        options: &LockOptions,
        ttl: Duration,
    ) -> Result<HeldLock, StateError> {
        let deadline = Instant::now() + options.timeout;
        let mut told = false;
        loop {
            let found = read(store, key)?;
            let (previous, cond) = match found {
                Found::Free => (None, Cond::Absent),
                Found::Held(b, etag) if now_ms() > b.lock.lease_expires_unix_ms => {
                    (Some(b.lock), Cond::Matches(etag))
                }
                Found::Held(b, _) => {
                    let holder = b.lock;
                    if Instant::now() >= deadline {
                        return Err(StateError::Locked {
                            holder: Box::new(holder),
                        });
                    }
                    if !told {
                        told = true;
                        if let Some(f) = &options.on_wait {
                            f(&holder);
                        }
                    }
                    // Polling is how an object lock is waited for.
                    std::thread::sleep((deadline - Instant::now()).min(Duration::from_millis(500)));
                    continue;
                }
                Found::Damaged { detail, etag } => {
                    return Err(StateError::LockFileCorrupt {
                        path: store.url(key).into(),
                        detail,
                        unlock_id: damaged_id(&etag),
                    });
                }
            };
            let body = LockBody {
                lock: LockInfo::for_this_process(&options.operation, ttl),
                took_over: previous,
            };
            // Refused: another run won the race; look again.
            if let Put::Done(etag) = store.put(key, to_json(&body), cond)? {
                return Ok(Self::start(store, key, body, etag, ttl));
            }
        }
    }

    fn start(store: &Store, key: &str, body: LockBody, etag: String, ttl: Duration) -> HeldLock {
        let etag = Arc::new(Mutex::new(etag));
        let lost = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (s, k, e, l, st, b) = (
            store.clone(),
            key.to_string(),
            etag.clone(),
            lost.clone(),
            stop.clone(),
            body.clone(),
        );
        store.spawn(async move {
            let mut body = b;
            loop {
                tokio::select! {
                    _ = &mut stop_rx => return,
                    () = tokio::time::sleep(ttl / 3) => {}
                }
                body.lock.lease_expires_unix_ms = now_ms() + ttl.as_millis() as u64;
                let current = match e.lock() {
                    Ok(g) => g.clone(),
                    Err(_) => return,
                };
                if st.load(Ordering::SeqCst) {
                    return;
                }
                match s
                    .put_async(&k, to_json(&body), Cond::Matches(current))
                    .await
                {
                    Ok(Put::Done(new)) => {
                        if let Ok(mut g) = e.lock() {
                            *g = new;
                        }
                    }
                    // Force-unlocked or taken over: every later write fails.
                    Ok(Put::Refused) => {
                        l.store(true, Ordering::SeqCst);
                        return;
                    }
                    // A network failure: try again at the next beat; if the
                    // lease runs out meanwhile, the next renewal is refused.
                    Err(_) => {}
                }
            }
        });
        HeldLock {
            store: store.clone(),
            key: key.to_string(),
            body,
            etag,
            lost,
            stop,
            stop_tx: Some(stop_tx),
        }
    }

    pub(crate) fn info(&self) -> &LockInfo {
        &self.body.lock
    }

    /// Fails once the lock is known lost; reads the lock object so that a
    /// force-unlock stops the very next write, not the next heartbeat.
    pub(crate) fn check(&self) -> Result<(), StateError> {
        let lost = || StateError::LockLost {
            lock_id: self.body.lock.id.clone(),
        };
        if self.lost.load(Ordering::SeqCst) {
            return Err(lost());
        }
        match read(&self.store, &self.key)? {
            Found::Held(b, _) if b.lock.id == self.body.lock.id => Ok(()),
            _ => {
                self.lost.store(true, Ordering::SeqCst);
                Err(lost())
            }
        }
    }

    /// Stops the heartbeat and deletes the lock object if it is still ours.
    pub(crate) fn release(&mut self) -> Result<(), StateError> {
        let Some(tx) = self.stop_tx.take() else {
            return Ok(());
        };
        self.stop.store(true, Ordering::SeqCst);
        let _ = tx.send(());
        if self.lost.load(Ordering::SeqCst) {
            return Ok(());
        }
        let etag = self.etag.lock().map(|g| g.clone()).unwrap_or_default();
        // Refused: renewed concurrently or no longer ours; ours is checked by id.
        if !self.store.delete(&self.key, Some(&etag))?
            && let Found::Held(b, etag) = read(&self.store, &self.key)?
            && b.lock.id == self.body.lock.id
        {
            self.store.delete(&self.key, Some(&etag))?;
        }
        Ok(())
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

/// Who holds the lock, without taking it.
pub(crate) fn holder(store: &Store, key: &str) -> Result<Option<LockInfo>, StateError> {
    match read(store, key)? {
        Found::Free => Ok(None),
        Found::Held(b, _) => Ok(Some(b.lock)),
        Found::Damaged { detail, etag } => Err(StateError::LockFileCorrupt {
            path: store.url(key).into(),
            detail,
            unlock_id: damaged_id(&etag),
        }),
    }
}

/// Deletes the lock if its id is `lock_id` (for a damaged object, its
/// ETag); returns who held it. Conditional on the ETag read, so a lock
/// renewed or retaken in between is not removed by mistake.
pub(crate) fn force_unlock(
    store: &Store,
    key: &str,
    lock_id: &str,
) -> Result<Option<LockInfo>, StateError> {
    let (holder, etag) = match read(store, key)? {
        Found::Free => {
            return Err(StateError::NotLocked {
                path: store.url(key).into(),
            });
        }
        Found::Damaged { detail, etag } => {
            if damaged_id(&etag) != lock_id {
                return Err(StateError::LockFileCorrupt {
                    path: store.url(key).into(),
                    detail,
                    unlock_id: damaged_id(&etag),
                });
            }
            (None, etag)
        }
        Found::Held(b, etag) => {
            if b.lock.id != lock_id {
                return Err(StateError::LockIdMismatch {
                    given: lock_id.to_string(),
                    holder: Box::new(b.lock),
                });
            }
            (Some(b.lock), etag)
        }
    };
    if store.delete(key, Some(&etag))? {
        return Ok(holder);
    }
    // Renewed between our read and delete: the id still decides.
    match read(store, key)? {
        Found::Held(b, etag) if b.lock.id == lock_id => {
            store.delete(key, Some(&etag))?;
            Ok(Some(b.lock))
        }
        Found::Free => Ok(holder),
        _ => Err(StateError::Conflict {
            location: store.url(key),
            detail: "the lock changed while it was being removed".into(),
        }),
    }
}
