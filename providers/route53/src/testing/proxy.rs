//! A loopback HTTP proxy in front of moto that injects Route53's failures
//! (Throttling, PriorRequestNotComplete, InvalidChangeBatch, 5xx, a lost
//! response), makes GetChange answer PENDING before INSYNC, and counts
//! requests per Route53 operation.
//!
//! Decisions are deterministic (queues and every-Nth counters), so tests
//! reproduce exactly.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A failure to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 `Throttling` / "Rate exceeded"; not forwarded.
    Throttling,
    /// HTTP 400 `PriorRequestNotComplete`; not forwarded.
    PriorRequestNotComplete,
    /// HTTP 400 `InvalidChangeBatch` with this message; not forwarded, so
    /// nothing of the batch is applied (as on Route53, where batches are atomic).
    InvalidChangeBatch(String),
    /// HTTP 500 `InternalFailure`; not forwarded.
    ServerError,
    /// Forwarded to moto (so the change is made), then answered with HTTP
    /// 500: the client never learns that it succeeded.
    LostResponse,
    /// Forwarded to moto (so the change is made), then never answered: the
    /// client waits until it is killed. [`FaultProxy::wait_held`] learns of it.
    Hold,
}

/// Requests seen for one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpCount {
    /// Requests received (forwarded or not).
    pub received: u64,
    /// Requests answered with an injected fault.
    pub injected: u64,
}

#[derive(Debug, Default)]
struct Inner {
    counts: BTreeMap<String, OpCount>,
    queued: BTreeMap<String, VecDeque<Fault>>,
    throttle_every: Option<(u64, u64)>,
    pending_polls: u32,
    bodies: BTreeMap<String, Vec<String>>,
}

/// Shared between the proxy's handler and its owner.
#[derive(Debug, Default)]
struct Shared {
    inner: Mutex<Inner>,
    held: tokio::sync::Notify,
}

/// The running proxy; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port, forwarding to `upstream`.
    ///
    /// # Errors
    /// No loopback port could be bound.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared: Arc<Shared> = Arc::default();
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let state = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                let client = client.clone();
                tokio::spawn(async move {
                    let svc =
                        service_fn(move |req| handle(req, upstream, state.clone(), client.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(FaultProxy { addr, shared, task })
    }

    /// The endpoint to configure the provider with.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Injects `fault` into the next `times` requests of `operation`.
    pub fn inject(&self, operation: &str, fault: Fault, times: usize) {
        let mut g = lock(&self.shared.inner);
        let q = g.queued.entry(operation.to_string()).or_default();
        q.extend(std::iter::repeat_n(fault, times));
    }

    /// Throttles every `n`th request from now on (the `n`th, `2n`th, ...),
    /// whatever its operation; `0` stops.
    pub fn throttle_every(&self, n: u64) {
        lock(&self.shared.inner).throttle_every = (n > 0).then_some((n, 0));
    }

    /// Makes the next `n` GetChange answers PENDING.
    pub fn pending_polls(&self, n: u32) {
        lock(&self.shared.inner).pending_polls = n;
    }

    /// Requests seen for one operation.
    pub fn count(&self, operation: &str) -> OpCount {
        lock(&self.shared.inner)
            .counts
            .get(operation)
            .copied()
            .unwrap_or_default()
    }

    /// Requests seen, by operation.
    pub fn counts(&self) -> BTreeMap<String, OpCount> {
        lock(&self.shared.inner).counts.clone()
    }

    /// Requests seen in all.
    pub fn total(&self) -> u64 {
        lock(&self.shared.inner)
            .counts
            .values()
            .map(|c| c.received)
            .sum()
    }

    /// Request bodies forwarded for an operation (to inspect batches).
    pub fn bodies(&self, operation: &str) -> Vec<String> {
        lock(&self.shared.inner)
            .bodies
            .get(operation)
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until a request with [`Fault::Hold`] has reached moto (at most
    /// `limit`); true when it did.
    pub async fn wait_held(&self, limit: std::time::Duration) -> bool {
        tokio::time::timeout(limit, self.shared.held.notified())
            .await
            .is_ok()
    }

    /// Forgets the counts and recorded bodies.
    pub fn reset_counts(&self) {
        let mut g = lock(&self.shared.inner);
        g.counts.clear();
        g.bodies.clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The Route53 operation a request is, from its method and path.
pub fn operation(method: &str, path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or_default();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let segs: &[&str] = match segs.split_first() {
        Some((&"2013-04-01", rest)) => rest,
        _ => return "Other",
    };
    match (method, segs) {
        ("POST", ["hostedzone"]) => "CreateHostedZone",
        ("GET", ["hostedzone"]) => "ListHostedZones",
        ("GET", ["hostedzone", _]) => "GetHostedZone",
        ("DELETE", ["hostedzone", _]) => "DeleteHostedZone",
        ("POST", ["hostedzone", _]) => "UpdateHostedZoneComment",
        ("POST", ["hostedzone", _, "rrset"]) => "ChangeResourceRecordSets",
        ("GET", ["hostedzone", _, "rrset"]) => "ListResourceRecordSets",
        ("POST", ["hostedzone", _, "associatevpc"]) => "AssociateVPCWithHostedZone",
        ("POST", ["hostedzone", _, "disassociatevpc"]) => "DisassociateVPCFromHostedZone",
        ("GET", ["hostedzonesbyname"]) => "ListHostedZonesByName",
        ("GET", ["change", _]) => "GetChange",
        ("GET", ["tags", "hostedzone", _]) => "ListTagsForResource",
        ("POST", ["tags", "hostedzone", _]) => "ChangeTagsForResource",
        _ => "Other",
    }
}

fn error_response(
    status: StatusCode,
    kind: &str,
    code: &str,
    message: &str,
) -> Response<Full<Bytes>> {
    let body = format!(
        "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
    );
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/xml"),
    );
    r
}

fn fault_response(f: &Fault) -> Response<Full<Bytes>> {
    match f {
        Fault::Throttling => error_response(
            StatusCode::BAD_REQUEST,
            "Sender",
            "Throttling",
            "Rate exceeded",
        ),
        Fault::PriorRequestNotComplete => error_response(
            StatusCode::BAD_REQUEST,
            "Sender",
            "PriorRequestNotComplete",
            "The request was rejected because Route 53 was still processing a prior request.",
        ),
        Fault::InvalidChangeBatch(m) => {
            error_response(StatusCode::BAD_REQUEST, "Sender", "InvalidChangeBatch", m)
        }
        Fault::ServerError | Fault::LostResponse | Fault::Hold => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Receiver",
            "InternalFailure",
            "An internal failure occurred.",
        ),
    }
}

async fn handle(
    req: Request<Incoming>,
    upstream: SocketAddr,
    shared: Arc<Shared>,
    client: Client<HttpConnector, Full<Bytes>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let state = &shared.inner;
    let path_q = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let op = operation(req.method().as_str(), &path_q);
    let fault = {
        let mut g = lock(state);
        g.counts.entry(op.to_string()).or_default().received += 1;
        let mut fault = g.queued.get_mut(op).and_then(VecDeque::pop_front);
        if fault.is_none()
            && let Some((n, seen)) = g.throttle_every.as_mut()
        {
            *seen += 1;
            if (*seen).is_multiple_of(*n) {
                fault = Some(Fault::Throttling);
            }
        }
        if fault.is_some() {
            g.counts.entry(op.to_string()).or_default().injected += 1;
        }
        fault
    };
    if let Some(f) = &fault
        && *f != Fault::LostResponse
        && *f != Fault::Hold
    {
        return Ok(fault_response(f));
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    if op == "ChangeResourceRecordSets" {
        lock(state)
            .bodies
            .entry(op.to_string())
            .or_default()
            .push(String::from_utf8_lossy(&body).into_owned());
    }
    let uri = format!("http://{upstream}{path_q}");
    let mut fwd = Request::builder().method(parts.method.clone()).uri(uri);
    for (k, v) in &parts.headers {
        fwd = fwd.header(k, v);
    }
    let resp = match fwd.body(Full::new(body)) {
        Ok(r) => client.request(r).await,
        Err(e) => {
            return Ok(error_response(
                StatusCode::BAD_GATEWAY,
                "Receiver",
                "ProxyError",
                &e.to_string(),
            ));
        }
    };
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            return Ok(error_response(
                StatusCode::BAD_GATEWAY,
                "Receiver",
                "ProxyError",
                &e.to_string(),
            ));
        }
    };
    let (rparts, rbody) = resp.into_parts();
    let mut bytes = rbody.collect().await?.to_bytes();
    if fault == Some(Fault::Hold) {
        // moto made the change; the client never hears of it.
        shared.held.notify_one();
        std::future::pending::<()>().await;
    }
    if let Some(f) = &fault {
        // LostResponse: moto made the change; the client hears a failure.
        return Ok(fault_response(f));
    }
    if op == "GetChange" {
        let mut g = lock(state);
        if g.pending_polls > 0 {
            g.pending_polls -= 1;
            let text = String::from_utf8_lossy(&bytes).replace("INSYNC", "PENDING");
            bytes = Bytes::from(text);
        }
    }
    let mut out = Response::from_parts(rparts, Full::new(bytes.clone()));
    out.headers_mut().remove("content-length");
    out.headers_mut().remove("transfer-encoding");
    Ok(out)
}

/// Sends `POST path` with an empty body to `addr`; returns the status.
///
/// # Errors
/// The request could not be sent.
pub async fn post_empty(addr: SocketAddr, path: &str) -> Result<u16, String> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let req = Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let resp = client
        .request(req)
        .await
        .map_err(|e| format!("POST {path}: {e}"))?;
    Ok(resp.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::operation;

    #[test]
    fn operations_are_named_from_method_and_path() {
        assert_eq!(
            operation("POST", "/2013-04-01/hostedzone/Z1/rrset/"),
            "ChangeResourceRecordSets"
        );
        assert_eq!(
            operation("GET", "/2013-04-01/hostedzone/Z1/rrset?maxitems=300"),
            "ListResourceRecordSets"
        );
        assert_eq!(operation("GET", "/2013-04-01/change/C1"), "GetChange");
        assert_eq!(
            operation("POST", "/2013-04-01/hostedzone"),
            "CreateHostedZone"
        );
        assert_eq!(
            operation("GET", "/2013-04-01/hostedzonesbyname?dnsname=a."),
            "ListHostedZonesByName"
        );
        assert_eq!(
            operation("GET", "/2013-04-01/tags/hostedzone/Z1"),
            "ListTagsForResource"
        );
        assert_eq!(operation("POST", "/moto-api/reset"), "Other");
    }
}
