//! `backend "s3"` through the real binary on moto's S3: apply, the state
//! read from another directory, an apply refused while another run holds
//! the lock (naming the holder), force-unlock, `posture init` and its
//! migration of local state, and bad settings at file:line:col.

#![allow(clippy::unwrap_used)]

use super::support::{Moto, Out, TWO_RESOURCES, command, killed, output};

use posture_backend_s3::S3Location;
use posture_engine::state::{LockOptions, StateLocation};
use std::path::Path;

const BUCKET: &str = "posture-cli-state";

struct Peer {
    moto: Moto,
}

impl Peer {
    fn start() -> Peer {
        Peer {
            moto: Moto::start(BUCKET),
        }
    }

    /// The test's own view of the state the configurations use.
    fn location(&self) -> S3Location {
        self.moto.location("fleet/state.json")
    }

    fn backend_block(&self) -> String {
        format!(
            r#"
posture {{
  backend "s3" {{
    bucket           = "{BUCKET}"
    key              = "fleet/state.json"
    region           = "us-east-1"
    endpoint         = "{}"
    force_path_style = true
    lock_ttl         = "5s"
  }}
}}
"#,
            self.moto.endpoint()
        )
    }
}

/// posture with credentials from the environment (the standard chain).
fn run(dir: &Path, args: &[&str]) -> Out {
    output(
        command(dir)
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL"),
    )
}

fn dir_with(files: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("main.hcl"), files).unwrap();
    d
}

#[test]
fn state_in_s3_is_shared_between_directories_and_a_held_lock_refuses_apply_naming_the_holder() {
    let peer = Peer::start();
    let config = format!("{}{TWO_RESOURCES}", peer.backend_block());
    let first = dir_with(&config);
    let o = run(first.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(!first.path().join(".posture").exists(), "no local state");

    let second = dir_with(&config);
    let o = run(second.path(), &["state", "list"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert_eq!(o.stdout, "posture_data.a\nposture_data.b\n");
    let o = run(second.path(), &["state", "history"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("apply"), "{}", o.all());

    // Another run holds the lock.
    let loc = peer.location();
    let held = loc.open(&LockOptions::new("drift-check")).unwrap();
    let id = held.lock_info().id.clone();
    std::fs::write(
        first.path().join("main.hcl"),
        config.replace("\"one\"", "\"two\""),
    )
    .unwrap();
    let o = run(first.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("state is locked by"), "{}", o.all());
    assert!(o.stderr.contains("drift-check"), "{}", o.all());
    assert!(o.stderr.contains(&id), "{}", o.all());

    // force-unlock ID works as with local state; the old holder may write no more.
    let o = run(first.path(), &["force-unlock", "--force", &id]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(held.commit(None, "late").is_err());
    drop(held);
    let o = run(first.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let o = run(second.path(), &["state", "show", "posture_data.a"]);
    assert!(o.stdout.contains("two"), "{}", o.all());
}

#[test]
fn a_killed_holders_lock_expires_and_the_next_apply_takes_it_over_and_recovers() {
    let peer = Peer::start();
    let d = dir_with(&format!("{}{TWO_RESOURCES}", peer.backend_block()));
    let mut cmd = command(d.path());
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL");
    // kill -9 once the provider answered the first batch: the lock object
    // and a pending intent stay in the bucket, nobody renews the lock.
    killed(cmd, &["apply", "--auto-approve"], "applied:1");
    let dead = peer
        .location()
        .lock_holder()
        .unwrap()
        .expect("the dead run's lock");
    let o = run(d.path(), &["plan"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains(&dead.id), "{}", o.all());
    // Waiting for the lock is the product's own polling: the 5 s TTL runs out.
    let o = run(
        d.path(),
        &["apply", "--auto-approve", "--lock-timeout", "60s"],
    );
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stderr.contains("Recovered: "), "{}", o.all());
    let o = run(d.path(), &["state", "list"]);
    assert_eq!(o.stdout, "posture_data.a\nposture_data.b\n", "{}", o.all());
    let o = run(d.path(), &["state", "history"]);
    assert!(o.stdout.contains("lock taken over from"), "{}", o.all());
    assert!(o.stdout.contains(&dead.id), "{}", o.all());
}

#[test]
fn init_migrates_local_state_to_s3_only_when_asked() {
    let peer = Peer::start();
    let d = dir_with(TWO_RESOURCES);
    let o = run(d.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 0, "{}", o.all());
    std::fs::write(
        d.path().join("main.hcl"),
        format!("{}{TWO_RESOURCES}", peer.backend_block()),
    )
    .unwrap();
    let o = run(d.path(), &["init"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("posture init --migrate-state"),
        "{}",
        o.all()
    );
    let o = run(d.path(), &["state", "list"]);
    assert_eq!(o.stdout, "", "nothing copied yet: {}", o.all());

    let o = run(d.path(), &["init", "--migrate-state"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout.contains("s3://posture-cli-state/fleet/state.json"),
        "{}",
        o.all()
    );
    let o = run(d.path(), &["state", "list"]);
    assert_eq!(o.stdout, "posture_data.a\nposture_data.b\n", "{}", o.all());
    // The next plan sees the migrated objects: nothing to do.
    let o = run(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "{}", o.all());
}

#[test]
fn bad_s3_settings_are_reported_at_file_line_col() {
    let d = dir_with(
        r#"posture {
  backend "s3" {
    bucket   = "b"
    lock_ttl = "soon"
    region   = true
  }
}
"#,
    );
    let o = run(d.path(), &["init"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("Missing backend setting"), "{}", o.all());
    assert!(o.stderr.contains("key = "), "{}", o.all());
    assert!(o.stderr.contains("main.hcl:4:"), "{}", o.all());
    assert!(o.stderr.contains("main.hcl:5:"), "{}", o.all());
    let d = dir_with("posture {\n  backend \"gcs\" {}\n}\n");
    let o = run(d.path(), &["init"]);
    assert!(
        o.stderr.contains("Supported: \"local\", \"s3\""),
        "{}",
        o.all()
    );
}

#[test]
fn the_endpoint_comes_from_aws_endpoint_url_when_the_block_has_none() {
    let peer = Peer::start();
    let block = peer.backend_block().replace(
        &format!("endpoint         = \"{}\"", peer.moto.endpoint()),
        "",
    );
    let d = dir_with(&format!("{block}{TWO_RESOURCES}"));
    let o = output(
        command(d.path())
            .args(["apply", "--auto-approve"])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_ENDPOINT_URL", peer.moto.endpoint()),
    );
    assert_eq!(o.code, 0, "{}", o.all());
    let st = peer.location().open(&LockOptions::new("check")).unwrap();
    assert_eq!(st.load().unwrap().instances.len(), 2);
}

#[test]
fn no_credentials_is_a_clear_error_that_writes_nothing() {
    let peer = Peer::start();
    let d = dir_with(&format!("{}{TWO_RESOURCES}", peer.backend_block()));
    let home = tempfile::tempdir().unwrap();
    let o = output(
        command(d.path())
            .args(["apply", "--auto-approve"])
            .env_clear()
            .env("HOME", home.path())
            .env("AWS_EC2_METADATA_DISABLED", "true"),
    );
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("credentials"), "{}", o.all());
    assert!(
        o.stderr.contains("AWS_ACCESS_KEY_ID"),
        "what to do: {}",
        o.all()
    );
    // The SDK's Display appends a Debug dump of the whole chain.
    assert!(!o.stderr.contains("DispatchFailure("), "{}", o.all());
    assert!(
        o.stderr.contains("s3://posture-cli-state/fleet/state.json"),
        "{}",
        o.all()
    );
    assert!(peer.location().lock_holder().unwrap().is_none());
}
