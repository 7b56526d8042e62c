//! Ctrl-C and SIGTERM during `posture apply`, through the binary: one
//! Kubernetes batch of 1,000 ConfigMaps on a sandbox cluster (and a
//! `posture_data` that depends on them), interrupted once the first objects
//! exist. The run must stop sending the batch, record what it did, release
//! the lock and exit 128 + the signal; the cluster and the state must then
//! agree, and the next apply must create exactly the rest. A second signal
//! abandons the requests in flight, which the next run settles.

use super::support::{Sandboxed, quick};
use posture_sandbox::Faults;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OBJECTS: usize = 1000;

const CONFIG: &str = r#"
variable "kubeconfig" { type = string }

cluster "c" {
  kubeconfig = var.kubeconfig
  context    = "c1"
}

resource "kubernetes_manifest" "cm" {
  for_each = toset([for i in range(1000) : format("cm-%04d", i)])
  cluster  = cluster.c
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = each.key, namespace = "default" }
    data       = { k = each.key }
  }
}

resource "posture_data" "after" {
  input = length(kubernetes_manifest.cm)
}
"#;

struct World {
    sb: Sandboxed,
    dir: PathBuf,
    kubeconfig: PathBuf,
}

async fn world() -> World {
    let sb = Sandboxed::start(quick(&["c1"])).await;
    let dir = sb.workdir("cfg", CONFIG);
    let kubeconfig = sb.kubeconfig.clone();
    World {
        sb,
        dir,
        kubeconfig,
    }
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl World {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_posture"));
        c.env("POSTURE_VAR_kubeconfig", &self.kubeconfig)
            .arg("--chdir")
            .arg(&self.dir)
            .args(args);
        c
    }

    async fn posture(&self, args: &[&str]) -> Out {
        let mut c = self.command(args);
        let o = tokio::task::spawn_blocking(move || c.output().expect("run posture"))
            .await
            .expect("join");
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into(),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
        }
    }

    /// `posture apply --auto-approve` in the background, its output in files.
    fn spawn_apply(&self) -> Running {
        let out = self.dir.join("apply.out");
        let err = self.dir.join("apply.err");
        let child = self
            .command(&["apply", "--auto-approve"])
            .stdout(Stdio::from(std::fs::File::create(&out).expect("out")))
            .stderr(Stdio::from(std::fs::File::create(&err).expect("err")))
            .spawn()
            .expect("spawn posture");
        Running { child, out, err }
    }

    /// The ConfigMaps of this configuration that exist in the cluster.
    fn configmaps(&self) -> usize {
        let c = self.sb.sandbox.cluster("c1").expect("cluster");
        let st = c.state();
        st.objects
            .get(&(String::new(), "configmaps".to_string()))
            .map_or(0, |o| {
                o.keys()
                    .filter(|(ns, name)| ns == "default" && name.starts_with("cm-"))
                    .count()
            })
    }

    fn set_latency(&self, ms: u64) {
        self.sb
            .sandbox
            .set_faults(
                "c1",
                Faults {
                    latency_ms: ms,
                    ..Default::default()
                },
            )
            .expect("faults");
    }

    /// Addresses in state, by `posture state list`.
    async fn state_list(&self) -> Vec<String> {
        let o = self.posture(&["state", "list"]).await;
        assert_eq!(o.code, 0, "state list: {}{}", o.stdout, o.stderr);
        o.stdout.lines().map(str::to_string).collect()
    }
}

struct Running {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Running {
    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{name} failed");
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Polls `cond` until it holds; fails if posture ended first.
    async fn wait_for(&mut self, what: &str, mut cond: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(300);
        while !cond(self) {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "posture ended ({st}) before {what}:\n{}\n{}",
                    read(&self.out),
                    self.stderr()
                );
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    async fn finish(self) -> Out {
        let Running {
            mut child,
            out,
            err,
        } = self;
        let st = tokio::task::spawn_blocking(move || child.wait().expect("wait"))
            .await
            .expect("join");
        Out {
            code: st.code().unwrap_or(-1),
            stdout: read(&out),
            stderr: read(&err),
        }
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// The number in "Resources: N added" of the summary.
fn added(stdout: &str) -> usize {
    stdout
        .split("Resources: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary in:\n{stdout}"))
}

fn cm_in_state(list: &[String]) -> usize {
    list.iter()
        .filter(|a| a.starts_with("kubernetes_manifest.cm["))
        .count()
}

/// Starts an apply, sends `sig` once the first ConfigMaps exist (with
/// latency from then on, so the batch is still going), and checks the
/// interrupted run. Returns how many ConfigMaps it created.
async fn interrupted_once(w: &World, sig: &str, code: i32) -> usize {
    let mut run = w.spawn_apply();
    run.wait_for("the first ConfigMaps", |_| w.configmaps() > 0)
        .await;
    w.set_latency(50);
    run.signal(sig);
    let o = run.finish().await;
    w.set_latency(0);
    let all = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, code, "exit code after SIG{sig}:\n{all}");
    assert!(
        o.stderr.contains(&format!(
            "SIG{sig} received: finishing the operations in flight"
        )),
        "{all}"
    );
    assert!(
        o.stdout.contains(&format!(
            "Interrupted by SIG{sig}: nothing more was started; what was in flight finished and is recorded."
        )),
        "{all}"
    );
    assert!(o.stdout.contains("Apply incomplete. Resources: "), "{all}");
    assert!(
        o.stdout
            .contains("  skipped: posture_data.after (interrupted before it started)"),
        "the dependent of the batch did not start:\n{all}"
    );
    assert!(!o.stdout.contains("abandoned"), "{all}");
    let created = w.configmaps();
    assert!(
        created > 0 && created < OBJECTS / 2,
        "SIG{sig} must stop the batch: {created} of {OBJECTS} ConfigMaps were created"
    );
    assert_eq!(added(&o.stdout), created, "the summary counts what exists");
    let skipped = o
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with("  skipped: kubernetes_manifest.cm[")
                && l.ends_with("(interrupted before it started)")
        })
        .count();
    assert_eq!(
        skipped,
        OBJECTS - created,
        "every unsent object is listed:\n{all}"
    );
    // No orphan, no lost object: the state records exactly what exists.
    let list = w.state_list().await;
    assert_eq!(cm_in_state(&list), created, "{list:?}");
    assert!(!list.iter().any(|a| a == "posture_data.after"));
    created
}

/// The lock is free at once and the next apply creates exactly the rest.
async fn next_run_completes(w: &World, created: usize) {
    let o = w.posture(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(o.code, 2, "plan right after: {}{}", o.stdout, o.stderr);
    let rest = OBJECTS - created;
    assert!(
        o.stdout.contains(&format!(
            "Plan: {} to add, 0 to change, 0 to destroy.",
            rest + 1
        )),
        "{}",
        o.stdout
    );
    let o = w.posture(&["apply", "--auto-approve"]).await;
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains(&format!(
            "Apply complete! Resources: {} added, 0 changed, 0 destroyed.",
            rest + 1
        )),
        "{}",
        o.stdout
    );
    assert_eq!(w.configmaps(), OBJECTS);
    let list = w.state_list().await;
    assert_eq!(cm_in_state(&list), OBJECTS);
    assert!(list.iter().any(|a| a == "posture_data.after"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_a_batched_apply_instead_of_creating_all_1000() {
    let w = world().await;
    let created = interrupted_once(&w, "INT", 130).await;
    next_run_completes(&w, created).await;
    w.sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_is_handled_like_ctrl_c_instead_of_killing_the_run() {
    let w = world().await;
    let created = interrupted_once(&w, "TERM", 143).await;
    next_run_completes(&w, created).await;
    w.sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_ctrl_c_abandons_the_requests_in_flight_and_the_next_run_settles_them() {
    let w = world().await;
    let mut run = w.spawn_apply();
    run.wait_for("the first ConfigMaps", |_| w.configmaps() > 0)
        .await;
    // From now on every request takes a minute: the first signal alone
    // would wait that long for those in flight.
    w.set_latency(60_000);
    run.signal("INT");
    run.wait_for("the first interrupt to be taken", |r| {
        r.stderr().contains("SIGINT received: finishing")
    })
    .await;
    run.signal("INT");
    let o = run.finish().await;
    w.set_latency(0);
    let all = format!("{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.code, 130, "{all}");
    assert!(
        o.stderr.contains(
            "SIGINT received again: no longer waiting for the operations in flight; saving the state."
        ),
        "{all}"
    );
    assert!(
        o.stdout.contains(
            "Interrupted by SIGINT: nothing more was started; what was still in flight was abandoned and is settled by the next run."
        ),
        "{all}"
    );
    let abandoned: Vec<&str> = o
        .stdout
        .lines()
        .filter(|l| l.starts_with("  abandoned: kubernetes_manifest.cm["))
        .collect();
    assert!(!abandoned.is_empty(), "requests were in flight:\n{all}");
    assert!(
        o.stdout
            .contains(&format!(", {} abandoned.", abandoned.len())),
        "{all}"
    );
    // What finished is recorded; what was abandoned is neither recorded nor lost.
    let recorded = added(&o.stdout);
    assert!(recorded < OBJECTS / 2, "{all}");
    let o = w.posture(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        o.code, 2,
        "the lock is free at once: {}{}",
        o.stdout, o.stderr
    );
    let recovered = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("Recovered: kubernetes_manifest.cm["))
        .count();
    assert_eq!(
        recovered,
        abandoned.len(),
        "every abandoned operation is settled by the next run:\n{}",
        o.stderr
    );
    // Recovery adopted what reached the cluster: state and cluster agree.
    let list = w.state_list().await;
    assert_eq!(cm_in_state(&list), w.configmaps(), "{list:?}");
    let o = w.posture(&["apply", "--auto-approve"]).await;
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert_eq!(w.configmaps(), OBJECTS);
    assert_eq!(cm_in_state(&w.state_list().await), OBJECTS);
    w.sb.shutdown().await.expect("shutdown");
}
