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

mod decoding {
    use std::collections::BTreeMap;

    use hcl_edit::structure::Body;
    use posture_engine::config::{BodyRef, EncryptionBlock};
    use posture_engine::diag::{FileId, Span};

    use crate::config::{KeyProvider, decode};

    /// The `encryption` block of `text` and its diagnostics' summaries and
    /// the text each points at.
    fn decode_text(
        text: &str,
        env: &[(&str, &str)],
    ) -> Result<crate::EncryptionConfig, Vec<(String, String)>> {
        let body: Body = text.parse().expect("HCL");
        let block = body.get_blocks("encryption").next().expect("block").clone();
        let span = hcl_edit::Span::span(&block).unwrap_or(0..0);
        let eb = EncryptionBlock {
            body: BodyRef {
                file: FileId(0),
                body: block.body.clone(),
            },
            span: Span::new(FileId(0), span),
        };
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        decode(&eb, &env).map_err(|d| {
            d.iter()
                .map(|d| {
                    let at = d
                        .span
                        .map(|s| text[s.start..s.end].to_string())
                        .unwrap_or_default();
                    (d.summary.clone(), at)
                })
                .collect()
        })
    }

    const GOOD: &str = r#"
encryption {
  key_provider "pbkdf2" "main" {
    passphrase    = env("PASS")
    iterations    = 300000
    hash_function = "sha256"
  }
  method "aes_gcm" "main" {
    keys = key_provider.pbkdf2.main
  }
  state {
    method   = method.aes_gcm.main
    enforced = true
  }
}
"#;

    #[test]
    fn a_block_in_opentofu_syntax_decodes_with_the_environment() {
        let cfg = decode_text(GOOD, &[("PASS", "sixteen-chars-or-more")]).expect("decodes");
        assert_eq!(cfg.primary, "aes_gcm.main");
        assert!(cfg.enforced);
        let Some(KeyProvider::Pbkdf2(p)) = cfg.key_providers.get("pbkdf2.main") else {
            panic!("no pbkdf2.main: {cfg:?}");
        };
        assert_eq!(p.iterations, 300_000);
        assert_eq!(p.key_length, 32);
        assert_eq!(p.passphrase.0, "sixteen-chars-or-more");
        // The passphrase never shows in Debug output.
        assert!(!format!("{cfg:?}").contains("sixteen-chars"));
    }

    #[test]
    fn each_bad_input_is_reported_at_what_is_wrong() {
        let cases = [
            (
                GOOD.replace("\"pbkdf2\" \"main\"", "\"vault\" \"main\""),
                "Unsupported key provider",
                "\"vault\"",
            ),
            (
                GOOD.replace("method \"aes_gcm\" \"main\"", "method \"chacha\" \"main\""),
                "Unsupported method",
                "\"chacha\"",
            ),
            (
                GOOD.replace(
                    "keys = key_provider.pbkdf2.main",
                    "keys = key_provider.pbkdf2.nope",
                ),
                "Reference to an undeclared key provider",
                "key_provider.pbkdf2.nope",
            ),
            (
                GOOD.replace(
                    "method   = method.aes_gcm.main",
                    "method   = \"aes_gcm.main\"",
                ),
                "Invalid reference",
                "\"aes_gcm.main\"",
            ),
            (
                GOOD.replace("    keys = key_provider.pbkdf2.main\n", ""),
                "Missing keys",
                "method",
            ),
            (
                GOOD.replace("iterations    = 300000", "iterations    = 1000"),
                "Invalid iterations",
                "1000",
            ),
            (
                GOOD.replace("env(\"PASS\")", "env(\"UNSET\")"),
                "Environment variable not set",
                "env(\"UNSET\")",
            ),
            (
                GOOD.replace("env(\"PASS\")", "\"short\""),
                "Passphrase too short",
                "\"short\"",
            ),
        ];
        for (text, summary, at) in cases {
            let diags =
                decode_text(&text, &[("PASS", "sixteen-chars-or-more")]).expect_err(summary);
            assert!(
                diags.iter().any(|(s, a)| s == summary && a.trim() == at),
                "{summary} at {at}: {diags:?}"
            );
        }
    }
}
