//! `posture fmt`

use posture_engine::fmt::{FmtOptions, run as fmt_run};
use std::path::PathBuf;

/// Arguments of `posture fmt`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write nothing; exit 3 when some file is not canonically formatted.
    #[arg(long)]
    check: bool,
    /// Print a unified diff of every change.
    #[arg(long)]
    diff: bool,
    /// Also format files in subdirectories.
    #[arg(long)]
    recursive: bool,
    /// Rewrite files (--write=false only lists them).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    write: bool,
    /// Files or directories (default: the working directory); `-` reads stdin.
    paths: Vec<PathBuf>,
}

/// Runs the command: 0 done, 3 with --check when files need formatting, 2 on errors.
pub fn run(a: Args) -> u8 {
    let opts = FmtOptions {
        check: a.check,
        diff: a.diff,
        write: a.write,
        recursive: a.recursive,
        paths: a.paths,
    };
    let mut out = std::io::stdout().lock();
    match fmt_run(&opts, &mut out) {
        Ok(report) => {
            for e in &report.errors {
                eprintln!("Error: {e}");
            }
            if !report.errors.is_empty() {
                2
            } else if a.check && report.needs_formatting() {
                3
            } else {
                0
            }
        }
        Err(e) => {
            eprintln!("Error: {e}");
            2
        }
    }
}
