//! `posture apply` and `posture destroy`

mod signals;

use super::common::{self};
use super::plan::{PlanArgs, make_plan};
use posture_engine::apply::{ApplyOptions, Progress};
use posture_engine::plan::Plan;
use posture_engine::plan::render::{ShownBy, render_plan_for};
use posture_engine::session::Session;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `posture apply`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A plan saved with `posture plan --out FILE`; applied only if the state has not moved since.
    plan_file: Option<PathBuf>,
    /// Apply without asking for confirmation.
    #[arg(long)]
    auto_approve: bool,
    #[command(flatten)]
    plan: PlanArgs,
}

/// Arguments of `posture destroy`.
#[derive(clap::Args, Debug)]
pub struct DestroyArgs {
    /// Destroy without asking for confirmation.
    #[arg(long)]
    auto_approve: bool,
    #[command(flatten)]
    plan: PlanArgs,
}

/// `posture destroy` = `posture apply --destroy`.
pub fn run_destroy(mut a: DestroyArgs) -> u8 {
    a.plan.destroy = true;
    run(Args {
        plan_file: None,
        auto_approve: a.auto_approve,
        plan: a.plan,
    })
}

/// Runs the command: 0 when everything applied, 1 otherwise.
pub fn run(a: Args) -> u8 {
    let mut ws = match common::load(&a.plan.vars) {
        Ok(w) => w,
        Err(c) => return c,
    };
    let rt = match common::runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let saved = match &a.plan_file {
        Some(f) => match read_plan(f) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!(
                    "Error: Failed to load the saved plan\n\n{}: {e}\n",
                    f.display()
                );
                return 1;
            }
        },
        None => None,
    };
    if let Some(p) = &saved {
        common::use_plan_variables(&mut ws, &p.variables);
    }
    let operation = if a.plan.destroy { "destroy" } else { "apply" };
    let backend = match common::open_state(Some(&ws), operation, &a.plan.lock) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let session = Session::new(ws, common::providers(), backend);
    let plan = match saved {
        Some(p) => {
            // As a plan does: providers configured, then what a killed run
            // left settled; anything settled moved the state after this plan.
            let checked = rt.block_on(session.check_saved(&p));
            super::plan::print_recovered(&session);
            if let Err(e) = checked {
                return super::plan::report_run_error(&e, &session);
            }
            super::plan::report_failed(&p);
            p
        }
        None => {
            let p = match rt.block_on(make_plan(&session, &a.plan)) {
                Ok(p) => p,
                Err(c) => return c,
            };
            print!("{}", render_plan_for(&p, ShownBy::Apply));
            // Before the question, so that it is asked knowing what is missing.
            let not_planned = super::plan::report_failed(&p);
            if !p.has_changes() {
                return u8::from(not_planned);
            }
            if !a.auto_approve && !confirm(a.plan.destroy) {
                eprintln!("\nApply cancelled.");
                return 1;
            }
            p
        }
    };
    apply_plan(&rt, &session, &plan, a.plan.parallelism)
}

fn read_plan(f: &std::path::Path) -> Result<Plan, String> {
    let text = std::fs::read_to_string(f).map_err(|e| e.to_string())?;
    // Not serde_json::from_str: its 128-level limit refuses deep values.
    let j: serde_json::Value = posture_engine::state::decode_json(&text)
        .map_err(|_| "this file is not a posture plan (it is not JSON)".to_string())?;
    Plan::from_file_json(&j)
}

fn confirm(destroy: bool) -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        eprintln!(
            "\nError: No confirmation possible\n\nposture asks for confirmation on a terminal; standard input is not one. Use --auto-approve to apply without asking."
        );
        return false;
    }
    if destroy {
        print!(
            "\nDo you really want to destroy all resources?\n  posture will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.\n\n  Enter a value: "
        );
    } else {
        print!(
            "\nDo you want to perform these actions?\n  posture will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
        );
    }
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = stdin.lock().read_line(&mut line);
    line.trim() == "yes"
}

/// Writes `text` to stderr at once. A closed stderr loses it rather than
/// stopping the run (`eprint!` would panic) with operations in flight.
fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

fn apply_plan(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    plan: &Plan,
    parallelism: usize,
) -> u8 {
    let cancel = tokio_util::sync::CancellationToken::new();
    let total = plan
        .changes
        .iter()
        .filter(|c| c.action != posture_engine::plan::Action::NoOp)
        .count() as u64;
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    crate::output::set_progress_bar(bar.clone());
    let bar2 = bar.clone();
    // Each event's lines are written with one call: a line at a time was
    // a tenth of a 100,000-instance apply (a write per line, unbuffered).
    let progress = Arc::new(move |p: Progress| match p {
        Progress::Started(items) => {
            if bar2.is_none() {
                let mut out = String::new();
                for (a, act) in items {
                    out.push_str(&format!("{a}: {}...\n", verb(act).0));
                }
                write_stderr(&out);
            }
        }
        Progress::Finished(items) => match &bar2 {
            Some(b) => {
                for (a, _, err) in items {
                    b.inc(1);
                    if err.is_none() {
                        b.set_message(a);
                    }
                }
            }
            None => {
                let mut out = String::new();
                for (a, act, err) in items {
                    match err {
                        None => out.push_str(&format!("{a}: {}\n", verb(act).1)),
                        Some(e) => out.push_str(&format!("{a}: failed: {e}\n")),
                    }
                }
                write_stderr(&out);
            }
        },
    });
    let opts = ApplyOptions {
        parallelism,
        cancel: cancel.clone(),
        progress: Some(progress),
    };
    // The providers were configured before recovery (by the plan, or the
    // saved plan's check), once for the session.
    let abandon = tokio_util::sync::CancellationToken::new();
    let (report, signal) = rt.block_on(async {
        // Installed before the first operation starts, so that no signal
        // from here on kills the run with operations half recorded.
        let signals = signals::Signals::install(cancel.clone(), abandon.clone());
        let r = session.apply_or_abandon(plan, &opts, &abandon).await;
        let first = signals.first();
        // A signal after the last operation ended interrupted nothing.
        let signal = first.filter(|_| r.as_ref().is_ok_and(|r| r.interrupted));
        (r, signal)
    });
    crate::output::set_progress_bar(None);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = match report {
        Ok(r) => r,
        Err(e) => return super::plan::report_run_error(&e, session),
    };
    for (a, e) in &report.failed {
        eprintln!("Error: {a}: {e}\n");
    }
    if let Some(e) = &report.state_error {
        eprintln!("Error: Failed to save state\n\n{e}\n");
    }
    let (add, change, destroy) = report.counts();
    // Instances missing from the plan (a cluster down) failed as surely as
    // those whose apply failed: the run is not complete.
    let failed = report.failed.len() + plan.failed.len();
    if let Some(sig) = signal {
        println!(
            "\nInterrupted by {}: nothing more was started; {}",
            sig.name(),
            if report.abandoned.is_empty() {
                "what was in flight finished and is recorded."
            } else {
                "what was still in flight was abandoned and is settled by the next run."
            }
        );
    }
    if failed == 0 && !report.interrupted && report.state_error.is_none() {
        println!(
            "\nApply complete! Resources: {add} added, {change} changed, {destroy} destroyed."
        );
        print_outputs(&report.outputs);
        0
    } else {
        let abandoned = if report.abandoned.is_empty() {
            String::new()
        } else {
            format!(", {} abandoned", report.abandoned.len())
        };
        println!(
            "\nApply incomplete. Resources: {add} added, {change} changed, {destroy} destroyed, {failed} failed, {} skipped{abandoned}.",
            report.skipped.len()
        );
        for (a, _) in &plan.failed {
            println!("  failed:  {a} (could not be read or planned)");
        }
        for (a, _) in &report.failed {
            println!("  failed:  {a}");
        }
        for (a, why) in &report.skipped {
            println!("  skipped: {a} ({why})");
        }
        for a in &report.abandoned {
            println!("  abandoned: {a} (in flight when stopped; the next run reads what happened)");
        }
        // 128 + the signal, as a shell reports a process the signal ended.
        signal.map_or(1, |s| s.exit_code())
    }
}

fn verb(a: posture_engine::plan::Action) -> (&'static str, &'static str) {
    use posture_engine::plan::Action as A;
    match a {
        A::Create => ("Creating", "Creation complete"),
        A::Update => ("Modifying", "Modifications complete"),
        A::Delete => ("Destroying", "Destruction complete"),
        A::DeleteThenCreate | A::CreateThenDelete => ("Replacing", "Replacement step complete"),
        A::Read => ("Reading", "Read complete"),
        A::NoOp => ("", ""),
    }
}

/// Prints root outputs as `apply` and `output` do (sensitive ones hidden).
pub fn print_outputs(
    outputs: &std::collections::BTreeMap<String, posture_engine::state::OutputValue>,
) {
    if outputs.is_empty() {
        return;
    }
    println!("\nOutputs:\n");
    for (k, o) in outputs {
        let shown = if o.sensitive {
            "<sensitive>".to_string()
        } else {
            let t = posture_engine::value::Type::from_json(
                &serde_json::from_str(&o.type_name).unwrap_or(serde_json::Value::Null),
            );
            let v = match t {
                Some(t) => posture_engine::value::Value::from_json_typed(&o.value, &t)
                    .unwrap_or_else(|_| posture_engine::value::Value::from_json(&o.value)),
                None => posture_engine::value::Value::from_json(&o.value),
            };
            posture_engine::value::render(&v)
        };
        println!("{k} = {shown}");
    }
}
