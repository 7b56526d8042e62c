//! posture's Route53 provider: `route53_zone`, `route53_record` and the
//! `route53_zone` data source, built for Route53's per-account throttle.
//!
//! - Reads: all records of a zone come from one paginated
//!   ListResourceRecordSets scan per run ([`snapshot`]), shared by every
//!   record instance of the zone ([`Provider::batch_key`] is the zone id).
//! - Writes: the changes of one zone are packed into as few
//!   ChangeResourceRecordSets batches as AWS's limits allow ([`batch`]).
//! - Every call takes a token from one bucket and is retried with backoff
//!   when throttled ([`client`]).
//!
//! **Architecture Invariant:** this crate depends on the engine's provider
//! interface only; it never prints (errors go back to the engine as
//! [`ProviderError`]s naming the address and the AWS error code).

pub mod batch;
pub mod changes;
pub mod client;
pub mod error;
pub mod names;
pub mod record;
mod record_apply;
mod records;
pub mod schema;
pub mod settings;
pub mod snapshot;
#[cfg(feature = "testing")]
pub mod testing;
pub mod values;
mod zone;
mod zone_data;

use crate::client::{Api, Timing};
use crate::error::Error;
use crate::settings::Settings;
use crate::snapshot::SnapshotCache;
use posture_provider_core::provider::Notices;
use posture_provider_core::provider::{
    ApplyRequest, ApplyResult, Interrupt, PlanRequest, PlanResponse, Provider, ProviderError,
    ProviderSchema, ReadRequest, ReadResult,
};
use posture_provider_core::value::Value;
use std::sync::{Arc, RwLock};

/// The managed zone type and data source name.
pub const ZONE: &str = "route53_zone";
/// The managed record type.
pub const RECORD: &str = "route53_record";
/// The batch key of records whose zone id is not known until apply.
pub const UNKNOWN_ZONE_KEY: &str = "(zone known after apply)";
/// The attribute the engine's crash recovery adds to the planned value it
/// reads: the interrupted operation's idempotency token.
pub use posture_provider_core::provider::RECOVERY_TOKEN;

/// What a configured provider holds for the run.
#[derive(Debug)]
pub(crate) struct Context {
    /// The paced client.
    pub api: Api,
    /// Wait for INSYNC after changes.
    pub wait_for_sync: bool,
    /// Zone snapshots of this run.
    pub snapshots: SnapshotCache,
}

/// The Route53 provider. One value serves one run: zone snapshots are
/// cached in it between `read`, `plan` and `apply`.
#[derive(Debug, Default)]
pub struct Route53Provider {
    timing: Timing,
    ctx: RwLock<Option<Arc<Lazy>>>,
    notices: RwLock<Notices>,
}

/// The validated settings of `configure`, and the context built from them
/// at the first call that needs it: every command configures every
/// provider, and building the SDK client (its configuration chain, the
/// region lookup) costs more than a small plan without Route53 resources.
struct Lazy {
    settings: Settings,
    timing: Timing,
    notices: Notices,
    built: tokio::sync::OnceCell<Arc<Context>>,
}

impl std::fmt::Debug for Lazy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Settings' own Debug redacts the keys.
        f.debug_struct("Lazy")
            .field("settings", &self.settings)
            .field("built", &self.built.initialized())
            .finish()
    }
}

impl Lazy {
    async fn get(&self) -> Arc<Context> {
        self.built
            .get_or_init(|| async {
                let api = self
                    .settings
                    .build_api(self.timing.clone(), self.notices.clone())
                    .await;
                Arc::new(Context {
                    api,
                    wait_for_sync: self.settings.wait_for_sync,
                    snapshots: SnapshotCache::default(),
                })
            })
            .await
            .clone()
    }
}

impl Route53Provider {
    /// A provider with the default retry and polling timings.
    pub fn new() -> Route53Provider {
        Route53Provider::default()
    }

    /// A provider with other timings (tests shorten the waits).
    pub fn with_timing(timing: Timing) -> Route53Provider {
        Route53Provider {
            timing,
            ctx: RwLock::default(),
            notices: RwLock::default(),
        }
    }

    /// The context, for tests: built by `configure` when the `testing`
    /// feature is on, so this needs no runtime.
    #[cfg(feature = "testing")]
    pub(crate) fn context(&self) -> Result<Arc<Context>, Error> {
        self.lazy()?
            .built
            .get()
            .cloned()
            .ok_or(Error::NotConfigured)
    }

    fn lazy(&self) -> Result<Arc<Lazy>, Error> {
        self.ctx
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::NotConfigured)
    }

    async fn ctx(&self) -> Result<Arc<Context>, Error> {
        Ok(self.lazy()?.get().await)
    }
}

#[async_trait::async_trait]
impl Provider for Route53Provider {
    fn name(&self) -> &str {
        "route53"
    }

    fn schema(&self) -> ProviderSchema {
        schema::provider_schema()
    }

    async fn configure(&self, settings: Value) -> Result<(), ProviderError> {
        let s =
            Settings::from_value(&settings).map_err(|e| e.for_address("provider \"route53\""))?;
        let notices = self
            .notices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let lazy = Arc::new(Lazy {
            settings: s,
            timing: self.timing.clone(),
            notices,
            built: tokio::sync::OnceCell::new(),
        });
        // Tests reach the SDK client without a call first (`testing`).
        #[cfg(feature = "testing")]
        lazy.get().await;
        *self.ctx.write().unwrap_or_else(|p| p.into_inner()) = Some(lazy);
        Ok(())
    }

    fn set_notices(&self, notices: Notices) {
        *self.notices.write().unwrap_or_else(|p| p.into_inner()) = notices;
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<String> {
        match type_name {
            RECORD => records::validate(config),
            ZONE => zone::validate(config),
            _ => Vec::new(),
        }
    }

    fn batch_key(&self, type_name: &str, value: &Value) -> Option<String> {
        // Records of one zone are read by one scan and written in shared
        // batches; zones stand alone. Records in a zone made by the same
        // apply (zone id unknown at plan) share a placeholder key, so they
        // are still applied together: apply sorts requests by their zone
        // id, known by then, whatever the key.
        if type_name != RECORD {
            return None;
        }
        let zone = values::entries(value).get("zone_id").cloned()?;
        if zone.is_unknown() {
            Some(UNKNOWN_ZONE_KEY.to_string())
        } else {
            zone.as_str().map(names::bare_zone_id)
        }
    }

    async fn read(&self, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        let ctx = match self.ctx().await {
            Ok(c) => c,
            Err(e) => {
                return requests
                    .iter()
                    .map(|r| ReadResult::Failed(e.for_address(&r.address)))
                    .collect();
            }
        };
        let mut out: Vec<Option<ReadResult>> = vec![None; requests.len()];
        let (recs, zones): (Vec<_>, Vec<_>) = requests
            .into_iter()
            .enumerate()
            .partition(|(_, r)| r.type_name == RECORD);
        for (i, res) in records::read(&ctx, recs).await {
            out[i] = Some(res);
        }
        for (i, r) in zones {
            out[i] = Some(if r.type_name == ZONE {
                zone::read(&ctx, &r).await
            } else {
                ReadResult::Failed(unknown_type(&r.address, &r.type_name))
            });
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| ReadResult::Failed(ProviderError::new("not read"))))
            .collect()
    }

    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let ctx = self
            .ctx()
            .await
            .map_err(|e| e.for_address(&request.address))?;
        match request.type_name.as_str() {
            RECORD => records::plan(&ctx, request).await,
            ZONE => zone::plan(&ctx, request).await,
            other => Err(unknown_type(&request.address, other)),
        }
    }

    async fn apply(&self, requests: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        self.apply_interruptible(requests, Interrupt::new()).await
    }

    async fn apply_interruptible(
        &self,
        requests: Vec<ApplyRequest>,
        interrupt: Interrupt,
    ) -> Vec<ApplyResult> {
        let ctx = match self.ctx().await {
            Ok(c) => c,
            Err(e) => {
                return requests
                    .iter()
                    .map(|r| ApplyResult::Failed(e.for_address(&r.address)))
                    .collect();
            }
        };
        let mut out: Vec<Option<ApplyResult>> = vec![None; requests.len()];
        let (recs, zones): (Vec<_>, Vec<_>) = requests
            .into_iter()
            .enumerate()
            .partition(|(_, r)| r.type_name == RECORD);
        for (i, res) in record_apply::apply(&ctx, recs, &interrupt).await {
            out[i] = Some(res);
        }
        for (i, r) in zones {
            out[i] = Some(if interrupt.is_interrupted() {
                ApplyResult::NotStarted
            } else if r.type_name == ZONE {
                tokio::select! {
                    biased;
                    res = zone::apply(&ctx, &r) => res,
                    () = interrupt.abandoned() => ApplyResult::Abandoned,
                }
            } else {
                ApplyResult::Failed(unknown_type(&r.address, &r.type_name))
            });
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| ApplyResult::Failed(ProviderError::new("not applied"))))
            .collect()
    }

    async fn read_data(&self, type_name: &str, config: Value) -> Result<Value, ProviderError> {
        let ctx = self
            .ctx()
            .await
            .map_err(|e| e.for_address(&format!("data.{type_name}")))?;
        if type_name == ZONE {
            zone_data::read_data(&ctx, config).await
        } else {
            Err(unknown_type(&format!("data.{type_name}"), type_name))
        }
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        let ctx = self.ctx().await.map_err(|e| e.for_address(type_name))?;
        match type_name {
            RECORD => records::import(&ctx, id).await,
            ZONE => zone::import(&ctx, id).await,
            other => Err(unknown_type(other, other)),
        }
    }
}

fn unknown_type(_address: &str, type_name: &str) -> ProviderError {
    ProviderError::new(format!(
        "the route53 provider has no type {type_name:?} (it has {ZONE} and {RECORD})"
    ))
}
