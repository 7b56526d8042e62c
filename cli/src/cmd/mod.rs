//! One module per command.

pub mod apply;
pub mod backend;
pub mod common;
pub mod console;
pub mod fmt;
pub mod force_unlock;
pub mod graph;
pub mod import;
pub mod init;
pub mod output;
pub mod plan;
pub mod sandbox;
pub mod show;
pub mod state;
pub mod validate;
pub mod version;

use clap::Args as ClapArgs;
use posture_engine::config::vars::CliVar;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Input variable options shared by commands that evaluate configuration.
#[derive(ClapArgs, Debug, Default, Clone)]
pub struct VarArgs {
    /// Set a root module variable: --var 'name=value' (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a file of NAME = VALUE lines (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

impl VarArgs {
    /// `--var` and `--var-file` in command-line order (later wins).
    pub fn cli_vars(&self) -> Vec<CliVar> {
        // clap keeps the two lists apart; recover their relative order from argv.
        let mut out = Vec::new();
        let (mut vi, mut fi) = (0, 0);
        let args: Vec<String> = std::env::args().collect();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "--var" || a.starts_with("--var=") {
                if let Some(v) = self.vars.get(vi) {
                    out.push(CliVar::Var(v.clone()));
                    vi += 1;
                }
            } else if (a == "--var-file" || a.starts_with("--var-file="))
                && let Some(f) = self.var_files.get(fi)
            {
                out.push(CliVar::File(f.clone()));
                fi += 1;
            }
            i += 1;
        }
        out.extend(self.vars[vi..].iter().cloned().map(CliVar::Var));
        out.extend(self.var_files[fi..].iter().cloned().map(CliVar::File));
        out
    }
}

/// The process environment, as the engine takes it.
pub fn env() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

/// The working directory.
pub fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}
