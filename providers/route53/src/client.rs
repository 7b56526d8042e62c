//! Every AWS call goes through [`Api::call`]: one token from the shared
//! bucket per attempt, retries of throttling, `PriorRequestNotComplete`,
//! 5xx and timeouts with capped exponential backoff and jitter.
//!
//! An endpoint that cannot be reached at all (connection refused, unknown
//! host, no connection within the connect timeout) is tried
//! [`Timing::connect_attempts`] times, not `max_attempts`: throttling
//! passes with time, a closed port does not. Once a call gives up on it,
//! every later call of the run fails at once with the same cause, so a run
//! is bounded by one call's retries. Each retry is reported as a
//! [`Notice::Retry`] for the CLI to show; this module never prints.
//!
//! This module knows nothing of resource types; it must not build requests.
//! The SDK's own retries are switched off (in `settings`) so that every
//! attempt is paced by the bucket and counted here.

use crate::error::AwsError;
use aws_sdk_route53::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use posture_provider_core::provider::{Notice, Notices};
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Retry and polling timings. Tests shorten them; users get the defaults.
#[derive(Debug, Clone)]
pub struct Timing {
    /// First retry delay; doubles per attempt.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_cap: Duration,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Attempts per call when the endpoint cannot be reached at all (at
    /// most `max_attempts`).
    pub connect_attempts: u32,
    /// First GetChange poll delay; doubles per poll.
    pub sync_poll_base: Duration,
    /// Longest GetChange poll delay.
    pub sync_poll_cap: Duration,
    /// GetChange polls before giving up waiting for INSYNC.
    pub sync_max_polls: u32,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            retry_base: Duration::from_millis(500),
            retry_cap: Duration::from_secs(20),
            max_attempts: 12,
            connect_attempts: 4,
            sync_poll_base: Duration::from_secs(2),
            sync_poll_cap: Duration::from_secs(30),
            sync_max_polls: 60,
        }
    }
}

/// A client-side token bucket shared by every call of one provider.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A bucket refilled at `rate` tokens per second, holding at most one
    /// second's worth (so a burst never exceeds the account's rate).
    pub fn new(rate: f64) -> TokenBucket {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            5.0
        };
        let burst = rate.max(1.0);
        TokenBucket {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Waits for one token.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                // A poisoned lock only means another task panicked mid-update;
                // the numbers inside are still usable.
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let refill = now.duration_since(s.1).as_secs_f64() * self.rate;
                s.0 = (s.0 + refill).min(self.burst);
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - s.0) / self.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// The code of an [`AwsError`] for an endpoint that could not be reached.
pub const UNREACHABLE: &str = "Unreachable";

/// The Route53 client with its pacing and retry policy. Its `Debug`
/// output leaves the SDK client (and so its credentials) out.
pub struct Api {
    /// The SDK client.
    pub client: aws_sdk_route53::Client,
    bucket: TokenBucket,
    /// Timings for retries and polls.
    pub timing: Timing,
    jitter: AtomicU64,
    /// The endpoint's URL, for messages.
    pub endpoint: String,
    notices: Notices,
    /// Set once a call gave up on reaching the endpoint: its error and
    /// attempts.
    unreachable: Mutex<Option<(AwsError, u32)>>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("bucket", &self.bucket)
            .field("timing", &self.timing)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Api {
    /// Wraps an SDK client whose requests go to `endpoint`.
    pub fn new(
        client: aws_sdk_route53::Client,
        rate: f64,
        timing: Timing,
        endpoint: String,
        notices: Notices,
    ) -> Api {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15);
        Api {
            client,
            bucket: TokenBucket::new(rate),
            timing,
            jitter: AtomicU64::new(seed | 1),
            endpoint,
            notices,
            unreachable: Mutex::new(None),
        }
    }

    /// The error of an earlier call that could not reach the endpoint.
    fn gave_up(&self, operation: &'static str) -> Option<AwsError> {
        let seen = self.unreachable.lock().unwrap_or_else(|p| p.into_inner());
        seen.as_ref().map(|(e, attempts)| AwsError {
            operation,
            message: format!(
                "{} (an earlier request gave up after {attempts} attempts; nothing more is sent this run)",
                e.message
            ),
            ..e.clone()
        })
    }

    /// After attempt number `attempt` of `operation` failed with `err`: the
    /// wait before the next one, reported as a retry, or `None` to give up
    /// (the endpoint then counts as unreachable for the rest of the run,
    /// when that is why). Every retry loop of the crate asks this.
    pub fn retry_after(
        &self,
        operation: &str,
        attempt: u32,
        err: &mut AwsError,
    ) -> Option<Duration> {
        let unreachable = err.code == UNREACHABLE;
        let attempts = if unreachable {
            self.timing.connect_attempts.min(self.timing.max_attempts)
        } else {
            self.timing.max_attempts
        }
        .max(1);
        if !err.retryable || attempt >= attempts {
            if unreachable {
                let mut seen = self.unreachable.lock().unwrap_or_else(|p| p.into_inner());
                seen.get_or_insert_with(|| (err.clone(), attempt));
            }
            if err.retryable && attempt > 1 {
                err.message = format!("{} (gave up after {attempt} attempts)", err.message);
            }
            return None;
        }
        let wait = self.backoff(attempt, self.timing.retry_base, self.timing.retry_cap);
        self.notices.send(Notice::Retry {
            provider: "route53".to_string(),
            cause: format!("{operation}: {}", err.message),
            retry: attempt,
            of: attempts - 1,
            wait,
        });
        Some(wait)
    }

    /// Runs one AWS operation: a token per attempt, retrying what is
    /// retryable up to `max_attempts`.
    ///
    /// # Errors
    /// The last attempt's error, or the first permanent one.
    pub async fn call<T, E, F, Fut>(&self, operation: &'static str, mut f: F) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut attempt = 0u32;
        loop {
            if let Some(e) = self.gave_up(operation) {
                return Err(e);
            }
            self.bucket.acquire().await;
            attempt += 1;
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let mut err = classify(operation, &self.endpoint, &e);
                    match self.retry_after(operation, attempt, &mut err) {
                        Some(wait) => tokio::time::sleep(wait).await,
                        None => return Err(err),
                    }
                }
            }
        }
    }

    /// One attempt, not retried: for calls whose retry needs a look first
    /// (a CreateHostedZone whose response was lost may have made the zone).
    ///
    /// # Errors
    /// The attempt's error.
    pub async fn call_once<T, E, Fut>(
        &self,
        operation: &'static str,
        fut: Fut,
    ) -> Result<T, AwsError>
    where
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let Some(e) = self.gave_up(operation) {
            return Err(e);
        }
        self.bucket.acquire().await;
        fut.await
            .map_err(|e| classify(operation, &self.endpoint, &e))
    }

    /// The delay before retry number `attempt` (1-based): exponential,
    /// capped, with "equal jitter" (half fixed, half random) so that
    /// parallel callers spread out but never retry at once.
    pub fn backoff(&self, attempt: u32, base: Duration, cap: Duration) -> Duration {
        let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let d = exp.min(cap);
        let half = d / 2;
        let r = self.next_random();
        half + Duration::from_nanos(r % (half.as_nanos() as u64 + 1))
    }

    fn next_random(&self) -> u64 {
        // xorshift64: good enough for jitter, and no extra dependency.
        let mut x = self.jitter.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.jitter.store(x, Ordering::Relaxed);
        x
    }
}

/// AWS error codes worth retrying.
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "PriorRequestNotComplete",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
];

/// Whether a request failed before reaching the endpoint at all: refused,
/// no route, or a host name that does not resolve. A connection dropped
/// later (the server was reached) is not this.
fn connect_failed(e: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind as K;
    if let Some(io) = root(e).downcast_ref::<std::io::Error>()
        && matches!(
            io.kind(),
            K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable
        )
    {
        return true;
    }
    // hyper's connector names a failed lookup "dns error".
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.to_string().starts_with("dns error") {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Why a request to `endpoint` could not be sent, in one line: the
/// innermost cause (`connection refused`, a DNS answer), not the SDK's
/// chain of wrappers.
fn dispatch_cause(endpoint: &str, e: &(dyn std::error::Error + 'static), timeout: bool) -> String {
    use std::io::ErrorKind as K;
    if timeout {
        return format!("no connection to {endpoint} within the connect timeout");
    }
    if let Some(io) = root(e).downcast_ref::<std::io::Error>() {
        let said = match io.kind() {
            K::ConnectionRefused => Some(format!("connection refused to {endpoint}")),
            K::ConnectionReset => Some(format!("the connection to {endpoint} was reset")),
            K::HostUnreachable | K::NetworkUnreachable => Some(format!("no route to {endpoint}")),
            _ => None,
        };
        if let Some(s) = said {
            return s;
        }
    }
    format!("cannot reach {endpoint}: {}", innermost(e))
}

/// The last error of a source chain.
fn root<'a>(e: &'a (dyn std::error::Error + 'static)) -> &'a (dyn std::error::Error + 'static) {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause
}

/// The first line of the last error of a source chain: the cause itself,
/// not the SDK's wrappers around it (their text is a debug dump).
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let text = root(e).to_string();
    text.lines().next().unwrap_or_default().trim().to_string()
}

/// Turns an SDK error into an [`AwsError`], deciding whether it is retryable.
pub fn classify<E>(
    operation: &'static str,
    endpoint: &str,
    e: &SdkError<E, HttpResponse>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    let (code, message, transport) = match e {
        SdkError::ServiceError(se) => (
            se.err().code().unwrap_or("Unknown").to_string(),
            se.err()
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP {}", se.raw().status().as_u16())),
            false,
        ),
        SdkError::TimeoutError(_) => ("Timeout".into(), "the request timed out".into(), true),
        SdkError::DispatchFailure(d) => {
            // Only the connect timeout is set on the HTTP client, so a
            // timeout here means no connection was made.
            let unreachable = d.is_timeout() || connect_failed(e);
            (
                if unreachable {
                    UNREACHABLE
                } else {
                    "DispatchFailure"
                }
                .into(),
                dispatch_cause(endpoint, e, d.is_timeout()),
                d.is_timeout() || d.is_io() || d.is_other(),
            )
        }
        SdkError::ResponseError(_) => (
            "ResponseError".into(),
            format!("could not read the answer of {endpoint}: {}", innermost(e)),
            false,
        ),
        _ => (
            "ConstructionFailure".into(),
            format!("could not build the request: {}", innermost(e)),
            false,
        ),
    };
    let retryable = transport
        || RETRYABLE_CODES.contains(&code.as_str())
        || status.is_some_and(|s| s >= 500 || s == 429);
    AwsError {
        operation,
        code,
        message,
        status,
        retryable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_paces_beyond_the_burst() {
        let b = TokenBucket::new(5.0);
        let start = tokio::time::Instant::now();
        for _ in 0..15 {
            b.acquire().await;
        }
        // 5 from the full bucket, then 10 more at 5/s: two seconds of
        // virtual time (the clock is paused, so this is exact, not timed).
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(1990), "{waited:?}");
        assert!(waited <= Duration::from_millis(2010), "{waited:?}");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let client = aws_sdk_route53::Client::from_conf(
            aws_sdk_route53::Config::builder()
                .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
                .build(),
        );
        let api = Api::new(
            client,
            5.0,
            Timing::default(),
            "http://127.0.0.1:9".into(),
            Notices::default(),
        );
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        for attempt in 1..20 {
            let d = api.backoff(attempt, base, cap);
            let full = base.saturating_mul(1 << (attempt - 1).min(16)).min(cap);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }

    /// Counts what the SDK asks of the HTTP client it is given.
    #[derive(Debug, Default)]
    struct Counting {
        prepared: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl aws_smithy_runtime_api::client::http::HttpClient for Counting {
        fn http_connector(
            &self,
            _: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
            unreachable!("no request is made")
        }
        fn validate_base_client_config(
            &self,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
            _: &aws_smithy_types::config_bag::ConfigBag,
        ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
            // Where the SDK's hyper client loads the native root certificates.
            self.prepared.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn native_roots_loaded_without_any_route53_call() {
        let inner = Counting::default();
        let prepared = inner.prepared.clone();
        let _client = aws_sdk_route53::Client::from_conf(
            aws_sdk_route53::Config::builder()
                .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
                .http_client(posture_aws::on_first_use(
                    aws_smithy_runtime_api::client::http::SharedHttpClient::new(inner),
                ))
                .build(),
        );
        assert_eq!(prepared.load(Ordering::SeqCst), 0);
    }
}
