//! No request of any shape makes the sandbox panic: a seeded generator of paths,
//! methods, content types and bodies (valid, mutated and random), checked against the
//! in-process API; every answer must be a response with a sane status code.

use std::panic::AssertUnwindSafe;

use crate::common::{call, cluster};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const SEGS: &[&str] = &[
    "api",
    "apis",
    "v1",
    "apps",
    "namespaces",
    "default",
    "configmaps",
    "deployments",
    "x",
    "status",
    "finalize",
    "",
    "..",
    "%00",
    "%ff",
    "Name",
    "a.b",
    "customresourcedefinitions",
    "apiextensions.k8s.io",
    "openapi",
    "v3",
    "nodes",
    "secrets",
    "watch",
    "ü",
    "-",
    "leases",
    "coordination.k8s.io",
];
const QUERIES: &[&str] = &[
    "",
    "watch=true",
    "labelSelector=a%20in%20(",
    "labelSelector=!",
    "fieldSelector=x",
    "limit=-1",
    "limit=2",
    "continue=%%%",
    "continue=eyJ9",
    "resourceVersion=abc",
    "dryRun=All",
    "fieldManager=m&force=true",
    "timeoutSeconds=x",
];
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
const TYPES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "text/plain",
    "application/vnd.kubernetes.protobuf",
    "",
];
const BODIES: &[&str] = &[
    "",
    "{",
    "null",
    "[]",
    "[1,2]",
    "\"s\"",
    "{}",
    "{\"metadata\":null}",
    "{\"metadata\":{\"name\":5}}",
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"b\"}}",
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"x\",\"finalizers\":[1]},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":1},{\"name\":null}]}}}}",
    "[{\"op\":\"remove\",\"path\":\"/metadata\"}]",
    "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b\"}]",
    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"$patch\":\"delete\"}]}}},\"$retainKeys\":[1]}",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, managedFields: [{manager: 1}]}\n",
    "- a\n- b\n",
    "\u{0}\u{1}\u{2}",
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\",\"metadata\":{\"name\":\"as.b.c\"},\"spec\":{\"group\":\"b.c\",\"names\":{\"plural\":\"as\",\"kind\":\"A\"},\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,\"schema\":{\"openAPIV3Schema\":{\"properties\":{\"spec\":{\"properties\":{\"l\":{\"x-kubernetes-list-type\":\"map\",\"x-kubernetes-list-map-keys\":[5]}}}}}}}]}}",
];

#[test]
fn no_request_shape_panics() {
    let c = cluster();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..20_000 {
        let depth = (rng.next() % 7) as usize;
        let path: Vec<&str> = (0..depth).map(|_| rng.pick(SEGS)).collect();
        let path = format!("/{}?{}", path.join("/"), rng.pick(QUERIES));
        let method = rng.pick(METHODS);
        let ct = rng.pick(TYPES);
        let mut body = rng.pick(BODIES).to_string();
        if rng.next().is_multiple_of(4) && !body.is_empty() {
            // Truncate or flip a byte to reach the decoders' error paths.
            let cut = (rng.next() as usize) % body.len();
            body = body.chars().take(cut).collect();
        }
        let result =
            std::panic::catch_unwind(AssertUnwindSafe(|| call(&c, method, &path, &body, ct)));
        let (code, _) = result
            .unwrap_or_else(|_| panic!("case {i} panicked: {method} {path} ({ct}) body {body:?}"));
        assert!((200..600).contains(&code), "case {i}: status {code}");
    }
}
