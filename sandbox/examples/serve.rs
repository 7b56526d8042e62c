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
    // The library prints nothing: the embedder shows the ready report.
    let ready = |r: posture_sandbox::Ready| {
        let clusters: Vec<String> = r.clusters.iter().map(|(n, u)| format!("{n}={u}")).collect();
        println!(
            "sandbox ready: {} kubeconfig={} admin={}",
            clusters.join(" "),
            r.kubeconfig.display(),
            r.admin_url
        );
    };
    match posture_sandbox::run(Cli::parse().args, ready).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
