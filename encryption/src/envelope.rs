//! The envelope a sealed object is stored in: one JSON document with a
//! magic key and version, the method, the key provider's metadata (salt
//! and parameters, or the KMS-wrapped data key), the binding (object,
//! lineage, serial), the nonce and the ciphertext.
//!
//! Everything but the nonce and the ciphertext is the associated data of
//! AES-GCM ([`Header::aad`]), so changing any of it makes the object fail
//! to open.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use posture_engine::state::Binding;
use serde::{Deserialize, Serialize};

use crate::config::Hash;

/// The envelope format this crate writes and reads.
pub const VERSION: u32 = 1;

/// What a key provider records to find its key again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum KeyMeta {
    /// The PBKDF2 parameters of this object's key.
    Pbkdf2 {
        /// The random salt, base64.
        salt: String,
        /// Iterations.
        iterations: u32,
        /// HMAC's hash.
        hash_function: Hash,
        /// Bytes of key.
        key_length: usize,
    },
    /// A data key wrapped by KMS.
    AwsKms {
        /// The KMS key that wrapped it.
        kms_key_id: String,
        /// KMS's `CiphertextBlob`, base64.
        ciphertext_blob: String,
    },
}

/// The authenticated part of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The magic key: its presence tells a sealed object from plaintext.
    pub posture_encryption: u32,
    /// The method that sealed it: `aes_gcm.main`.
    pub method: String,
    /// How to find the key.
    pub key: KeyMeta,
    /// What the object is bound to.
    pub binding: Binding,
}

impl Header {
    /// The associated data: the header's JSON (fields in declaration
    /// order, so the bytes are the same when read back).
    pub fn aad(&self) -> Vec<u8> {
        // Strings and numbers only: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A stored envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    /// Authenticated metadata.
    #[serde(flatten)]
    pub header: Header,
    /// The 96-bit nonce, base64.
    pub nonce: String,
    /// Ciphertext and tag, base64.
    pub ciphertext: String,
}

/// What stored bytes are.
pub enum Parsed {
    /// An envelope this crate wrote.
    Sealed(Box<Envelope>),
    /// Not an envelope: plaintext.
    Plain,
    /// Marked as an envelope but unreadable, or of a newer version.
    Damaged(String),
}

impl Envelope {
    /// The envelope's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Tells an envelope from plaintext. Plaintext JSON documents never
    /// have the `posture_encryption` key at their top level.
    pub fn parse(stored: &[u8]) -> Parsed {
        let trimmed = stored.trim_ascii_start();
        if !trimmed.starts_with(b"{\"posture_encryption\"") {
            return Parsed::Plain;
        }
        let v: serde_json::Value = match serde_json::from_slice(trimmed) {
            Ok(v) => v,
            Err(e) => return Parsed::Damaged(format!("the envelope is not JSON: {e}")),
        };
        match v.get("posture_encryption").and_then(|n| n.as_u64()) {
            Some(n) if n == u64::from(VERSION) => {}
            Some(n) => {
                return Parsed::Damaged(format!(
                    "the envelope is format {n}, this posture reads {VERSION}: upgrade posture"
                ));
            }
            None => return Parsed::Damaged("the envelope has no format version".into()),
        }
        match serde_json::from_value(v) {
            Ok(e) => Parsed::Sealed(Box::new(e)),
            Err(e) => Parsed::Damaged(format!("the envelope is incomplete: {e}")),
        }
    }
}

/// Base64 of `bytes`.
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Bytes of base64 `text`, or what is wrong with it.
pub fn unb64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    B64.decode(text)
        .map_err(|e| format!("the envelope's {what} is not base64: {e}"))
}
