//! Runs the sandbox from this crate alone (the `posture sandbox` command does the same):
//! `cargo run -p posture-sandbox --example serve -- --clusters a,b --kubeconfig /tmp/kc`.

use clap::Parser;

/// Command line of the example.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: posture_sandbox::SandboxArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match posture_sandbox::run(Cli::parse().args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
