//! The HTTPS listener of one cluster: TLS, bearer-token authentication, injected
//! faults, body limits, request counting, then `api::handle`. Also the panic guard:
//! a request that panics gets a 500 Status, never a dead listener.
//!
//! Must not implement API semantics (see `api`, `objects`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use http_body_util::{BodyExt, Full, Limited, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::Rng;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{self, Reply, Request};
use crate::cluster::Cluster;
use crate::error::SandboxError;
use crate::route;
use crate::status::ApiError;

/// Largest request body accepted, as on a real API server (3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Response body type.
pub type Body = BoxBody<Bytes, Infallible>;

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed()
}

/// A response carrying a Status body.
pub fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = Response::new(full(serde_json::to_vec(&e.body()).unwrap_or_default()));
    *r.status_mut() = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Some(s) = e.retry_after
        && let Ok(v) = hyper::header::HeaderValue::from_str(&s.to_string())
    {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

/// Binds 127.0.0.1:`port` (0 = any free port) and serves the cluster until shutdown.
pub async fn listen(
    cluster: Arc<Cluster>,
    tls: Arc<rustls::ServerConfig>,
    port: u16,
    shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<()>), SandboxError> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| SandboxError::Bind {
            cluster: cluster.name.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        cluster: cluster.name.clone(),
        source,
    })?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let task = tokio::spawn(async move {
        let mut stop = shutdown.clone();
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stop.changed() => return,
            };
            let Ok((stream, _)) = accepted else { continue };
            if cluster.faults().down {
                drop(stream); // a cluster that is down closes every connection at once
                continue;
            }
            let (cluster, acceptor, mut stop) =
                (cluster.clone(), acceptor.clone(), shutdown.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let svc_cluster = cluster.clone();
                let svc = service_fn(move |req| serve(svc_cluster.clone(), addr, req));
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let conn = builder.serve_connection(TokioIo::new(tls), svc);
                tokio::select! {
                    _ = conn => {}
                    _ = stop.changed() => {}
                }
            });
        }
    });
    Ok((addr, task))
}

fn header(req: &hyper::Request<Incoming>, name: &str) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn serve(
    cluster: Arc<Cluster>,
    addr: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    let faults = cluster.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let roll = |rate: f64| rate > 0.0 && rand::thread_rng().r#gen::<f64>() < rate;
    if roll(faults.drop_rate) {
        // Returning an error makes hyper close the connection without an answer.
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected connection drop",
        ));
    }
    let expected = format!("Bearer {}", cluster.token);
    if header(&req, "authorization") != expected {
        return Ok(error_response(&ApiError::unauthorized()));
    }
    if roll(faults.throttle_rate) {
        return Ok(error_response(&ApiError::too_many_requests(
            faults.retry_after_seconds.unwrap_or(1),
        )));
    }
    if roll(faults.error_rate) {
        return Ok(error_response(&ApiError::server_error(
            faults.error_code.unwrap_or(500),
        )));
    }
    let mut request = Request {
        method: req.method().as_str().to_string(),
        path: req.uri().path().to_string(),
        query: Default::default(),
        accept: header(&req, "accept"),
        content_type: header(&req, "content-type"),
        user_agent: header(&req, "user-agent"),
        body: Bytes::new(),
        server_addr: addr.to_string(),
    };
    if let Some(q) = req.uri().query() {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            request.query.insert(dec(k), dec(v));
        }
    }
    // Read up to the limit before answering 413, so the client sees the answer
    // rather than a reset while it is still sending.
    request.body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Ok(error_response(&ApiError::too_large(MAX_BODY)));
        }
        Err(_) => {
            return Ok(error_response(&ApiError::bad_request(
                "the request body could not be read",
            )));
        }
    };
    let route = route::parse(&request.path);
    let (verb, resource) = api::verb_and_resource(&request, route.as_ref());
    cluster.count(&verb, &resource);
    let handled = std::panic::AssertUnwindSafe(async { api::handle(&cluster, &request, route) })
        .catch_unwind()
        .await;
    let reply = match handled {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Ok(error_response(&e)),
        Err(_) => {
            return Ok(error_response(&ApiError::internal(
                "the sandbox failed to handle this request (a bug); the cluster keeps serving",
            )));
        }
    };
    Ok(match reply {
        Reply::Json(code, ct, bytes) => {
            let mut r = Response::new(full(bytes));
            *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
            r.headers_mut()
                .insert("content-type", hyper::header::HeaderValue::from_static(ct));
            r
        }
        Reply::Watch(wr) => {
            let rx = crate::watch::start(cluster.clone(), *wr);
            let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv()
                    .await
                    .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
            });
            let mut r = Response::new(StreamBody::new(stream).boxed());
            r.headers_mut().insert(
                "content-type",
                hyper::header::HeaderValue::from_static("application/json"),
            );
            r
        }
    })
}
