//! Unit tests of the cipher: round trip, wrong key, binding, fallback, enforced.

use std::collections::BTreeMap;

use posture_engine::state::{Binding, StateCipher};

use crate::Cipher;
use crate::config::{EncryptionConfig, Hash, KeyProvider, Method, Pbkdf2Settings, Secret};
use crate::envelope::{Envelope, Parsed};

const PASS: &str = "correct horse battery staple";
const CANARY: &[u8] = br#"{"lineage":"l1","serial":3,"secret":"canary-7f3a"}"#;

fn pbkdf2(pass: &str) -> KeyProvider {
    KeyProvider::Pbkdf2(Pbkdf2Settings {
        passphrase: Secret(pass.into()),
        key_length: 32,
        // The minimum OpenTofu allows: keeps the unit tests quick.
        iterations: 200_000,
        salt_length: 32,
        hash_function: Hash::Sha512,
    })
}

/// A cipher whose primary is `aes_gcm.new` (key `new_pass`) and, when
/// given, whose fallback is `aes_gcm.old` (key `old_pass`).
fn cipher(new_pass: &str, old_pass: Option<&str>, enforced: bool) -> Cipher {
    let mut key_providers = BTreeMap::from([("pbkdf2.new".to_string(), pbkdf2(new_pass))]);
    let mut methods = BTreeMap::from([(
        "aes_gcm.new".to_string(),
        Method {
            id: "aes_gcm.new".into(),
            keys: "pbkdf2.new".into(),
        },
    )]);
    if let Some(old) = old_pass {
        key_providers.insert("pbkdf2.old".into(), pbkdf2(old));
        methods.insert(
            "aes_gcm.old".into(),
            Method {
                id: "aes_gcm.old".into(),
                keys: "pbkdf2.old".into(),
            },
        );
    }
    let cfg = EncryptionConfig {
        key_providers,
        methods,
        primary: "aes_gcm.new".into(),
        fallback: old_pass.map(|_| "aes_gcm.old".into()),
        enforced,
    };
    match Cipher::new(cfg) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn bind(object: &str) -> Binding {
    Binding::new(object, "l1", 3)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn round_trip_hides_the_plaintext_and_the_passphrase() {
    let c = cipher(PASS, None, true);
    let sealed = c.seal(&bind("state"), CANARY).expect("seal");
    assert!(!contains(&sealed, b"canary-7f3a"));
    assert!(!contains(&sealed, PASS.as_bytes()));
    assert!(matches!(Envelope::parse(&sealed), Parsed::Sealed(_)));
    let opened = c.open("test", "state", &sealed).expect("open");
    assert_eq!(opened.plaintext, CANARY);
    assert_eq!(opened.binding, Some(bind("state")));
}

#[test]
fn wrong_passphrase_is_refused_with_what_to_check() {
    let sealed = cipher(PASS, None, true)
        .seal(&bind("state"), CANARY)
        .expect("seal");
    let err = cipher("another passphrase entirely", None, true)
        .open("s3 state at s3://b/k", "state", &sealed)
        .expect_err("wrong key opened");
    let text = err.to_string();
    assert!(text.contains("s3 state at s3://b/k"), "{text}");
    assert!(
        text.contains("cannot be decrypted with method aes_gcm.new"),
        "{text}"
    );
    assert!(text.contains("check the passphrase"), "{text}");
    assert!(!text.contains("another passphrase"), "{text}");
}

#[test]
fn an_object_copied_to_another_name_is_refused() {
    let c = cipher(PASS, None, true);
    let sealed = c.seal(&bind("a/state"), CANARY).expect("seal");
    let err = c.open("t", "b/state", &sealed).expect_err("swap opened");
    assert!(err.to_string().contains("copied here"), "{err}");
}

#[test]
fn a_changed_binding_fails_authentication() {
    let c = cipher(PASS, None, true);
    let sealed = c.seal(&bind("state"), CANARY).expect("seal");
    // Present serial 3 as serial 9: rewrite the header in place.
    let text = String::from_utf8(sealed).expect("utf8");
    let forged = text.replace("\"serial\":3", "\"serial\":9");
    assert_ne!(forged, text);
    let err = c
        .open("t", "state", forged.as_bytes())
        .expect_err("replay opened");
    assert!(err.to_string().contains("cannot be decrypted"), "{err}");
    // And an honest older object presented where a newer serial is expected.
    let old = c
        .seal(&Binding::new("state", "l1", 2), CANARY)
        .expect("seal");
    let opened = c.open("t", "state", &old).expect("open");
    let binding = opened.binding.expect("sealed");
    assert!(binding.expect("t", "l1", Some(3)).is_err());
    assert!(binding.expect("t", "other-lineage", None).is_err());
    assert!(binding.expect("t", "l1", Some(2)).is_ok());
}

#[test]
fn the_fallback_opens_old_objects_and_the_primary_seals() {
    let old = cipher("the old passphrase!!", None, true)
        .seal(&bind("state"), CANARY)
        .expect("seal");
    let rotated = cipher(PASS, Some("the old passphrase!!"), true);
    let opened = rotated.open("t", "state", &old).expect("fallback open");
    assert_eq!(opened.plaintext, CANARY);
    let resealed = rotated.seal(&bind("state"), CANARY).expect("seal");
    // Sealed under the new key: the new key alone opens it.
    let new_only = cipher(PASS, None, true);
    assert!(new_only.open("t", "state", &resealed).is_ok());
    assert!(new_only.open("t", "state", &old).is_err());
}

#[test]
fn plaintext_is_read_unless_enforced() {
    let lax = cipher(PASS, None, false);
    let opened = lax.open("t", "state", CANARY).expect("plaintext read");
    assert_eq!(opened.plaintext, CANARY);
    assert!(opened.binding.is_none());
    let strict = cipher(PASS, None, true);
    let err = strict
        .open("t", "state", CANARY)
        .expect_err("plaintext read");
    assert!(err.to_string().contains("enforced = true"), "{err}");
}

#[test]
fn each_seal_uses_a_fresh_nonce() {
    let c = cipher(PASS, None, true);
    let a = c.seal(&bind("state"), CANARY).expect("seal");
    let b = c.seal(&bind("state"), CANARY).expect("seal");
    assert_ne!(a, b);
}
