//! `posture version`

/// Arguments of `posture version`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

/// Prints the version.
pub fn run(a: Args) -> u8 {
    let v = env!("CARGO_PKG_VERSION");
    if a.json {
        println!("{}", serde_json::json!({ "posture_version": v }));
    } else {
        println!("posture v{v}");
    }
    0
}
