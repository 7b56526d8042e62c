//! `posture fmt` (wired to the engine's formatter once it lands).

/// Arguments of `posture fmt`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the command.
pub fn run(_a: Args) -> u8 {
    eprintln!("posture fmt: not available in this build");
    1
}
