//! The bucket as a blocking key-value store with conditional writes: every
//! call runs on the backend's own small tokio runtime, so the engine's
//! synchronous [`Backend`](posture_engine::state::Backend) methods can use it
//! from any thread (a `spawn_blocking` worker or plain code).

use std::future::Future;
use std::sync::Arc;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use posture_engine::state::{Binding, Opened, SharedCipher, StateError};

use crate::settings::S3Settings;

/// A runtime shut down in the background when dropped: dropping a runtime
/// the normal way panics inside async code, where the CLI may drop us.
pub(crate) struct Rt(Option<tokio::runtime::Runtime>);

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// An object as read: its body and ETag.
pub(crate) struct Object {
    pub(crate) body: Vec<u8>,
    pub(crate) etag: String,
}

/// The condition of a write.
#[derive(Clone)]
pub(crate) enum Cond {
    /// Unconditional.
    Any,
    /// Only if no object exists (`If-None-Match: *`).
    Absent,
    /// Only if the object's ETag is this (`If-Match`).
    Matches(String),
}

/// What a conditional write can answer besides an error.
pub(crate) enum Put {
    /// Written; the new ETag.
    Done(String),
    /// The condition did not hold (HTTP 412, or 404 for If-Match on nothing).
    Refused,
}

/// The bucket, its settings and the runtime the SDK runs on.
#[derive(Clone)]
pub(crate) struct Store {
    rt: Arc<Rt>,
    client: Client,
    pub(crate) settings: Arc<S3Settings>,
    /// Client-side encryption of every object but the lock, when configured.
    pub(crate) cipher: Option<SharedCipher>,
}

impl Store {
    /// Builds the runtime and the client (credentials resolve lazily, on the first request).
    pub(crate) fn new(settings: S3Settings) -> Result<Store, StateError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("posture-s3")
            .enable_all()
            .build()
            .map_err(|e| StateError::Remote {
                location: settings.url(""),
                detail: format!("cannot start the S3 client runtime: {e}"),
            })?;
        let rt = Arc::new(Rt(Some(rt)));
        let settings = Arc::new(settings);
        let conf = {
            let s = settings.clone();
            run_on(&rt, async move { s.sdk_config().await })?
        };
        Ok(Store {
            rt,
            client: Client::from_conf(conf),
            settings,
            cipher: None,
        })
    }

    /// `s3://bucket/<object key>` for messages.
    pub(crate) fn url(&self, key: &str) -> String {
        self.settings.url(key)
    }

    /// Runs `fut` on the store's runtime and waits for it.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, StateError> {
        run_on(&self.rt, fut)
    }

    /// Spawns a background task on the store's runtime.
    pub(crate) fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        if let Some(rt) = &self.rt.0 {
            rt.spawn(fut);
        }
    }

    /// `body` as stored at `key`: sealed for `binding` when encryption is on.
    pub(crate) fn seal(
        &self,
        key: &str,
        binding: Binding,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, StateError> {
        match &self.cipher {
            Some(c) => c.seal(&binding, &body),
            None => Ok(body),
        }
        .map_err(|e| self.located(key, e))
    }

    /// What was stored at `key`, opened when encryption is on (a plaintext
    /// object passes unless encryption is enforced).
    pub(crate) fn open(&self, key: &str, stored: Vec<u8>) -> Result<Opened, StateError> {
        match &self.cipher {
            Some(c) => c.open(
                &format!("the s3 state object {}", self.url(key)),
                key,
                &stored,
            ),
            None => Ok(Opened {
                plaintext: stored,
                binding: None,
            }),
        }
    }

    /// An encryption error naming the object.
    fn located(&self, key: &str, e: StateError) -> StateError {
        match e {
            StateError::Encryption { detail, .. } => StateError::Encryption {
                location: format!("the s3 state object {}", self.url(key)),
                detail,
            },
            other => other,
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Reads an object; `None` when there is none.
    pub(crate) fn get(&self, key: &str) -> Result<Option<Object>, StateError> {
        let s = self.clone();
        let k = key.to_string();
        self.run(async move { s.get_async(&k).await })?
    }

    pub(crate) async fn get_async(&self, key: &str) -> Result<Option<Object>, StateError> {
        let answer = self
            .client
            .get_object()
            .bucket(&self.settings.bucket)
            .key(key)
            .send()
            .await;
        let out = match answer {
            Ok(o) => o,
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => return Ok(None),
            Err(e) => return Err(self.remote(key, "read", &e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let body = out.body.collect().await.map_err(|e| StateError::Remote {
            location: self.url(key),
            detail: format!("reading the object failed: {e}"),
        })?;
        Ok(Some(Object {
            body: body.into_bytes().to_vec(),
            etag,
        }))
    }

    /// Writes an object under `cond`.
    pub(crate) fn put(&self, key: &str, body: Vec<u8>, cond: Cond) -> Result<Put, StateError> {
        let s = self.clone();
        let k = key.to_string();
        self.run(async move { s.put_async(&k, body, cond).await })?
    }

    pub(crate) async fn put_async(
        &self,
        key: &str,
        body: Vec<u8>,
        cond: Cond,
    ) -> Result<Put, StateError> {
        let st = &self.settings;
        let mut req = self
            .client
            .put_object()
            .bucket(&st.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        req = match cond {
            Cond::Any => req,
            Cond::Absent => req.if_none_match("*"),
            Cond::Matches(etag) => req.if_match(etag),
        };
        if let Some(sse) = &st.server_side_encryption {
            req = req.server_side_encryption(sse.as_str().into());
        }
        if let Some(kms) = &st.kms_key_id {
            req = req.ssekms_key_id(kms);
        }
        match req.send().await {
            Ok(o) => Ok(Put::Done(o.e_tag().unwrap_or_default().to_string())),
            Err(e) if refused(&e) => Ok(Put::Refused),
            Err(e) => Err(self.remote(key, "write", &e)),
        }
    }

    /// Deletes an object, only if its ETag is `etag` when given.
    /// `Ok(false)` when the condition did not hold.
    pub(crate) fn delete(&self, key: &str, etag: Option<&str>) -> Result<bool, StateError> {
        let s = self.clone();
        let k = key.to_string();
        let e = etag.map(str::to_string);
        self.run(async move { s.delete_async(&k, e.as_deref()).await })?
    }

    pub(crate) async fn delete_async(
        &self,
        key: &str,
        etag: Option<&str>,
    ) -> Result<bool, StateError> {
        let mut req = self
            .client
            .delete_object()
            .bucket(&self.settings.bucket)
            .key(key);
        if let Some(e) = etag {
            req = req.if_match(e);
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if refused(&e) => Ok(false),
            Err(e) => Err(self.remote(key, "delete", &e)),
        }
    }

    /// Every key under `prefix`, sorted.
    pub(crate) fn list(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let s = self.clone();
        let p = prefix.to_string();
        self.run(async move {
            let mut keys = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let out = s
                    .client
                    .list_objects_v2()
                    .bucket(&s.settings.bucket)
                    .prefix(&p)
                    .set_continuation_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| s.remote(&p, "list", &e))?;
                keys.extend(
                    out.contents()
                        .iter()
                        .filter_map(|o| o.key().map(str::to_string)),
                );
                match out.next_continuation_token() {
                    Some(t) if out.is_truncated().unwrap_or(false) => token = Some(t.to_string()),
                    _ => break,
                }
            }
            keys.sort();
            Ok(keys)
        })?
    }

    /// An SDK failure in words: the service's code and message, or the
    /// transport error, with what to check for the common ones.
    pub(crate) fn remote<E, R>(&self, key: &str, what: &str, err: &SdkError<E, R>) -> StateError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let detail = match err {
            SdkError::ServiceError(e) => {
                let code = e.err().code().unwrap_or("error");
                let msg = e.err().message().unwrap_or_default();
                let hint = match code {
                    "NoSuchBucket" => {
                        "; create the bucket or fix `bucket` in the backend block".to_string()
                    }
                    "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" => {
                        "; check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID...) and that \
                         they may use the bucket"
                            .to_string()
                    }
                    _ => String::new(),
                };
                format!("{what} failed: {code}: {msg}{hint}")
            }
            other => {
                let text = causes(other);
                let hint = if text.contains("no credentials") {
                    "; give credentials: AWS_PROFILE, AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY, or access_key/secret_key in the backend block"
                } else if text.contains("connect") || text.contains("dns") {
                    "; check `endpoint`/`region` and the network"
                } else {
                    ""
                };
                format!("{what} failed: {text}{hint}")
            }
        };
        StateError::Remote {
            location: self.url(key),
            detail,
        }
    }
}

/// An error and its causes, each said once: the SDK's own Display adds
/// a Debug dump of the whole chain, unreadable in a terminal.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut next = err.source();
    while let Some(e) = next {
        let t = e.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Whether a write's condition failed: 412, or 404/409 for a conditional
/// write on an object that is gone or being written.
fn refused<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(e) => {
            matches!(
                e.err().code(),
                Some("PreconditionFailed" | "NoSuchKey" | "ConditionalRequestConflict")
            )
        }
        _ => false,
    }
}

fn run_on<T: Send + 'static>(
    rt: &Rt,
    fut: impl Future<Output = T> + Send + 'static,
) -> Result<T, StateError> {
    let Some(rt) = &rt.0 else {
        return Err(StateError::Remote {
            location: "s3".into(),
            detail: "the S3 client runtime is shut down".into(),
        });
    };
    // Spawn and wait on a channel rather than block_on: block_on panics when
    // the caller is itself inside a runtime.
    let (tx, rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().map_err(|_| StateError::Remote {
        location: "s3".into(),
        detail: "the S3 client runtime stopped during a request".into(),
    })
}
