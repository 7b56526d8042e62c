//! The settings of `backend "s3"`: where the objects are, how to reach and
//! authenticate to S3 (the standard AWS chain unless keys are given), and
//! how objects are encrypted at rest.

use std::time::Duration;

pub use posture_aws::StaticKeys;

/// The workspace whose key is `key` itself.
pub const DEFAULT_WORKSPACE: &str = "default";

/// The default `lock_ttl`: how long a lock outlives its last heartbeat.
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(120);

/// Settings of one S3 state.
#[derive(Clone)]
pub struct S3Settings {
    /// The bucket (it must exist).
    pub bucket: String,
    /// The state object's key, e.g. `fleet/prod.posture.json`.
    pub key: String,
    /// The region; else the AWS chain's (`AWS_REGION`, profile), else `us-east-1`.
    pub region: Option<String>,
    /// An S3-compatible endpoint (MinIO, moto); else `AWS_ENDPOINT_URL_S3`,
    /// `AWS_ENDPOINT_URL`, then AWS's.
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), for moto and MinIO.
    pub force_path_style: bool,
    /// An AWS profile of the shared config files.
    pub profile: Option<String>,
    /// Static credentials; else the standard chain (environment, profile,
    /// SSO, web identity, IMDS...).
    pub static_keys: Option<StaticKeys>,
    /// Objects of other workspaces live under `<prefix>/<workspace>/<key>`.
    pub workspace_key_prefix: String,
    /// The workspace; [`DEFAULT_WORKSPACE`] uses `key` as it is.
    pub workspace: String,
    /// `x-amz-server-side-encryption` for every object written (`AES256`, `aws:kms`).
    pub server_side_encryption: Option<String>,
    /// The KMS key for `aws:kms`.
    pub kms_key_id: Option<String>,
    /// How long a lock outlives its last heartbeat.
    pub lock_ttl: Duration,
}

// The secret key never reaches a log.
impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("workspace", &self.workspace)
            .finish_non_exhaustive()
    }
}

impl S3Settings {
    /// Settings for `bucket` and `key` with every default.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> S3Settings {
        S3Settings {
            bucket: bucket.into(),
            key: key.into(),
            region: None,
            endpoint: None,
            force_path_style: false,
            profile: None,
            static_keys: None,
            workspace_key_prefix: "env:".into(),
            workspace: DEFAULT_WORKSPACE.into(),
            server_side_encryption: None,
            kms_key_id: None,
            lock_ttl: DEFAULT_LOCK_TTL,
        }
    }

    /// The key of the state object of this workspace.
    pub fn state_key(&self) -> String {
        if self.workspace == DEFAULT_WORKSPACE {
            self.key.clone()
        } else {
            format!(
                "{}/{}/{}",
                self.workspace_key_prefix.trim_end_matches('/'),
                self.workspace,
                self.key
            )
        }
    }

    /// `s3://bucket/<key>` for messages.
    pub fn url(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, key)
    }

    /// The SDK configuration: the standard chain, overridden by the settings.
    pub(crate) async fn sdk_config(&self) -> aws_sdk_s3::Config {
        let overrides = posture_aws::Overrides {
            profile: self.profile.as_deref(),
            region: self.region.as_deref(),
            endpoint: self.endpoint.as_deref(),
            static_keys: self.static_keys.as_ref(),
        };
        let conf = posture_aws::sdk_config(
            overrides,
            posture_aws::https_client(),
            posture_aws::Retries::Standard,
            "posture-backend-settings",
        )
        .await;
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(self.force_path_style)
            .build()
    }
}
