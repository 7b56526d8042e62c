//! `backend "kubernetes"` through the real binary on the sandbox: `posture
//! init`, apply, the state read from another directory, a second apply
//! refused while another run holds the Lease (naming the holder), kill -9
//! of the holder and the takeover once its `lock_ttl` ran out (shown by
//! `state history`), and `init --migrate-state` from local state keeping
//! lineage, serial and history.

#![allow(clippy::unwrap_used)]

use super::support::{Out, TWO_RESOURCES, command, killed, output};

use posture_backend_kubernetes::{K8sLocation, K8sSettings};
use posture_engine::state::{LockOptions, StateLocation};
use posture_sandbox::{Sandbox, SandboxConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Peer {
    _sandbox: Sandbox,
    _rt: tokio::runtime::Runtime,
    tmp: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Peer {
    fn start() -> Peer {
        // Multi-threaded: the API server keeps serving while a test waits on posture.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cfg = SandboxConfig {
            clusters: vec!["c1".into()],
            nodes: 1,
            ..Default::default()
        };
        let sandbox = rt.block_on(posture_sandbox::start(cfg)).expect("sandbox");
        let tmp = tempfile::tempdir().unwrap();
        let kubeconfig = tmp.path().join("kubeconfig");
        sandbox.write_kubeconfig(&kubeconfig).unwrap();
        Peer {
            _sandbox: sandbox,
            _rt: rt,
            tmp,
            kubeconfig,
        }
    }

    /// The test's own view of the state the configurations use.
    fn location(&self) -> K8sLocation {
        let mut s = K8sSettings::new("default", "fleet");
        s.kubeconfig = Some(self.kubeconfig.display().to_string());
        s.context = Some("c1".into());
        s.lock_ttl = Duration::from_secs(3);
        K8sLocation::new(s).unwrap()
    }

    fn backend_block(&self) -> String {
        format!(
            r#"
posture {{
  backend "kubernetes" {{
    kubeconfig    = "{}"
    context       = "c1"
    namespace     = "default"
    secret_suffix = "fleet"
    lock_ttl      = "3s"
  }}
}}
"#,
            self.kubeconfig.display()
        )
    }

    fn dir_with(&self, name: &str, files: &str) -> PathBuf {
        let d = self.tmp.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("main.hcl"), files).unwrap();
        d
    }
}

/// posture without a KUBECONFIG of the environment's.
fn run(dir: &Path, args: &[&str]) -> Out {
    output(command(dir).args(args).env_remove("KUBECONFIG"))
}

#[test]
fn init_and_apply_keep_state_in_the_cluster_and_a_held_lease_refuses_apply_naming_the_holder() {
    let peer = Peer::start();
    let config = format!("{}{TWO_RESOURCES}", peer.backend_block());
    let first = peer.dir_with("first", &config);
    let o = run(&first, &["init"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout
            .contains("kubernetes state at kubernetes://c1/default/posture-state-default-fleet"),
        "{}",
        o.all()
    );
    let o = run(&first, &["apply", "--auto-approve"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(!first.join(".posture/db").exists(), "no local state");

    let second = peer.dir_with("second", &config);
    let o = run(&second, &["state", "list"]);
    assert_eq!(o.stdout, "posture_data.a\nposture_data.b\n", "{}", o.all());

    // Another run holds the Lease: the second apply is refused, naming it.
    let loc = peer.location();
    let held = loc.open(&LockOptions::new("drift-check")).unwrap();
    let id = held.lock_info().id.clone();
    std::fs::write(first.join("main.hcl"), config.replace("\"one\"", "\"two\"")).unwrap();
    let o = run(&first, &["apply", "--auto-approve"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("state is locked by"), "{}", o.all());
    assert!(o.stderr.contains("drift-check"), "{}", o.all());
    assert!(o.stderr.contains(&id), "{}", o.all());

    let o = run(&first, &["force-unlock", "--force", &id]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(held.commit(None, "late").is_err());
    drop(held);
    let o = run(&first, &["apply", "--auto-approve"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let o = run(&second, &["state", "show", "posture_data.a"]);
    assert!(o.stdout.contains("two"), "{}", o.all());
}

#[test]
fn a_killed_holders_lease_expires_after_lock_ttl_and_the_next_apply_takes_it_over() {
    let peer = Peer::start();
    let d = peer.dir_with("w", &format!("{}{TWO_RESOURCES}", peer.backend_block()));
    let mut cmd = command(&d);
    cmd.env_remove("KUBECONFIG");
    // kill -9 once the provider answered the first batch: the Lease and a
    // pending intent stay, nobody renews the Lease.
    killed(cmd, &["apply", "--auto-approve"], "applied:1");
    let dead = peer
        .location()
        .lock_holder()
        .unwrap()
        .expect("the dead run's lock");
    let o = run(&d, &["plan"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains(&dead.id), "{}", o.all());
    // Waiting is the product's own polling until the 3 s TTL runs out.
    let o = run(&d, &["apply", "--auto-approve", "--lock-timeout", "60s"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stderr.contains("Recovered: "), "{}", o.all());
    let o = run(&d, &["state", "list"]);
    assert_eq!(o.stdout, "posture_data.a\nposture_data.b\n", "{}", o.all());
    let o = run(&d, &["state", "history"]);
    assert!(o.stdout.contains("lock taken over from"), "{}", o.all());
    assert!(o.stdout.contains(&dead.id), "{}", o.all());
}

#[test]
fn init_migrate_state_copies_local_state_with_its_lineage_serial_and_history() {
    let peer = Peer::start();
    let d = peer.dir_with("w", TWO_RESOURCES);
    assert_eq!(run(&d, &["apply", "--auto-approve"]).code, 0);
    std::fs::write(
        d.join("main.hcl"),
        TWO_RESOURCES.replace("\"one\"", "\"two\""),
    )
    .unwrap();
    assert_eq!(run(&d, &["apply", "--auto-approve"]).code, 0);
    let local_history = run(&d, &["state", "history"]).stdout;
    let local = run(&d, &["state", "pull"]).stdout;
    let local: serde_json::Value = serde_json::from_str(&local).unwrap();
    assert_eq!(local["serial"], 2, "{local}");

    std::fs::write(
        d.join("main.hcl"),
        format!(
            "{}{}",
            peer.backend_block(),
            TWO_RESOURCES.replace("\"one\"", "\"two\"")
        ),
    )
    .unwrap();
    let o = run(&d, &["init"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("posture init --migrate-state"),
        "{}",
        o.all()
    );
    assert_eq!(run(&d, &["state", "list"]).stdout, "", "nothing copied yet");

    let o = run(&d, &["init", "--migrate-state"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("serial 2"), "{}", o.all());
    let remote: serde_json::Value =
        serde_json::from_str(&run(&d, &["state", "pull"]).stdout).unwrap();
    assert_eq!(remote["lineage"], local["lineage"]);
    assert_eq!(remote["serial"], local["serial"]);
    assert_eq!(remote["instances"], local["instances"]);
    // The same serials with the same lines (times and who included).
    let o = run(&d, &["state", "history"]);
    assert_eq!(o.stdout, local_history, "{}", o.all());
    let o = run(&d, &["state", "show", "--serial", "1"]);
    assert!(o.stdout.contains("one"), "{}", o.all());
    // The next plan sees the migrated objects: nothing to do.
    let o = run(&d, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "{}", o.all());
    // Run again: the backend holds the state, nothing is copied twice.
    let o = run(&d, &["init", "--migrate-state"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(!o.stdout.contains("Copied"), "{}", o.all());
}

#[test]
fn bad_kubernetes_settings_are_reported_at_file_line_col_and_a_missing_namespace_says_what_to_do() {
    let peer = Peer::start();
    let d = peer.dir_with(
        "bad",
        "posture {\n  backend \"kubernetes\" {\n    context  = true\n    lock_ttl = \"soon\"\n  }\n}\n",
    );
    let o = run(&d, &["init"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("namespace = "), "{}", o.all());
    assert!(o.stderr.contains("secret_suffix = "), "{}", o.all());
    assert!(o.stderr.contains("main.hcl:3:"), "{}", o.all());
    assert!(o.stderr.contains("main.hcl:4:"), "{}", o.all());
    let block = peer
        .backend_block()
        .replace("namespace     = \"default\"", "namespace     = \"state\"");
    let d = peer.dir_with("ns", &format!("{block}{TWO_RESOURCES}"));
    let o = run(&d, &["apply", "--auto-approve"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("kubectl create namespace state"),
        "{}",
        o.all()
    );
}
