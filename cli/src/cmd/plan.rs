//! `posture plan`

use super::common::{self, LockArgs};
use crate::output::print_diags;
use posture_engine::plan::{Plan, PlanMode, PlanOptions, render::render_plan};
use posture_engine::session::{RunError, Session};
use std::io::Write;
use std::path::PathBuf;

/// Options shared by plan, apply and destroy.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PlanArgs {
    /// Only plan these resource addresses (and what they depend on). Repeatable.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
    /// Replace this instance even if it has not changed. Repeatable.
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub replace: Vec<String>,
    /// Read the real objects first (default true).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// Only accept changes made outside posture into state.
    #[arg(long)]
    pub refresh_only: bool,
    /// Plan to destroy everything.
    #[arg(long)]
    pub destroy: bool,
    /// How many operations run at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub vars: super::VarArgs,
}

impl PlanArgs {
    fn options(&self) -> PlanOptions {
        PlanOptions {
            mode: if self.destroy {
                PlanMode::Destroy
            } else if self.refresh_only {
                PlanMode::RefreshOnly
            } else {
                PlanMode::Normal
            },
            refresh: self.refresh,
            targets: self.targets.clone(),
            replace: self.replace.clone(),
            selection: self.lock.selection(),
        }
    }
}

/// Arguments of `posture plan`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    plan: PlanArgs,
    /// Save the plan to FILE for `posture apply FILE`.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Print the plan as JSON (format documented in docs/json-plan.md).
    #[arg(long)]
    json: bool,
}

/// Plans through the engine's session (checks, graph, providers configured,
/// recovery, state, plan): what plan, apply and destroy share. Prints what
/// recovery settled, the warnings, and any error.
pub async fn make_plan(session: &Session, args: &PlanArgs) -> Result<Plan, u8> {
    let r = session.plan(&args.options()).await;
    print_recovered(session);
    match r {
        Ok(p) => {
            print_diags(&p.warnings, &session.workspace().sources);
            Ok(p.plan)
        }
        Err(e) => Err(report_run_error(&e, session)),
    }
}

/// Prints, on stderr, each operation an interrupted run left that recovery
/// settled in this run.
pub fn print_recovered(session: &Session) {
    for l in session.recovered() {
        eprintln!("Recovered: {l}");
    }
}

/// Prints why a run stopped, each kind of failure its own way; returns the
/// exit code (1).
pub fn report_run_error(e: &RunError, session: &Session) -> u8 {
    match e {
        RunError::Diagnostics(d) => print_diags(d, &session.workspace().sources),
        RunError::State(e) => eprintln!("Error: Failed to read state\n\n{e}\n"),
        RunError::Recovery(e) => eprintln!(
            "Error: Unfinished operations from an interrupted run\n\n{e}\n\nNothing was planned. Fix the cause (often an unreachable cluster or API) and run again."
        ),
        RunError::RecoveredSincePlan => eprintln!(
            "Error: Saved plan is stale\n\nAn interrupted run left unfinished operations, settled above: the state changed after the plan was created. Create a new plan and apply that."
        ),
        RunError::StalePlan {
            plan_lineage,
            plan_serial,
            state_lineage,
            state_serial,
        } => eprintln!(
            "Error: Saved plan is stale\n\nThe given plan file can no longer be applied because the state was changed by another operation after the plan was created (plan: lineage {plan_lineage} serial {plan_serial}; state: lineage {state_lineage} serial {state_serial}). Create a new plan and apply that."
        ),
        RunError::Internal(e) => eprintln!("Error: {e}"),
    }
    1
}

/// Runs the command.
pub fn run(a: Args) -> u8 {
    let ws = match common::load(&a.plan.vars) {
        Ok(w) => w,
        Err(c) => return c,
    };
    let rt = match common::runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let backend = match common::open_state(Some(&ws), "plan", &a.plan.lock) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let session = Session::new(ws, common::providers(), backend);
    let plan = match rt.block_on(make_plan(&session, &a.plan)) {
        Ok(p) => p,
        Err(c) => return c,
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan.to_json()).unwrap_or_default()
        );
    } else {
        print!("{}", render_plan(&plan));
    }
    if let Some(out) = &a.out {
        let text = serde_json::to_string_pretty(&plan.to_file_json()).unwrap_or_default();
        if let Err(e) = write_atomic(out, text.as_bytes()) {
            eprintln!(
                "Error: Failed to write plan file\n\nThe plan could not be saved to {}: {e}",
                out.display()
            );
            return 1;
        }
        if !a.json {
            println!(
                "\nSaved the plan to: {}\n\nTo perform exactly these actions, run:\n  posture apply {}",
                out.display(),
                out.display()
            );
        }
    }
    // A plan missing instances fails, --detailed-exitcode or not: neither
    // "no changes" (0) nor "changes" (2) is known to be true.
    if report_failed(&plan) {
        return 1;
    }
    if a.detailed_exitcode && plan.has_changes() {
        2
    } else {
        0
    }
}

/// Prints, to stderr, why each instance is missing from the plan; true when
/// any is. The rendered plan already closed with how many are missing.
pub fn report_failed(plan: &Plan) -> bool {
    // The plan on stdout says "errors below": let it land first.
    let _ = std::io::stdout().flush();
    if !plan.failed.is_empty() {
        // Set the errors apart from the plan on a terminal.
        eprintln!();
    }
    for (addr, msg) in &plan.failed {
        eprintln!("Error: {addr}: {msg}\n");
    }
    !plan.failed.is_empty()
}

/// Writes a file so that it is either wholly old or wholly new.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
