//! [`StateCipher`]: client-side encryption of stored state, as the engine
//! and the backends see it. The implementation (key providers, AES-GCM,
//! the envelope) lives in the `posture-encryption` crate, which the CLI
//! builds from the `encryption` block; the engine and the backends only
//! call [`StateCipher::seal`] before a write and [`StateCipher::open`]
//! after a read, so they stay free of AWS and of any cipher.
//!
//! Every sealed object is bound to a [`Binding`]: the object's name, the
//! state's lineage and a serial, authenticated as associated data. A blob
//! copied to another object, another state or presented with another
//! serial fails to open, and the backend compares the binding it gets back
//! with what it expected ([`Binding::expect`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::error::StateError;

/// What a sealed object is bound to (authenticated, not secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The object's name in its store: an S3 key, a Secret's base name, a
    /// record key.
    pub object: String,
    /// The lineage of the state the object belongs to.
    pub lineage: String,
    /// The serial: the state's for a state or snapshot, the committed
    /// serial an intent or record was written on otherwise.
    pub serial: u64,
}

impl Binding {
    /// A binding of `object` to `lineage` and `serial`.
    pub fn new(object: impl Into<String>, lineage: impl Into<String>, serial: u64) -> Binding {
        Binding {
            object: object.into(),
            lineage: lineage.into(),
            serial,
        }
    }

    /// Refuses a blob that opened but is bound to another lineage, or to
    /// another serial when `serial` is given: a state swapped in from
    /// another lineage, or an older one presented as a newer.
    ///
    /// # Errors
    /// [`StateError::Encryption`] naming `location` and both bindings.
    pub fn expect(
        &self,
        location: &str,
        lineage: &str,
        serial: Option<u64>,
    ) -> Result<(), StateError> {
        let serial_ok = serial.is_none_or(|s| s == self.serial);
        if self.lineage == lineage && serial_ok {
            return Ok(());
        }
        Err(StateError::Encryption {
            location: location.to_string(),
            detail: format!(
                "the encrypted object is bound to lineage {} serial {}, but this state is \
                 lineage {lineage}{}: it was swapped in from another state or replayed from an \
                 older one; restore the right object (state history, bucket versioning) \
                 instead of this one",
                self.lineage,
                self.serial,
                serial.map(|s| format!(" serial {s}")).unwrap_or_default()
            ),
        })
    }
}

/// An object as read back: its plaintext and, when it was sealed, what it
/// was bound to (`None`: it was stored in plaintext, accepted only when
/// encryption is not enforced, to migrate a state into encryption).
#[derive(Debug)]
pub struct Opened {
    /// The object's content.
    pub plaintext: Vec<u8>,
    /// The authenticated binding of a sealed object.
    pub binding: Option<Binding>,
}

/// Encryption of state objects before they reach a store.
///
/// Errors are [`StateError::Encryption`] naming the object and what to do;
/// they never carry a key, a passphrase or a plaintext.
pub trait StateCipher: Send + Sync {
    /// The primary method, for messages: `aes_gcm.main`.
    fn describe(&self) -> String;

    /// Encrypts `plaintext` for `binding.object`, always with the primary
    /// method.
    ///
    /// # Errors
    /// A key provider failure (e.g. KMS unreachable).
    fn seal(&self, binding: &Binding, plaintext: &[u8]) -> Result<Vec<u8>, StateError>;

    /// Decrypts what was stored at `object` (`location` names it in
    /// errors), with the primary method or else the fallback; a plaintext
    /// object passes through unless encryption is enforced.
    ///
    /// # Errors
    /// Wrong key or passphrase, a damaged envelope, an envelope made for
    /// another object, or plaintext under `enforced = true`.
    fn open(&self, location: &str, object: &str, stored: &[u8]) -> Result<Opened, StateError>;
}

/// A cipher shared by a location, its backends and their threads.
pub type SharedCipher = Arc<dyn StateCipher>;
