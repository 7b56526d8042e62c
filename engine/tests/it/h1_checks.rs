//! Issue H1: plan runs every check validate runs (an unknown resource type
//! is an error, never a resource silently left out), and each provider's
//! `Provider::validate` is called from validate and plan, with the
//! diagnostic at the resource's block.

use posture_engine::diag::Diagnostics;
use posture_engine::plan::{PlanOptions, graph, plan};
use posture_engine::provider::*;
use posture_engine::schema::{Attribute, Schema};
use posture_engine::scope::{Evaluation, Strictness};
use posture_engine::state::State;
use posture_engine::value::{Type, Value};
use posture_engine::workspace::Workspace;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `strict_thing`: `size`, which its provider's validate wants positive.
struct Strict;

#[async_trait::async_trait]
impl Provider for Strict {
    fn name(&self) -> &str {
        "strict"
    }
    fn schema(&self) -> ProviderSchema {
        let s = Schema {
            attributes: BTreeMap::from([(
                "size".to_string(),
                Attribute::optional(Type::Number, ""),
            )]),
            ..Schema::default()
        };
        ProviderSchema {
            resources: BTreeMap::from([("strict_thing".to_string(), s)]),
            ..Default::default()
        }
    }
    fn validate(&self, _type_name: &str, config: &Value) -> Vec<String> {
        let size = config
            .as_map()
            .and_then(|m| m.get("size"))
            .and_then(|v| v.as_number().and_then(|n| n.to_i64()));
        match size {
            Some(n) if n > 0 => Vec::new(),
            Some(_) => vec!["size must be positive".to_string()],
            None => vec!["size is required".to_string()],
        }
    }
    async fn read(&self, r: Vec<ReadRequest>) -> Vec<ReadResult> {
        r.into_iter().map(|x| ReadResult::Found(x.prior)).collect()
    }
    async fn plan(&self, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        Ok(PlanResponse {
            planned: r.config,
            requires_replace: vec![],
            notes: vec![],
        })
    }
    async fn apply(&self, reqs: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        reqs.into_iter()
            .map(|r| ApplyResult::Applied(r.planned))
            .collect()
    }
    async fn import(&self, _t: &str, id: &str) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("cannot import {id}")))
    }
}

fn workspace(text: &str) -> (tempfile::TempDir, Workspace) {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.hcl"), text).expect("write");
    let ws = Workspace::load(d.path(), &[], &BTreeMap::new());
    assert!(!ws.diags.has_errors(), "{:?}", ws.diags);
    (d, ws)
}

fn providers() -> Providers {
    Providers::new(vec![Arc::new(Strict) as Arc<dyn Provider>])
}

async fn plan_of(ws: &Workspace, providers: &Providers) -> Result<usize, Diagnostics> {
    let g = graph::build(&ws.tree).expect("graph");
    let ev = Evaluation::new(
        &ws.tree,
        &ws.sources,
        providers,
        ws.raw_vars.clone(),
        Strictness::Full,
    );
    plan(
        &ev,
        &g,
        providers,
        &State::default(),
        &PlanOptions::default(),
    )
    .await
    .map(|(p, _)| p.changes.len())
}

/// (summary + detail, line) of every error.
fn errors(d: &Diagnostics, ws: &Workspace) -> Vec<(String, usize)> {
    d.iter()
        .filter(|x| x.severity == posture_engine::diag::Severity::Error)
        .map(|x| {
            let line = x
                .span
                .map(|s| ws.sources.pos(s.file, s.start).line)
                .unwrap_or(0);
            (format!("{}: {}", x.summary, x.detail), line)
        })
        .collect()
}

const TYPO: &str =
    "resource \"posture_data\" \"ok\" {}\n\nresource \"posture_dta\" \"x\" {\n  input = 1\n}\n";

#[tokio::test]
async fn plan_skipped_resources_of_unknown_types() {
    let (_d, ws) = workspace(TYPO);
    let p = providers();
    let e = plan_of(&ws, &p).await.expect_err("a typo is an error");
    let errs = errors(&e, &ws);
    assert!(
        errs.iter().any(|(m, line)| *line == 3
            && m.contains("No provider supports resource type \"posture_dta\"")
            && m.contains("Did you mean \"posture_data\"?")),
        "{errs:?}"
    );
    // validate says the same.
    let v = posture_engine::plan::validate(&ws, &p);
    assert_eq!(errors(&v, &ws), errs);
}

const BAD_SIZE: &str = "resource \"posture_data\" \"ok\" {}\n\nresource \"strict_thing\" \"t\" {\n  count = 2\n  size  = count.index * 2 - 1\n}\n";

#[tokio::test]
async fn provider_validate_was_never_called() {
    let (_d, ws) = workspace(BAD_SIZE);
    let p = providers();
    let v = posture_engine::plan::validate(&ws, &p);
    let errs = errors(&v, &ws);
    assert!(
        errs.iter()
            .any(|(m, line)| *line == 3 && m.contains("strict_thing.t[0]: size must be positive")),
        "{errs:?}"
    );
    assert!(
        !errs.iter().any(|(m, _)| m.contains("strict_thing.t[1]")),
        "{errs:?}"
    );
    let e = plan_of(&ws, &p).await.expect_err("plan checks too");
    let errs = errors(&e, &ws);
    assert!(
        errs.iter()
            .any(|(m, line)| *line == 3 && m.contains("strict_thing.t[0]: size must be positive")),
        "{errs:?}"
    );
}

#[tokio::test]
async fn a_valid_configuration_still_plans() {
    let (_d, ws) = workspace(
        "resource \"strict_thing\" \"t\" {\n  size = 3\n}\nresource \"posture_data\" \"ok\" {}\n",
    );
    let p = providers();
    assert!(!posture_engine::plan::validate(&ws, &p).has_errors());
    assert_eq!(plan_of(&ws, &p).await.expect("plan"), 2);
}
