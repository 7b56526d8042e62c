//! `posture sandbox`: emulated Kubernetes clusters on loopback (see docs/sandbox.md).

/// Runs the sandbox until SIGINT/SIGTERM.
pub fn run(args: posture_sandbox::SandboxArgs) -> u8 {
    let rt = match super::common::runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    match rt.block_on(posture_sandbox::run(args)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}
