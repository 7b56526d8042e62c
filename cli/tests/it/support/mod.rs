//! The `posture` binary run as a user runs it, shared by the CLI test files:
//! `posture --chdir DIR ARGS` with a closed, empty stdin (not a terminal),
//! its exit code and both output streams.

use std::path::Path;
use std::process::{Command, Stdio};

mod moto;
mod sandbox;

pub use moto::Moto;
pub use sandbox::{Sandboxed, quick, secret_data};

/// Two `posture_data` resources, one depending on the other: what the
/// backend tests apply.
pub const TWO_RESOURCES: &str = r#"
resource "posture_data" "a" {
  input = "one"
}
resource "posture_data" "b" {
  input = posture_data.a.output
}
"#;

/// What one run exited with and printed.
pub struct Out {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Out {
    /// Both streams, for assertion messages.
    pub fn all(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

/// `posture --chdir DIR`, to add arguments, variables or stdin to.
/// Fails the test, with the run's output, unless it exited 0.
pub fn assert_ok(o: &Out, what: &str) {
    assert_eq!(o.code, 0, "{what}\n{}", o.all());
}

/// Runs `kubectl --kubeconfig KUBECONFIG ARGS`, asserts it succeeded, and
/// returns its stdout.
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> String {
    let o = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("run kubectl");
    assert!(
        o.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn command(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_posture"));
    c.arg("--chdir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs a command to its end.
pub fn output(cmd: &mut Command) -> Out {
    let o = cmd.output().expect("run posture");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `posture --chdir DIR ARGS`.
pub fn posture(dir: &Path, args: &[&str]) -> Out {
    output(command(dir).args(args))
}

/// The same with the AWS endpoint and profile variables removed, so that
/// the configuration's provider blocks alone choose the endpoint.
pub fn posture_without_aws_env(dir: &Path, args: &[&str]) -> Out {
    output(
        command(dir)
            .args(args)
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_ROUTE_53")
            .env_remove("AWS_PROFILE"),
    )
}

/// Runs `posture ARGS` with `POSTURE_TEST_HALT=halt` until the hook halts
/// it, then kills it with SIGKILL. Returns its stderr.
pub fn killed(mut cmd: std::process::Command, args: &[&str], halt: &str) -> String {
    let mut child = cmd
        .args(args)
        .env("POSTURE_TEST_HALT", halt)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start posture apply");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut seen = String::new();
    use std::io::BufRead;
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.expect("read stderr");
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("POSTURE_TEST_HALT: halted") {
            // Child::kill is SIGKILL on unix: no handler, no cleanup.
            child.kill().expect("kill -9 posture");
            let st = child.wait().expect("wait");
            assert_eq!(
                std::os::unix::process::ExitStatusExt::signal(&st),
                Some(9),
                "{st}"
            );
            return seen;
        }
    }
    let st = child.wait().expect("wait");
    panic!("posture ended ({st}) before the hook halted it:\n{seen}");
}
