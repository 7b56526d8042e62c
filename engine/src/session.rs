//! One run of the engine, start to end, as every caller needs it: the CLI's
//! `plan`, `apply` and `destroy`, the tests and the examples. A [`Session`]
//! holds a loaded [`Workspace`], the run's [`Providers`] and its state
//! [`Backend`] (opened under its lock), and does the steps in their one
//! right order: checks → graph → configure providers → recover → read
//! state → plan, then apply.
//!
//! Nothing here prints: what a caller may want to show comes back as values
//! ([`Planned`]), and failures as a typed [`RunError`], so that the caller
//! decides how to render them and which exit code they mean.

use crate::apply::{ApplyOptions, ApplyReport};
use crate::config::vars::CliVar;
use crate::diag::Diagnostics;
use crate::plan::{Plan, PlanOptions};
use crate::provider::Providers;
use crate::scope::{Evaluation, Strictness};
use crate::state::{
    Backend, DEFAULT_STATE_DIR, LocalLocation, LockOptions, State, StateError, StateLocation,
};
use crate::workspace::Workspace;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// Why a run stopped. Each kind asks something different of the user, so
/// the caller renders each its own way.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration is wrong (loading, validate's checks, the graph,
    /// provider settings, planning): each diagnostic at file:line:col,
    /// rendered against [`Workspace::sources`].
    #[error("the configuration has errors ({} diagnostics)", .0.len())]
    Diagnostics(Diagnostics),
    /// The state could not be opened, locked or read.
    #[error("{0}")]
    State(#[from] StateError),
    /// Operations an interrupted run left could not be settled: nothing
    /// was planned, and the intents stay pending for the next run.
    #[error("{0}")]
    Recovery(String),
    /// A saved plan, and an interrupted run's operations were settled
    /// since it was made (listed in [`Session::recovered`]): the state it
    /// was made against is gone.
    #[error(
        "an interrupted run left unfinished operations, settled now: the state changed after the plan was created"
    )]
    RecoveredSincePlan,
    /// A saved plan made against another state than the one there now.
    #[error(
        "the state was changed by another operation after the plan was created (plan: lineage {plan_lineage} serial {plan_serial}; state: lineage {state_lineage} serial {state_serial})"
    )]
    StalePlan {
        /// Lineage the plan was made against.
        plan_lineage: String,
        /// Serial the plan was made against.
        plan_serial: u64,
        /// Lineage of the state now.
        state_lineage: String,
        /// Serial of the state now.
        state_serial: u64,
    },
    /// A blocking task of the run died (a panic in the state store).
    #[error("internal error: {0}")]
    Internal(String),
}

/// A plan with what was found on the way to it.
#[derive(Debug)]
pub struct Planned {
    /// The plan, with the root variable values it was made with.
    pub plan: Plan,
    /// Warnings of the plan (the loading's are in [`Workspace::diags`]).
    pub warnings: Diagnostics,
}

/// Where the state of a working directory lives: its
/// `posture { backend "local" { path } }`, else `.posture/`, relative to `dir`.
pub fn state_location(ws: &Workspace, dir: &Path) -> LocalLocation {
    let rel = ws
        .tree
        .module
        .settings
        .backend
        .as_ref()
        .and_then(|b| b.path.clone())
        .unwrap_or_else(|| DEFAULT_STATE_DIR.to_string());
    LocalLocation::new(dir.join(rel))
}

/// One run against one working directory and its state.
pub struct Session {
    ws: Workspace,
    providers: Providers,
    backend: Arc<dyn Backend>,
    /// Providers are configured once per run (aliased instances are made
    /// then); a saved plan's apply configures them without planning.
    configured: AtomicBool,
    /// What recovery settled in this run, one line per intent.
    recovered: Mutex<Vec<String>>,
}

impl Session {
    /// A session over a loaded workspace and a state the caller opened
    /// (the CLI, to report a wait for the lock as it happens).
    pub fn new(ws: Workspace, providers: Providers, backend: Arc<dyn Backend>) -> Session {
        Session {
            ws,
            providers,
            backend,
            configured: AtomicBool::new(false),
            recovered: Mutex::new(Vec::new()),
        }
    }

    /// Loads `dir` with `cli` variables and `env`, and opens its state under
    /// the lock for `lock`'s operation.
    ///
    /// # Errors
    /// [`RunError::Diagnostics`] when the configuration does not load,
    /// [`RunError::State`] when the state cannot be opened or locked.
    pub fn open(
        dir: &Path,
        cli: &[CliVar],
        env: &BTreeMap<String, String>,
        providers: Providers,
        lock: &LockOptions,
    ) -> Result<Session, RunError> {
        let ws = Workspace::load(dir, cli, env);
        if ws.diags.has_errors() {
            return Err(RunError::Diagnostics(ws.diags));
        }
        let backend: Arc<dyn Backend> = Arc::from(state_location(&ws, dir).open(lock)?);
        Ok(Session::new(ws, providers, backend))
    }

    /// [`Session::open`] as `posture apply` run in `dir` with no variables
    /// given on the command line or in the environment does it.
    ///
    /// # Errors
    /// As [`Session::open`].
    pub fn open_dir(dir: &Path, providers: Providers) -> Result<Session, RunError> {
        Session::open(
            dir,
            &[],
            &BTreeMap::new(),
            providers,
            &LockOptions::new("apply"),
        )
    }

    /// The loaded configuration (its sources render diagnostics).
    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    /// The run's providers.
    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    /// The state backend, held under its lock for the session's life.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Reads the committed state.
    ///
    /// # Errors
    /// [`RunError::State`] when it cannot be read.
    pub async fn state(&self) -> Result<State, RunError> {
        let b = self.backend.clone();
        tokio::task::spawn_blocking(move || b.load())
            .await
            .map_err(|e| RunError::Internal(e.to_string()))?
            .map_err(RunError::State)
    }

    fn evaluation(&self) -> Evaluation<'_> {
        Evaluation::new(
            &self.ws.tree,
            &self.ws.sources,
            &self.providers,
            self.ws.raw_vars.clone(),
            Strictness::Full,
        )
    }

    /// Configures every provider from its `provider` block, once.
    async fn configure(&self, ev: &Evaluation<'_>) -> Result<(), RunError> {
        if self.configured.load(Ordering::Acquire) {
            return Ok(());
        }
        self.providers
            .configure(ev)
            .await
            .map_err(RunError::Diagnostics)?;
        self.configured.store(true, Ordering::Release);
        Ok(())
    }

    /// What recovery settled in this run so far, one line per intent (also
    /// when the run stopped after it: the state did change).
    pub fn recovered(&self) -> Vec<String> {
        self.recovered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What a command that writes state outside a plan (`posture import`)
    /// does first: providers configured, then what a killed run left
    /// settled ([`Session::recovered`]). Returns how many operations were
    /// settled.
    ///
    /// # Errors
    /// As [`Session::plan`] for configuration and recovery.
    pub async fn prepare(&self) -> Result<usize, RunError> {
        self.settle(&self.evaluation()).await
    }

    /// Configures the providers (once), then settles what a killed run
    /// left by reading: recovery needs configured providers (a Route53
    /// endpoint and keys, aliased configurations). Returns how many
    /// operations were settled.
    async fn settle(&self, ev: &Evaluation<'_>) -> Result<usize, RunError> {
        self.configure(ev).await?;
        let lines = crate::apply::recover(self.backend.clone(), &self.providers)
            .await
            .map_err(RunError::Recovery)?;
        let n = lines.len();
        self.recovered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(lines);
        Ok(n)
    }

    /// Plans the configuration against the state: every check `validate`
    /// runs and the graph, then providers configured, then what a killed
    /// run left settled by reading ([`Session::recovered`]), then the state
    /// read and planned against.
    ///
    /// # Errors
    /// [`RunError::Diagnostics`] for the configuration (nothing runs
    /// against a configuration with errors), [`RunError::Recovery`] when an
    /// unfinished operation cannot be settled, [`RunError::State`].
    pub async fn plan(&self, opts: &PlanOptions) -> Result<Planned, RunError> {
        // A typo in a type name must not drop a resource from the plan.
        let checks = crate::plan::validate(&self.ws, &self.providers);
        if checks.has_errors() {
            return Err(RunError::Diagnostics(checks));
        }
        let graph = crate::plan::graph::build(&self.ws.tree).map_err(RunError::Diagnostics)?;
        let ev = self.evaluation().for_plan();
        self.settle(&ev).await?;
        let state = self.state().await?;
        let (mut plan, warnings) = crate::plan::plan(&ev, &graph, &self.providers, &state, opts)
            .await
            .map_err(RunError::Diagnostics)?;
        plan.variables = self
            .ws
            .raw_vars
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        Ok(Planned { plan, warnings })
    }

    /// Applies `plan` (made by this session, or saved and checked with
    /// [`Session::check_saved`]). Failed instances are in the report, not
    /// an error: the rest of the plan goes on.
    ///
    /// # Errors
    /// [`RunError::Diagnostics`] when the providers' settings are wrong (a
    /// saved plan's run configures them here).
    pub async fn apply(&self, plan: &Plan, opts: &ApplyOptions) -> Result<ApplyReport, RunError> {
        self.apply_or_abandon(plan, opts, &CancellationToken::new())
            .await
    }

    /// As [`Session::apply`], and when `abandon` fires the requests in
    /// flight are no longer awaited (see [`crate::apply::apply_or_abandon`]).
    ///
    /// # Errors
    /// As [`Session::apply`].
    pub async fn apply_or_abandon(
        &self,
        plan: &Plan,
        opts: &ApplyOptions,
        abandon: &CancellationToken,
    ) -> Result<ApplyReport, RunError> {
        // A fresh evaluation: values planned unknown are computed again
        // from what upstream operations produce.
        let ev = self.evaluation();
        self.configure(&ev).await?;
        Ok(crate::apply::apply_or_abandon(
            &ev,
            &self.providers,
            self.backend.clone(),
            plan,
            opts,
            abandon,
        )
        .await)
    }

    /// A whole run without a question in between: [`Session::plan`], then
    /// [`Session::apply`] of that plan (a plan without changes included:
    /// outputs are committed).
    ///
    /// # Errors
    /// As [`Session::plan`] and [`Session::apply`].
    pub async fn plan_and_apply(
        &self,
        plan: &PlanOptions,
        apply: &ApplyOptions,
    ) -> Result<(Planned, ApplyReport), RunError> {
        let planned = self.plan(plan).await?;
        let report = self.apply(&planned.plan, apply).await?;
        Ok((planned, report))
    }

    /// Readies a saved plan's apply: providers configured, what a killed
    /// run left settled (as [`Session::plan`] does), and the plan checked
    /// to be made against the state there now.
    ///
    /// # Errors
    /// [`RunError::RecoveredSincePlan`] when recovery settled anything,
    /// [`RunError::StalePlan`] when the state moved since, and as
    /// [`Session::plan`] for configuration and recovery.
    pub async fn check_saved(&self, plan: &Plan) -> Result<(), RunError> {
        if self.settle(&self.evaluation()).await? > 0 {
            return Err(RunError::RecoveredSincePlan);
        }
        let state = self.state().await?;
        if state.lineage != plan.lineage || state.serial != plan.serial {
            return Err(RunError::StalePlan {
                plan_lineage: plan.lineage.clone(),
                plan_serial: plan.serial,
                state_lineage: state.lineage,
                state_serial: state.serial,
            });
        }
        Ok(())
    }
}
