//! Tests of the JSON encoding against the fixtures in `state-fixtures/`.

use std::path::PathBuf;

use super::{FORMAT_VERSION, StateError, decode, encode};

const SECRET: &str = "fixture-secret-do-not-print";

pub(crate) fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../state-fixtures")
        .join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).expect("fixture readable")
}

#[test]
fn v1_small_state_decodes_with_sensitive_output_and_round_trips() {
    let state = decode(&read("v1/small.json"), "small.json").expect("valid v1 state");
    assert_eq!(state.format_version, 1);
    assert_eq!(state.serial, 7);
    assert_eq!(state.instances.len(), 4);
    let secret = &state.instances["kubernetes_secret.grafana_admin"];
    assert_eq!(
        secret.dependencies,
        vec!["kubernetes_namespace.monitoring".to_string()]
    );
    assert!(state.outputs["grafana_password"].sensitive);
    assert!(state.instances["route53_record.grafana"].create_before_destroy);
    let again = decode(&encode(&state), "re-encoded").expect("round trip");
    assert_eq!(again, state);
}

#[test]
fn debug_output_never_shows_sensitive_values() {
    let state = decode(&read("v1/small.json"), "small.json").expect("valid v1 state");
    let shown = format!("{state:?}");
    assert!(!shown.contains(SECRET), "secret leaked in Debug: {shown}");
    assert!(shown.contains("(sensitive value)"));
    assert!(shown.contains("https://grafana.example.com"));
}

#[test]
fn empty_v1_state_decodes() {
    let state = decode(&read("v1/empty.json"), "empty.json").expect("valid v1 state");
    assert!(state.instances.is_empty() && state.outputs.is_empty());
}

#[test]
fn truncated_state_is_a_clear_error() {
    let err = decode(&read("corrupt/truncated.json"), "terraform.json").expect_err("truncated");
    assert!(matches!(err, StateError::Corrupt { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("state terraform.json is corrupt or truncated"),
        "{msg}"
    );
    assert!(msg.contains("unexpected end of file"), "{msg}");
    assert!(msg.contains("left it untouched"), "{msg}");
}

#[test]
fn binary_garbage_is_a_clear_error() {
    let bytes = std::fs::read(fixture("corrupt/not-json.bin")).expect("fixture readable");
    let text = String::from_utf8_lossy(&bytes);
    let err = decode(&text, "garbage").expect_err("garbage");
    assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
}

#[test]
fn a_wrongly_typed_field_is_reported_without_echoing_its_value() {
    let err = decode(&read("corrupt/wrong-type.json"), "wrong-type.json").expect_err("bad serial");
    let msg = err.to_string();
    assert!(!msg.contains(SECRET), "value echoed: {msg}");
    assert!(msg.contains("invalid type, expected u64"), "{msg}");
    assert!(msg.contains("line 4"), "{msg}");
}

#[test]
fn an_instance_key_differing_from_its_address_is_corrupt() {
    let err = decode(&read("corrupt/key-mismatch.json"), "k").expect_err("mismatch");
    assert!(
        err.to_string()
            .contains("instance key route53_record.a does not match"),
        "{err}"
    );
}

#[test]
fn a_file_without_format_version_is_not_a_state() {
    let err = decode(&read("corrupt/no-version.json"), "k").expect_err("no version");
    assert!(err.to_string().contains("no format_version field"), "{err}");
}

#[test]
fn a_state_from_a_newer_posture_is_refused_with_an_upgrade_hint() {
    let err = decode(&read("future/format-2.json"), "future.json").expect_err("future");
    assert!(matches!(
        err,
        StateError::FutureFormat {
            found: 2,
            supported: FORMAT_VERSION,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "state future.json was written by a newer posture (format 2); upgrade posture \
         (this one reads format 1 and older)"
    );
}
