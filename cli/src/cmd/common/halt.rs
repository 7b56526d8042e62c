//! A test hook that stops a run at an exact point of the durability
//! protocol, so that a test can `kill -9` it there without guessing with
//! sleeps: `POSTURE_TEST_HALT=intents:N` halts once N intents are durable,
//! before the provider is called; `POSTURE_TEST_HALT=applied:N` halts once
//! N intents are durable and the provider has answered their batch, before
//! the answer is recorded (the objects exist, the intents are pending);
//! `POSTURE_TEST_HALT=migrate:copied` halts `posture init --migrate-state`
//! once the state was copied, before the new backend is recorded;
//! `migrate:history:K` once K older serials are written to the new backend
//! (a backend that copies history serial by serial: s3, kubernetes), and
//! `migrate:current` once every older serial is, before the current state.
//!
//! Halting prints one line on stderr and blocks every later state write
//! until the process is killed. Unset, nothing is wrapped; any other value
//! is refused (exit 1), so the hook cannot be set by accident. Documented
//! in docs/commands/apply.md.

use posture_engine::state::{
    Backend, HistoryEntry, Intent, IntentId, LockInfo, NewIntent, Outcome, OutputValue, Result,
    State,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The variable's name.
pub const VAR: &str = "POSTURE_TEST_HALT";

/// Where to halt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// Once this many intents are durable, before the provider call.
    Intents(usize),
    /// Once this many intents are durable and their batch was answered,
    /// before the results are recorded.
    Applied(usize),
    /// `init --migrate-state`: once copied, before the new backend is recorded.
    Migrated,
    /// `init --migrate-state`: once this many older serials are written to
    /// the new backend.
    MigratedHistory(usize),
    /// `init --migrate-state`: every older serial written, before the
    /// current state is.
    MigratingCurrent,
}

/// The hook the environment asks for; exit 1 for a value it does not take.
pub fn from_env() -> std::result::Result<Option<Halt>, u8> {
    let Ok(v) = std::env::var(VAR) else {
        return Ok(None);
    };
    parse(&v).map(Some).ok_or_else(|| {
        eprintln!(
            "Error: Invalid {VAR}\n\n{VAR} is a test hook that stops a run for a test to kill it; it takes intents:N, applied:N, migrate:history:N (N ≥ 1), migrate:current or migrate:copied, not {v:?}. Unset it."
        );
        1
    })
}

fn parse(v: &str) -> Option<Halt> {
    match v {
        "migrate:copied" => return Some(Halt::Migrated),
        "migrate:current" => return Some(Halt::MigratingCurrent),
        _ => {}
    }
    let (kind, n) = v.rsplit_once(':')?;
    let n: usize = n.parse().ok().filter(|n| *n >= 1)?;
    match kind {
        "intents" => Some(Halt::Intents(n)),
        "applied" => Some(Halt::Applied(n)),
        "migrate:history" => Some(Halt::MigratedHistory(n)),
        _ => None,
    }
}

/// The backend, wrapped when a hook is set.
pub fn wrap(b: Box<dyn Backend>, halt: Option<Halt>) -> Arc<dyn Backend> {
    match halt {
        None | Some(Halt::Migrated | Halt::MigratedHistory(_) | Halt::MigratingCurrent) => {
            Arc::from(b)
        }
        Some(at) => Arc::new(Halting {
            inner: b,
            at,
            recorded: AtomicUsize::new(0),
            halted: AtomicBool::new(false),
        }),
    }
}

/// Halts here, never to return, when the environment asks for `at`: the
/// test kills the process.
pub fn halt_at(at: Halt) {
    if from_env().ok().flatten() == Some(at) {
        eprintln!("{VAR}: halted at {at:?}; waiting to be killed");
        loop {
            std::thread::park();
        }
    }
}

struct Halting {
    inner: Box<dyn Backend>,
    at: Halt,
    recorded: AtomicUsize,
    halted: AtomicBool,
}

impl Halting {
    /// Never returns: the test kills the process here.
    fn halt(&self) -> ! {
        if !self.halted.swap(true, Ordering::SeqCst) {
            eprintln!(
                "{VAR}: halted with {} intents recorded; waiting to be killed",
                self.recorded.load(Ordering::SeqCst)
            );
        }
        loop {
            std::thread::park();
        }
    }

    /// Writes after the halt wait with it: nothing more reaches the state.
    fn gate(&self) {
        if self.halted.load(Ordering::SeqCst) {
            self.halt();
        }
    }

    fn after_recording(&self, n: usize) {
        let total = self.recorded.fetch_add(n, Ordering::SeqCst) + n;
        if matches!(self.at, Halt::Intents(k) if total >= k) {
            self.halt();
        }
    }

    fn before_completing(&self) {
        self.gate();
        let total = self.recorded.load(Ordering::SeqCst);
        if matches!(self.at, Halt::Applied(k) if total >= k) {
            self.halt();
        }
    }
}

impl Backend for Halting {
    fn lock_info(&self) -> &LockInfo {
        self.inner.lock_info()
    }
    fn load(&self) -> Result<State> {
        self.inner.load()
    }
    fn record_intent(&self, intent: NewIntent) -> Result<IntentId> {
        self.gate();
        let id = self.inner.record_intent(intent)?;
        self.after_recording(1);
        Ok(id)
    }
    fn complete_intent(&self, id: &IntentId, outcome: Outcome) -> Result<()> {
        self.before_completing();
        self.inner.complete_intent(id, outcome)
    }
    fn record_intents(&self, intents: Vec<NewIntent>) -> Result<Vec<IntentId>> {
        self.gate();
        let ids = self.inner.record_intents(intents)?;
        self.after_recording(ids.len());
        Ok(ids)
    }
    fn complete_intents(&self, done: Vec<(IntentId, Outcome)>) -> Result<()> {
        self.before_completing();
        self.inner.complete_intents(done)
    }
    fn pending_intents(&self) -> Result<Vec<Intent>> {
        self.inner.pending_intents()
    }
    fn commit(&self, outputs: Option<BTreeMap<String, OutputValue>>, summary: &str) -> Result<u64> {
        self.gate();
        self.inner.commit(outputs, summary)
    }
    fn history(&self) -> Result<Vec<HistoryEntry>> {
        self.inner.history()
    }
    fn snapshot(&self, serial: u64) -> Result<State> {
        self.inner.snapshot(serial)
    }
    fn pull(&self) -> Result<String> {
        self.inner.pull()
    }
    fn push(&self, json: &str, force: bool) -> Result<u64> {
        self.gate();
        self.inner.push(json, force)
    }
    fn rewrite(&self, state: &State, summary: &str) -> Result<u64> {
        self.gate();
        self.inner.rewrite(state, summary)
    }
    fn close(self: Box<Self>) -> Result<()> {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_values_set_the_hook() {
        assert_eq!(parse("intents:1"), Some(Halt::Intents(1)));
        assert_eq!(parse("applied:3"), Some(Halt::Applied(3)));
        assert_eq!(parse("migrate:history:2"), Some(Halt::MigratedHistory(2)));
        assert_eq!(parse("migrate:current"), Some(Halt::MigratingCurrent));
        assert_eq!(parse("migrate:copied"), Some(Halt::Migrated));
        for bad in [
            "",
            "1",
            "applied",
            "applied:0",
            "applied:-1",
            "crash:1",
            "Applied:1",
            "migrate:history:0",
            "migrate:history",
            "migrate:1",
            "intents:migrate:1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
