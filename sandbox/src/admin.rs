//! The admin endpoint: plain HTTP on 127.0.0.1, one for the whole sandbox, to read
//! request counters and to change faults and controller delays while running.
//!
//! Routes (JSON bodies):
//! - `GET /clusters` — names and URLs;
//! - `GET|PUT /clusters/{name}/faults` — `Faults`;
//! - `GET|DELETE /clusters/{name}/metrics` — counters by "verb resource" / reset;
//! - `GET|PUT /clusters/{name}/controllers` — `ControllerConfig`.
//!
//! Must not serve the Kubernetes API, and is not subject to the faults it sets.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cluster::{Cluster, ControllerConfig, Faults};
use crate::error::SandboxError;

type Clusters = Arc<BTreeMap<String, (Arc<Cluster>, String)>>;

/// Binds the admin endpoint on 127.0.0.1:`port` (0 = any free port).
pub async fn listen(
    clusters: Clusters,
    port: u16,
    shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<()>), SandboxError> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| SandboxError::Bind {
            cluster: "admin".into(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        cluster: "admin".into(),
        source,
    })?;
    let task = tokio::spawn(async move {
        let mut stop = shutdown.clone();
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stop.changed() => return,
            };
            let Ok((stream, _)) = accepted else { continue };
            let clusters = clusters.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let clusters = clusters.clone();
                    async move { Ok::<_, std::convert::Infallible>(serve(&clusters, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok((addr, task))
}

fn reply(code: u16, v: &Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(
        serde_json::to_vec_pretty(v).unwrap_or_default(),
    )));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

async fn serve(clusters: &Clusters, req: hyper::Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return reply(
                413,
                &json!({"error": "admin request bodies are limited to 64 KiB"}),
            );
        }
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["clusters"]) => {
            let list: Vec<Value> = clusters
                .iter()
                .map(|(n, (_, url))| json!({"name": n, "server": url}))
                .collect();
            reply(200, &json!({"clusters": list}))
        }
        (m, ["clusters", name, what]) => {
            let Some((c, _)) = clusters.get(*name) else {
                return reply(
                    404,
                    &json!({"error": format!("no cluster named {name:?}; GET /clusters lists them")}),
                );
            };
            match (m, *what) {
                ("GET", "faults") => {
                    reply(200, &serde_json::to_value(c.faults()).unwrap_or_default())
                }
                ("PUT", "faults") => match serde_json::from_slice::<Faults>(&body) {
                    Ok(f) => {
                        c.set_faults(f.clone());
                        reply(200, &serde_json::to_value(f).unwrap_or_default())
                    }
                    Err(e) => reply(
                        400,
                        &json!({"error": format!("invalid faults: {e}; fields: latencyMs, errorRate, errorCode, throttleRate, retryAfterSeconds, dropRate, down")}),
                    ),
                },
                ("GET", "metrics") => {
                    let m = c.metrics();
                    let total: u64 = m.values().sum();
                    reply(200, &json!({"total": total, "requests": m}))
                }
                ("DELETE", "metrics") => {
                    c.reset_metrics();
                    reply(200, &json!({"total": 0, "requests": {}}))
                }
                ("GET", "controllers") => reply(
                    200,
                    &serde_json::to_value(c.controller_config()).unwrap_or_default(),
                ),
                ("PUT", "controllers") => match serde_json::from_slice::<ControllerConfig>(&body) {
                    Ok(cfg) => {
                        *c.controllers.lock().unwrap_or_else(|p| p.into_inner()) = cfg.clone();
                        reply(200, &serde_json::to_value(cfg).unwrap_or_default())
                    }
                    Err(e) => reply(
                        400,
                        &json!({"error": format!("invalid controller settings: {e}")}),
                    ),
                },
                _ => reply(
                    404,
                    &json!({"error": "unknown admin route; see docs/sandbox.md"}),
                ),
            }
        }
        _ => reply(
            404,
            &json!({"error": "unknown admin route; see docs/sandbox.md"}),
        ),
    }
}
