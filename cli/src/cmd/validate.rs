//! `posture validate`

use crate::output::{diags_json, print_diags};
use posture_engine::workspace::Workspace;

/// Arguments of `posture validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the result as JSON (Terraform's validate -json shape).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    vars: super::VarArgs,
}

/// Runs the command; returns the exit code (0 valid, 1 invalid).
pub fn run(a: Args) -> u8 {
    let ws = Workspace::load(&super::cwd(), &a.vars.cli_vars(), &super::env());
    // The loading and evaluation checks, then each provider's own.
    let diags = posture_engine::plan::validate(&ws, &super::common::providers());
    if a.json {
        let doc = diags_json(&diags, &ws.sources);
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print_diags(&diags, &ws.sources);
        if !diags.has_errors() {
            println!("Success! The configuration is valid.");
        }
    }
    u8::from(diags.has_errors())
}
