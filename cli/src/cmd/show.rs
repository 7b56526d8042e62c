//! `posture show`

use super::common::{self, LockArgs};
use posture_engine::plan::{Plan, render::render_plan};

/// Arguments of `posture show`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A saved plan to show; without it, the current state.
    plan_file: Option<std::path::PathBuf>,
    /// Print JSON (plan: the documented plan document; state: the versioned state JSON).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lock: LockArgs,
}

/// Runs the command.
pub fn run(a: Args) -> u8 {
    if let Some(f) = &a.plan_file {
        let plan = std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                posture_engine::state::decode_json(&t)
                    .map_err(|_| "this file is not a posture plan (it is not JSON)".to_string())
            })
            .and_then(|j| Plan::from_file_json(&j));
        return match plan {
            Ok(p) => {
                if a.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&p.to_json()).unwrap_or_default()
                    );
                } else {
                    print!("{}", render_plan(&p));
                    // The rendering says "errors below" for a plan with failures.
                    super::plan::report_failed(&p);
                }
                0
            }
            Err(e) => {
                eprintln!(
                    "Error: Failed to read the plan file\n\n{}: {e}",
                    f.display()
                );
                1
            }
        };
    }
    let ws = posture_engine::workspace::Workspace::load(&super::cwd(), &[], &super::env());
    let backend = match common::open_state(Some(&ws), "show", &a.lock) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let state = match backend.load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Error: Failed to read state\n\n{e}");
            return 1;
        }
    };
    if a.json {
        let mut j = serde_json::to_value(&state).unwrap_or_default();
        // Never print secrets: sensitive attributes are shown redacted.
        if let Some(insts) = j.get_mut("instances").and_then(|i| i.as_object_mut()) {
            for (addr, rec) in &state.instances {
                if let Some(slot) = insts.get_mut(addr) {
                    slot["attributes"] = rec.redacted_attributes();
                }
            }
        }
        if let Some(outs) = j.get_mut("outputs").and_then(|o| o.as_object_mut()) {
            for (name, o) in &state.outputs {
                if o.sensitive
                    && let Some(slot) = outs.get_mut(name)
                {
                    slot["value"] = serde_json::Value::from("(sensitive value)");
                }
            }
        }
        println!("{}", serde_json::to_string_pretty(&j).unwrap_or_default());
        return 0;
    }
    if state.instances.is_empty() {
        println!("The state is empty.");
        return 0;
    }
    for (addr, rec) in &state.instances {
        println!("# {addr}:");
        println!(
            "resource \"{}\" \"{}\" {{",
            rec.resource_type,
            addr.rsplit('.')
                .next()
                .unwrap_or(addr)
                .split('[')
                .next()
                .unwrap_or("")
        );
        if let Some(m) = rec.redacted_attributes().as_object() {
            let width = m.keys().map(|k| k.len()).max().unwrap_or(0);
            for (k, v) in m {
                println!("    {k:width$} = {v}");
            }
        }
        println!("}}\n");
    }
    super::apply::print_outputs(&state.outputs);
    0
}
