//! Writes the 10,000-instance state fixture:
//! `cargo run -p posture-engine --example gen_state_fixture -- state-fixtures/v1/large-10000.json`

#[path = "../tests/it/support/large_state.rs"]
mod large_state;

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: gen_state_fixture OUTPUT.json");
        return std::process::ExitCode::from(2);
    };
    let text = posture_engine::state::encode_compact(&large_state::large_state(10_000));
    match std::fs::write(&path, text + "\n") {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write {path}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
