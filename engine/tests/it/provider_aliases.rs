//! Provider aliases in the engine: each (provider, alias) pair gets its own
//! instance from the provider's factory, configured from its own block;
//! resources use the configuration their `provider` meta-argument names,
//! state records it, and a changed alias is read and planned against the
//! new configuration. The meta-argument used to be parsed and ignored.

use posture_engine::apply::ApplyOptions;
use posture_engine::plan::{Action, Plan, PlanOptions};
use posture_engine::provider::*;
use posture_engine::schema::{Attribute, Schema};
use posture_engine::session::Session;
use posture_engine::state::{LocalLocation, LockOptions, State, StateLocation};
use posture_engine::value::{Type, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// `site_thing`: objects live in the `region` the instance was configured
/// with; `made_in` records it, and another region's instance finds nothing.
#[derive(Default)]
struct Site {
    region: Mutex<String>,
}

impl Site {
    fn region(&self) -> String {
        self.region.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Provider for Site {
    fn name(&self) -> &str {
        "site"
    }
    fn schema(&self) -> ProviderSchema {
        let thing = Schema {
            attributes: BTreeMap::from([
                ("name".to_string(), Attribute::required(Type::String, "")),
                ("made_in".to_string(), Attribute::computed(Type::String, "")),
            ]),
            ..Schema::default()
        };
        let settings = Schema {
            attributes: BTreeMap::from([(
                "region".to_string(),
                Attribute::optional(Type::String, ""),
            )]),
            ..Schema::default()
        };
        ProviderSchema {
            provider: settings,
            resources: BTreeMap::from([("site_thing".to_string(), thing)]),
            ..Default::default()
        }
    }
    async fn configure(&self, settings: Value) -> Result<(), ProviderError> {
        let r = settings
            .as_map()
            .and_then(|m| m.get("region"))
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "default".to_string());
        if let Ok(mut g) = self.region.lock() {
            *g = r;
        }
        Ok(())
    }
    async fn read(&self, r: Vec<ReadRequest>) -> Vec<ReadResult> {
        let here = Value::from(self.region());
        r.into_iter()
            .map(|x| match x.prior.as_map().and_then(|m| m.get("made_in")) {
                Some(v) if *v == here => ReadResult::Found(x.prior),
                _ => ReadResult::Gone,
            })
            .collect()
    }
    async fn plan(&self, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut m = r.config.as_map().cloned().unwrap_or_default();
        let made = match r.prior.as_map().and_then(|p| p.get("made_in")) {
            Some(v) => v.clone(),
            None => Value::Unknown(Type::String),
        };
        m.insert("made_in".into(), made);
        Ok(PlanResponse {
            planned: Value::Object(m),
            requires_replace: vec![],
            notes: vec![],
        })
    }
    async fn apply(&self, reqs: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        reqs.into_iter()
            .map(|r| match r.operation {
                Operation::Delete => ApplyResult::Applied(Value::NULL),
                _ => {
                    let mut m = r.planned.as_map().cloned().unwrap_or_default();
                    m.insert("made_in".into(), Value::from(self.region()));
                    ApplyResult::Applied(Value::Object(m))
                }
            })
            .collect()
    }
    async fn import(&self, _t: &str, id: &str) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("cannot import {id}")))
    }
}

const BLOCKS: &str = r#"
provider "site" {
  region = "home"
}
provider "site" {
  alias  = "eu"
  region = "eu-west"
}
"#;

fn factory_providers() -> Providers {
    let f: ProviderFactory = Arc::new(|| Arc::new(Site::default()) as Arc<dyn Provider>);
    Providers::from_factories(vec![f])
}

/// Plans (and applies, when asked) `config` in `dir`.
async fn run(
    dir: &std::path::Path,
    config: &str,
    providers: &Providers,
    do_apply: bool,
) -> Result<Plan, String> {
    std::fs::write(dir.join("main.hcl"), config).expect("write");
    // A clone shares the instances: a run configures them once.
    let s = Session::open_dir(dir, providers.clone()).expect("open");
    let p = s
        .plan(&PlanOptions::default())
        .await
        .map_err(|e| format!("{e:?}"))?
        .plan;
    if do_apply {
        let opts = ApplyOptions {
            parallelism: 4,
            cancel: Default::default(),
            progress: None,
        };
        let report = s.apply(&p, &opts).await.expect("apply");
        assert!(report.failed.is_empty(), "{:?}", report.failed);
    }
    Ok(p)
}

fn state_of(dir: &std::path::Path) -> State {
    let loc = LocalLocation::new(dir.join(".posture"));
    let b = loc.open(&LockOptions::new("read")).expect("open");
    b.load().expect("load")
}

fn made_in(st: &State, addr: &str) -> serde_json::Value {
    st.instances[addr].attributes["made_in"].clone()
}

#[tokio::test]
async fn provider_meta_argument_is_no_longer_ignored_each_alias_has_its_own_instance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "{BLOCKS}resource \"site_thing\" \"a\" {{\n  name = \"a\"\n}}\nresource \"site_thing\" \"b\" {{\n  provider = site.eu\n  name     = \"b\"\n}}\nresource \"site_thing\" \"c\" {{\n  provider = site\n  name     = \"c\"\n}}\n"
    );
    let providers = factory_providers();
    run(dir.path(), &config, &providers, true)
        .await
        .expect("apply");
    let st = state_of(dir.path());
    assert_eq!(made_in(&st, "site_thing.a"), serde_json::json!("home"));
    assert_eq!(made_in(&st, "site_thing.b"), serde_json::json!("eu-west"));
    assert_eq!(made_in(&st, "site_thing.c"), serde_json::json!("home"));
    assert_eq!(st.instances["site_thing.a"].provider, "site");
    assert_eq!(st.instances["site_thing.b"].provider, "site.eu");
    // A second run reads each from its own configuration: nothing to do.
    let p = run(dir.path(), &config, &factory_providers(), false)
        .await
        .expect("plan");
    for c in &p.changes {
        assert_eq!(c.action, Action::NoOp, "{}", c.address);
    }
    let b = p.changes.iter().find(|c| c.address == "site_thing.b");
    assert_eq!(b.map(|c| c.provider.as_str()), Some("site.eu"));
}

#[tokio::test]
async fn a_changed_alias_is_planned_against_the_new_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let with =
        |p: &str| format!("{BLOCKS}resource \"site_thing\" \"b\" {{\n{p}  name = \"b\"\n}}\n");
    run(
        dir.path(),
        &with("  provider = site.eu\n"),
        &factory_providers(),
        true,
    )
    .await
    .expect("apply");
    let p = run(dir.path(), &with(""), &factory_providers(), false)
        .await
        .expect("plan");
    let b = p.changes.iter().find(|c| c.address == "site_thing.b");
    assert_eq!(b.map(|c| c.action), Some(Action::Create), "{:?}", p.changes);
    assert_eq!(b.map(|c| c.provider.as_str()), Some("site"));
}

#[tokio::test]
async fn a_removed_alias_with_recorded_instances_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "{BLOCKS}resource \"site_thing\" \"b\" {{\n  provider = site.eu\n  name     = \"b\"\n}}\n"
    );
    run(dir.path(), &config, &factory_providers(), true)
        .await
        .expect("apply");
    let only_default = "provider \"site\" {\n  region = \"home\"\n}\n";
    let e = run(dir.path(), only_default, &factory_providers(), false)
        .await
        .expect_err("the configuration that made site_thing.b is gone");
    assert!(
        e.contains(
            "site_thing.b was made with provider configuration site.eu, which is no longer declared"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn an_alias_of_a_provider_without_a_factory_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let providers = Providers::new(vec![Arc::new(Site::default()) as Arc<dyn Provider>]);
    let e = run(dir.path(), BLOCKS, &providers, false)
        .await
        .expect_err("no second instance can be made");
    assert!(e.contains("Provider does not support aliases"), "{e}");
}

#[tokio::test]
async fn a_module_providers_map_gives_the_child_the_aliased_instance() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("child")).expect("child");
    std::fs::write(
        dir.path().join("child/main.hcl"),
        "resource \"site_thing\" \"x\" {\n  name = \"x\"\n}\nresource \"site_thing\" \"y\" {\n  provider = site.eu\n  name     = \"y\"\n}\n",
    )
    .expect("child");
    // The child's site is the caller's site.eu, and its site.eu the caller's site.
    let config = format!(
        "{BLOCKS}module \"c\" {{\n  source    = \"./child\"\n  providers = {{ site = site.eu, site.eu = site }}\n}}\n"
    );
    run(dir.path(), &config, &factory_providers(), true)
        .await
        .expect("apply");
    let st = state_of(dir.path());
    assert_eq!(
        made_in(&st, "module.c.site_thing.x"),
        serde_json::json!("eu-west")
    );
    assert_eq!(st.instances["module.c.site_thing.x"].provider, "site.eu");
    assert_eq!(
        made_in(&st, "module.c.site_thing.y"),
        serde_json::json!("home")
    );
    assert_eq!(st.instances["module.c.site_thing.y"].provider, "site");
}
