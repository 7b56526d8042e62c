//! The `posture` command line: parses arguments, runs a command, prints,
//! and picks the exit code. The engine does the work.

mod cmd;
mod output;

// glibc's malloc was about a third of a 100,000-instance apply's CPU
// (docs/benchmarks.md); mimalloc serves the many small values faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// posture keeps many Kubernetes clusters and their Route53 records in the
/// posture you declare in HCL: plan, apply, drift checks and rollouts.
#[derive(Parser, Debug)]
#[command(name = "posture", version, about, long_about = None)]
struct Cli {
    /// Switch to DIR before doing anything else (like terraform -chdir).
    #[arg(long, global = true, value_name = "DIR")]
    chdir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the configured state backend; --migrate-state copies local state to it.
    Init(cmd::init::Args),
    /// Check that the configuration is valid: syntax, references, types.
    Validate(cmd::validate::Args),
    /// Rewrite configuration files to the canonical format.
    Fmt(cmd::fmt::Args),
    /// Evaluate expressions against the configuration (reads stdin when it is not a terminal).
    Console(cmd::console::Args),
    /// Show what apply would change (exit 2 with --detailed-exitcode when it would).
    Plan(cmd::plan::Args),
    /// Make the changes a plan describes.
    Apply(cmd::apply::Args),
    /// Destroy everything posture manages here.
    Destroy(cmd::apply::DestroyArgs),
    /// Show the state, or a saved plan.
    Show(cmd::show::Args),
    /// Serve emulated Kubernetes clusters on loopback, with a kubeconfig (for tests and demos).
    Sandbox(posture_sandbox::SandboxArgs),
    /// Print the posture version.
    Version(cmd::version::Args),
    /// Read and edit the state: list, show, history, rm, mv, pull, push.
    State(cmd::state::Args),
    /// Print the root outputs recorded by the last apply.
    Output(cmd::output::Args),
    /// Adopt an existing object into the state at a configured address.
    Import(cmd::import::Args),
    /// Print the configuration's dependency graph (DOT or Mermaid).
    Graph(cmd::graph::Args),
    /// Remove a state lock left by a run that died.
    ForceUnlock(cmd::force_unlock::Args),
}

/// The stack of the thread that runs a command. Values may nest 1,000
/// levels (`scope::MAX_VALUE_DEPTH`) and conversion, planning, the codecs
/// and rendering recurse on them: the usual 8 MiB main stack overflows in a
/// debug build. Only the pages touched are ever committed.
const COMMAND_STACK: usize = 256 * 1024 * 1024;

fn main() -> ExitCode {
    let cli = Cli::parse_from(cmd::init::terraform_flags(std::env::args_os()));
    let worker = std::thread::Builder::new()
        .name("posture".into())
        .stack_size(COMMAND_STACK)
        .spawn(move || run(cli));
    match worker.map(|w| w.join()) {
        Ok(Ok(code)) => code,
        // The panic message is already printed; 101 is Rust's panic exit code.
        Ok(Err(_)) => ExitCode::from(101),
        Err(e) => {
            eprintln!("Error: cannot start posture's main thread: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    if let Some(dir) = &cli.chdir
        && let Err(e) = std::env::set_current_dir(dir)
    {
        eprintln!(
            "Error: Invalid --chdir option\n\nThe directory {} cannot be used: {e}.",
            dir.display()
        );
        return ExitCode::from(1);
    }
    let code = match cli.command {
        Command::Init(a) => cmd::init::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Fmt(a) => cmd::fmt::run(a),
        Command::Console(a) => cmd::console::run(a),
        Command::Plan(a) => cmd::plan::run(a),
        Command::Apply(a) => cmd::apply::run(a),
        Command::Destroy(a) => cmd::apply::run_destroy(a),
        Command::Show(a) => cmd::show::run(a),
        Command::Sandbox(a) => cmd::sandbox::run(a),
        Command::Version(a) => cmd::version::run(a),
        Command::State(a) => cmd::state::run(a),
        Command::Output(a) => cmd::output::run(a),
        Command::Import(a) => cmd::import::run(a),
        Command::Graph(a) => cmd::graph::run(a),
        Command::ForceUnlock(a) => cmd::force_unlock::run(a),
    };
    ExitCode::from(code)
}
