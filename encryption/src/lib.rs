//! Client-side state encryption for posture, in OpenTofu's syntax
//! (docs/encryption.md).
//!
//! - [`config`]: the `encryption` block's typed model and its decoding,
//!   with diagnostics at file:line:col;
//! - [`keys`]: the key providers `pbkdf2` and `aws_kms`;
//! - [`envelope`]: the stored format;
//! - [`Cipher`]: the `aes_gcm` method with rotation (primary, fallback) and
//!   `enforced`, as the engine's [`StateCipher`] every backend calls.
//!
//! The CLI builds a [`Cipher`] with [`from_block`] and hands it to the
//! backend; the engine never sees AWS or AES.

pub mod config;
pub mod envelope;
pub mod keys;

use std::collections::BTreeMap;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm, Nonce};
use posture_engine::config::EncryptionBlock;
use posture_engine::diag::Diagnostics;
use posture_engine::state::{Binding, Opened, StateCipher, StateError};
use rand::RngCore as _;

pub use config::{EncryptionConfig, decode};
use envelope::{Envelope, Header, Parsed, VERSION, b64, unb64};
use keys::{Key, KeySource};

type Aes192Gcm = AesGcm<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>;

/// A method ready to seal and open: `aes_gcm.NAME` over its key source.
struct Method {
    id: String,
    keys: Arc<KeySource>,
}

/// The `encryption` block, ready: the primary method seals, the primary or
/// else the fallback opens.
pub struct Cipher {
    primary: Method,
    fallback: Option<Method>,
    enforced: bool,
}

/// Decodes the block and builds its cipher; `env` answers `env("NAME")`.
///
/// # Errors
/// The block's problems, at file:line:col.
pub fn from_block(
    block: &EncryptionBlock,
    env: &BTreeMap<String, String>,
) -> Result<Cipher, Diagnostics> {
    let cfg = decode(block, env)?;
    Cipher::new(cfg).map_err(|e| {
        let mut d = Diagnostics::default();
        d.push(
            posture_engine::diag::Diagnostic::error("Invalid encryption block", e).at(block.span),
        );
        d
    })
}

fn aead_seal(key: &[u8], nonce: &[u8; 12], aad: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
    let n = Nonce::from_slice(nonce);
    let p = Payload { msg: plain, aad };
    match key.len() {
        16 => Aes128Gcm::new_from_slice(key).ok()?.encrypt(n, p).ok(),
        24 => Aes192Gcm::new_from_slice(key).ok()?.encrypt(n, p).ok(),
        32 => Aes256Gcm::new_from_slice(key).ok()?.encrypt(n, p).ok(),
        _ => None,
    }
}

fn aead_open(key: &[u8], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if nonce.len() != 12 {
        return None;
    }
    let n = Nonce::from_slice(nonce);
    let p = Payload { msg: sealed, aad };
    match key.len() {
        16 => Aes128Gcm::new_from_slice(key).ok()?.decrypt(n, p).ok(),
        24 => Aes192Gcm::new_from_slice(key).ok()?.decrypt(n, p).ok(),
        32 => Aes256Gcm::new_from_slice(key).ok()?.decrypt(n, p).ok(),
        _ => None,
    }
}

impl Cipher {
    /// A cipher for a decoded block. Key providers are shared by methods
    /// naming the same one; nothing is derived or called until first use.
    ///
    /// # Errors
    /// A method naming no key provider ([`decode`] never returns one).
    pub fn new(cfg: EncryptionConfig) -> Result<Cipher, String> {
        let mut sources: BTreeMap<String, Arc<KeySource>> = BTreeMap::new();
        for (id, kp) in cfg.key_providers {
            sources.insert(id.clone(), Arc::new(KeySource::new(id, kp)));
        }
        let method = |id: &str| {
            let keys = cfg
                .methods
                .get(id)
                .and_then(|m| sources.get(&m.keys))
                .cloned();
            keys.map(|keys| Method {
                id: id.to_string(),
                keys,
            })
        };
        let primary = method(&cfg.primary)
            .ok_or_else(|| format!("method {} names no key provider", cfg.primary))?;
        let fallback = cfg.fallback.as_deref().and_then(method);
        Ok(Cipher {
            primary,
            fallback,
            enforced: cfg.enforced,
        })
    }

    /// Whether plaintext is refused.
    pub fn enforced(&self) -> bool {
        self.enforced
    }

    fn methods(&self) -> impl Iterator<Item = &Method> {
        std::iter::once(&self.primary).chain(self.fallback.as_ref())
    }

    fn names(&self) -> String {
        match &self.fallback {
            Some(f) => format!("method {} or its fallback {}", self.primary.id, f.id),
            None => format!("method {}", self.primary.id),
        }
    }

    fn try_open(
        m: &Method,
        env: &Envelope,
        nonce: &[u8],
        sealed: &[u8],
    ) -> Result<Option<Vec<u8>>, String> {
        let key: Key = match m.keys.opening_key(&env.header.key) {
            Ok(Some(k)) => k,
            Ok(None) => return Ok(None),
            Err(e) => return Err(e.0),
        };
        Ok(aead_open(&key, nonce, &env.header.aad(), sealed))
    }
}

impl StateCipher for Cipher {
    fn describe(&self) -> String {
        self.primary.id.clone()
    }

    fn seal(&self, binding: &Binding, plaintext: &[u8]) -> Result<Vec<u8>, StateError> {
        let (meta, key) = self
            .primary
            .keys
            .sealing_key()
            .map_err(|e| StateError::Encryption {
                location: binding.object.clone(),
                detail: format!(
                    "cannot get a key from {} for method {}: {}",
                    self.primary.keys.id, self.primary.id, e.0
                ),
            })?;
        let header = Header {
            posture_encryption: VERSION,
            method: self.primary.id.clone(),
            key: meta,
            binding: binding.clone(),
        };
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = aead_seal(&key, &nonce, &header.aad(), plaintext).ok_or_else(|| {
            StateError::Encryption {
                location: binding.object.clone(),
                detail: format!("method {} could not encrypt (key length)", self.primary.id),
            }
        })?;
        Ok(Envelope {
            header,
            nonce: b64(&nonce),
            ciphertext: b64(&ciphertext),
        }
        .to_bytes())
    }

    fn open(&self, location: &str, object: &str, stored: &[u8]) -> Result<Opened, StateError> {
        let fail = |detail: String| StateError::Encryption {
            location: location.to_string(),
            detail,
        };
        let env = match Envelope::parse(stored) {
            Parsed::Sealed(e) => e,
            Parsed::Plain if self.enforced => {
                return Err(fail(
                    "the object is not encrypted, and the encryption block says enforced = true; \
                     posture neither reads nor writes plaintext state then: to encrypt an \
                     existing plaintext state, run once with enforced = false (it is read, then \
                     written encrypted), then set enforced = true"
                        .to_string(),
                ));
            }
            Parsed::Plain => {
                return Ok(Opened {
                    plaintext: stored.to_vec(),
                    binding: None,
                });
            }
            Parsed::Damaged(d) => return Err(fail(format!("damaged encrypted object: {d}"))),
        };
        if env.header.binding.object != object {
            return Err(fail(format!(
                "the encrypted object was written as {}, not as {object}: it was copied here \
                 from elsewhere; restore the right object",
                env.header.binding.object
            )));
        }
        let nonce = unb64(&env.nonce, "nonce").map_err(fail)?;
        let sealed = unb64(&env.ciphertext, "ciphertext").map_err(fail)?;
        let mut reasons = Vec::new();
        for m in self.methods() {
            match Self::try_open(m, &env, &nonce, &sealed) {
                Ok(Some(plaintext)) => {
                    return Ok(Opened {
                        plaintext,
                        binding: Some(env.header.binding.clone()),
                    });
                }
                Ok(None) => {}
                Err(e) => reasons.push(format!("{}: {e}", m.id)),
            }
        }
        let extra = if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join("; "))
        };
        Err(fail(format!(
            "the state cannot be decrypted with {}{extra}: check the passphrase or KMS key \
             (it was written with method {}; after a key change, name the old key in \
             state {{ fallback {{ method = ... }} }}); nothing was overwritten",
            self.names(),
            env.header.method
        )))
    }
}

#[cfg(test)]
mod tests;
