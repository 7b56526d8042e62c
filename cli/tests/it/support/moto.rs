//! The S3 test peer of the CLI tests: moto_server on a free loopback port
//! (started and stopped with the value), one bucket in it, and the test's
//! own view of a state there, with moto's test keys.

use posture_backend_s3::{S3Location, S3Settings, StaticKeys};
use posture_provider_route53::testing::MotoServer;

/// A running moto with one bucket.
pub struct Moto {
    /// The server (dropping it stops the process).
    pub server: MotoServer,
    /// The runtime the test's own S3 calls run on: multi-threaded, so the
    /// peers keep serving while a test waits on posture.
    pub rt: tokio::runtime::Runtime,
    /// The bucket created at start.
    pub bucket: String,
}

impl Moto {
    /// Starts moto and creates `bucket`.
    pub fn start(bucket: &str) -> Moto {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt.block_on(MotoServer::start()).expect("moto starts");
        let moto = Moto {
            server,
            rt,
            bucket: bucket.to_string(),
        };
        let client = moto.location("unused").client().clone();
        moto.rt
            .block_on(client.create_bucket().bucket(bucket).send())
            .expect("bucket");
        moto
    }

    /// The endpoint URL, for `endpoint = "..."`.
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// The state at `key` in the bucket, as a test reads it directly.
    pub fn location(&self, key: &str) -> S3Location {
        let mut s = S3Settings::new(self.bucket.clone(), key);
        s.endpoint = Some(self.endpoint());
        s.region = Some("us-east-1".into());
        s.force_path_style = true;
        s.static_keys = Some(StaticKeys {
            access_key: "test".into(),
            secret_key: "test".into(),
            session_token: None,
        });
        S3Location::new(s).expect("s3 location")
    }

    /// Every object of the bucket: key and bytes.
    pub fn objects(&self) -> Vec<(String, Vec<u8>)> {
        let client = self.location("unused").client().clone();
        let bucket = self.bucket.clone();
        self.rt.block_on(async move {
            let list = client
                .list_objects_v2()
                .bucket(&bucket)
                .send()
                .await
                .expect("list");
            let mut out = Vec::new();
            for o in list.contents() {
                let key = o.key().unwrap_or_default().to_string();
                let body = client
                    .get_object()
                    .bucket(&bucket)
                    .key(&key)
                    .send()
                    .await
                    .expect("get")
                    .body
                    .collect()
                    .await
                    .expect("body")
                    .into_bytes()
                    .to_vec();
                out.push((key, body));
            }
            out
        })
    }
}
