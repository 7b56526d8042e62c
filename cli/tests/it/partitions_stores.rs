//! Partitioned state on the remote backends (S3 on moto, Kubernetes on the
//! sandbox: one state of its own per partition, named after it) and the
//! state commands on a partitioned state, through the `posture` binary.

use super::partitions::{assert_ok, configmap_value, fleet, halted, kill9};
use super::support::{Sandboxed, command, kubectl, output, quick};

use std::path::Path;

/// The keys of every object in `bucket` on moto, sorted.
async fn s3_keys(
    moto: &posture_provider_route53::testing::MotoServer,
    bucket: &str,
) -> Vec<String> {
    let mut s = posture_backend_s3::S3Settings::new(bucket, "x");
    s.endpoint = Some(moto.endpoint());
    s.region = Some("us-east-1".into());
    s.force_path_style = true;
    s.static_keys = Some(posture_backend_s3::StaticKeys {
        access_key: "test".into(),
        secret_key: "test".into(),
        session_token: None,
    });
    let loc = posture_backend_s3::S3Location::new(s).expect("location");
    let out = loc
        .client()
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list");
    let mut keys: Vec<String> = out
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread")]
async fn on_s3_each_partition_is_a_state_of_its_own_under_the_state_key() {
    let moto = posture_provider_route53::testing::MotoServer::start()
        .await
        .expect("moto starts");
    {
        let mut s = posture_backend_s3::S3Settings::new("parts", "x");
        s.endpoint = Some(moto.endpoint());
        s.region = Some("us-east-1".into());
        s.force_path_style = true;
        s.static_keys = Some(posture_backend_s3::StaticKeys {
            access_key: "test".into(),
            secret_key: "test".into(),
            session_token: None,
        });
        let loc = posture_backend_s3::S3Location::new(s).expect("location");
        loc.client()
            .create_bucket()
            .bucket("parts")
            .send()
            .await
            .expect("bucket");
    }
    let sb = Sandboxed::start(quick(&["a", "b"])).await;
    let kc = sb.kubeconfig.clone();
    let backend = format!(
        "posture {{\n  backend \"s3\" {{\n    bucket = \"parts\"\n    key = \"fleet/state.json\"\n    region = \"us-east-1\"\n    endpoint = \"{}\"\n    force_path_style = true\n  }}\n}}\n",
        moto.endpoint()
    );
    let dir = sb.workdir("w", &format!("{backend}{}", fleet(&["a", "b"], "v1")));
    let d = dir.clone();
    let o = tokio::task::spawn_blocking(move || {
        let run = || {
            let mut c = command(&d);
            c.env("POSTURE_VAR_kubeconfig", &kc)
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env_remove("AWS_PROFILE")
                .env_remove("AWS_ENDPOINT_URL");
            c
        };
        let o = output(run().args(["apply", "--auto-approve"]));
        assert_ok(&o, "apply on s3");
        let o = output(run().args(["apply", "--auto-approve", "--cluster", "b"]));
        assert_ok(&o, "apply --cluster b on s3");
        output(run().args(["state", "list"]))
    })
    .await
    .expect("join");
    assert_eq!(
        o.stdout,
        "kubernetes_manifest.cm[\"a\"]\nkubernetes_manifest.cm[\"b\"]\nposture_data.global\n",
        "{}",
        o.all()
    );
    let keys = s3_keys(&moto, "parts").await;
    for p in ["cluster-a", "cluster-b", "global"] {
        let state = format!("fleet/state.json.partitions/{p}");
        assert!(keys.contains(&state), "{state} in {keys:#?}");
    }
    // No run holds a lock now, and nothing was written under the state key itself.
    assert!(keys.iter().all(|k| !k.ends_with(".lock")), "{keys:#?}");
    assert!(!keys.contains(&"fleet/state.json".to_string()), "{keys:#?}");
    sb.shutdown().await.expect("shutdown");
}

/// The names of the Secrets in `default` of the sandbox cluster `context`.
fn secrets(kubeconfig: &Path, context: &str) -> Vec<String> {
    kubectl(
        kubeconfig,
        &[
            "--context",
            context,
            "-n",
            "default",
            "get",
            "secrets",
            "-o",
            "name",
        ],
    )
    .lines()
    .map(|l| l.trim_start_matches("secret/").to_string())
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn on_kubernetes_each_partition_has_secrets_named_after_it() {
    let sb = Sandboxed::start(quick(&["a", "b", "mgmt"])).await;
    let kc = sb.kubeconfig.clone();
    let backend = format!(
        "posture {{\n  backend \"kubernetes\" {{\n    kubeconfig = \"{}\"\n    context = \"mgmt\"\n    namespace = \"default\"\n    secret_suffix = \"fleet\"\n  }}\n}}\n",
        kc.display()
    );
    let dir = sb.workdir("w", &format!("{backend}{}", fleet(&["a", "b"], "v1")));
    tokio::task::spawn_blocking(move || {
        let run = || {
            let mut c = command(&dir);
            c.env("POSTURE_VAR_kubeconfig", &kc);
            c
        };
        assert_ok(&output(run().args(["apply", "--auto-approve"])), "apply");
        std::fs::write(
            dir.join("main.hcl"),
            format!("{backend}{}", fleet(&["a", "b"], "v2")),
        )
        .expect("main.hcl");
        let o = output(run().args(["apply", "--auto-approve", "--cluster", "b"]));
        assert_ok(&o, "apply --cluster b");
        assert!(o.stdout.contains("0 added, 1 changed"), "{}", o.all());
        let o = output(run().args(["state", "list"]));
        assert_eq!(
            o.stdout,
            "kubernetes_manifest.cm[\"a\"]\nkubernetes_manifest.cm[\"b\"]\nposture_data.global\n",
            "{}",
            o.all()
        );
        let names = secrets(&kc, "mgmt");
        for p in ["cluster-a", "cluster-b", "global"] {
            let index = format!("posture-state-default-fleet-{p}");
            assert!(names.contains(&index), "{index} in {names:#?}");
        }
        // The state itself holds nothing: every object is a partition's.
        assert!(
            !names.contains(&"posture-state-default-fleet".to_string()),
            "{names:#?}"
        );
        assert_eq!(configmap_value(&kc, "a").as_deref(), Some("v1"));
        assert_eq!(configmap_value(&kc, "b").as_deref(), Some("v2"));
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn state_commands_read_across_partitions_and_write_only_those_they_lock() {
    let sb = Sandboxed::start(quick(&["a", "b"])).await;
    let kc = sb.kubeconfig.clone();
    let dir = sb.workdir("w", &fleet(&["a", "b"], "v1"));
    tokio::task::spawn_blocking(move || {
        let run = || {
            let mut c = command(&dir);
            c.env("POSTURE_VAR_kubeconfig", &kc);
            c
        };
        assert_ok(&output(run().args(["apply", "--auto-approve"])), "apply");
        let o = output(run().args(["state", "show", "kubernetes_manifest.cm[\"b\"]"]));
        assert_ok(&o, "state show");
        assert!(o.stdout.contains("part-cm"), "{}", o.all());
        let o = output(run().args(["state", "pull"]));
        assert_ok(&o, "state pull");
        let pulled: serde_json::Value = serde_json::from_str(&o.stdout).expect("JSON");
        assert_eq!(
            pulled["instances"].as_object().map(|m| m.len()),
            Some(3),
            "{pulled:#}"
        );
        assert_eq!(pulled["outputs"]["g"]["value"], "g", "{pulled:#}");

        // History per partition: only a's lines with --cluster a.
        let o = output(run().args(["state", "history", "--cluster", "a"]));
        assert_ok(&o, "state history --cluster a");
        let lines: Vec<&str> = o.stdout.lines().skip(1).collect();
        assert!(
            !lines.is_empty() && lines.iter().all(|l| l.contains("[cluster-a]")),
            "{}",
            o.all()
        );
        let o = output(run().args(["state", "history"]));
        assert!(
            o.stdout.contains("[cluster-b]") && o.stdout.contains("[global]"),
            "{}",
            o.all()
        );

        // An edit of b's record by a run that locks only a is refused.
        let o = output(run().args([
            "state",
            "rm",
            "--cluster",
            "a",
            "kubernetes_manifest.cm[\"b\"]",
        ]));
        assert_eq!(o.code, 1, "{}", o.all());
        assert!(o.stderr.contains("partition b"), "{}", o.all());
        let o = output(run().args(["state", "rm", "kubernetes_manifest.cm[\"b\"]"]));
        assert_ok(&o, "state rm");
        let o = output(run().args(["state", "list"]));
        assert_eq!(
            o.stdout,
            "kubernetes_manifest.cm[\"a\"]\nposture_data.global\n",
            "{}",
            o.all()
        );

        // force-unlock finds the lock in whichever partition holds it.
        let (holder, _) = halted(
            run(),
            &["apply", "--auto-approve", "--cluster", "b"],
            "intents:1",
        );
        let lock: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(".posture/partitions/cluster-b/lock.json"))
                .expect("b's lock"),
        )
        .expect("lock JSON");
        let id = lock["id"].as_str().expect("lock id").to_string();
        let o = output(run().args(["force-unlock", "--force", &id]));
        assert_ok(&o, "force-unlock");
        assert!(!dir.join(".posture/partitions/cluster-b/lock.json").exists());
        kill9(holder);
        // A push is refused, saying what to do instead.
        std::fs::write(
            dir.join("pulled.json"),
            serde_json::to_string(&pulled).expect("JSON"),
        )
        .expect("write");
        let o = output(run().args(["state", "push", "pulled.json"]));
        assert_eq!(o.code, 1, "{}", o.all());
        assert!(o.stderr.contains("not supported yet"), "{}", o.all());
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}
