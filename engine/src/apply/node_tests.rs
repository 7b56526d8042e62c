//! Tests of a node's state writes: a batch larger than [`STATE_CHUNK`] is
//! written in chunks, every intent durable before the provider's call.
use super::*;
use crate::provider::{
    PlanResponse, PostureDataProvider, ProviderError, ProviderSchema, ReadRequest, ReadResult,
};
use crate::state::{
    HistoryEntry, Intent, IntentId, LocalBackend, LockInfo, LockOptions, OutputValue, State,
};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A local backend that logs the size of every batch written to it, and
/// how many intents were pending when the provider was called.
struct Logged {
    inner: LocalBackend,
    log: Mutex<Vec<String>>,
}

impl Logged {
    fn note(&self, what: String) {
        self.log.lock().expect("log").push(what);
    }
}

impl Backend for Logged {
    fn lock_info(&self) -> &LockInfo {
        self.inner.lock_info()
    }
    fn load(&self) -> crate::state::Result<State> {
        self.inner.load()
    }
    fn record_intent(&self, intent: NewIntent) -> crate::state::Result<IntentId> {
        self.note("record 1".into());
        self.inner.record_intent(intent)
    }
    fn complete_intent(&self, id: &IntentId, outcome: Outcome) -> crate::state::Result<()> {
        self.note("complete 1".into());
        self.inner.complete_intent(id, outcome)
    }
    fn record_intents(&self, intents: Vec<NewIntent>) -> crate::state::Result<Vec<IntentId>> {
        self.note(format!("record {}", intents.len()));
        self.inner.record_intents(intents)
    }
    fn complete_intents(&self, done: Vec<(IntentId, Outcome)>) -> crate::state::Result<()> {
        self.note(format!("complete {}", done.len()));
        self.inner.complete_intents(done)
    }
    fn pending_intents(&self) -> crate::state::Result<Vec<Intent>> {
        self.inner.pending_intents()
    }
    fn commit(
        &self,
        outputs: Option<BTreeMap<String, OutputValue>>,
        summary: &str,
    ) -> crate::state::Result<u64> {
        self.inner.commit(outputs, summary)
    }
    fn history(&self) -> crate::state::Result<Vec<HistoryEntry>> {
        self.inner.history()
    }
    fn snapshot(&self, serial: u64) -> crate::state::Result<State> {
        self.inner.snapshot(serial)
    }
    fn pull(&self) -> crate::state::Result<String> {
        self.inner.pull()
    }
    fn push(&self, json: &str, force: bool) -> crate::state::Result<u64> {
        self.inner.push(json, force)
    }
    fn close(self: Box<Self>) -> crate::state::Result<()> {
        Box::new(self.inner).close()
    }
}

/// `posture_data`, noting in the backend's log how many intents are
/// pending when its apply is called.
struct Witness {
    backend: Arc<Logged>,
}

#[async_trait::async_trait]
impl Provider for Witness {
    fn name(&self) -> &str {
        "posture"
    }
    fn schema(&self) -> ProviderSchema {
        PostureDataProvider.schema()
    }
    async fn read(&self, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        PostureDataProvider.read(requests).await
    }
    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, ProviderError> {
        PostureDataProvider.plan(request).await
    }
    async fn apply(&self, requests: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        let pending = self.backend.pending_intents().map_or(0, |p| p.len());
        self.backend
            .note(format!("call {} with {pending} pending", requests.len()));
        PostureDataProvider.apply(requests).await
    }
    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        PostureDataProvider.import(type_name, id).await
    }
}

fn create(n: usize) -> (ResourceChange, ApplyRequest) {
    let address = format!("posture_data.x[{n}]");
    let planned = Value::Object(BTreeMap::from([
        ("id".to_string(), Value::Unknown(crate::value::Type::String)),
        ("input".to_string(), Value::from(format!("k{n}"))),
    ]));
    let change = ResourceChange {
        address: address.clone(),
        data: false,
        type_name: "posture_data".into(),
        provider: "posture".into(),
        action: Action::Create,
        reason: None,
        before: Value::NULL,
        after: Value::NULL,
        replace_paths: Vec::new(),
        dependencies: Vec::new(),
        create_before_destroy: false,
        notes: Vec::new(),
        tainted: false,
        deposed: None,
    };
    let req = ApplyRequest {
        address,
        type_name: "posture_data".into(),
        operation: crate::provider::Operation::Create,
        prior: Value::NULL,
        planned,
        idempotency_token: format!("posture-{n}"),
    };
    (change, req)
}

#[tokio::test]
async fn a_batch_larger_than_a_state_chunk_is_written_in_chunks_all_intents_before_the_call() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let inner = LocalBackend::open(tmp.path(), &LockOptions::new("test")).expect("open");
    let logged = Arc::new(Logged {
        inner,
        log: Mutex::new(Vec::new()),
    });
    let n = 2 * STATE_CHUNK + 3;
    let (changes, reqs): (Vec<_>, Vec<_>) = (0..n).map(create).unzip();
    let outcome = run_node(NodeRun {
        node: 0,
        provider: Arc::new(Witness {
            backend: logged.clone(),
        }),
        backend: logged.clone(),
        schema: Some(crate::builtin::posture_data_schema()),
        changes,
        kinds: (0..n).map(|i| (i, OpKind::Create)).collect(),
        reqs,
        replan: vec![None; n],
        failed_early: Vec::new(),
        interrupt: Interrupt::new(),
        records: None,
    })
    .await;
    assert_eq!(outcome.state_error, None);
    assert_eq!(outcome.results.len(), n);
    assert!(
        outcome
            .results
            .iter()
            .all(|(_, _, r)| matches!(r, OpResult::Applied(_)))
    );
    let (a, b) = (STATE_CHUNK, 3);
    let log = logged.log.lock().expect("log").clone();
    assert_eq!(
        log,
        [
            format!("record {a}"),
            format!("record {a}"),
            format!("record {b}"),
            format!("call {n} with {n} pending"),
            format!("complete {a}"),
            format!("complete {a}"),
            format!("complete {b}"),
        ]
    );
    assert!(logged.pending_intents().expect("pending").is_empty());
    assert_eq!(logged.load().expect("load").instances.len(), n);
}
