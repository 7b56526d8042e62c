//! Operations around the API: the admin endpoint (faults, metrics, controllers), body
//! limits over real HTTPS, and `--state-dir` persistence across a restart.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{env, https, instant};
use posture_sandbox::SandboxConfig;

/// One plain-HTTP request to the admin endpoint: (status, JSON body).
async fn admin(base: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("admin endpoint listens");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("request sent");
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.expect("response read");
    let code = raw
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let json = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| serde_json::from_str(b).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    (code, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_set_and_cleared_through_the_admin_endpoint() {
    let e = env(&["mgmt", "prod-eu"]).await;
    let base = e.sb.admin_url();
    let (code, v) = admin(&base, "GET", "/clusters", "").await;
    assert_eq!(code, 200);
    assert_eq!(v["clusters"].as_array().map(Vec::len), Some(2));

    let (code, _) = admin(
        &base,
        "PUT",
        "/clusters/mgmt/faults",
        r#"{"errorRate": 1.0, "errorCode": 503}"#,
    )
    .await;
    assert_eq!(code, 200);
    let out = e
        .kubectl(&[
            "--context",
            "mgmt",
            "get",
            "cm",
            "-n",
            "default",
            "--request-timeout=5s",
        ])
        .await;
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("unable to handle the request"),
        "{}",
        out.stderr
    );
    e.kubectl(&["--context", "prod-eu", "get", "ns"]).await.ok(); // other clusters are unaffected

    admin(
        &base,
        "PUT",
        "/clusters/mgmt/faults",
        r#"{"throttleRate": 1.0, "retryAfterSeconds": 7}"#,
    )
    .await;
    let tok = e.sb.token("mgmt").expect("token");
    let (code, head, body) = https(
        &e.sb,
        "mgmt",
        "GET",
        "/api/v1/namespaces",
        Some(&tok),
        "application/json",
        b"",
    )
    .await
    .expect("answered");
    assert_eq!(code, 429);
    assert!(head.contains("retry-after: 7"), "{head}");
    assert!(body.contains("TooManyRequests"), "{body}");

    admin(
        &base,
        "PUT",
        "/clusters/mgmt/faults",
        r#"{"dropRate": 1.0}"#,
    )
    .await;
    let dropped = https(
        &e.sb,
        "mgmt",
        "GET",
        "/api/v1/namespaces",
        Some(&tok),
        "application/json",
        b"",
    )
    .await;
    assert!(
        dropped.is_err(),
        "connection dropped without an answer: {dropped:?}"
    );

    admin(&base, "PUT", "/clusters/mgmt/faults", r#"{"down": true}"#).await;
    let down = https(
        &e.sb,
        "mgmt",
        "GET",
        "/api/v1/namespaces",
        Some(&tok),
        "application/json",
        b"",
    )
    .await;
    assert!(
        down.is_err(),
        "a cluster that is down closes connections: {down:?}"
    );

    let (code, _) = admin(&base, "PUT", "/clusters/mgmt/faults", r#"{"bogus": 1}"#).await;
    assert_eq!(code, 400, "unknown fault fields are rejected");
    admin(&base, "PUT", "/clusters/mgmt/faults", "{}").await;
    e.kubectl(&["--context", "mgmt", "get", "ns"]).await.ok();
    assert_eq!(
        admin(&base, "GET", "/clusters/nope/faults", "").await.0,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_per_verb_and_resource() {
    let e = env(&["mgmt"]).await;
    let base = e.sb.admin_url();
    admin(&base, "DELETE", "/clusters/mgmt/metrics", "").await;
    e.kubectl(&["get", "cm", "-n", "default"]).await.ok();
    e.kubectl(&["create", "configmap", "m", "-n", "default"])
        .await
        .ok();
    e.kubectl(&["get", "deploy", "-A"]).await.ok();
    let (code, m) = admin(&base, "GET", "/clusters/mgmt/metrics", "").await;
    assert_eq!(code, 200);
    assert_eq!(m["requests"]["list configmaps"], 1, "{m}");
    assert_eq!(m["requests"]["create configmaps"], 1, "{m}");
    assert_eq!(m["requests"]["list deployments.apps"], 1, "{m}");
    assert!(m["total"].as_u64().is_some_and(|t| t >= 3));
    assert_eq!(
        e.sb.metrics("mgmt")
            .and_then(|m| m.get("create configmaps").copied()),
        Some(1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_delays_change_at_run_time() {
    let e = env(&["mgmt"]).await;
    let base = e.sb.admin_url();
    let (code, v) = admin(
        &base,
        "PUT",
        "/clusters/mgmt/controllers",
        r#"{"workloadDelayMs": 0, "readyDelayMs": 0, "readyKinds": []}"#,
    )
    .await;
    assert_eq!((code, v["readyKinds"].clone()), (200, json!([])));
    let (_, v) = admin(&base, "GET", "/clusters/mgmt/controllers", "").await;
    assert_eq!(v["workloadDelayMs"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_malformed_and_unauthenticated_requests_get_status_answers() {
    let e = env(&["mgmt"]).await;
    let tok = e.sb.token("mgmt").expect("token");
    let path = "/api/v1/namespaces/default/configmaps";
    let big = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"x\":\"{}\"}}}}",
        "a".repeat(3 * 1024 * 1024 + 10)
    );
    let (code, _, body) = https(
        &e.sb,
        "mgmt",
        "POST",
        path,
        Some(&tok),
        "application/json",
        big.as_bytes(),
    )
    .await
    .expect("answered");
    assert_eq!(code, 413);
    let status: Value = serde_json::from_str(&body).expect("Status body");
    assert_eq!(status["reason"], "RequestEntityTooLarge");
    let (code, _, body) = https(
        &e.sb,
        "mgmt",
        "POST",
        path,
        Some(&tok),
        "application/json",
        b"{not json",
    )
    .await
    .expect("answered");
    let status: Value = serde_json::from_str(&body).expect("Status body");
    assert_eq!((code, status["reason"].as_str()), (400, Some("BadRequest")));
    let (code, _, body) = https(&e.sb, "mgmt", "GET", path, None, "application/json", b"")
        .await
        .expect("answered");
    let status: Value = serde_json::from_str(&body).expect("Status body");
    assert_eq!(
        (code, status["reason"].as_str()),
        (401, Some("Unauthorized"))
    );
    let (code, _, _) = https(
        &e.sb,
        "mgmt",
        "GET",
        path,
        Some("not-the-token"),
        "application/json",
        b"",
    )
    .await
    .expect("answered");
    assert_eq!(code, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_survive_a_restart_with_a_state_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = SandboxConfig {
        clusters: vec!["mgmt".into()],
        nodes: 1,
        state_dir: Some(dir.path().to_path_buf()),
        controllers: instant(),
        ..SandboxConfig::default()
    };
    let sb = posture_sandbox::start(cfg.clone())
        .await
        .expect("first start");
    let kubeconfig = dir.path().join("kc");
    sb.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let kubectl = |args: &[&str]| {
        std::process::Command::new(crate::common::kubectl_path())
            .args(args)
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .output()
            .expect("kubectl runs")
    };
    let out = tokio::task::block_in_place(|| kubectl(&["create", "namespace", "kept"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rv_before = tokio::task::block_in_place(|| {
        kubectl(&[
            "get",
            "ns",
            "kept",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
    });
    sb.shutdown().await.expect("clean shutdown saves state");

    let sb = posture_sandbox::start(cfg).await.expect("second start");
    sb.write_kubeconfig(&kubeconfig)
        .expect("kubeconfig rewritten");
    let got = tokio::task::block_in_place(|| {
        kubectl(&[
            "get",
            "ns",
            "kept",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
    });
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&rv_before.stdout)
    );
    let out = tokio::task::block_in_place(|| {
        kubectl(&[
            "create",
            "namespace",
            "later",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
    });
    let later: u64 = String::from_utf8_lossy(&out.stdout)
        .parse()
        .expect("rv number");
    let before: u64 = String::from_utf8_lossy(&rv_before.stdout)
        .parse()
        .expect("rv number");
    assert!(later > before, "the counter continues after a restart");
    sb.shutdown().await.expect("shutdown");
}
