//! Every example in examples/ is exercised here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn run(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_posture"))
        .arg("--chdir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin");
    let o = child.wait_with_output().expect("wait");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn every_example_validates() {
    let mut seen = 0;
    for entry in std::fs::read_dir(examples()).expect("examples/") {
        let dir = entry.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        seen += 1;
        let (code, out, err) = run(&dir, &["validate"], "");
        assert_eq!(code, 0, "{}: {err}", dir.display());
        assert!(out.contains("Success!"), "{out}");
    }
    assert!(seen > 0, "no examples found");
}

#[test]
fn fleet_evaluates_per_cluster_values() {
    let dir = examples().join("fleet");
    let (code, out, err) = run(
        &dir,
        &["console"],
        "module.cluster[\"prod-eu\"].owner_id\nsort(keys(posture_data.route_reflectors))\nmodule.cluster.mgmt.fqdn\n",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "\"posture-prod-eu\"");
    assert_eq!(out.matches("prod-").count(), 3, "{out}");
    assert!(out.contains("\"mgmt.example.com\""), "{out}");
}
