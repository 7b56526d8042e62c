//! `posture plan`

use super::common::{self, LockArgs};
use crate::output::print_diags;
use posture_engine::plan::{Plan, PlanMode, PlanOptions, render::render_plan};
use posture_engine::provider::Providers;
use posture_engine::scope::{Evaluation, Strictness};
use posture_engine::state::Backend;
use posture_engine::workspace::Workspace;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

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

/// Checks, configures the providers, recovers, loads the state and plans:
/// what plan, apply and destroy share.
pub async fn make_plan(
    ws: &Workspace,
    providers: &Providers,
    backend: &Arc<dyn Backend>,
    args: &PlanArgs,
) -> Result<Plan, u8> {
    // Every check validate runs: a typo in a type name must not drop a
    // resource from the plan.
    let checks = posture_engine::plan::validate(ws, providers);
    if checks.has_errors() {
        print_diags(&checks, &ws.sources);
        return Err(1);
    }
    let graph = match posture_engine::plan::graph::build(&ws.tree) {
        Ok(g) => g,
        Err(d) => {
            print_diags(&d, &ws.sources);
            return Err(1);
        }
    };
    let ev = Evaluation::new(
        &ws.tree,
        &ws.sources,
        providers,
        ws.raw_vars.clone(),
        Strictness::Full,
    )
    .for_plan();
    // Configured before recovery: its reads need the providers' settings.
    common::configure(ws, providers, &ev).await?;
    common::recover(backend, providers).await?;
    let b = backend.clone();
    let state = match tokio::task::spawn_blocking(move || b.load()).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            eprintln!("Error: Failed to read state\n\n{e}\n");
            return Err(1);
        }
        Err(e) => {
            eprintln!("Error: {e}");
            return Err(1);
        }
    };
    match posture_engine::plan::plan(&ev, &graph, providers, &state, &args.options()).await {
        Ok((mut plan, warnings)) => {
            print_diags(&warnings, &ws.sources);
            plan.variables = ws
                .raw_vars
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect();
            Ok(plan)
        }
        Err(d) => {
            print_diags(&d, &ws.sources);
            Err(1)
        }
    }
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
    let providers = common::providers();
    let backend = match common::open_state(Some(&ws), "plan", &a.plan.lock) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let plan = match rt.block_on(make_plan(&ws, &providers, &backend, &a.plan)) {
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
