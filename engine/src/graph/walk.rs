//! The bounded-parallel walker that runs one async job per node of a [`Dag`].
//!
//! Scheduling is O(V+E): each node's count of unfinished dependencies is kept
//! in a vector, a finishing node decrements its dependents' counts, and a
//! failure marks its transitive dependents skipped, visiting each node at most
//! once. The walker never prints and never decides exit codes.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::dag::{CycleError, Dag, NodeId};

/// Why a node was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// A node it depends on, directly or transitively, failed or panicked;
    /// `failed` is that node.
    DependencyFailed {
        /// The failed node whose failure caused the skip.
        failed: NodeId,
    },
    /// The walk was cancelled before the node could start.
    Cancelled,
}

/// What happened to every node of a walk. Each node appears in exactly one
/// of `succeeded`, `failed`, `panicked` or `skipped`.
#[derive(Debug)]
pub struct WalkReport<E> {
    /// Nodes whose job returned `Ok`, in completion order.
    pub succeeded: Vec<NodeId>,
    /// Nodes whose job returned `Err`, with the error, in completion order.
    pub failed: Vec<(NodeId, E)>,
    /// Nodes whose job panicked, with the panic message (a bug, not a
    /// provider failure), in completion order.
    pub panicked: Vec<(NodeId, String)>,
    /// Nodes never started, sorted by id, with the reason.
    pub skipped: Vec<(NodeId, SkipReason)>,
    /// Whether the walk was cancelled before every node could start.
    pub cancelled: bool,
}

impl<E> WalkReport<E> {
    /// True when every node succeeded.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
            && self.panicked.is_empty()
            && self.skipped.is_empty()
            && !self.cancelled
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    Running,
    Done,
    Skipped,
}

/// Runs `job(id, &payload)` for every node of `dag`, each only after all its
/// dependencies succeeded, with at most `parallelism` jobs in flight
/// (0 is treated as 1).
///
/// - When a job fails (or panics), exactly its transitive dependents are
///   skipped; independent nodes keep running.
/// - When `cancel` fires, no new job starts; jobs in flight are awaited, and
///   every node not started is reported skipped with [`SkipReason::Cancelled`].
///
/// Jobs are spawned on the current tokio runtime, so they run in parallel on
/// a multi-threaded runtime. `job` is called on the walker's task; it should
/// only clone what the future needs and return quickly.
///
/// # Errors
/// [`CycleError`] if the graph has a cycle; nothing is started then.
pub async fn walk<N, E, F, Fut>(
    dag: &Dag<N>,
    parallelism: usize,
    cancel: &CancellationToken,
    job: F,
) -> Result<WalkReport<E>, CycleError>
where
    N: fmt::Display,
    F: Fn(NodeId, &N) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Send + 'static,
{
    dag.validate()?;
    let parallelism = parallelism.max(1);
    let n = dag.node_count();
    let mut waiting_on: Vec<usize> = dag
        .node_ids()
        .map(|id| dag.dependencies(id).count())
        .collect();
    let mut status = vec![Status::Waiting; n];
    let mut ready: VecDeque<NodeId> = dag
        .node_ids()
        .filter(|id| waiting_on[id.index()] == 0)
        .collect();
    let mut report = WalkReport {
        succeeded: Vec::with_capacity(n),
        failed: Vec::new(),
        panicked: Vec::new(),
        skipped: Vec::new(),
        cancelled: false,
    };
    let mut in_flight: JoinSet<(NodeId, Result<(), E>)> = JoinSet::new();
    // JoinSet reports panics by task id, so keep the mapping to name the node.
    let mut task_nodes = std::collections::HashMap::new();

    loop {
        if cancel.is_cancelled() {
            report.cancelled = true;
        }
        while !report.cancelled && in_flight.len() < parallelism {
            let Some(id) = ready.pop_front() else { break };
            if status[id.index()] != Status::Waiting {
                continue;
            }
            status[id.index()] = Status::Running;
            let fut = job(id, &dag.graph[id.ix()]);
            let handle = in_flight.spawn(async move { (id, fut.await) });
            task_nodes.insert(handle.id(), id);
        }
        if in_flight.is_empty() {
            break;
        }
        let joined = if report.cancelled {
            in_flight.join_next_with_id().await
        } else {
            tokio::select! {
                joined = in_flight.join_next_with_id() => joined,
                () = cancel.cancelled() => continue,
            }
        };
        let Some(joined) = joined else { break };
        let (id, outcome) = match joined {
            Ok((task, (id, outcome))) => {
                task_nodes.remove(&task);
                (id, Ok(outcome))
            }
            Err(err) => {
                let Some(id) = task_nodes.remove(&err.id()) else {
                    continue;
                };
                (id, Err(panic_message(err)))
            }
        };
        status[id.index()] = Status::Done;
        match outcome {
            Ok(Ok(())) => {
                report.succeeded.push(id);
                for next in dag.dependents(id) {
                    waiting_on[next.index()] -= 1;
                    if waiting_on[next.index()] == 0 && status[next.index()] == Status::Waiting {
                        ready.push_back(next);
                    }
                }
            }
            Ok(Err(e)) => {
                report.failed.push((id, e));
                skip_dependents(dag, id, &mut status, &mut report.skipped);
            }
            Err(message) => {
                report.panicked.push((id, message));
                skip_dependents(dag, id, &mut status, &mut report.skipped);
            }
        }
    }

    for (i, s) in status.iter().enumerate() {
        if *s == Status::Waiting {
            report
                .skipped
                .push((NodeId(i as u32), SkipReason::Cancelled));
        }
    }
    report.skipped.sort_by_key(|(id, _)| *id);
    Ok(report)
}

/// Marks every transitive dependent of `failed` as skipped. A node already
/// skipped is not visited again, so all failures together cost O(V+E).
fn skip_dependents<N>(
    dag: &Dag<N>,
    failed: NodeId,
    status: &mut [Status],
    skipped: &mut Vec<(NodeId, SkipReason)>,
) {
    let mut stack: Vec<NodeId> = dag.dependents(failed).collect();
    while let Some(id) = stack.pop() {
        // A dependent cannot be Running or Done: it waits for `failed`.
        if status[id.index()] != Status::Waiting {
            continue;
        }
        status[id.index()] = Status::Skipped;
        skipped.push((id, SkipReason::DependencyFailed { failed }));
        stack.extend(dag.dependents(id));
    }
}

fn panic_message(err: tokio::task::JoinError) -> String {
    if err.is_cancelled() {
        return "the task was cancelled by the runtime".to_string();
    }
    let payload = err.into_panic();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}
