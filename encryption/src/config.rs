//! The `encryption` block's model, decoded from the HCL body the engine
//! kept (`posture { encryption { ... } }`), in OpenTofu's syntax:
//!
//! ```hcl
//! encryption {
//!   key_provider "pbkdf2" "main" { passphrase = env("STATE_PASSPHRASE") }
//!   method "aes_gcm" "main" { keys = key_provider.pbkdf2.main }
//!   state {
//!     method   = method.aes_gcm.main
//!     enforced = true
//!     fallback { method = method.aes_gcm.old }
//!   }
//! }
//! ```
//!
//! The block is read before any variable is (like the backend block), so a
//! setting is a literal or `env("NAME")`. Every problem is a diagnostic at
//! its file:line:col.

use std::collections::BTreeMap;

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, Body};
use posture_engine::config::EncryptionBlock;
use posture_engine::diag::{Diagnostic, Diagnostics, FileId, Span};

/// OpenTofu's PBKDF2 defaults.
const PBKDF2_ITERATIONS: u32 = 600_000;
const PBKDF2_MIN_ITERATIONS: u32 = 200_000;
const PBKDF2_SALT_LENGTH: usize = 32;
const PASSPHRASE_MIN: usize = 16;

/// A secret setting: its `Debug` shows no part of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The hash of PBKDF2's HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hash {
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512 (the default).
    Sha512,
}

/// `key_provider "pbkdf2" "NAME" { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct Pbkdf2Settings {
    /// The passphrase (at least 16 characters, as OpenTofu asks).
    pub passphrase: Secret,
    /// Bytes of key: 16, 24 or 32 (default 32: AES-256).
    pub key_length: usize,
    /// Default 600000, at least 200000.
    pub iterations: u32,
    /// Bytes of random salt (default 32, at least 16).
    pub salt_length: usize,
    /// `sha256` or `sha512` (default).
    pub hash_function: Hash,
}

/// `key_provider "aws_kms" "NAME" { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct KmsSettings {
    /// The KMS key (id, ARN or alias).
    pub kms_key_id: String,
    /// `AES_256` (default) or `AES_128`.
    pub key_spec: String,
    /// The region; else the AWS chain's.
    pub region: Option<String>,
    /// A profile of the shared config files.
    pub profile: Option<String>,
    /// An endpoint (moto, a proxy); else `AWS_ENDPOINT_URL(_KMS)`.
    pub endpoint: Option<String>,
}

/// A key provider's settings.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyProvider {
    /// A key derived from a passphrase.
    Pbkdf2(Pbkdf2Settings),
    /// A data key generated and unwrapped by AWS KMS.
    AwsKms(KmsSettings),
}

/// `method "aes_gcm" "NAME" { keys = key_provider.T.N }`
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// `aes_gcm.NAME`, for messages.
    pub id: String,
    /// The key provider's `T.N`.
    pub keys: String,
}

/// The decoded block.
#[derive(Debug, Clone, PartialEq)]
pub struct EncryptionConfig {
    /// Key providers by `type.name`.
    pub key_providers: BTreeMap<String, KeyProvider>,
    /// Methods by `aes_gcm.name`.
    pub methods: BTreeMap<String, Method>,
    /// `state { method = ... }`: the id of the method every write uses.
    pub primary: String,
    /// `state { fallback { method = ... } }`: tried when the primary fails to decrypt.
    pub fallback: Option<String>,
    /// `state { enforced = true }`: plaintext is neither read nor written.
    pub enforced: bool,
}

struct Reader<'a> {
    file: FileId,
    env: &'a BTreeMap<String, String>,
    diags: Diagnostics,
}

fn bad(summary: &str, detail: String, span: Span) -> Diagnostic {
    Diagnostic::error(summary.to_string(), detail).at(span)
}

impl Reader<'_> {
    fn span(&self, r: Option<std::ops::Range<usize>>) -> Span {
        Span::new(self.file, r.unwrap_or(0..0))
    }

    fn err(&mut self, summary: &str, detail: String, r: Option<std::ops::Range<usize>>) {
        let span = self.span(r);
        self.diags.push(bad(summary, detail, span));
    }

    /// Attributes of `body` by name, with unknown ones and any block reported.
    fn attrs<'b>(
        &mut self,
        body: &'b Body,
        known: &[&str],
        blocks: &[&str],
        context: &str,
    ) -> BTreeMap<String, &'b Attribute> {
        let mut out = BTreeMap::new();
        for a in body.attributes() {
            let name = a.key.value().as_str();
            if known.contains(&name) {
                out.insert(name.to_string(), a);
            } else {
                self.err(
                    "Unsupported argument",
                    format!(
                        "An argument named \"{name}\" is not expected {context}; expected one of: {}.",
                        known.join(", ")
                    ),
                    a.key.span(),
                );
            }
        }
        for b in body.blocks() {
            let name = b.ident.value().as_str();
            if !blocks.contains(&name) {
                self.err(
                    "Unsupported block type",
                    format!("Blocks of type \"{name}\" are not expected {context}."),
                    b.ident.span(),
                );
            }
        }
        out
    }

    /// A string literal or `env("NAME")`.
    fn string(&mut self, a: &Attribute, secret: bool) -> Option<String> {
        let name = a.key.value().as_str();
        match &a.value {
            Expression::String(s) => Some(s.value().to_string()),
            Expression::FuncCall(f) if f.name.name.value().as_str() == "env" => {
                let args: Vec<&Expression> = f.args.iter().collect();
                let var = match args.as_slice() {
                    [Expression::String(s)] => s.value().to_string(),
                    _ => {
                        self.err(
                            "Invalid env() call",
                            "env() takes one string: the environment variable's name, like \
                             env(\"STATE_PASSPHRASE\")."
                                .into(),
                            f.span(),
                        );
                        return None;
                    }
                };
                match self.env.get(&var).filter(|v| !v.is_empty()) {
                    Some(v) => Some(v.clone()),
                    None => {
                        self.err(
                            "Environment variable not set",
                            format!(
                                "{name} = env(\"{var}\") but {var} is not set or empty: export it \
                                 before running posture."
                            ),
                            f.span(),
                        );
                        None
                    }
                }
            }
            other => {
                let what = if secret {
                    " (read it from the environment with env(\"NAME\") rather than writing it here)"
                } else {
                    ""
                };
                self.err(
                    "Invalid encryption setting",
                    format!(
                        "{name} must be a literal string or env(\"NAME\"): the encryption block is \
                         read before variables are{what}."
                    ),
                    other.span(),
                );
                None
            }
        }
    }

    fn number(&mut self, a: &Attribute) -> Option<u64> {
        let n = match &a.value {
            Expression::Number(n) => n.value().as_u64(),
            _ => None,
        };
        if n.is_none() {
            self.err(
                "Invalid encryption setting",
                format!("{} must be a whole number.", a.key.value().as_str()),
                a.value.span(),
            );
        }
        n
    }

    /// A reference `root.type.name` (e.g. `key_provider.pbkdf2.main`) as `type.name`.
    fn reference(&mut self, a: &Attribute, root: &str) -> Option<String> {
        let parts: Option<Vec<String>> = match &a.value {
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => {
                    let mut parts = vec![v.value().as_str().to_string()];
                    for op in &t.operators {
                        match op.value() {
                            TraversalOperator::GetAttr(i) => parts.push(i.value().to_string()),
                            _ => return self.bad_ref(a, root),
                        }
                    }
                    Some(parts)
                }
                _ => None,
            },
            _ => None,
        };
        match parts.as_deref() {
            Some([r, t, n]) if r == root => Some(format!("{t}.{n}")),
            _ => self.bad_ref(a, root),
        }
    }

    fn bad_ref(&mut self, a: &Attribute, root: &str) -> Option<String> {
        let example = if root == "method" {
            "method.aes_gcm.main"
        } else {
            "key_provider.pbkdf2.main"
        };
        self.err(
            "Invalid reference",
            format!(
                "{} must be a reference to a {root} block, like {example}.",
                a.key.value().as_str()
            ),
            a.value.span(),
        );
        None
    }

    fn labels(&mut self, b: &Block, what: &str) -> Option<(String, String)> {
        match b.labels.as_slice() {
            [t, n] => Some((t.as_str().to_string(), n.as_str().to_string())),
            _ => {
                self.err(
                    "Missing labels",
                    format!(
                        "A {} block takes two labels: the {what} type and a name.",
                        b.ident.value().as_str()
                    ),
                    b.ident.span(),
                );
                None
            }
        }
    }

    fn pbkdf2(&mut self, b: &Block) -> Option<KeyProvider> {
        let known = [
            "passphrase",
            "key_length",
            "iterations",
            "salt_length",
            "hash_function",
        ];
        let attrs = self.attrs(&b.body, &known, &[], "in a pbkdf2 key provider");
        let Some(p) = attrs.get("passphrase") else {
            self.err(
                "Missing passphrase",
                "A pbkdf2 key provider needs passphrase = env(\"NAME\") (or a literal of at \
                 least 16 characters)."
                    .into(),
                b.ident.span(),
            );
            return None;
        };
        let passphrase = self.string(p, true)?;
        if passphrase.chars().count() < PASSPHRASE_MIN {
            self.err(
                "Passphrase too short",
                format!("The passphrase must have at least {PASSPHRASE_MIN} characters."),
                p.value.span(),
            );
            return None;
        }
        let mut s = Pbkdf2Settings {
            passphrase: Secret(passphrase),
            key_length: 32,
            iterations: PBKDF2_ITERATIONS,
            salt_length: PBKDF2_SALT_LENGTH,
            hash_function: Hash::Sha512,
        };
        if let Some(a) = attrs.get("key_length") {
            match self.number(a) {
                Some(n @ (16 | 24 | 32)) => s.key_length = n as usize,
                Some(_) => self.err(
                    "Invalid key_length",
                    "key_length must be 16, 24 or 32 (bytes of AES key).".into(),
                    a.value.span(),
                ),
                None => {}
            }
        }
        if let Some(a) = attrs.get("iterations") {
            match self.number(a).and_then(|n| u32::try_from(n).ok()) {
                Some(n) if n >= PBKDF2_MIN_ITERATIONS => s.iterations = n,
                _ => self.err(
                    "Invalid iterations",
                    format!("iterations must be a number of at least {PBKDF2_MIN_ITERATIONS}."),
                    a.value.span(),
                ),
            }
        }
        if let Some(a) = attrs.get("salt_length") {
            match self.number(a) {
                Some(n @ 16..=512) => s.salt_length = n as usize,
                _ => self.err(
                    "Invalid salt_length",
                    "salt_length must be between 16 and 512 bytes.".into(),
                    a.value.span(),
                ),
            }
        }
        if let Some(a) = attrs.get("hash_function") {
            match self.string(a, false).as_deref() {
                Some("sha256") => s.hash_function = Hash::Sha256,
                Some("sha512") => s.hash_function = Hash::Sha512,
                Some(other) => self.err(
                    "Invalid hash_function",
                    format!("hash_function is \"{other}\"; use \"sha256\" or \"sha512\"."),
                    a.value.span(),
                ),
                None => {}
            }
        }
        Some(KeyProvider::Pbkdf2(s))
    }

    fn aws_kms(&mut self, b: &Block) -> Option<KeyProvider> {
        let known = ["kms_key_id", "key_spec", "region", "profile", "endpoint"];
        let attrs = self.attrs(&b.body, &known, &[], "in an aws_kms key provider");
        let get = |r: &mut Self, name: &str| attrs.get(name).and_then(|a| r.string(a, false));
        let Some(kms_key_id) = get(self, "kms_key_id") else {
            if !attrs.contains_key("kms_key_id") {
                self.err(
                    "Missing kms_key_id",
                    "An aws_kms key provider needs kms_key_id = \"...\": the KMS key's id, ARN \
                     or alias."
                        .into(),
                    b.ident.span(),
                );
            }
            return None;
        };
        let key_spec = get(self, "key_spec").unwrap_or_else(|| "AES_256".into());
        if !matches!(key_spec.as_str(), "AES_256" | "AES_128") {
            let span = attrs.get("key_spec").and_then(|a| a.value.span());
            self.err(
                "Invalid key_spec",
                format!("key_spec is \"{key_spec}\"; use \"AES_256\" or \"AES_128\"."),
                span,
            );
            return None;
        }
        Some(KeyProvider::AwsKms(KmsSettings {
            kms_key_id,
            key_spec,
            region: get(self, "region"),
            profile: get(self, "profile"),
            endpoint: get(self, "endpoint"),
        }))
    }
}

/// Decodes an `encryption` block; `env` answers `env("NAME")`.
///
/// # Errors
/// Every problem found, each at its file:line:col.
pub fn decode(
    block: &EncryptionBlock,
    env: &BTreeMap<String, String>,
) -> Result<EncryptionConfig, Diagnostics> {
    let mut r = Reader {
        file: block.body.file,
        env,
        diags: Diagnostics::default(),
    };
    let body = &block.body.body;
    r.attrs(
        body,
        &[],
        &["key_provider", "method", "state"],
        "in the encryption block (posture encrypts the state; plans are not saved encrypted)",
    );
    let mut key_providers = BTreeMap::new();
    for b in body.get_blocks("key_provider") {
        let Some((t, n)) = r.labels(b, "key provider") else {
            continue;
        };
        let kp = match t.as_str() {
            "pbkdf2" => r.pbkdf2(b),
            "aws_kms" => r.aws_kms(b),
            other => {
                r.err(
                    "Unsupported key provider",
                    format!(
                        "There is no key provider \"{other}\"; posture has \"pbkdf2\" and \
                         \"aws_kms\"."
                    ),
                    b.labels.first().and_then(|l| l.span()),
                );
                None
            }
        };
        if let Some(kp) = kp
            && key_providers.insert(format!("{t}.{n}"), kp).is_some()
        {
            r.err(
                "Duplicate key provider",
                format!("key_provider \"{t}\" \"{n}\" is defined twice."),
                b.ident.span(),
            );
        }
    }
    let mut methods = BTreeMap::new();
    for b in body.get_blocks("method") {
        let Some((t, n)) = r.labels(b, "method") else {
            continue;
        };
        if t != "aes_gcm" {
            r.err(
                "Unsupported method",
                format!("There is no encryption method \"{t}\"; posture has \"aes_gcm\"."),
                b.labels.first().and_then(|l| l.span()),
            );
            continue;
        }
        let attrs = r.attrs(&b.body, &["keys"], &[], "in an aes_gcm method");
        let Some(a) = attrs.get("keys") else {
            r.err(
                "Missing keys",
                "An aes_gcm method needs keys = key_provider.TYPE.NAME.".into(),
                b.ident.span(),
            );
            continue;
        };
        let Some(keys) = r.reference(a, "key_provider") else {
            continue;
        };
        if !key_providers.contains_key(&keys) && !r.diags.has_errors() {
            r.err(
                "Reference to an undeclared key provider",
                format!("There is no key_provider block for {keys} in the encryption block."),
                a.value.span(),
            );
            continue;
        }
        let id = format!("{t}.{n}");
        methods.insert(id.clone(), Method { id, keys });
    }
    let mut states = body.get_blocks("state");
    let Some(state) = states.next() else {
        r.diags.push(bad(
            "Missing state block",
            "The encryption block needs state { method = method.aes_gcm.NAME }: which method \
             encrypts the state."
                .into(),
            block.span,
        ));
        return Err(r.diags);
    };
    let attrs = r.attrs(
        &state.body,
        &["method", "enforced"],
        &["fallback"],
        "in state",
    );
    let method_ref = |r: &mut Reader, a: Option<&&Attribute>, at: Option<_>| match a {
        Some(a) => {
            let id = r.reference(a, "method")?;
            if methods.contains_key(&id) {
                return Some(id);
            }
            if !r.diags.has_errors() {
                r.err(
                    "Reference to an undeclared method",
                    format!("There is no method block for {id} in the encryption block."),
                    a.value.span(),
                );
            }
            None
        }
        None => {
            r.err(
                "Missing method",
                "Name the method: method = method.aes_gcm.NAME.".into(),
                at,
            );
            None
        }
    };
    let primary = method_ref(&mut r, attrs.get("method"), state.ident.span());
    let enforced = match attrs.get("enforced") {
        Some(a) => match &a.value {
            Expression::Bool(b) => *b.value(),
            other => {
                r.err(
                    "Invalid encryption setting",
                    "enforced must be true or false.".into(),
                    other.span(),
                );
                false
            }
        },
        None => false,
    };
    let mut fallback = None;
    for fb in state.body.get_blocks("fallback") {
        let fattrs = r.attrs(&fb.body, &["method"], &[], "in fallback");
        fallback = method_ref(&mut r, fattrs.get("method"), fb.ident.span());
    }
    match primary {
        Some(primary) if !r.diags.has_errors() => Ok(EncryptionConfig {
            key_providers,
            methods,
            primary,
            fallback,
            enforced,
        }),
        _ => Err(r.diags),
    }
}
