//! Sending a change batch and waiting for it: ChangeResourceRecordSets,
//! retried without ever hiding an attempt that may have landed, then
//! GetChange polled with capped exponential backoff until INSYNC.

use crate::client::Api;
use crate::error::{AwsError, Error, Result};
use crate::names::bare_change_id;
use aws_sdk_route53::types::{Change, ChangeBatch, ChangeStatus};

/// Why a batch was not (known to be) applied.
#[derive(Debug, Clone)]
pub struct SubmitError {
    /// The last error.
    pub error: Error,
    /// True when an earlier attempt may have been applied although its
    /// answer was lost (a timeout or 5xx before the final error): the
    /// caller must re-read the zone to learn the outcome.
    pub ambiguous: bool,
}

/// Sends one batch to a zone; returns the change id. Retries like
/// [`Api::call`], remembering whether an attempt may have landed unseen.
///
/// # Errors
/// The batch was rejected (as a whole: Route53 applies a batch atomically)
/// or the call failed after retries.
pub async fn submit(api: &Api, zone_id: &str, changes: Vec<Change>) -> Result<String, SubmitError> {
    let batch = ChangeBatch::builder()
        .comment("posture")
        .set_changes(Some(changes))
        .build()
        .map_err(|e| SubmitError {
            error: Error::Invalid(format!("could not build a change batch: {e}")),
            ambiguous: false,
        })?;
    let mut ambiguous = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = api
            .call_once(
                "ChangeResourceRecordSets",
                api.client
                    .change_resource_record_sets()
                    .hosted_zone_id(zone_id)
                    .change_batch(batch.clone())
                    .send(),
            )
            .await;
        match sent {
            Ok(out) => {
                return Ok(out
                    .change_info()
                    .map(|c| bare_change_id(c.id()))
                    .unwrap_or_default());
            }
            Err(mut e) => {
                // Throttling and PriorRequestNotComplete are refusals; a
                // 5xx or a timeout may hide an applied batch.
                ambiguous |= e.retryable && may_have_landed(&e);
                match api.retry_after("ChangeResourceRecordSets", attempt, &mut e) {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => {
                        return Err(SubmitError {
                            error: e.into(),
                            ambiguous,
                        });
                    }
                }
            }
        }
    }
}

fn may_have_landed(e: &AwsError) -> bool {
    !matches!(
        e.code.as_str(),
        "Throttling"
            | "ThrottlingException"
            | "PriorRequestNotComplete"
            | "RequestLimitExceeded"
            // No connection was made: nothing was sent.
            | crate::client::UNREACHABLE
    )
}

/// What waiting found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// The change reached every Route53 server.
    InSync,
    /// Still PENDING after the allowed polls (the change itself was made).
    StillPending,
}

/// Polls GetChange until INSYNC, with backoff between polls.
///
/// # Errors
/// GetChange failed after retries.
pub async fn wait_in_sync(api: &Api, change_id: &str) -> Result<Sync> {
    if change_id.is_empty() {
        return Ok(Sync::InSync);
    }
    let t = &api.timing;
    for poll in 1..=t.sync_max_polls {
        let out = api
            .call("GetChange", || api.client.get_change().id(change_id).send())
            .await?;
        if out.change_info().map(|c| c.status()) == Some(&ChangeStatus::Insync) {
            return Ok(Sync::InSync);
        }
        tokio::time::sleep(api.backoff(poll, t.sync_poll_base, t.sync_poll_cap)).await;
    }
    Ok(Sync::StillPending)
}
