//! Test support (feature `testing`): moto's server as the Route53 peer and
//! a fault-injecting proxy in front of it, for this crate's tests and for
//! the engine's end-to-end tests and benchmarks.
//!
//! moto accepts duplicate CREATEs, is not atomic, is never PENDING and never
//! throttles; the proxy adds those behaviours and counts requests per
//! operation. Nothing here is used by the provider itself.

pub mod moto;
pub mod proxy;

pub use moto::{MotoError, MotoServer};
pub use proxy::{Fault, FaultProxy, OpCount};

use crate::client::Timing;
use std::time::Duration;

/// Short retry and polling timings for tests, so backoff costs
/// milliseconds instead of seconds (the shape of the backoff is unchanged).
pub fn fast_timing() -> Timing {
    Timing {
        retry_base: Duration::from_millis(2),
        retry_cap: Duration::from_millis(40),
        max_attempts: 12,
        connect_attempts: 4,
        sync_poll_base: Duration::from_millis(2),
        sync_poll_cap: Duration::from_millis(20),
        sync_max_polls: 30,
    }
}

use crate::Route53Provider;
use std::collections::BTreeMap;

/// The SDK client of a configured provider, for changes made "out of band"
/// in tests.
///
/// # Errors
/// The provider is not configured.
pub fn sdk_client(p: &Route53Provider) -> Result<aws_sdk_route53::Client, crate::error::Error> {
    Ok(p.context()?.api.client.clone())
}

/// Every record of a zone, scanned afresh: `"name TYPE[ (set_identifier x)]"`
/// to its values (`ALIAS name zone` for aliases), for assertions.
///
/// # Errors
/// The provider is not configured, or the scan failed.
pub async fn scan_zone(
    p: &Route53Provider,
    zone_id: &str,
) -> Result<BTreeMap<String, Vec<String>>, crate::error::Error> {
    let ctx = p.context()?;
    let snap = crate::snapshot::scan(&ctx.api, zone_id).await?;
    Ok(snap
        .records
        .values()
        .map(|r| {
            let vals = match &r.alias {
                Some(a) => vec![format!("ALIAS {} {}", a.name, a.zone_id)],
                None => r.records.clone(),
            };
            (r.key.to_string(), vals)
        })
        .collect())
}
