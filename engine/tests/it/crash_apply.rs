//! kill -9 in the middle of an apply: a child process (this test binary,
//! re-executed) applies 20 objects to a "world" (files standing for remote
//! objects) and is killed while the provider call for the 8th is in flight,
//! after the object was made. The next run recovers the pending intent by
//! reading the world, plans exactly the remaining work, and applying it
//! leaves every object once: nothing orphaned, nothing created twice.

#![cfg(unix)]

use posture_engine::apply::ApplyOptions;
use posture_engine::plan::{Action, PlanOptions};
use posture_engine::provider::*;
use posture_engine::schema::{Attribute, Schema};
use posture_engine::session::Session;
use posture_engine::state::{LocalLocation, LockOptions, StateLocation};
use posture_engine::value::{Type, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

const CHILD: &str = "POSTURE_CRASH_APPLY_DIR";
const TOTAL: usize = 20;
const PAUSE_AT: usize = 8;

/// Objects are files in `world/`; creating one that exists is an error, so
/// a duplicate create would show.
struct World {
    dir: PathBuf,
    pause_at: Option<usize>,
}

fn name_of(v: &Value) -> String {
    v.as_map()
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .to_string()
}

#[async_trait::async_trait]
impl Provider for World {
    fn name(&self) -> &str {
        "world"
    }
    fn schema(&self) -> ProviderSchema {
        let s = Schema {
            attributes: BTreeMap::from([
                ("name".to_string(), Attribute::required(Type::String, "")),
                ("id".to_string(), Attribute::computed(Type::String, "")),
            ]),
            ..Schema::default()
        };
        ProviderSchema {
            resources: BTreeMap::from([("world_object".to_string(), s)]),
            ..Default::default()
        }
    }
    async fn read(&self, reqs: Vec<ReadRequest>) -> Vec<ReadResult> {
        reqs.into_iter()
            .map(|r| {
                let n = name_of(&r.prior);
                match std::fs::read_to_string(self.dir.join(&n)) {
                    Ok(id) => ReadResult::Found(Value::Object(BTreeMap::from([
                        ("name".to_string(), Value::from(n)),
                        ("id".to_string(), Value::from(id)),
                    ]))),
                    Err(_) => ReadResult::Gone,
                }
            })
            .collect()
    }
    async fn plan(&self, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut m = r.config.as_map().cloned().unwrap_or_default();
        let id = r
            .prior
            .as_map()
            .and_then(|p| p.get("id").cloned())
            .unwrap_or(Value::Unknown(Type::String));
        m.insert("id".into(), id);
        Ok(PlanResponse {
            planned: Value::Object(m),
            requires_replace: vec![],
            notes: vec![],
        })
    }
    async fn apply(&self, reqs: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        let mut out = Vec::new();
        for r in reqs {
            let n = name_of(&r.planned);
            let path = self.dir.join(&n);
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path);
            if created.is_err() {
                out.push(ApplyResult::Failed(ProviderError::new(format!(
                    "{n} already exists"
                ))));
                continue;
            }
            std::fs::write(&path, format!("id-{n}")).expect("write world object");
            let made = std::fs::read_dir(&self.dir).map(|d| d.count()).unwrap_or(0);
            if self.pause_at == Some(made) {
                // The object exists; the answer never comes back. (The
                // harness prints "test NAME ... " first, on the same line.)
                println!("PAUSED");
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
                std::process::exit(3);
            }
            out.push(ApplyResult::Applied(Value::Object(BTreeMap::from([
                ("name".to_string(), Value::from(n.clone())),
                ("id".to_string(), Value::from(format!("id-{n}"))),
            ]))));
        }
        out
    }
    async fn import(&self, _: &str, id: &str) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("no import of {id}")))
    }
}

async fn run(dir: &Path, pause_at: Option<usize>) -> (usize, posture_engine::apply::ApplyReport) {
    let world = Arc::new(World {
        dir: dir.join("world"),
        pause_at,
    });
    let providers = Providers::new(vec![world as Arc<dyn Provider>]);
    let s = Session::open_dir(dir, providers).expect("open");
    // Recovery (of what a killed run left) happens inside the plan.
    let p = s.plan(&PlanOptions::default()).await.expect("plan").plan;
    let creates = p
        .changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .count();
    let opts = ApplyOptions {
        parallelism: 1,
        cancel: Default::default(),
        progress: None,
    };
    let report = s.apply(&p, &opts).await.expect("apply");
    (creates, report)
}

#[test]
fn kill_9_mid_apply_then_the_next_run_does_exactly_the_rest() {
    if let Ok(dir) = std::env::var(CHILD) {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(run(Path::new(&dir), Some(PAUSE_AT)));
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("world")).expect("world");
    std::fs::write(
        dir.path().join("main.hcl"),
        format!("resource \"world_object\" \"o\" {{\n  count = {TOTAL}\n  name  = \"obj-${{count.index}}\"\n}}\n"),
    )
    .expect("config");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            // The harness names a test by its path in the test binary.
            "it::crash_apply::kill_9_mid_apply_then_the_next_run_does_exactly_the_rest",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let out = child.stdout.take().expect("stdout");
    let paused = BufReader::new(out)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.ends_with("PAUSED"));
    assert!(paused, "the child reached the pause");
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let made = std::fs::read_dir(dir.path().join("world"))
        .expect("world")
        .count();
    assert_eq!(
        made, PAUSE_AT,
        "the child made {PAUSE_AT} objects before it died"
    );

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (creates, report) = rt.block_on(run(dir.path(), None));
    assert_eq!(
        creates,
        TOTAL - PAUSE_AT,
        "the plan after recovery holds exactly the remaining work"
    );
    assert!(
        report.failed.is_empty(),
        "no duplicate create: {:?}",
        report.failed
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("world"))
            .expect("world")
            .count(),
        TOTAL
    );
    let state = LocalLocation::new(dir.path().join(".posture"))
        .open(&LockOptions::new("check"))
        .expect("open")
        .load()
        .expect("load");
    assert_eq!(
        state.instances.len(),
        TOTAL,
        "every object is in state once"
    );
}
