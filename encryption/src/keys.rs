//! Key providers: where a method's AES key comes from.
//!
//! - `pbkdf2`: PBKDF2-HMAC (`pbkdf2` + `sha2`) of the passphrase with a
//!   random salt. The salt is drawn once per run (per [`KeySource`]) and
//!   stored in every envelope, so a run derives its key once (600000
//!   iterations take a noticeable fraction of a second); reading derives
//!   once per distinct salt found.
//! - `aws_kms`: `GenerateDataKey` once per run, the wrapped key stored in
//!   every envelope; reading calls `Decrypt` once per wrapped key found.
//!
//! Keys are zeroed when dropped.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use rand::RngCore as _;
use zeroize::Zeroizing;

use crate::config::{Hash, KeyProvider, KmsSettings, Pbkdf2Settings};
use crate::envelope::{KeyMeta, b64, unb64};

/// An AES key, zeroed on drop.
pub type Key = Arc<Zeroizing<Vec<u8>>>;

/// A key provider ready to give keys.
pub struct KeySource {
    /// `pbkdf2.main`, for messages.
    pub id: String,
    provider: KeyProvider,
    /// The key this run seals with, and its metadata.
    sealing: Mutex<Option<(KeyMeta, Key)>>,
    /// Keys found for metadata already seen.
    opened: Mutex<HashMap<String, Key>>,
    kms: OnceLock<Kms>,
}

/// Why no key could be had (never holds key material).
pub struct KeyError(pub String);

fn derive(s: &Pbkdf2Settings, salt: &[u8], iterations: u32, hash: Hash, len: usize) -> Key {
    let mut key = Zeroizing::new(vec![0u8; len]);
    let pass = s.passphrase.0.as_bytes();
    match hash {
        Hash::Sha256 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pass, salt, iterations, &mut key);
        }
        Hash::Sha512 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pass, salt, iterations, &mut key);
        }
    }
    Arc::new(key)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl KeySource {
    /// A source for `provider`, named `id`; nothing is derived or called yet.
    pub fn new(id: String, provider: KeyProvider) -> KeySource {
        KeySource {
            id,
            provider,
            sealing: Mutex::new(None),
            opened: Mutex::new(HashMap::new()),
            kms: OnceLock::new(),
        }
    }

    /// The key to seal with, and what to store to find it again.
    pub fn sealing_key(&self) -> Result<(KeyMeta, Key), KeyError> {
        let mut g = lock(&self.sealing);
        if let Some(k) = &*g {
            return Ok(k.clone());
        }
        let made = match &self.provider {
            KeyProvider::Pbkdf2(s) => {
                let mut salt = vec![0u8; s.salt_length];
                rand::thread_rng().fill_bytes(&mut salt);
                let key = derive(s, &salt, s.iterations, s.hash_function, s.key_length);
                let meta = KeyMeta::Pbkdf2 {
                    salt: b64(&salt),
                    iterations: s.iterations,
                    hash_function: s.hash_function,
                    key_length: s.key_length,
                };
                (meta, key)
            }
            KeyProvider::AwsKms(s) => {
                let (blob, key) = self.kms(s)?.generate(s)?;
                let meta = KeyMeta::AwsKms {
                    kms_key_id: s.kms_key_id.clone(),
                    ciphertext_blob: b64(&blob),
                };
                (meta, key)
            }
        };
        *g = Some(made.clone());
        Ok(made)
    }

    /// The key `meta` names, or `Ok(None)` when `meta` is another kind of
    /// provider's (so another method may be tried).
    pub fn opening_key(&self, meta: &KeyMeta) -> Result<Option<Key>, KeyError> {
        let cache_key = serde_json::to_string(meta).unwrap_or_default();
        if let Some(k) = lock(&self.opened).get(&cache_key) {
            return Ok(Some(k.clone()));
        }
        if let Some((m, k)) = &*lock(&self.sealing)
            && m == meta
        {
            return Ok(Some(k.clone()));
        }
        let key = match (&self.provider, meta) {
            (
                KeyProvider::Pbkdf2(s),
                KeyMeta::Pbkdf2 {
                    salt,
                    iterations,
                    hash_function,
                    key_length,
                },
            ) => {
                let salt = unb64(salt, "salt").map_err(KeyError)?;
                if !matches!(key_length, 16 | 24 | 32) || *iterations == 0 {
                    return Err(KeyError(
                        "the envelope's PBKDF2 parameters are invalid".into(),
                    ));
                }
                derive(s, &salt, *iterations, *hash_function, *key_length)
            }
            (
                KeyProvider::AwsKms(s),
                KeyMeta::AwsKms {
                    ciphertext_blob, ..
                },
            ) => {
                let blob = unb64(ciphertext_blob, "wrapped key").map_err(KeyError)?;
                self.kms(s)?.decrypt(s, blob)?
            }
            _ => return Ok(None),
        };
        lock(&self.opened).insert(cache_key, key.clone());
        Ok(Some(key))
    }

    fn kms(&self, s: &KmsSettings) -> Result<&Kms, KeyError> {
        if let Some(k) = self.kms.get() {
            return Ok(k);
        }
        let k = Kms::new(s)?;
        Ok(self.kms.get_or_init(|| k))
    }
}

/// A KMS client on its own small runtime (the state methods are synchronous).
struct Kms {
    rt: Rt,
    client: aws_sdk_kms::Client,
}

/// A runtime shut down in the background when dropped (dropping one the
/// normal way panics inside async code).
struct Rt(Option<tokio::runtime::Runtime>);

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Rt {
    fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, KeyError> {
        let Some(rt) = &self.0 else {
            return Err(KeyError("the KMS client runtime is shut down".into()));
        };
        // Spawn and wait on a channel: block_on panics inside a runtime.
        let (tx, rx) = std::sync::mpsc::channel();
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .map_err(|_| KeyError("the KMS client runtime stopped during a request".into()))
    }
}

fn sdk_error<E, R>(what: &str, key: &str, err: &aws_sdk_kms::error::SdkError<E, R>) -> KeyError
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_sdk_kms::error::SdkError;
    let detail = match err {
        SdkError::ServiceError(e) => format!(
            "{}: {}",
            e.err().code().unwrap_or("error"),
            e.err().message().unwrap_or_default()
        ),
        other => {
            let mut parts = vec![other.to_string()];
            let mut next = std::error::Error::source(other);
            while let Some(e) = next {
                parts.push(e.to_string());
                next = e.source();
            }
            parts.join(": ")
        }
    };
    KeyError(format!(
        "AWS KMS {what} with key {key} failed: {detail}; check kms_key_id, region, endpoint \
         and the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID...)"
    ))
}

impl Kms {
    fn new(s: &KmsSettings) -> Result<Kms, KeyError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("posture-kms")
            .enable_all()
            .build()
            .map_err(|e| KeyError(format!("cannot start the KMS client runtime: {e}")))?;
        let rt = Rt(Some(rt));
        let (profile, region, endpoint) = (s.profile.clone(), s.region.clone(), s.endpoint.clone());
        let conf = rt.run(async move {
            let overrides = posture_aws::Overrides {
                profile: profile.as_deref(),
                region: region.as_deref(),
                endpoint: endpoint.as_deref(),
                static_keys: None,
            };
            posture_aws::sdk_config(
                overrides,
                posture_aws::https_client(),
                posture_aws::Retries::Standard,
                "posture-encryption",
            )
            .await
        })?;
        Ok(Kms {
            rt,
            client: aws_sdk_kms::Client::new(&conf),
        })
    }

    fn generate(&self, s: &KmsSettings) -> Result<(Vec<u8>, Key), KeyError> {
        let spec = if s.key_spec == "AES_128" {
            DataKeySpec::Aes128
        } else {
            DataKeySpec::Aes256
        };
        let req = self
            .client
            .generate_data_key()
            .key_id(&s.kms_key_id)
            .key_spec(spec);
        let out = self
            .rt
            .run(async move { req.send().await })?
            .map_err(|e| sdk_error("GenerateDataKey", &s.kms_key_id, &e))?;
        match (out.ciphertext_blob, out.plaintext) {
            (Some(blob), Some(key)) => Ok((
                blob.into_inner(),
                Arc::new(Zeroizing::new(key.into_inner())),
            )),
            _ => Err(KeyError(format!(
                "AWS KMS GenerateDataKey with key {} answered without a key",
                s.kms_key_id
            ))),
        }
    }

    fn decrypt(&self, s: &KmsSettings, blob: Vec<u8>) -> Result<Key, KeyError> {
        let req = self
            .client
            .decrypt()
            .ciphertext_blob(Blob::new(blob))
            .key_id(&s.kms_key_id);
        let out = self
            .rt
            .run(async move { req.send().await })?
            .map_err(|e| sdk_error("Decrypt", &s.kms_key_id, &e))?;
        out.plaintext
            .map(|k| Arc::new(Zeroizing::new(k.into_inner())))
            .ok_or_else(|| KeyError("AWS KMS Decrypt answered without a key".into()))
    }
}
