//! Ctrl-C (SIGINT) and SIGTERM while an apply runs. The first stops
//! starting operations, even within a batch, and lets those in flight finish
//! and be recorded; the second stops waiting for them (their intents stay
//! pending for the next run to settle). Either way the state is committed
//! and the lock released before posture exits 128 + the first signal.
//!
//! SIGTERM is what CI timeouts and Kubernetes send before killing a job, so
//! it gets the same grace as Ctrl-C.

use std::sync::{Arc, OnceLock};
use tokio_util::sync::CancellationToken;

/// A signal that stops a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, a CI timeout, a Kubernetes Job's termination.
    Terminate,
}

impl Signal {
    pub(super) fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// 128 + the signal number, what a shell reports for a process the
    /// signal ended.
    pub(super) fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// The handlers of one apply; dropping or [`Signals::first`] removes the
/// watcher (the process keeps ignoring the signals until it exits, which
/// follows at once).
pub(super) struct Signals {
    first: Arc<OnceLock<Signal>>,
    task: tokio::task::JoinHandle<()>,
}

impl Signals {
    /// Installs the handlers now (inside the runtime): the first signal
    /// cancels `interrupt`, the second `abandon`.
    pub(super) fn install(interrupt: CancellationToken, abandon: CancellationToken) -> Signals {
        let first: Arc<OnceLock<Signal>> = Arc::default();
        let mut next = listen();
        let seen = first.clone();
        let task = tokio::spawn(async move {
            let mut count = 0;
            while let Some(sig) = next.recv().await {
                count += 1;
                let name = sig.name();
                if count == 1 {
                    let _ = seen.set(sig);
                    eprintln!(
                        "\n{name} received: finishing the operations in flight and starting nothing new. Send it again to stop waiting for them (the next run settles them)."
                    );
                    interrupt.cancel();
                } else if count == 2 {
                    eprintln!(
                        "\n{name} received again: no longer waiting for the operations in flight; saving the state. The next run settles what they did."
                    );
                    abandon.cancel();
                }
                // Later ones: the state is being saved; that is not cut short.
            }
        });
        Signals { first, task }
    }

    /// The first signal received, if any; stops watching.
    pub(super) fn first(self) -> Option<Signal> {
        self.task.abort();
        self.first.get().copied()
    }
}

/// Forwards SIGINT and SIGTERM into one channel. The handlers are
/// registered before this returns.
fn listen() -> tokio::sync::mpsc::UnboundedReceiver<Signal> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for (kind, sig) in [
            (SignalKind::interrupt(), Signal::Interrupt),
            (SignalKind::terminate(), Signal::Terminate),
        ] {
            match signal(kind) {
                Ok(mut stream) => {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        while stream.recv().await.is_some() {
                            if tx.send(sig).is_err() {
                                break;
                            }
                        }
                    });
                }
                Err(e) => eprintln!(
                    "Warning: {} cannot be handled ({e}); it would end posture at once",
                    sig.name()
                ),
            }
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(Signal::Interrupt).is_err() {
                break;
            }
        }
    });
    rx
}
