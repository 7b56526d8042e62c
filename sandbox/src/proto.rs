//! Decodes the Kubernetes protobuf envelope (`k8s\0` + `runtime.Unknown`) that kubectl
//! 1.32 sends for typed objects it builds itself (`kubectl create namespace|configmap|
//! secret|serviceaccount|deployment`), into the JSON the rest of the sandbox works with.
//!
//! Only those kinds are decoded; others get 415 with advice. Must never panic on input:
//! every read is bounds-checked.

use base64::Engine;
use serde_json::{Map, Value, json};

/// A field of a protobuf message: (number, value).
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(out);
        }
    }
    None
}

fn fields(buf: &[u8]) -> Option<Vec<(u64, Field<'_>)>> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let tag = varint(buf, &mut pos)?;
        let (num, wire) = (tag >> 3, tag & 7);
        let f = match wire {
            0 => Field::Varint(varint(buf, &mut pos)?),
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                let s = buf.get(pos..end)?;
                pos = end;
                Field::Bytes(s)
            }
            1 => {
                pos = pos.checked_add(8)?;
                Field::Varint(0)
            }
            5 => {
                pos = pos.checked_add(4)?;
                Field::Varint(0)
            }
            _ => return None,
        };
        out.push((num, f));
    }
    (pos == buf.len()).then_some(out)
}

fn string(f: &Field<'_>) -> Option<String> {
    match f {
        Field::Bytes(b) => std::str::from_utf8(b).ok().map(str::to_string),
        Field::Varint(_) => None,
    }
}

/// Go's zero values travel in proto2 bytes; JSON omits them, so do we.
fn put_str(m: &mut Map<String, Value>, key: &str, v: String) {
    if !v.is_empty() {
        m.insert(key.into(), Value::String(v));
    }
}

fn map_entry(f: &Field<'_>, bytes_value: bool) -> Option<(String, Value)> {
    let Field::Bytes(b) = f else { return None };
    let (mut k, mut v) = (String::new(), Value::String(String::new()));
    for (n, x) in fields(b)? {
        match n {
            1 => k = string(&x)?,
            2 => {
                v = match (&x, bytes_value) {
                    (Field::Bytes(raw), true) => {
                        Value::String(base64::engine::general_purpose::STANDARD.encode(raw))
                    }
                    _ => Value::String(string(&x)?),
                }
            }
            _ => {}
        }
    }
    Some((k, v))
}

fn object_meta(b: &[u8]) -> Option<Value> {
    let mut m = Map::new();
    let (mut labels, mut annotations, mut finalizers) = (Map::new(), Map::new(), Vec::new());
    for (n, f) in fields(b)? {
        match n {
            1 => {
                put_str(&mut m, "name", string(&f)?);
            }
            2 => {
                put_str(&mut m, "generateName", string(&f)?);
            }
            3 => {
                put_str(&mut m, "namespace", string(&f)?);
            }
            11 => {
                let (k, v) = map_entry(&f, false)?;
                labels.insert(k, v);
            }
            12 => {
                let (k, v) = map_entry(&f, false)?;
                annotations.insert(k, v);
            }
            14 => finalizers.push(json!(string(&f)?)),
            _ => {} // server-owned fields (uid, resourceVersion, ...) are set by the sandbox
        }
    }
    if !labels.is_empty() {
        m.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        m.insert("annotations".into(), Value::Object(annotations));
    }
    if !finalizers.is_empty() {
        m.insert("finalizers".into(), Value::Array(finalizers));
    }
    Some(Value::Object(m))
}

fn typed(kind: &str, raw: &[u8]) -> Option<Value> {
    let mut obj = Map::new();
    let (mut data, mut binary, mut string_data) = (Map::new(), Map::new(), Map::new());
    for (n, f) in fields(raw)? {
        match (kind, n) {
            (_, 1) => {
                let Field::Bytes(b) = f else { return None };
                obj.insert("metadata".into(), object_meta(b)?);
            }
            ("ConfigMap", 2) => {
                let (k, v) = map_entry(&f, false)?;
                data.insert(k, v);
            }
            ("ConfigMap", 3) => {
                let (k, v) = map_entry(&f, true)?;
                binary.insert(k, v);
            }
            ("Secret", 2) => {
                let (k, v) = map_entry(&f, true)?;
                data.insert(k, v);
            }
            ("Secret", 3) => {
                put_str(&mut obj, "type", string(&f)?);
            }
            ("Secret", 4) => {
                let (k, v) = map_entry(&f, false)?;
                string_data.insert(k, v);
            }
            ("ConfigMap", 4) | ("Secret", 5) => {
                if let Field::Varint(x) = f {
                    obj.insert("immutable".into(), json!(x != 0));
                }
            }
            ("ServiceAccount", 4) => {
                if let Field::Varint(x) = f {
                    obj.insert("automountServiceAccountToken".into(), json!(x != 0));
                }
            }
            _ => {}
        }
    }
    if !data.is_empty() {
        obj.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Object(binary));
    }
    if !string_data.is_empty() {
        obj.insert("stringData".into(), Value::Object(string_data));
    }
    Some(Value::Object(obj))
}

fn varint_of(f: &Field<'_>) -> Option<i64> {
    match f {
        Field::Varint(x) => i64::try_from(*x).ok(),
        Field::Bytes(_) => None,
    }
}

fn bytes_of<'a>(f: &Field<'a>) -> Option<&'a [u8]> {
    match f {
        Field::Bytes(b) => Some(b),
        Field::Varint(_) => None,
    }
}

fn string_map(b: &[u8], field: u64) -> Option<Map<String, Value>> {
    let mut m = Map::new();
    for (n, f) in fields(b)? {
        if n == field {
            let (k, v) = map_entry(&f, false)?;
            m.insert(k, v);
        }
    }
    Some(m)
}

fn container(b: &[u8]) -> Option<Value> {
    let mut c = Map::new();
    let (mut command, mut args, mut ports, mut env) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (n, f) in fields(b)? {
        match n {
            1 => {
                put_str(&mut c, "name", string(&f)?);
            }
            2 => {
                put_str(&mut c, "image", string(&f)?);
            }
            3 => command.push(json!(string(&f)?)),
            4 => args.push(json!(string(&f)?)),
            6 => {
                let mut p = Map::new();
                for (pn, pf) in fields(bytes_of(&f)?)? {
                    match pn {
                        1 => {
                            put_str(&mut p, "name", string(&pf)?);
                        }
                        3 => {
                            p.insert("containerPort".into(), json!(varint_of(&pf)?));
                        }
                        4 => {
                            put_str(&mut p, "protocol", string(&pf)?);
                        }
                        _ => {}
                    }
                }
                ports.push(Value::Object(p));
            }
            7 => {
                let (k, v) = map_entry(&f, false)?;
                env.push(json!({"name": k, "value": v}));
            }
            8 => {
                c.insert("resources".into(), json!({}));
            }
            14 => {
                put_str(&mut c, "imagePullPolicy", string(&f)?);
            }
            _ => {}
        }
    }
    for (k, v) in [
        ("command", command),
        ("args", args),
        ("ports", ports),
        ("env", env),
    ] {
        if !v.is_empty() {
            c.insert(k.into(), Value::Array(v));
        }
    }
    Some(Value::Object(c))
}

/// A Deployment as `kubectl create deployment` builds it (name, labels, replicas,
/// selector, template with containers); other fields are not decoded.
fn deployment(raw: &[u8]) -> Option<Value> {
    let mut obj = json!({});
    for (n, f) in fields(raw)? {
        match n {
            1 => obj["metadata"] = object_meta(bytes_of(&f)?)?,
            2 => {
                let mut spec = json!({});
                for (sn, sf) in fields(bytes_of(&f)?)? {
                    match sn {
                        1 => spec["replicas"] = json!(varint_of(&sf)?),
                        2 => {
                            spec["selector"] =
                                json!({"matchLabels": string_map(bytes_of(&sf)?, 1)?})
                        }
                        3 => {
                            let mut template = json!({});
                            for (tn, tf) in fields(bytes_of(&sf)?)? {
                                match tn {
                                    1 => template["metadata"] = object_meta(bytes_of(&tf)?)?,
                                    2 => {
                                        let mut containers = Vec::new();
                                        for (pn, pf) in fields(bytes_of(&tf)?)? {
                                            if pn == 2 {
                                                containers.push(container(bytes_of(&pf)?)?);
                                            }
                                        }
                                        template["spec"] = json!({"containers": containers});
                                    }
                                    _ => {}
                                }
                            }
                            spec["template"] = template;
                        }
                        _ => {}
                    }
                }
                obj["spec"] = spec;
            }
            _ => {}
        }
    }
    Some(obj)
}

/// Outcome of decoding a protobuf body.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    /// The object as JSON.
    Object(Value),
    /// A well-formed envelope of a kind the sandbox cannot decode.
    UnsupportedKind(String),
    /// Not a Kubernetes protobuf envelope.
    Malformed,
}

/// Decodes a `application/vnd.kubernetes.protobuf` body.
pub fn decode(body: &[u8]) -> Decoded {
    let Some(rest) = body.strip_prefix(b"k8s\0") else {
        return Decoded::Malformed;
    };
    let Some(top) = fields(rest) else {
        return Decoded::Malformed;
    };
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), None);
    for (n, f) in top {
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                for (tn, tf) in fields(tm).unwrap_or_default() {
                    match tn {
                        1 => api_version = string(&tf).unwrap_or_default(),
                        2 => kind = string(&tf).unwrap_or_default(),
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(r)) => raw = Some(r),
            _ => {}
        }
    }
    let Some(raw) = raw else {
        return Decoded::Malformed;
    };
    let decoded = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace" | "ConfigMap" | "Secret" | "ServiceAccount") => typed(&kind, raw),
        ("apps/v1", "Deployment") => deployment(raw),
        _ => return Decoded::UnsupportedKind(format!("{api_version}/{kind}")),
    };
    match decoded {
        Some(mut v) => {
            v["apiVersion"] = json!(api_version);
            v["kind"] = json!(kind);
            Decoded::Object(v)
        }
        None => Decoded::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(num: u64, b: &[u8]) -> Vec<u8> {
        let mut out = vec![(num << 3 | 2) as u8, b.len() as u8];
        out.extend_from_slice(b);
        out
    }

    #[test]
    fn decodes_a_configmap_envelope() {
        let meta = [
            ld(1, b"cfg"),
            ld(11, &[ld(1, b"app"), ld(2, b"web")].concat()),
        ]
        .concat();
        let cm = [ld(1, &meta), ld(2, &[ld(1, b"k"), ld(2, b"v")].concat())].concat();
        let tm = [ld(1, b"v1"), ld(2, b"ConfigMap")].concat();
        let body = [b"k8s\0".to_vec(), ld(1, &tm), ld(2, &cm)].concat();
        assert_eq!(
            decode(&body),
            Decoded::Object(
                json!({"metadata": {"name": "cfg", "labels": {"app": "web"}},
            "data": {"k": "v"}, "apiVersion": "v1", "kind": "ConfigMap"})
            )
        );
    }

    #[test]
    fn rejects_garbage_and_unknown_kinds() {
        assert_eq!(decode(b"k8s\0\xff\xff\xff"), Decoded::Malformed);
        assert_eq!(decode(b"{}"), Decoded::Malformed);
        let tm = [ld(1, b"apps/v1"), ld(2, b"StatefulSet")].concat();
        let body = [b"k8s\0".to_vec(), ld(1, &tm), ld(2, b"")].concat();
        assert_eq!(
            decode(&body),
            Decoded::UnsupportedKind("apps/v1/StatefulSet".into())
        );
    }
}
