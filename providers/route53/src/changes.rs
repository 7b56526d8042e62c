//! Sending a change batch and waiting for it: ChangeResourceRecordSets,
//! then GetChange polled with capped exponential backoff until INSYNC.

use crate::client::Api;
use crate::error::Result;
use crate::names::bare_change_id;
use aws_sdk_route53::types::{Change, ChangeBatch, ChangeStatus};

/// Sends one batch to a zone; returns the change id.
///
/// # Errors
/// The batch was rejected (as a whole: Route53 applies a batch atomically)
/// or the call failed after retries.
pub async fn submit(api: &Api, zone_id: &str, changes: Vec<Change>) -> Result<String> {
    let batch = ChangeBatch::builder()
        .comment("posture")
        .set_changes(Some(changes))
        .build()
        .map_err(|e| {
            crate::error::Error::Invalid(format!("could not build a change batch: {e}"))
        })?;
    let out = api
        .call("ChangeResourceRecordSets", || {
            api.client
                .change_resource_record_sets()
                .hosted_zone_id(zone_id)
                .change_batch(batch.clone())
                .send()
        })
        .await?;
    Ok(out
        .change_info()
        .map(|c| bare_change_id(c.id()))
        .unwrap_or_default())
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
