//! Hash, UUID and time functions: md5, sha1, sha256, sha512, base64sha256,
//! base64sha512, uuid, uuidv5, timestamp. Hashes are over the UTF-8 bytes
//! of the string. `uuid` and `timestamp` give a new value on every call;
//! nothing here caches.

use super::util::{Table, arg_err, p, reg};
use super::{FuncCtx, FuncError};
use crate::value::{Type, Value};
use base64::Engine as _;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

pub(super) fn register(t: &mut Table) {
    let s = || Type::String;
    reg(t, "md5", vec![p("str", s())], s(), md5_fn);
    reg(t, "sha1", vec![p("str", s())], s(), sha1_fn);
    reg(t, "sha256", vec![p("str", s())], s(), sha256_fn);
    reg(t, "sha512", vec![p("str", s())], s(), sha512_fn);
    reg(t, "base64sha256", vec![p("str", s())], s(), base64sha256);
    reg(t, "base64sha512", vec![p("str", s())], s(), base64sha512);
    reg(t, "uuid", vec![], s(), uuid_fn);
    reg(
        t,
        "uuidv5",
        vec![p("namespace", s()), p("name", s())],
        s(),
        uuidv5,
    );
    reg(t, "timestamp", vec![], s(), timestamp);
}

/// Lower-case hex of a digest.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest of `data` with hash `D`.
pub(super) fn digest<D: Digest>(data: &[u8]) -> Vec<u8> {
    D::digest(data).to_vec()
}

/// Standard padded base64.
pub(super) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn bytes(args: &[Value]) -> &[u8] {
    args[0].as_str().unwrap_or_default().as_bytes()
}

fn string(s: String) -> Result<Value, FuncError> {
    Ok(Value::String(s))
}

fn md5_fn(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(hex(&digest::<Md5>(bytes(&a))))
}

fn sha1_fn(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(hex(&digest::<Sha1>(bytes(&a))))
}

fn sha256_fn(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(hex(&digest::<Sha256>(bytes(&a))))
}

fn sha512_fn(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(hex(&digest::<Sha512>(bytes(&a))))
}

fn base64sha256(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(b64(&digest::<Sha256>(bytes(&a))))
}

fn base64sha512(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(b64(&digest::<Sha512>(bytes(&a))))
}

fn uuid_fn(_: &FuncCtx<'_>, _: Vec<Value>) -> Result<Value, FuncError> {
    string(uuid::Uuid::new_v4().hyphenated().to_string())
}

fn uuidv5(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let ns = a[0].as_str().unwrap_or_default();
    let namespace = match ns {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|e| {
            arg_err(
                0,
                "namespace",
                format!("uuidv5() doesn't support namespace {other} ({e})"),
            )
        })?,
    };
    let name = a[1].as_str().unwrap_or_default();
    string(
        uuid::Uuid::new_v5(&namespace, name.as_bytes())
            .hyphenated()
            .to_string(),
    )
}

/// Formats seconds since the Unix epoch as RFC 3339 in UTC.
pub(super) fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn timestamp(_: &FuncCtx<'_>, _: Vec<Value>) -> Result<Value, FuncError> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    string(rfc3339(secs))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{FuncCtx, NoTemplates, call};
    use super::rfc3339;

    #[test]
    fn hash_functions_match_terraform() {
        run(vec![
            (
                "md5",
                "md5",
                vec![s("hello world")],
                ok(s("5eb63bbbe01eeed093cb22bb8f5acdc3")),
            ),
            (
                "sha1",
                "sha1",
                vec![s("hello world")],
                ok(s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")),
            ),
            (
                "sha256",
                "sha256",
                vec![s("hello world")],
                ok(s(
                    "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
                )),
            ),
            (
                "sha512",
                "sha512",
                vec![s("hello world")],
                ok(s(
                    "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f",
                )),
            ),
            (
                "base64sha256",
                "base64sha256",
                vec![s("hello world")],
                ok(s("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")),
            ),
            (
                "uuidv5 dns",
                "uuidv5",
                vec![s("dns"), s("www.terraform.io")],
                ok(s("a5008fae-b28c-5ba5-96cd-82b4c53552d6")),
            ),
            (
                "uuidv5 url",
                "uuidv5",
                vec![s("url"), s("https://www.terraform.io/")],
                ok(s("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5")),
            ),
            (
                "uuidv5 bad namespace",
                "uuidv5",
                vec![s("nope"), s("x")],
                err("uuidv5() doesn't support namespace nope"),
            ),
        ]);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_seconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_615_200), "2026-11-25T14:00:00Z");
        let ctx = FuncCtx {
            base_dir: std::path::Path::new("."),
            templates: &NoTemplates,
        };
        let v = call(&ctx, "timestamp", vec![]).expect("timestamp");
        let text = v.as_str().expect("string");
        assert_eq!(text.len(), 20, "{text}");
        assert!(text.ends_with('Z') && text.as_bytes()[10] == b'T', "{text}");
    }

    #[test]
    fn uuids_are_fresh_v4() {
        let ctx = FuncCtx {
            base_dir: std::path::Path::new("."),
            templates: &NoTemplates,
        };
        let a = call(&ctx, "uuid", vec![]).expect("uuid");
        let b = call(&ctx, "uuid", vec![]).expect("uuid");
        assert_ne!(a, b);
        let text = a.as_str().expect("string");
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "4", "{text}");
    }
}
