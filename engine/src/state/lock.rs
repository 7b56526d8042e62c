//! The state lock of a local state directory: a `lock.json` file naming its
//! holder, with a lease the holder renews while it lives.
//!
//! Why a file and not the database's own OS lock: the database can only be
//! opened by one process, so a second run could not even read who holds it.
//! `lock.json` is readable by anyone, survives to say who held the lock, and
//! can be force-unlocked by id.
//!
//! Every read-check-write of `lock.json` happens under a short OS lock on
//! `lock.guard`, so two runs can never both take the lock (or both take over
//! a stale one). `lock.json` is always replaced by rename, never written in
//! place, so it is never seen half-written.
//!
//! A lock is stale, and may be taken over, when its lease expired (the
//! holder stopped renewing it) or, on Linux, when its holder ran on this host
//! and its process no longer exists.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::clock::{now_unix_ms, rfc3339};
use super::error::{Result, StateError, describe_json_error};

/// Who holds a state lock, as stored in `lock.json` and shown in errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// The lock id (a UUID), the argument of `posture force-unlock`.
    pub id: String,
    /// The command that holds it, e.g. `apply` or `state list`.
    pub operation: String,
    /// `user@host` of the holder.
    pub who: String,
    /// The holder's host name.
    pub host: String,
    /// The holder's process id.
    pub pid: u32,
    /// The holder's PID namespace (Linux, e.g. `pid:[4026531836]`): a pid
    /// only identifies a process within its namespace (containers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_namespace: Option<String>,
    /// The holder's posture version.
    pub version: String,
    /// When the lock was taken (RFC 3339, UTC).
    pub created: String,
    /// When the lease ends unless renewed (Unix milliseconds).
    pub lease_expires_unix_ms: u64,
}

impl LockInfo {
    /// A new lock record for this process (a fresh id), its lease ending
    /// `lease` from now: what a remote backend writes when it takes a lock.
    pub fn for_this_process(operation: &str, lease: Duration) -> LockInfo {
        let now = now_unix_ms();
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{}@{}", user_name(), host_name()),
            host: host_name(),
            pid: std::process::id(),
            pid_namespace: pid_namespace(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            created: rfc3339(now),
            lease_expires_unix_ms: now + lease.as_millis() as u64,
        }
    }
}

/// The block Terraform users know from lock errors, for the CLI to print.
impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Lock Info:")?;
        writeln!(f, "  ID:        {}", self.id)?;
        writeln!(f, "  Operation: {}", self.operation)?;
        writeln!(f, "  Who:       {}", self.who)?;
        writeln!(f, "  PID:       {}", self.pid)?;
        writeln!(f, "  Version:   {}", self.version)?;
        write!(f, "  Created:   {}", self.created)
    }
}

/// The default lease (`lock_ttl`) of a lock: how long it outlives its
/// holder's last renewal. The same 2 minutes as the remote backends'.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// How to take a lock.
pub struct LockOptions {
    /// The command taking it, shown to whoever finds it held.
    pub operation: String,
    /// How long to wait for a held lock before failing; zero fails at once.
    pub timeout: Duration,
    /// Lease length; the holder renews it every third of it.
    pub lease: Duration,
    /// Called once when the lock is held by someone else and the call starts
    /// waiting, so the CLI can say who it waits for.
    pub on_wait: Option<WaitCallback>,
}

/// The callback type of [`LockOptions::on_wait`].
pub type WaitCallback = Box<dyn Fn(&LockInfo) + Send + Sync>;

impl LockOptions {
    /// Options for `operation`: no waiting, a [`DEFAULT_LEASE`] lease.
    pub fn new(operation: impl Into<String>) -> Self {
        LockOptions {
            operation: operation.into(),
            timeout: Duration::ZERO,
            lease: DEFAULT_LEASE,
            on_wait: None,
        }
    }

    /// Sets how long to wait for a held lock.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the lease length (at least one second).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_secs(1));
        self
    }

    /// Sets the callback run once when waiting starts.
    pub fn on_wait(mut self, f: impl Fn(&LockInfo) + Send + Sync + 'static) -> Self {
        self.on_wait = Some(Box::new(f));
        self
    }
}

fn lock_path(dir: &Path) -> PathBuf {
    dir.join("lock.json")
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs `f` while holding the OS lock on `dir/lock.guard`, which serialises
/// every read-check-write of `lock.json` between processes.
fn with_guard<T>(dir: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let guard_path = dir.join("lock.guard");
    let guard = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&guard_path)
        .map_err(io_err(&guard_path))?;
    guard.lock().map_err(io_err(&guard_path))?;
    let out = f();
    // Closing the file releases the OS lock even if unlock fails.
    let _ = guard.unlock();
    out
}

/// Reads the current lock of a state directory without taking it.
///
/// # Errors
/// I/O errors, or [`StateError::LockFileCorrupt`].
pub fn read_lock(dir: &Path) -> Result<Option<LockInfo>> {
    let path = lock_path(dir);
    // Bytes, not a String: garbage that is not UTF-8 is a damaged lock,
    // not an I/O error (which would blame permissions).
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path)(e)),
    };
    let damaged = |detail: String| StateError::LockFileCorrupt {
        path: path.clone(),
        detail,
        unlock_id: damaged_lock_id(&bytes),
    };
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| damaged(format!("not UTF-8 text at byte {}", e.valid_up_to())))?;
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| damaged(describe_json_error(&e)))
}

/// The id that names a damaged lock file: a digest of its bytes.
fn damaged_lock_id(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(bytes);
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("damaged-{hex}")
}

fn write_lock(dir: &Path, info: &LockInfo) -> Result<()> {
    let path = lock_path(dir);
    let tmp = dir.join(format!("lock.json.{}.tmp", info.id));
    let text = serde_json::to_string_pretty(info).unwrap_or_default();
    let mut file = File::create(&tmp).map_err(io_err(&tmp))?;
    file.write_all(text.as_bytes()).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(())
}

/// Removes the lock of `dir` if its id is `lock_id`, whoever holds it, and
/// returns what it was: `None` when it was a damaged lock file, named by the
/// `unlock_id` of its [`StateError::LockFileCorrupt`]. The CLI asks for
/// confirmation unless `--force`.
///
/// A holder that is still alive notices at its next lease renewal and stops
/// writing ([`StateError::LockLost`]).
///
/// # Errors
/// [`StateError::NotLocked`], [`StateError::LockIdMismatch`], a damaged lock
/// file with another id ([`StateError::LockFileCorrupt`]), I/O errors.
pub fn force_unlock(dir: &Path, lock_id: &str) -> Result<Option<LockInfo>> {
    if !dir.is_dir() {
        return Err(StateError::NotLocked {
            path: dir.to_path_buf(),
        });
    }
    with_guard(dir, || {
        let current = match read_lock(dir) {
            Err(StateError::LockFileCorrupt { unlock_id, .. }) if unlock_id == lock_id => {
                let path = lock_path(dir);
                fs::remove_file(&path).map_err(io_err(&path))?;
                return Ok(None);
            }
            other => other?,
        };
        let Some(current) = current else {
            return Err(StateError::NotLocked {
                path: dir.to_path_buf(),
            });
        };
        if current.id != lock_id {
            return Err(StateError::LockIdMismatch {
                given: lock_id.to_string(),
                holder: Box::new(current),
            });
        }
        let path = lock_path(dir);
        fs::remove_file(&path).map_err(io_err(&path))?;
        Ok(Some(current))
    })
}

pub(crate) fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_string())
}

fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown-user".to_string())
}

pub(crate) fn pid_namespace() -> Option<String> {
    fs::read_link("/proc/self/ns/pid")
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Whether the lock may be taken over: lease expired, or (Linux) a holder on
/// this host and in this PID namespace whose process is gone. Two
/// containers with the same host name but separate PID namespaces never
/// judge each other's pids.
fn is_stale(info: &LockInfo, now_ms: u64) -> bool {
    if now_ms > info.lease_expires_unix_ms {
        return true;
    }
    let ours = pid_namespace();
    ours.is_some()
        && info.pid_namespace == ours
        && info.host == host_name()
        && !Path::new(&format!("/proc/{}", info.pid)).exists()
}

/// The result of one try at taking the lock.
enum Attempt {
    /// Taken; replacing this stale lock, if any.
    Taken(Option<LockInfo>),
    /// Held by someone alive.
    HeldBy(LockInfo),
}

/// A lock held by this process; renewed by a background thread until released.
pub(crate) struct HeldLock {
    dir: PathBuf,
    info: LockInfo,
    // The stale lock this one replaced, to put back if the takeover was wrong.
    replaced: Option<LockInfo>,
    lost: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    renewer: Option<JoinHandle<()>>,
}

impl HeldLock {
    /// Takes the lock of `dir`, waiting up to `options.timeout`.
    pub(crate) fn acquire(dir: &Path, options: &LockOptions) -> Result<HeldLock> {
        let deadline = Instant::now() + options.timeout;
        let mut told_waiting = false;
        loop {
            let now = now_unix_ms();
            let info = LockInfo {
                id: uuid::Uuid::new_v4().to_string(),
                operation: options.operation.clone(),
                who: format!("{}@{}", user_name(), host_name()),
                host: host_name(),
                pid: std::process::id(),
                pid_namespace: pid_namespace(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                created: rfc3339(now),
                lease_expires_unix_ms: now + options.lease.as_millis() as u64,
            };
            let taken = with_guard(dir, || match read_lock(dir)? {
                Some(current) if !is_stale(&current, now) => Ok(Attempt::HeldBy(current)),
                // Free, or stale: the rename in write_lock replaces a stale file.
                previous => write_lock(dir, &info).map(|()| Attempt::Taken(previous)),
            })?;
            let holder = match taken {
                Attempt::Taken(replaced) => {
                    return Ok(Self::start(dir, info, options.lease, replaced));
                }
                Attempt::HeldBy(holder) => holder,
            };
            let now_instant = Instant::now();
            if now_instant >= deadline {
                return Err(StateError::Locked {
                    holder: Box::new(holder),
                });
            }
            if !told_waiting {
                told_waiting = true;
                if let Some(f) = &options.on_wait {
                    f(&holder);
                }
            }
            // Polling is how a file lock is waited for; a quarter second keeps it cheap.
            std::thread::sleep((deadline - now_instant).min(Duration::from_millis(250)));
        }
    }

    fn start(dir: &Path, info: LockInfo, lease: Duration, replaced: Option<LockInfo>) -> HeldLock {
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let renewer = {
            let (dir, id, lost) = (dir.to_path_buf(), info.id.clone(), Arc::clone(&lost));
            std::thread::spawn(move || renew_until_stopped(&dir, &id, lease, &lost, &stopped))
        };
        HeldLock {
            dir: dir.to_path_buf(),
            info,
            replaced,
            lost,
            stop: Some(stop),
            renewer: Some(renewer),
        }
    }

    /// The lock's description.
    pub(crate) fn info(&self) -> &LockInfo {
        &self.info
    }

    /// The stale lock this one took over, if any, for history to name.
    pub(crate) fn replaced(&self) -> Option<&LockInfo> {
        self.replaced.as_ref()
    }

    /// Fails if the lock was force-unlocked or taken over. Reads `lock.json`
    /// (one small read, no guard needed: it is only ever replaced by rename)
    /// so a force-unlock stops the very next write, not the next renewal.
    pub(crate) fn check(&self) -> Result<()> {
        if !self.lost.load(Ordering::SeqCst) {
            match read_lock(&self.dir) {
                Ok(Some(current)) if current.id == self.info.id => return Ok(()),
                // An unreadable lock file is not proof of loss; the renewal decides.
                Err(StateError::Io { .. }) => return Ok(()),
                _ => self.lost.store(true, Ordering::SeqCst),
            }
        }
        Err(StateError::LockLost {
            lock_id: self.info.id.clone(),
        })
    }

    /// Stops renewing and removes `lock.json` if it is still ours.
    pub(crate) fn release(&mut self) -> Result<()> {
        self.end(false)
    }

    /// Undoes a takeover that proved wrong (the "stale" holder still has the
    /// database open): puts the replaced lock back instead of removing ours,
    /// so the live holder keeps its lock.
    pub(crate) fn give_back(&mut self) -> Result<()> {
        self.end(true)
    }

    fn end(&mut self, restore_replaced: bool) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            drop(stop);
        }
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.join();
        }
        if self.lost.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        with_guard(&self.dir, || match read_lock(&self.dir) {
            Ok(Some(current)) if current.id == self.info.id => match &self.replaced {
                Some(previous) if restore_replaced => write_lock(&self.dir, previous),
                _ => {
                    let path = lock_path(&self.dir);
                    fs::remove_file(&path).map_err(io_err(&path))
                }
            },
            // Gone or someone else's now: nothing of ours to remove.
            _ => Ok(()),
        })
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

/// Extends the lease of lock `id` by `lease` from now. `Ok(false)` when the
/// lock is no longer ours (force-unlocked or taken over).
pub(crate) fn renew_once(dir: &Path, id: &str, lease: Duration) -> Result<bool> {
    with_guard(dir, || match read_lock(dir)? {
        Some(mut current) if current.id == id => {
            current.lease_expires_unix_ms = now_unix_ms() + lease.as_millis() as u64;
            write_lock(dir, &current).map(|()| true)
        }
        _ => Ok(false),
    })
}

fn renew_until_stopped(
    dir: &Path,
    id: &str,
    lease: Duration,
    lost: &AtomicBool,
    stopped: &mpsc::Receiver<()>,
) {
    // recv_timeout doubles as the renewal timer and the stop signal
    // (the sender is dropped on release).
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(lease / 3) {
        match renew_once(dir, id, lease) {
            Ok(true) => {}
            // Force-unlocked or taken over: stop, and make every write fail.
            Ok(false) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            // A transient I/O error: try again at the next tick; the lease
            // leaves two more chances before anyone may take over.
            Err(_) => {}
        }
    }
}
