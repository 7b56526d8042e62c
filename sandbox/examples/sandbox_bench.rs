//! Benchmark of one sandbox cluster (not a test): GETs per second over HTTPS keep-alive
//! connections, and the time to LIST 10,000 ConfigMaps.
//! `cargo run --release -p posture-sandbox --example sandbox_bench`; numbers go to docs/sandbox.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use posture_sandbox::{SandboxConfig, objects};
use rustls::pki_types::pem::PemObject;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

type Conn = BufReader<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

async fn connect(addr: &str, ca_pem: &str) -> Conn {
    let ca = rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("CA PEM");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("CA");
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    BufReader::new(
        tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await
            .expect("tls"),
    )
}

/// One keep-alive GET; returns the body length.
async fn get(conn: &mut Conn, addr: &str, token: &str, path: &str) -> usize {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    );
    conn.get_mut()
        .write_all(req.as_bytes())
        .await
        .expect("write");
    let mut len = 0usize;
    let mut status = String::new();
    conn.read_line(&mut status).await.expect("status");
    assert!(status.contains(" 200 "), "unexpected answer {status}");
    loop {
        let mut line = String::new();
        conn.read_line(&mut line).await.expect("header");
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().expect("length");
        }
    }
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).await.expect("body");
    len
}

#[tokio::main]
async fn main() {
    let sb = posture_sandbox::start(SandboxConfig {
        clusters: vec!["bench".into()],
        nodes: 3,
        ..Default::default()
    })
    .await
    .expect("sandbox starts");
    let addr = sb
        .cluster_url("bench")
        .expect("served")
        .trim_start_matches("https://")
        .to_string();
    let token = sb.token("bench").expect("token");
    let n = 10_000;
    {
        // Seeded in-process: the benchmark is about reads.
        let c = sb.cluster("bench").expect("cluster");
        let mut st = c.state();
        let ns = st
            .registry
            .find("", "v1", "namespaces")
            .cloned()
            .expect("namespaces");
        objects::create(
            &mut st,
            &ns,
            "",
            json!({"metadata": {"name": "bench"}}),
            &objects::WriteOpts::internal("bench"),
        )
        .expect("ns");
        let cm = st
            .registry
            .find("", "v1", "configmaps")
            .cloned()
            .expect("configmaps");
        for i in 0..n {
            let o = json!({"metadata": {"name": format!("cm-{i:05}"), "labels": {"app": "bench", "shard": (i % 10).to_string()}},
                           "data": {"key": "value", "index": i.to_string()}});
            objects::create(
                &mut st,
                &cm,
                "bench",
                o,
                &objects::WriteOpts::internal("bench"),
            )
            .expect("configmap");
        }
    }

    let conns = 8;
    let window = Duration::from_secs(5);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..conns {
        let (addr, token, ca) = (addr.clone(), token.clone(), sb.ca_pem().to_string());
        tasks.push(tokio::spawn(async move {
            let mut conn = connect(&addr, &ca).await;
            let mut done = 0u64;
            let mut i = w;
            while start.elapsed() < window {
                let path = format!("/api/v1/namespaces/bench/configmaps/cm-{:05}", i % n);
                get(&mut conn, &addr, &token, &path).await;
                done += 1;
                i += conns;
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("worker");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "GET: {total} requests over {conns} connections in {secs:.2} s = {:.0} GETs/s",
        total as f64 / secs
    );

    let mut conn = connect(&addr, sb.ca_pem()).await;
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..11 {
        let t = Instant::now();
        bytes = get(
            &mut conn,
            &addr,
            &token,
            "/api/v1/namespaces/bench/configmaps",
        )
        .await;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "LIST of {n} ConfigMaps ({:.1} MiB): median {:.1} ms, min {:.1} ms, max {:.1} ms (11 runs, over HTTPS, client read included)",
        bytes as f64 / 1_048_576.0,
        times[5].as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[10].as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let sel = get(
        &mut conn,
        &addr,
        &token,
        "/api/v1/namespaces/bench/configmaps?labelSelector=shard%3D3",
    )
    .await;
    println!(
        "LIST with labelSelector (1,000 of {n} match, {} KiB): {:.1} ms",
        sel / 1024,
        t.elapsed().as_secs_f64() * 1000.0
    );
    sb.shutdown().await.expect("shutdown");
}
