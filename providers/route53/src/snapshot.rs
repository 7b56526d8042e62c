//! Zone snapshots: every record of a zone, read by one paginated
//! ListResourceRecordSets scan (300 per page) and shared by all record
//! instances of that zone for the rest of the run.
//!
//! The cache lives in the configured provider, which lives for one run:
//! the first `read`, `plan` or `import` touching a zone scans it, later ones
//! reuse the scan. Applying to a zone drops its snapshot; deleting a zone
//! scans afresh (its emptiness must be current).

use crate::client::Api;
use crate::error::{AwsError, Error, Result};
use crate::names::{bare_zone_id, canonical_name};
use crate::record::{Record, RecordKey};
use aws_sdk_route53::types::RrType;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::{Mutex, OnceCell};

/// Records per ListResourceRecordSets page (Route53's maximum).
pub const PAGE_SIZE: i32 = 300;

/// Everything in one zone at one moment.
#[derive(Debug, Clone)]
pub struct ZoneSnapshot {
    /// Bare zone id.
    pub zone_id: String,
    /// The zone's canonical name (from its SOA record).
    pub zone_name: String,
    /// Every record set by key.
    pub records: BTreeMap<RecordKey, Record>,
    /// ListResourceRecordSets calls it took.
    pub pages: usize,
}

type Cell = Arc<OnceCell<Arc<ZoneSnapshot>>>;

/// Snapshots by zone id, each scanned at most once at a time.
#[derive(Debug, Default)]
pub struct SnapshotCache {
    cells: Mutex<HashMap<String, Cell>>,
}

impl SnapshotCache {
    /// The zone's snapshot: the cached one unless `fresh`, else a new scan
    /// (concurrent callers of one zone share a single scan).
    ///
    /// # Errors
    /// The scan failed (`NoSuchHostedZone` when the zone is gone).
    pub async fn get(&self, api: &Api, zone_id: &str, fresh: bool) -> Result<Arc<ZoneSnapshot>> {
        let zone_id = bare_zone_id(zone_id);
        let cell = {
            let mut cells = self.cells.lock().await;
            if fresh {
                let c: Cell = Arc::default();
                cells.insert(zone_id.clone(), c.clone());
                c
            } else {
                cells.entry(zone_id.clone()).or_default().clone()
            }
        };
        let snap = cell
            .get_or_try_init(|| async { scan(api, &zone_id).await.map(Arc::new) })
            .await?;
        Ok(snap.clone())
    }

    /// The cached snapshot, if any, without scanning.
    pub async fn cached(&self, zone_id: &str) -> Option<Arc<ZoneSnapshot>> {
        let cells = self.cells.lock().await;
        cells
            .get(&bare_zone_id(zone_id))
            .and_then(|c| c.get().cloned())
    }

    /// Forgets a zone's snapshot (after changing the zone).
    pub async fn invalidate(&self, zone_id: &str) {
        self.cells.lock().await.remove(&bare_zone_id(zone_id));
    }
}

/// Reads every record of a zone.
///
/// # Errors
/// A failed call, or a listing that does not advance.
pub async fn scan(api: &Api, zone_id: &str) -> Result<ZoneSnapshot> {
    let mut records = BTreeMap::new();
    let mut next: Option<(String, RrType, Option<String>)> = None;
    let mut pages = 0;
    let mut zone_name = None;
    loop {
        let start = next.clone();
        let out = api
            .call("ListResourceRecordSets", || {
                let mut req = api
                    .client
                    .list_resource_record_sets()
                    .hosted_zone_id(zone_id)
                    .max_items(PAGE_SIZE);
                if let Some((n, t, i)) = &start {
                    req = req
                        .start_record_name(n)
                        .start_record_type(t.clone())
                        .set_start_record_identifier(i.clone());
                }
                req.send()
            })
            .await?;
        pages += 1;
        let before = records.len();
        for rr in out.resource_record_sets() {
            let rec = Record::from_rrset(zone_id, rr);
            if rec.key.rtype == "SOA" {
                zone_name = Some(rec.key.name.clone());
            }
            records.insert(rec.key.clone(), rec);
        }
        if !out.is_truncated() {
            break;
        }
        match (out.next_record_name(), out.next_record_type()) {
            (Some(n), Some(t)) => {
                next = Some((
                    n.to_string(),
                    t.clone(),
                    out.next_record_identifier().map(str::to_string),
                ))
            }
            _ => break,
        }
        if records.len() == before {
            // A page with nothing new means the listing would loop forever
            // (servers that ignore StartRecordIdentifier do that).
            return Err(Error::Aws(AwsError {
                operation: "ListResourceRecordSets",
                code: "PaginationStalled".into(),
                message: format!(
                    "zone {zone_id}: a page brought no new record; more than {PAGE_SIZE} record sets share one name and type"
                ),
                status: None,
                retryable: false,
            }));
        }
    }
    let zone_name = match zone_name {
        Some(n) => n,
        None => {
            // Every zone has an SOA at its apex; ask for the name if not.
            let z = api
                .call("GetHostedZone", || {
                    api.client.get_hosted_zone().id(zone_id).send()
                })
                .await?;
            canonical_name(z.hosted_zone().map(|h| h.name()).unwrap_or_default())
        }
    };
    Ok(ZoneSnapshot {
        zone_id: bare_zone_id(zone_id),
        zone_name,
        records,
        pages,
    })
}
