//! moto's S3 for the backend's tests: one server per test, a bucket, and
//! locations on it.

use std::time::Duration;

use posture_backend_s3::{S3Location, S3Settings};
use posture_engine::state::{InstanceRecord, Outcome};
use posture_provider_route53::testing::MotoServer;
use serde_json::json;

pub struct Peer {
    pub moto: MotoServer,
    pub rt: tokio::runtime::Runtime,
}

pub const BUCKET: &str = "posture-state";

impl Peer {
    /// Starts moto and creates [`BUCKET`].
    pub fn start() -> Peer {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let moto = rt.block_on(MotoServer::start()).expect("moto starts");
        let peer = Peer { moto, rt };
        let loc = peer.location("init");
        let client = loc.client().clone();
        peer.rt
            .block_on(client.create_bucket().bucket(BUCKET).send())
            .expect("bucket created");
        peer
    }

    pub fn settings(&self, key: &str) -> S3Settings {
        let mut s = S3Settings::new(BUCKET, key);
        s.endpoint = Some(self.moto.endpoint());
        s.region = Some("us-east-1".into());
        s.force_path_style = true;
        s.static_keys = Some(posture_backend_s3::StaticKeys {
            access_key: "test".into(),
            secret_key: "test".into(),
            session_token: None,
        });
        s.lock_ttl = Duration::from_secs(2);
        s
    }

    pub fn location(&self, key: &str) -> S3Location {
        S3Location::new(self.settings(key)).expect("location")
    }

    /// Writes an object directly, as another tool (or a dead run) would.
    pub fn put(&self, loc: &S3Location, key: &str, body: &str) {
        let req = loc
            .client()
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(body.as_bytes().to_vec().into());
        self.rt.block_on(req.send()).expect("put");
    }

    /// Every key in the bucket.
    pub fn keys(&self, loc: &S3Location) -> Vec<String> {
        let out = self
            .rt
            .block_on(loc.client().list_objects_v2().bucket(BUCKET).send())
            .expect("list");
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect()
    }
}

pub fn record(address: &str, value: &str) -> Outcome {
    Outcome::Upsert(Box::new(InstanceRecord {
        address: address.into(),
        mode: Default::default(),
        resource_type: "posture_data".into(),
        provider: "provider.posture".into(),
        target: None,
        schema_version: 0,
        attributes: json!({ "input": value }),
        sensitive_paths: vec![],
        dependencies: vec![],
        create_before_destroy: false,
        tainted: false,
        deposed: Default::default(),
    }))
}
