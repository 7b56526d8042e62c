//! The HTTP API in-process: object semantics and Status bodies of issue K1 §4–§6.

use serde_json::{Value, json};

use crate::common::{call, cluster};

const J: &str = "application/json";

fn cm(name: &str) -> String {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": "x"}}, "data": {"a": "1"}}).to_string()
}

#[test]
fn create_sets_metadata_and_rejects_duplicates_bad_names_and_missing_namespaces() {
    let c = cluster();
    let (code, v) = call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &cm("one"),
        J,
    );
    assert_eq!(code, 201);
    assert_eq!(v["metadata"]["uid"].as_str().map(str::len), Some(36));
    assert!(v["metadata"]["creationTimestamp"].is_string());
    assert_eq!(v["metadata"]["managedFields"][0]["manager"], "tests");
    let (code, v) = call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &cm("one"),
        J,
    );
    assert_eq!((code, v["reason"].as_str()), (409, Some("AlreadyExists")));
    assert_eq!(v["message"], "configmaps \"one\" already exists");
    let (code, v) = call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &cm("Bad_Name"),
        J,
    );
    assert_eq!((code, v["reason"].as_str()), (422, Some("Invalid")));
    assert_eq!(v["details"]["causes"][0]["field"], "metadata.name");
    let (code, v) = call(
        &c,
        "POST",
        "/api/v1/namespaces/nope/configmaps",
        &cm("two"),
        J,
    );
    assert_eq!(
        (code, v["message"].as_str()),
        (404, Some("namespaces \"nope\" not found"))
    );
    let (code, v) = call(
        &c,
        "GET",
        "/api/v1/namespaces/default/configmaps/missing",
        "",
        J,
    );
    assert_eq!(
        (code, v["kind"].as_str(), v["details"]["name"].as_str()),
        (404, Some("Status"), Some("missing"))
    );
}

#[test]
fn resource_versions_count_up_and_stale_puts_conflict() {
    let c = cluster();
    let (_, a) = call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &cm("a"),
        J,
    );
    let (_, b) = call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &cm("b"),
        J,
    );
    let rv = |v: &Value| {
        v["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .expect("rv")
    };
    assert_eq!(rv(&b), rv(&a) + 1);
    let mut upd = a.clone();
    upd["data"]["a"] = json!("2");
    let (code, fresh) = call(
        &c,
        "PUT",
        "/api/v1/namespaces/default/configmaps/a",
        &upd.to_string(),
        J,
    );
    assert_eq!(code, 200);
    assert!(rv(&fresh) > rv(&b));
    let (code, v) = call(
        &c,
        "PUT",
        "/api/v1/namespaces/default/configmaps/a",
        &upd.to_string(),
        J,
    );
    assert_eq!((code, v["reason"].as_str()), (409, Some("Conflict")));
}

#[test]
fn generation_bumps_on_spec_changes_only() {
    let c = cluster();
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    let (code, v) = call(
        &c,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        &d.to_string(),
        J,
    );
    assert_eq!((code, v["metadata"]["generation"].as_i64()), (201, Some(1)));
    let p = r#"{"metadata":{"labels":{"x":"y"}}}"#;
    let (_, v) = call(
        &c,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/d",
        p,
        "application/merge-patch+json",
    );
    assert_eq!(v["metadata"]["generation"], 1);
    let p = r#"{"spec":{"replicas":3}}"#;
    let (_, v) = call(
        &c,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/d",
        p,
        "application/merge-patch+json",
    );
    assert_eq!(v["metadata"]["generation"], 2);
}

#[test]
fn list_selectors_and_paging() {
    let c = cluster();
    for i in 0..5 {
        call(
            &c,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            &cm(&format!("c{i}")),
            J,
        );
    }
    let (_, v) = call(
        &c,
        "GET",
        "/api/v1/configmaps?labelSelector=app=x&fieldSelector=metadata.name=c3",
        "",
        J,
    );
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1));
    let mut names = Vec::new();
    let mut cont = String::new();
    loop {
        let (code, page) = call(
            &c,
            "GET",
            &format!("/api/v1/namespaces/default/configmaps?limit=2&continue={cont}"),
            "",
            J,
        );
        assert_eq!(code, 200);
        for it in page["items"].as_array().expect("items") {
            names.push(it["metadata"]["name"].as_str().expect("name").to_string());
        }
        match page["metadata"]["continue"].as_str() {
            Some(c) => cont = c.to_string(),
            None => break,
        }
    }
    assert_eq!(names, vec!["c0", "c1", "c2", "c3", "c4"]);
    let (code, _) = call(
        &c,
        "GET",
        "/api/v1/configmaps?fieldSelector=data.a=1",
        "",
        J,
    );
    assert_eq!(code, 400);
}

#[test]
fn apply_requires_field_manager_and_honours_dry_run() {
    let c = cluster();
    let body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  k: v\n";
    let (code, _) = call(
        &c,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/s",
        body,
        "application/apply-patch+yaml",
    );
    assert_eq!(code, 400);
    let (code, v) = call(
        &c,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/s?fieldManager=m&dryRun=All",
        body,
        "application/apply-patch+yaml",
    );
    assert_eq!((code, v["data"]["k"].as_str()), (201, Some("v")));
    let (code, _) = call(&c, "GET", "/api/v1/namespaces/default/configmaps/s", "", J);
    assert_eq!(code, 404, "dry run persisted nothing");
    let (code, v) = call(
        &c,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/s?fieldManager=m",
        body,
        "application/apply-patch+yaml",
    );
    assert_eq!(
        (
            code,
            v["metadata"]["managedFields"][0]["operation"].as_str()
        ),
        (201, Some("Apply"))
    );
    let (code, _) = call(
        &c,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/s?fieldManager=m",
        body,
        "application/apply-patch+yaml",
    );
    assert_eq!(code, 200, "applying to an existing object answers 200");
}

#[test]
fn crd_becomes_served_with_conditions_and_goes_away_with_its_objects() {
    let c = cluster();
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "bgppeers.crd.projectcalico.org"},
        "spec": {"group": "crd.projectcalico.org", "scope": "Cluster", "names": {"plural": "bgppeers", "kind": "BGPPeer"},
                 "versions": [{"name": "v1", "served": true, "storage": true}]}});
    let (code, v) = call(
        &c,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        &crd.to_string(),
        J,
    );
    assert_eq!(code, 201);
    let types: Vec<&str> = v["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    assert_eq!(types, vec!["NamesAccepted", "Established"]);
    let (code, groups) = call(&c, "GET", "/apis/crd.projectcalico.org/v1", "", J);
    assert_eq!(
        (code, groups["resources"][0]["name"].as_str()),
        (200, Some("bgppeers"))
    );
    let peer = json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer", "metadata": {"name": "p"}, "spec": {"peerIP": "10.0.0.1"}});
    let (code, _) = call(
        &c,
        "POST",
        "/apis/crd.projectcalico.org/v1/bgppeers",
        &peer.to_string(),
        J,
    );
    assert_eq!(code, 201);
    let bad = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "wrong"}, "spec": crd["spec"].clone()});
    let (code, _) = call(
        &c,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        &bad.to_string(),
        J,
    );
    assert_eq!(code, 422);
    call(
        &c,
        "DELETE",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.crd.projectcalico.org",
        "",
        J,
    );
    let (code, _) = call(
        &c,
        "GET",
        "/apis/crd.projectcalico.org/v1/bgppeers/p",
        "",
        J,
    );
    assert_eq!(code, 404);
}

#[test]
fn status_subresource_keeps_spec_and_status_apart() {
    let c = cluster();
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1}, "status": {"replicas": 9}});
    let (_, v) = call(
        &c,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        &d.to_string(),
        J,
    );
    assert!(v.get("status").is_none(), "status dropped on create: {v}");
    let (code, v) = call(
        &c,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/d/status",
        r#"{"status":{"replicas":1},"spec":{"replicas":5}}"#,
        "application/merge-patch+json",
    );
    assert_eq!(
        (
            code,
            v["status"]["replicas"].as_i64(),
            v["spec"]["replicas"].as_i64()
        ),
        (200, Some(1), Some(1))
    );
}

#[tokio::test]
async fn watch_replays_from_a_resource_version_and_expires_old_ones() {
    use posture_sandbox::watch;
    let c = cluster();
    let (_, a) = call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &cm("a"),
        J,
    );
    let from = a["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &cm("b"),
        J,
    );
    call(
        &c,
        "DELETE",
        "/api/v1/namespaces/default/configmaps/a",
        "",
        J,
    );
    let rt = c
        .state()
        .registry
        .find("", "v1", "configmaps")
        .cloned()
        .expect("configmaps");
    let q = [("resourceVersion".to_string(), from)]
        .into_iter()
        .collect();
    let wr = watch::WatchRequest::from_query(&rt, "v1", Some("default".into()), &q, false)
        .expect("valid");
    let mut rx = watch::start(c.clone(), wr);
    let mut seen = Vec::new();
    for _ in 0..2 {
        let line = rx.recv().await.expect("event");
        let v: Value = serde_json::from_slice(&line).expect("json line");
        seen.push(format!(
            "{} {}",
            v["type"].as_str().unwrap_or_default(),
            v["object"]["metadata"]["name"].as_str().unwrap_or_default()
        ));
    }
    assert_eq!(seen, vec!["ADDED b", "DELETED a"]);
    c.state().compact();
    let q = [("resourceVersion".to_string(), "1".to_string())]
        .into_iter()
        .collect();
    let wr = watch::WatchRequest::from_query(&rt, "v1", None, &q, false).expect("valid");
    let mut rx = watch::start(c.clone(), wr);
    let v: Value = serde_json::from_slice(&rx.recv().await.expect("error event")).expect("json");
    assert_eq!(
        (v["type"].as_str(), v["object"]["code"].as_i64()),
        (Some("ERROR"), Some(410))
    );
}

#[test]
fn discovery_answers_aggregated_when_asked() {
    let c = cluster();
    let mut req = posture_sandbox::api::Request {
        method: "GET".into(),
        path: "/apis".into(),
        accept:
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
                .into(),
        ..Default::default()
    };
    let route = posture_sandbox::route::parse(&req.path);
    match posture_sandbox::api::handle(&c, &req, route) {
        Ok(posture_sandbox::api::Reply::Json(200, ct, body)) => {
            assert_eq!(ct, posture_sandbox::discovery::AGGREGATED_CT);
            let v: Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(v["kind"], "APIGroupDiscoveryList");
        }
        _ => panic!("aggregated discovery expected"),
    }
    req.accept = "application/json".into();
    let route = posture_sandbox::route::parse(&req.path);
    assert!(matches!(
        posture_sandbox::api::handle(&c, &req, route),
        Ok(posture_sandbox::api::Reply::Json(
            200,
            "application/json",
            _
        ))
    ));
}

#[tokio::test]
async fn watch_sends_initial_events_then_the_initial_events_end_bookmark() {
    use posture_sandbox::watch;
    let c = cluster();
    call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &cm("a"),
        J,
    );
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "labels": {"app": "other"}}});
    call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &other.to_string(),
        J,
    );
    let rt = c
        .state()
        .registry
        .find("", "v1", "configmaps")
        .cloned()
        .expect("configmaps");
    let q = [
        ("allowWatchBookmarks", "true"),
        ("sendInitialEvents", "true"),
        ("labelSelector", "app=x"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let wr = watch::WatchRequest::from_query(&rt, "v1", None, &q, false).expect("valid");
    let mut rx = watch::start(c.clone(), wr);
    let first: Value = serde_json::from_slice(&rx.recv().await.expect("event")).expect("json");
    assert_eq!(
        (
            first["type"].as_str(),
            first["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("a"))
    );
    let mark: Value = serde_json::from_slice(&rx.recv().await.expect("bookmark")).expect("json");
    assert_eq!(mark["type"], "BOOKMARK");
    assert_eq!(
        mark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(
        mark["object"]["metadata"]["resourceVersion"],
        c.state().rv.to_string()
    );
}

#[test]
fn generate_name_and_delete_collection() {
    let c = cluster();
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-", "labels": {"app": "x"}}});
    let (code, v) = call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &body.to_string(),
        J,
    );
    let name = v["metadata"]["name"].as_str().expect("generated name");
    assert_eq!(code, 201);
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &cm("keep").replace("\"app\":\"x\"", "\"app\":\"y\""),
        J,
    );
    let (code, v) = call(
        &c,
        "DELETE",
        "/api/v1/namespaces/default/configmaps?labelSelector=app=x",
        "",
        J,
    );
    assert_eq!((code, v["items"].as_array().map(Vec::len)), (200, Some(1)));
    let (_, left) = call(&c, "GET", "/api/v1/namespaces/default/configmaps", "", J);
    let names: Vec<&str> = left["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, vec!["keep"]);
}

#[tokio::test]
async fn selector_watch_turns_label_changes_into_added_and_deleted() {
    use posture_sandbox::watch;
    let c = cluster();
    let rt = c
        .state()
        .registry
        .find("", "v1", "configmaps")
        .cloned()
        .expect("configmaps");
    let from = c.state().rv.to_string();
    let q = [
        ("resourceVersion", from.as_str()),
        ("labelSelector", "app=x"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let wr = watch::WatchRequest::from_query(&rt, "v1", None, &q, false).expect("valid");
    let mut rx = watch::start(c.clone(), wr);
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "labels": {"app": "y"}}});
    call(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &other.to_string(),
        J,
    );
    let path = "/api/v1/namespaces/default/configmaps/m";
    let mp = "application/merge-patch+json";
    call(
        &c,
        "PATCH",
        path,
        r#"{"metadata":{"labels":{"app":"x"}}}"#,
        mp,
    );
    call(&c, "PATCH", path, r#"{"data":{"k":"v"}}"#, mp);
    call(
        &c,
        "PATCH",
        path,
        r#"{"metadata":{"labels":{"app":"z"}}}"#,
        mp,
    );
    let mut seen = Vec::new();
    for _ in 0..3 {
        let v: Value = serde_json::from_slice(&rx.recv().await.expect("event")).expect("json");
        seen.push(v["type"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(seen, vec!["ADDED", "MODIFIED", "DELETED"]);
}
