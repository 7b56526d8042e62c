//! Client-side state encryption through the real binary: an apply with a
//! canary secret on S3 (moto) and Kubernetes (the sandbox), then every
//! stored byte scanned for the canary and the passphrase; the wrong
//! passphrase refused with a clear error and nothing overwritten; a key
//! rotated through `fallback`; `enforced` refusing plaintext; aws_kms on
//! moto's KMS; a bad block at file:line:col.

#![allow(clippy::unwrap_used)]

use super::support::{Moto, Out, command, killed, output, secret_data};

use std::path::{Path, PathBuf};

const BUCKET: &str = "posture-encrypted";
const CANARY: &str = "canary-s3cr3t-7d41e0";
const PASS: &str = "pass-phrase-canary-9f2c";
const PASS_ENV: &str = "POSTURE_TEST_STATE_PASSPHRASE";

fn resources(value: &str) -> String {
    format!(
        r#"
variable "token" {{
  type      = string
  sensitive = true
  default   = "{value}"
}}
resource "posture_data" "secret" {{
  input = var.token
}}
"#
    )
}

/// An encryption block: pbkdf2 `main` from `$PASS_ENV`, and, with
/// `old_env`, a fallback `old` from that variable.
fn encryption(enforced: bool, old_env: Option<&str>) -> String {
    let (old_kp, fallback) = match old_env {
        Some(e) => (
            format!(
                "key_provider \"pbkdf2\" \"old\" {{ passphrase = env(\"{e}\") }}\n    \
                 method \"aes_gcm\" \"old\" {{ keys = key_provider.pbkdf2.old }}"
            ),
            "fallback { method = method.aes_gcm.old }".to_string(),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        r#"
  encryption {{
    key_provider "pbkdf2" "main" {{
      passphrase = env("{PASS_ENV}")
    }}
    method "aes_gcm" "main" {{
      keys = key_provider.pbkdf2.main
    }}
    {old_kp}
    state {{
      method   = method.aes_gcm.main
      enforced = {enforced}
      {fallback}
    }}
  }}
"#
    )
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

struct S3Peer {
    moto: Moto,
}

impl S3Peer {
    fn start() -> S3Peer {
        S3Peer {
            moto: Moto::start(BUCKET),
        }
    }

    fn config(&self, encryption: &str, value: &str) -> String {
        format!(
            r#"
posture {{
  backend "s3" {{
    bucket           = "{BUCKET}"
    key              = "fleet/state.json"
    region           = "us-east-1"
    endpoint         = "{}"
    force_path_style = true
  }}
{encryption}
}}
{}"#,
            self.moto.endpoint(),
            resources(value)
        )
    }

    /// Every object of the bucket: key and bytes.
    fn objects(&self) -> Vec<(String, Vec<u8>)> {
        self.moto.objects()
    }
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = command(dir);
    c.args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("KUBECONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    output(&mut c)
}

fn dir_with(text: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("main.hcl"), text).unwrap();
    d
}

fn assert_no_secret_in(what: &str, bytes: &[u8]) {
    assert!(!contains(bytes, CANARY), "the canary is in {what}");
    assert!(!contains(bytes, PASS), "the passphrase is in {what}");
}

#[test]
fn s3_state_holds_no_canary_and_the_wrong_passphrase_is_refused_without_overwriting() {
    let peer = S3Peer::start();
    let d = dir_with(&peer.config(&encryption(true, None), CANARY));
    let env = [(PASS_ENV, PASS)];
    let o = run(d.path(), &["apply", "--auto-approve"], &env);
    assert_eq!(o.code, 0, "{}", o.all());
    assert_no_secret_in("the output", o.all().as_bytes());

    let objects = peer.objects();
    assert!(objects.len() >= 3, "state, snapshot, entry: {objects:?}");
    for (key, body) in &objects {
        assert_no_secret_in(key, body);
    }
    // The state reads back through the key.
    let o = run(d.path(), &["state", "pull"], &env);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains(CANARY), "{}", o.all());

    // The wrong passphrase: a clear error, and not one object changed.
    let wrong = [(PASS_ENV, "not-the-passphrase-at-all")];
    for args in [&["state", "list"][..], &["apply", "--auto-approve"][..]] {
        let o = run(d.path(), args, &wrong);
        assert_eq!(o.code, 1, "{}", o.all());
        assert!(
            o.stderr.contains("s3://posture-encrypted/fleet/state.json"),
            "{}",
            o.all()
        );
        assert!(
            o.stderr
                .contains("cannot be decrypted with method aes_gcm.main: check the passphrase"),
            "{}",
            o.all()
        );
        assert!(!o.all().contains("not-the-passphrase"), "{}", o.all());
    }
    let after = peer.objects();
    let keep: Vec<_> = objects
        .iter()
        .filter(|(k, _)| !k.ends_with(".lock"))
        .collect();
    let now: Vec<_> = after
        .iter()
        .filter(|(k, _)| !k.ends_with(".lock"))
        .collect();
    assert_eq!(keep, now, "an object changed after the refused runs");
}

#[test]
fn s3_key_rotation_reads_with_the_fallback_and_commits_under_the_new_key() {
    let peer = S3Peer::start();
    let old_pass = "the-old-passphrase-1234";
    let d = dir_with(&peer.config(&encryption(true, None), CANARY));
    let o = run(
        d.path(),
        &["apply", "--auto-approve"],
        &[(PASS_ENV, old_pass)],
    );
    assert_eq!(o.code, 0, "{}", o.all());

    // The new key alone cannot read the old state...
    let o = run(d.path(), &["state", "list"], &[(PASS_ENV, PASS)]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("cannot be decrypted"), "{}", o.all());

    // ...with the old one as fallback it can, and the next commit is under the new key.
    let rotated = peer.config(&encryption(true, Some("POSTURE_TEST_OLD")), "canary-2-b81f");
    std::fs::write(d.path().join("main.hcl"), rotated).unwrap();
    let both = [(PASS_ENV, PASS), ("POSTURE_TEST_OLD", old_pass)];
    let o = run(d.path(), &["apply", "--auto-approve"], &both);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("1 changed"), "{}", o.all());

    let single = peer.config(&encryption(true, None), "canary-2-b81f");
    std::fs::write(d.path().join("main.hcl"), single).unwrap();
    let o = run(d.path(), &["state", "pull"], &[(PASS_ENV, PASS)]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("canary-2-b81f"), "{}", o.all());
    let o = run(d.path(), &["state", "list"], &[(PASS_ENV, old_pass)]);
    assert_eq!(
        o.code,
        1,
        "the old key still reads the new state: {}",
        o.all()
    );
}

#[test]
fn s3_enforced_refuses_a_plaintext_state_and_unenforced_migrates_it_into_encryption() {
    let peer = S3Peer::start();
    let d = dir_with(&peer.config("", "plain-value-1"));
    let o = run(d.path(), &["apply", "--auto-approve"], &[]);
    assert_eq!(o.code, 0, "{}", o.all());

    let strict = peer.config(&encryption(true, None), CANARY);
    std::fs::write(d.path().join("main.hcl"), strict).unwrap();
    let o = run(d.path(), &["apply", "--auto-approve"], &[(PASS_ENV, PASS)]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("is not encrypted"), "{}", o.all());
    assert!(o.stderr.contains("enforced = false"), "{}", o.all());

    let lax = peer.config(&encryption(false, None), CANARY);
    std::fs::write(d.path().join("main.hcl"), lax).unwrap();
    let o = run(d.path(), &["apply", "--auto-approve"], &[(PASS_ENV, PASS)]);
    assert_eq!(o.code, 0, "{}", o.all());
    // Everything written from then on is sealed: the new value is nowhere.
    for (key, body) in peer.objects() {
        assert_no_secret_in(&key, &body);
    }
    let strict = peer.config(&encryption(true, None), CANARY);
    std::fs::write(d.path().join("main.hcl"), strict).unwrap();
    let o = run(d.path(), &["state", "list"], &[(PASS_ENV, PASS)]);
    assert_eq!(o.code, 0, "{}", o.all());
}

#[test]
fn s3_state_sealed_by_aws_kms_on_moto() {
    let peer = S3Peer::start();
    let endpoint = peer.moto.endpoint();
    let key_id = peer.moto.rt.block_on(async {
        let keys = posture_aws::StaticKeys {
            access_key: "test".into(),
            secret_key: "test".into(),
            session_token: None,
        };
        let overrides = posture_aws::Overrides {
            profile: None,
            region: Some("us-east-1"),
            endpoint: Some(&endpoint),
            static_keys: Some(&keys),
        };
        let conf = posture_aws::sdk_config(
            overrides,
            posture_aws::https_client(),
            posture_aws::Retries::Standard,
            "test",
        )
        .await;
        let kms = aws_sdk_kms::Client::new(&conf);
        let out = kms.create_key().send().await.expect("create key");
        out.key_metadata().unwrap().key_id().to_string()
    });
    let block = format!(
        r#"
  encryption {{
    key_provider "aws_kms" "main" {{
      kms_key_id = "{key_id}"
      region     = "us-east-1"
      endpoint   = "{endpoint}"
      key_spec   = "AES_256"
    }}
    method "aes_gcm" "main" {{
      keys = key_provider.aws_kms.main
    }}
    state {{
      method   = method.aes_gcm.main
      enforced = true
    }}
  }}
"#
    );
    let d = dir_with(&peer.config(&block, CANARY));
    let o = run(d.path(), &["apply", "--auto-approve"], &[]);
    assert_eq!(o.code, 0, "{}", o.all());
    let objects = peer.objects();
    for (key, body) in &objects {
        assert!(!contains(body, CANARY), "the canary is in {key}");
    }
    let state = &objects
        .iter()
        .find(|(k, _)| k == "fleet/state.json")
        .unwrap()
        .1;
    assert!(contains(state, "\"provider\":\"aws_kms\""), "sealed by KMS");
    let o = run(d.path(), &["state", "pull"], &[]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains(CANARY), "{}", o.all());
}

#[test]
fn a_bad_encryption_block_is_reported_at_file_line_col() {
    let peer = S3Peer::start();
    let bad = encryption(true, None).replace(
        "method   = method.aes_gcm.main",
        "method   = method.aes_gcm.missing",
    );
    let d = dir_with(&peer.config(&bad, CANARY));
    let o = run(d.path(), &["plan"], &[(PASS_ENV, PASS)]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("Reference to an undeclared method"),
        "{}",
        o.all()
    );
    assert!(o.stderr.contains("main.hcl:"), "{}", o.all());
    // An unset passphrase variable names it.
    let d = dir_with(&peer.config(&encryption(true, None), CANARY));
    let o = run(d.path(), &["plan"], &[]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains(&format!("{PASS_ENV} is not set")),
        "{}",
        o.all()
    );
    assert!(peer.objects().is_empty(), "nothing written");
}

struct K8sPeer {
    _sandbox: posture_sandbox::Sandbox,
    rt: tokio::runtime::Runtime,
    tmp: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl K8sPeer {
    fn start() -> K8sPeer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cfg = posture_sandbox::SandboxConfig {
            clusters: vec!["c1".into()],
            nodes: 1,
            ..Default::default()
        };
        let sandbox = rt.block_on(posture_sandbox::start(cfg)).expect("sandbox");
        let tmp = tempfile::tempdir().unwrap();
        let kubeconfig = tmp.path().join("kubeconfig");
        sandbox.write_kubeconfig(&kubeconfig).unwrap();
        K8sPeer {
            _sandbox: sandbox,
            rt,
            tmp,
            kubeconfig,
        }
    }

    fn config(&self, encryption: &str) -> String {
        format!(
            r#"
posture {{
  backend "kubernetes" {{
    kubeconfig    = "{}"
    context       = "c1"
    namespace     = "default"
    secret_suffix = "fleet"
  }}
{encryption}
}}
{}"#,
            self.kubeconfig.display(),
            resources(CANARY)
        )
    }

    /// Every Secret's data, decoded, by name.
    fn secrets(&self) -> Vec<(String, Vec<u8>)> {
        secret_data(&self.rt, &self.kubeconfig, "c1")
    }
}

#[test]
fn kubernetes_state_holds_no_canary_and_the_wrong_passphrase_is_refused() {
    let peer = K8sPeer::start();
    let d = peer.tmp.path().join("work");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("main.hcl"), peer.config(&encryption(true, None))).unwrap();
    let env = [(PASS_ENV, PASS)];
    let o = run(&d, &["apply", "--auto-approve"], &env);
    assert_eq!(o.code, 0, "{}", o.all());
    let secrets = peer.secrets();
    assert!(secrets.len() >= 3, "index, chunk, history: {secrets:?}");
    for (name, data) in &secrets {
        assert_no_secret_in(name, data);
        // Not merely compressed: a gzip stream of a chunk would decompress.
        assert!(
            !data.starts_with(&[0x1f, 0x8b]),
            "{name} is a plain gzip stream"
        );
    }
    let o = run(&d, &["state", "pull"], &env);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains(CANARY), "{}", o.all());

    let o = run(
        &d,
        &["apply", "--auto-approve"],
        &[(PASS_ENV, "a-wrong-passphrase-42")],
    );
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("kubernetes state Secret"), "{}", o.all());
    assert!(o.stderr.contains("check the passphrase"), "{}", o.all());
    let after = peer.secrets();
    assert_eq!(secrets, after, "a Secret changed after the refused run");
}

/// Every file under `dir`, by path.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn local_state_files_hold_no_canary_and_the_wrong_passphrase_is_refused() {
    // Several independent resources: their intents are recorded as one group.
    let more: String = (0..5)
        .map(|i| format!("resource \"posture_data\" \"n{i}\" {{\n  input = var.token\n}}\n"))
        .collect();
    let text = format!(
        "posture {{\n{}\n}}\n{}{more}",
        encryption(true, None),
        resources(CANARY)
    );
    let d = dir_with(&text);
    let env = [(PASS_ENV, PASS)];
    let o = run(d.path(), &["apply", "--auto-approve"], &env);
    assert!(o.stdout.contains("6 added"), "{}", o.all());
    assert_eq!(o.code, 0, "{}", o.all());
    let stored = files(&d.path().join(".posture"));
    assert!(!stored.is_empty());
    for (path, bytes) in &stored {
        assert_no_secret_in(path, bytes);
    }
    let o = run(d.path(), &["state", "pull"], &env);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains(CANARY), "{}", o.all());
    let o = run(d.path(), &["state", "history"], &env);
    assert_eq!(o.code, 0, "{}", o.all());
    // A second apply with nothing to change commits nothing (the
    // comparison is made in clear, not on the sealed bytes).
    let o = run(d.path(), &["apply", "--auto-approve"], &env);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("No changes."), "{}", o.all());
    let o = run(d.path(), &["state", "history"], &env);
    assert_eq!(
        o.stdout.lines().filter(|l| l.contains("apply")).count(),
        1,
        "{}",
        o.all()
    );

    let o = run(
        d.path(),
        &["apply", "--auto-approve"],
        &[(PASS_ENV, "a-wrong-passphrase-42")],
    );
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("the local state in"), "{}", o.all());
    assert!(o.stderr.contains("check the passphrase"), "{}", o.all());
    let o = run(d.path(), &["state", "pull"], &env);
    assert!(o.stdout.contains(CANARY), "state intact: {}", o.all());
}

#[test]
fn a_killed_apply_on_encrypted_local_state_recovers_from_its_sealed_intents() {
    let more: String = (0..3)
        .map(|i| format!("resource \"posture_data\" \"n{i}\" {{\n  input = var.token\n}}\n"))
        .collect();
    let text = format!(
        "posture {{\n{}\n}}\n{}{more}",
        encryption(true, None),
        resources(CANARY)
    );
    let d = dir_with(&text);
    let mut cmd = command(d.path());
    cmd.env(PASS_ENV, PASS);
    // SIGKILL once the first object is applied, before it is recorded.
    killed(cmd, &["apply", "--auto-approve"], "applied:1");
    for (path, bytes) in files(&d.path().join(".posture")) {
        assert_no_secret_in(&path, &bytes);
    }
    let env = [(PASS_ENV, PASS)];
    let o = run(d.path(), &["apply", "--auto-approve"], &env);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stderr.lines().any(|l| l.starts_with("Recovered: ")),
        "{}",
        o.all()
    );
    let o = run(d.path(), &["state", "list"], &env);
    assert_eq!(o.stdout.lines().count(), 4, "{}", o.all());
    for (path, bytes) in files(&d.path().join(".posture")) {
        assert_no_secret_in(&path, &bytes);
    }
}
