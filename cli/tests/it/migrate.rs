//! `posture init --migrate-state` through the binary between the local, s3
//! (moto) and kubernetes (the sandbox) backends: local → s3 → kubernetes →
//! local and s3 → local, each keeping lineage and serial; a changed
//! `backend` block refuses plan/apply and a bare `init` until migrated;
//! `--reconfigure` copies nothing; a migration killed with kill -9 at each
//! point of its copy (after each older serial, before the current state,
//! after the verified copy) leaves the old backend in use and intact, and
//! the rerun finishes it; an encrypted state migrated local → s3 →
//! kubernetes stays sealed (the canary nowhere in the stores).

#![allow(clippy::unwrap_used)]

use super::support::{Moto, Out, command, killed, output, secret_data};

use posture_backend_s3::S3Location;
use posture_sandbox::{Sandbox, SandboxConfig};
use std::path::{Path, PathBuf};

const BUCKET: &str = "posture-migrate";

struct Peers {
    moto: Moto,
    s3: S3Location,
    sandbox: Option<Sandbox>,
    tmp: tempfile::TempDir,
}

impl Peers {
    fn start(kubernetes: bool) -> Peers {
        let moto = Moto::start(BUCKET);
        let s3 = moto.location("fleet/state.json");
        let tmp = tempfile::tempdir().unwrap();
        let sandbox = kubernetes.then(|| {
            let cfg = SandboxConfig {
                clusters: vec!["c1".into()],
                nodes: 1,
                ..Default::default()
            };
            let sandbox = moto
                .rt
                .block_on(posture_sandbox::start(cfg))
                .expect("sandbox");
            sandbox
                .write_kubeconfig(&tmp.path().join("kubeconfig"))
                .unwrap();
            sandbox
        });
        Peers {
            moto,
            s3,
            sandbox,
            tmp,
        }
    }

    fn s3(&self) -> String {
        format!(
            "posture {{\n  backend \"s3\" {{\n    bucket = \"{BUCKET}\"\n    key = \
             \"fleet/state.json\"\n    region = \"us-east-1\"\n    endpoint = \"{}\"\n    \
             force_path_style = true\n    lock_ttl = \"3s\"\n  }}\n}}\n",
            self.moto.endpoint()
        )
    }

    fn kubernetes(&self) -> String {
        assert!(self.sandbox.is_some(), "started without the sandbox");
        format!(
            "posture {{\n  backend \"kubernetes\" {{\n    kubeconfig = \"{}\"\n    context = \
             \"c1\"\n    namespace = \"default\"\n    secret_suffix = \"fleet\"\n    lock_ttl = \"3s\"\n  }}\n}}\n",
            self.tmp.path().join("kubeconfig").display()
        )
    }

    fn workdir(&self) -> PathBuf {
        let d = self.tmp.path().join("work");
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        if let Some(s) = self.sandbox.take() {
            drop(self.moto.rt.block_on(s.shutdown()));
        }
    }
}

const LOCAL: &str = "";

fn resources(input: &str) -> String {
    format!(
        "resource \"posture_data\" \"a\" {{\n  input = \"{input}\"\n}}\n\
         resource \"posture_data\" \"b\" {{\n  input = posture_data.a.output\n}}\n"
    )
}

fn env(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("KUBECONFIG")
}

fn run(dir: &Path, args: &[&str]) -> Out {
    output(env(&mut command(dir)).args(args))
}

fn ok(dir: &Path, args: &[&str]) -> Out {
    let o = run(dir, args);
    assert_eq!(o.code, 0, "posture {args:?}\n{}", o.all());
    o
}

fn configure(dir: &Path, backend: &str, input: &str) {
    std::fs::write(
        dir.join("main.hcl"),
        format!("{backend}{}", resources(input)),
    )
    .unwrap();
}

/// Lineage and serial of the state the configuration uses now.
fn identity(dir: &Path) -> (String, u64) {
    let v: serde_json::Value = serde_json::from_str(&ok(dir, &["state", "pull"]).stdout).unwrap();
    (
        v["lineage"].as_str().unwrap().to_string(),
        v["serial"].as_u64().unwrap(),
    )
}

/// Moves the configuration to `backend` and migrates, checking the refusal
/// before and the state after.
fn migrate_to(dir: &Path, backend: &str, input: &str, before: &(String, u64)) {
    let history = ok(dir, &["state", "history"]).stdout;
    assert_eq!(history.lines().count() as u64, before.1 + 1, "{history}");
    configure(dir, backend, input);
    for args in [&["plan"][..], &["init"][..]] {
        let o = run(dir, args);
        assert_eq!(o.code, 1, "{args:?}\n{}", o.all());
        assert!(
            o.stderr.contains("posture init --migrate-state"),
            "{}",
            o.all()
        );
        assert!(o.stderr.contains("--reconfigure"), "{}", o.all());
    }
    let o = ok(dir, &["init", "-migrate-state"]);
    assert!(o.stdout.contains("Copied the state"), "{}", o.all());
    assert!(
        o.stdout.contains(&format!("serial {}", before.1)),
        "{}",
        o.all()
    );
    assert_eq!(&identity(dir), before, "lineage and serial kept");
    assert_eq!(
        ok(dir, &["state", "list"]).stdout,
        "posture_data.a\nposture_data.b\n"
    );
    // Every serial, each with its line as it was (time and who included).
    assert_eq!(ok(dir, &["state", "history"]).stdout, history);
    let o = ok(dir, &["state", "show", "--serial", "1"]);
    assert!(o.stdout.contains("one"), "{}", o.all());
    // The next plan sees the migrated objects: nothing to do.
    let o = run(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "{}", o.all());
}

#[test]
fn migrate_state_goes_local_to_s3_to_kubernetes_to_local_keeping_lineage_and_serial() {
    let peers = Peers::start(true);
    let d = peers.workdir();
    configure(&d, LOCAL, "one");
    ok(&d, &["apply", "--auto-approve"]);
    configure(&d, LOCAL, "two");
    ok(&d, &["apply", "--auto-approve"]);
    let first = identity(&d);
    assert_eq!(first.1, 2);

    migrate_to(&d, &peers.s3(), "two", &first);
    configure(&d, &peers.s3(), "three");
    ok(&d, &["apply", "--auto-approve"]);
    let on_s3 = identity(&d);
    assert_eq!(on_s3, (first.0.clone(), 3));

    migrate_to(&d, &peers.kubernetes(), "three", &on_s3);
    configure(&d, &peers.kubernetes(), "four");
    ok(&d, &["apply", "--auto-approve"]);
    let on_k8s = identity(&d);
    assert_eq!(on_k8s, (first.0.clone(), 4));

    // Back to local: `.posture/` still holds serial 2, another state than
    // the cluster's, so the copy is refused and nothing is overwritten.
    configure(&d, LOCAL, "four");
    let o = run(&d, &["init", "--migrate-state"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("already holds another state"),
        "{}",
        o.all()
    );
    // Empty the old local state, keeping the record of the initialized backend.
    for e in std::fs::read_dir(d.join(".posture")).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            std::fs::remove_dir_all(&p).unwrap();
        } else if !p.ends_with("backend.json") {
            std::fs::remove_file(&p).unwrap();
        }
    }
    let o = ok(&d, &["init", "--migrate-state"]);
    assert!(o.stdout.contains("Copied the state"), "{}", o.all());
    assert_eq!(identity(&d), on_k8s);
    let o = ok(&d, &["state", "history"]);
    assert_eq!(
        o.stdout.lines().count(),
        5,
        "a header and serials 1 to 4: {}",
        o.all()
    );
    let o = run(&d, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "{}", o.all());
}

#[test]
fn a_migration_killed_after_its_copy_leaves_the_old_backend_in_use_and_the_rerun_finishes_it() {
    let peers = Peers::start(false);
    let d = peers.workdir();
    configure(&d, &peers.s3(), "one");
    ok(&d, &["init"]);
    ok(&d, &["apply", "--auto-approve"]);
    let on_s3 = identity(&d);

    // s3 → local, killed once the copy is verified, before it is recorded.
    configure(&d, LOCAL, "one");
    let mut cmd = command(&d);
    env(&mut cmd);
    killed(cmd, &["init", "--migrate-state"], "migrate:copied");
    let o = run(&d, &["apply", "--auto-approve"]);
    assert_eq!(o.code, 1, "still the s3 backend's: {}", o.all());
    assert!(
        o.stderr.contains("Backend initialization required"),
        "{}",
        o.all()
    );
    // The dead run's s3 lock runs out after its 3 s lock_ttl.
    let o = ok(&d, &["init", "--migrate-state", "--lock-timeout", "60s"]);
    assert!(o.stdout.contains("Copied the state"), "{}", o.all());
    assert_eq!(identity(&d), on_s3);
    let o = run(&d, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "{}", o.all());

    // --reconfigure: back to s3 without copying (the s3 state stays serial 1
    // after a local apply makes serial 2).
    configure(&d, LOCAL, "two");
    ok(&d, &["apply", "--auto-approve"]);
    assert_eq!(identity(&d).1, on_s3.1 + 1);
    configure(&d, &peers.s3(), "two");
    let o = ok(&d, &["init", "-reconfigure"]);
    assert!(o.stdout.contains("nothing was copied"), "{}", o.all());
    assert_eq!(identity(&d), on_s3);
}

#[test]
fn a_partial_copy_left_in_s3_is_redone_and_the_record_never_holds_credentials() {
    let peers = Peers::start(false);
    let d = peers.workdir();
    configure(&d, LOCAL, "one");
    ok(&d, &["apply", "--auto-approve"]);
    configure(&d, LOCAL, "two");
    ok(&d, &["apply", "--auto-approve"]);
    let local = identity(&d);
    let history = ok(&d, &["state", "history"]).stdout;

    // What a migration killed mid-copy leaves: an older serial's objects,
    // not yet the current state object.
    let stale = "fleet/state.json.history/00000000000000000001.entry.json";
    let put = peers
        .s3
        .client()
        .put_object()
        .bucket(BUCKET)
        .key(stale)
        .body(b"{\"interrupted\": true}".to_vec().into())
        .send();
    peers.moto.rt.block_on(put).expect("put a leftover");

    // Credentials in the block (a canary) reach S3 but never the record.
    let canary = "canary-secret-7f3a";
    let block = peers.s3().replace(
        "force_path_style = true",
        &format!(
            "force_path_style = true\n    access_key = \"test\"\n    secret_key = \"{canary}\""
        ),
    );
    configure(&d, &block, "two");
    let o = ok(&d, &["init", "--migrate-state"]);
    assert!(!o.all().contains(canary), "{}", o.all());
    assert_eq!(identity(&d), local);
    assert_eq!(ok(&d, &["state", "history"]).stdout, history);
    let record = std::fs::read_to_string(d.join(".posture/backend.json")).unwrap();
    assert!(record.contains(BUCKET), "{record}");
    assert!(!record.contains(canary), "{record}");
    assert!(!record.contains("access_key"), "{record}");
}

/// Older serials written to S3 by a migration: the history snapshots.
fn snapshots_in(peers: &Peers) -> usize {
    let keys: Vec<String> = peers.moto.objects().into_iter().map(|(k, _)| k).collect();
    keys.iter().filter(|k| k.ends_with(".state.json")).count()
}

/// The local state in `.posture/`, opened directly: its identity and history.
fn local_source(dir: &Path) -> ((String, u64), Vec<posture_engine::state::HistoryEntry>) {
    use posture_engine::state::{LocalLocation, LockOptions, StateLocation};
    let b = LocalLocation::new(dir.join(".posture"))
        .open(&LockOptions::new("test"))
        .unwrap();
    let s = b.load().unwrap();
    let h = b.history().unwrap();
    b.close().unwrap();
    ((s.lineage, s.serial), h)
}

#[test]
fn a_migration_killed_at_each_point_of_its_copy_then_rerun_loses_nothing() {
    let peers = Peers::start(false);
    let d = peers.workdir();
    for input in ["one", "two", "three"] {
        configure(&d, LOCAL, input);
        ok(&d, &["apply", "--auto-approve"]);
    }
    let (local, local_history) = local_source(&d);
    assert_eq!(local.1, 3);
    let history = ok(&d, &["state", "history"]).stdout;

    // local → s3, killed after each older serial and before the current
    // state: each rerun starts the copy over. (Killed after the verified
    // copy: a_migration_killed_after_its_copy_leaves_the_old_backend_in_use.)
    configure(&d, &peers.s3(), "three");
    let migrate = ["init", "--migrate-state", "--lock-timeout", "60s"];
    for (point, written) in [
        ("migrate:history:1", 1),
        ("migrate:history:2", 2),
        ("migrate:current", 2),
    ] {
        let mut cmd = command(&d);
        env(&mut cmd);
        let seen = killed(cmd, &migrate, point);
        assert!(seen.contains("halted at"), "{point}: {seen}");
        assert_eq!(snapshots_in(&peers), written, "{point}");
        // Still the local state's directory: nothing ran against the copy.
        let o = run(&d, &["plan"]);
        assert_eq!(o.code, 1, "{point}: {}", o.all());
        assert!(
            o.stderr.contains("Backend initialization required"),
            "{point}: {}",
            o.all()
        );
        assert_eq!(local_source(&d), (local.clone(), local_history.clone()));
    }
    let o = ok(&d, &migrate);
    assert!(o.stdout.contains("Copied the state"), "{}", o.all());
    assert!(o.stdout.contains("3 serial(s) of history"), "{}", o.all());
    assert_eq!(identity(&d), local);
    assert_eq!(ok(&d, &["state", "history"]).stdout, history);
    for (serial, input) in [("1", "one"), ("2", "two"), ("3", "three")] {
        let o = ok(&d, &["state", "show", "--serial", serial]);
        assert!(o.stdout.contains(input), "serial {serial}: {}", o.all());
    }
    let o = run(&d, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert_eq!(local_source(&d), (local, local_history), "source intact");
}

const CANARY: &str = "canary-migrated-4e1b9c";
const PASS_ENV: &str = "POSTURE_TEST_MIGRATE_PASS";
const OLD_PASS_ENV: &str = "POSTURE_TEST_MIGRATE_OLD_PASS";
const PASS: &str = "new-pass-canary-71c0";
const OLD_PASS: &str = "old-pass-canary-03d8";

/// `backend` (a whole `posture { }` block, or none) with an enforced
/// encryption block: pbkdf2 from `$PASS_ENV`, and with `fallback` the old
/// key from `$OLD_PASS_ENV` as fallback.
fn sealed(backend: &str, fallback: bool, value: &str) -> String {
    let old = if fallback {
        format!(
            "key_provider \"pbkdf2\" \"old\" {{ passphrase = env(\"{OLD_PASS_ENV}\") }}\n    \
             method \"aes_gcm\" \"old\" {{ keys = key_provider.pbkdf2.old }}\n"
        )
    } else {
        String::new()
    };
    let fallback = if fallback {
        "fallback { method = method.aes_gcm.old }"
    } else {
        ""
    };
    let block = format!(
        "  encryption {{\n    key_provider \"pbkdf2\" \"main\" {{ passphrase = env(\"{PASS_ENV}\") }}\n    \
         method \"aes_gcm\" \"main\" {{ keys = key_provider.pbkdf2.main }}\n    {old}    \
         state {{\n      method = method.aes_gcm.main\n      enforced = true\n      {fallback}\n    }}\n  }}\n"
    );
    let posture = match backend.trim_end().strip_suffix('}') {
        Some(open) => format!("{open}{block}}}\n"),
        None => format!("posture {{\n{block}}}\n"),
    };
    format!(
        "{posture}variable \"token\" {{\n  type = string\n  sensitive = true\n  default = \
         \"{value}\"\n}}\nresource \"posture_data\" \"secret\" {{\n  input = var.token\n}}\n"
    )
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn assert_sealed(what: &str, bytes: &[u8]) {
    for secret in [CANARY, PASS, OLD_PASS] {
        assert!(!contains(bytes, secret), "{secret} is in {what}");
    }
}

#[test]
fn migrate_state_out_of_encrypted_local_state_to_s3_then_kubernetes_keeps_it_sealed() {
    let peers = Peers::start(true);
    let d = peers.workdir();
    let with = |args: &[&str], pass: &str| {
        let mut c = command(&d);
        env(&mut c)
            .args(args)
            .env(PASS_ENV, pass)
            .env(OLD_PASS_ENV, OLD_PASS);
        output(&mut c)
    };
    let ok_with = |args: &[&str]| {
        let o = with(args, PASS);
        assert_eq!(o.code, 0, "posture {args:?}\n{}", o.all());
        o
    };
    // Local state sealed under the old key, two serials.
    let main = d.join("main.hcl");
    for value in ["first-value", CANARY] {
        std::fs::write(&main, sealed(LOCAL, false, value)).unwrap();
        let o = with(&["apply", "--auto-approve"], OLD_PASS);
        assert_eq!(o.code, 0, "{}", o.all());
    }
    let before = with(&["state", "pull"], OLD_PASS).stdout;
    let history = with(&["state", "history"], OLD_PASS).stdout;

    // → s3, the key rotated: the source opens with the fallback (the old
    // key), the copy is sealed with the new one.
    std::fs::write(&main, sealed(&peers.s3(), true, CANARY)).unwrap();
    let o = ok_with(&["init", "--migrate-state"]);
    assert!(o.stdout.contains("Copied the state"), "{}", o.all());
    assert!(o.stdout.contains("serial 2, 2 serial(s)"), "{}", o.all());
    assert_sealed("the output", o.all().as_bytes());
    let objects = peers.moto.objects();
    assert!(objects.len() >= 3, "state, snapshot, entry: {objects:?}");
    for (key, body) in &objects {
        assert_sealed(key, body);
    }
    assert_eq!(ok_with(&["state", "pull"]).stdout, before);
    assert_eq!(ok_with(&["state", "history"]).stdout, history);
    assert!(
        ok_with(&["state", "show", "--serial", "1"])
            .stdout
            .contains("sensitive")
    );
    // The new key alone reads the copy: it is not sealed under the old one.
    std::fs::write(&main, sealed(&peers.s3(), false, CANARY)).unwrap();
    let o = ok_with(&["plan", "--detailed-exitcode"]);
    assert_sealed("the plan", o.all().as_bytes());

    // → kubernetes with the new key only.
    std::fs::write(&main, sealed(&peers.kubernetes(), false, CANARY)).unwrap();
    let o = ok_with(&["init", "--migrate-state"]);
    assert!(o.stdout.contains("Copied the state"), "{}", o.all());
    let kubeconfig = peers.tmp.path().join("kubeconfig");
    let secrets = secret_data(&peers.moto.rt, &kubeconfig, "c1");
    assert!(secrets.len() >= 3, "index, chunks, history: {secrets:?}");
    for (name, data) in &secrets {
        assert_sealed(name, data);
    }
    assert_eq!(ok_with(&["state", "pull"]).stdout, before);
    assert_eq!(ok_with(&["state", "history"]).stdout, history);
    let o = ok_with(&["plan", "--detailed-exitcode"]);
    assert!(o.stdout.contains("No changes"), "{}", o.all());

    // A wrong key for the source: a clear error, nothing recorded.
    std::fs::write(&main, sealed(LOCAL, false, CANARY)).unwrap();
    let o = with(&["init", "--migrate-state"], "not-the-passphrase-5a");
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("check the passphrase"), "{}", o.all());
    assert!(!o.all().contains("not-the-passphrase"), "{}", o.all());
}
