//! End-to-end tests of the `posture` binary: bad input gives a clear
//! diagnostic at file:line:col, exit 1, no panic, nothing written.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn posture(dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_posture"));
    cmd.arg("--chdir").arg(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn posture");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = d.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }
    d
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Asserts `validate` fails with `summary` at `loc` (file:line:col), writes nothing.
fn check_invalid(files: &[(&str, &str)], summary: &str, loc: &str) {
    let d = dir_with(files);
    let before = snapshot(d.path());
    let o = posture(d.path(), &["validate"], "", &[]);
    assert_eq!(
        o.code, 1,
        "expected exit 1 for {summary}; stderr:\n{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(&format!("Error: {summary}")),
        "missing {summary:?} in:\n{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(&format!("on {loc}")),
        "missing location {loc} in:\n{}",
        o.stderr
    );
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert_eq!(snapshot(d.path()), before, "validate must write nothing");
}

#[test]
fn syntax_error() {
    check_invalid(
        &[("main.hcl", "locals {\n  a = [1, 2\n}\n")],
        "Invalid syntax",
        "main.hcl:3:1",
    );
}

#[test]
fn unterminated_string() {
    check_invalid(
        &[("main.hcl", "locals {\n  a = \"abc\n}\n")],
        "Invalid syntax",
        "main.hcl:2:",
    );
}

#[test]
fn unknown_block_type() {
    check_invalid(
        &[("main.hcl", "resorce \"posture_data\" \"x\" {}\n")],
        "Unsupported block type",
        "main.hcl:1:1",
    );
}

#[test]
fn unknown_argument_suggests_the_right_one() {
    let files = [(
        "main.hcl",
        "resource \"posture_data\" \"x\" {\n  inptu = 1\n}\n",
    )];
    check_invalid(&files, "Unsupported argument", "main.hcl:2:3");
    let d = dir_with(&files);
    let o = posture(d.path(), &["validate"], "", &[]);
    assert!(o.stderr.contains("Did you mean \"input\"?"), "{}", o.stderr);
}

#[test]
fn duplicate_argument() {
    check_invalid(
        &[(
            "main.hcl",
            "variable \"a\" {\n  default = 1\n  default = 2\n}\n",
        )],
        "Attribute redefined",
        "main.hcl:3:3",
    );
}

#[test]
fn wrong_type_for_variable() {
    let d = dir_with(&[(
        "main.hcl",
        "variable \"n\" {\n  type = number\n}\noutput \"o\" {\n  value = var.n\n}\n",
    )]);
    let o = posture(d.path(), &["validate", "--var", "n=abc"], "", &[]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("Error: Invalid value for input variable"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("a number is required"), "{}", o.stderr);
    assert!(o.stderr.contains("on main.hcl:1:1"), "{}", o.stderr);
}

#[test]
fn wrong_type_for_argument() {
    check_invalid(
        &[(
            "main.hcl",
            "variable \"v\" {\n  type    = list(string)\n  default = {}\n}\n",
        )],
        "Invalid default value for variable",
        "main.hcl:3:13",
    );
}

#[test]
fn missing_required_variable() {
    let d = dir_with(&[("main.hcl", "variable \"region\" {\n  type = string\n}\n")]);
    let o = posture(d.path(), &["console"], "var.region\n", &[]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("Error: No value for required variable"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("on main.hcl:1:1"), "{}", o.stderr);
    // Given by the environment it works.
    let o = posture(
        d.path(),
        &["console"],
        "var.region\n",
        &[("POSTURE_VAR_region", "eu-west-1")],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout.trim(), "\"eu-west-1\"");
}

#[test]
fn undefined_reference_suggests_the_closest_name() {
    let files = [(
        "main.hcl",
        "locals {\n  region = \"eu\"\n  b      = local.regin\n}\n",
    )];
    check_invalid(
        &files,
        "Reference to undeclared local value",
        "main.hcl:3:12",
    );
    let d = dir_with(&files);
    let o = posture(d.path(), &["validate"], "", &[]);
    assert!(
        o.stderr.contains("Did you mean local.region?"),
        "{}",
        o.stderr
    );
}

#[test]
fn reference_cycle_among_locals_names_every_member() {
    let d = dir_with(&[(
        "main.hcl",
        "locals {\n  a = local.b\n  b = local.c\n  c = local.a\n}\n",
    )]);
    let o = posture(d.path(), &["validate"], "", &[]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("Error: Cycle in references"),
        "{}",
        o.stderr
    );
    for name in ["local.a", "local.b", "local.c"] {
        assert!(o.stderr.contains(name), "{name} missing: {}", o.stderr);
    }
    assert_eq!(
        o.stderr.matches("Cycle in references").count(),
        1,
        "reported once: {}",
        o.stderr
    );
}

#[test]
fn for_each_over_a_list() {
    check_invalid(
        &[(
            "main.hcl",
            "resource \"posture_data\" \"x\" {\n  for_each = [\"a\", \"b\"]\n  input    = each.key\n}\n",
        )],
        "Invalid for_each argument",
        "main.hcl:2:14",
    );
}

#[test]
fn for_each_over_an_unknown_value() {
    let d = dir_with(&[(
        "main.hcl",
        "resource \"posture_data\" \"a\" {}\nresource \"posture_data\" \"b\" {\n  for_each = toset([posture_data.a.id])\n}\n",
    )]);
    let o = posture(d.path(), &["console"], "1\n", &[]);
    let _ = o;
    let o = posture(d.path(), &["console"], "posture_data.b\n", &[]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("Error: Invalid for_each argument"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("cannot be determined until apply"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("on main.hcl:3:14"), "{}", o.stderr);
}

#[test]
fn count_and_for_each_together() {
    check_invalid(
        &[(
            "main.hcl",
            "resource \"posture_data\" \"x\" {\n  count    = 1\n  for_each = {}\n}\n",
        )],
        "Invalid combination of \"count\" and \"for_each\"",
        "main.hcl:2:3",
    );
}

#[test]
fn each_outside_for_each() {
    check_invalid(
        &[(
            "main.hcl",
            "resource \"posture_data\" \"x\" {\n  input = each.key\n}\n",
        )],
        "Reference to \"each\" in context without for_each",
        "main.hcl:2:11",
    );
}

#[test]
fn duplicate_resource_and_variable_names() {
    check_invalid(
        &[
            ("a.hcl", "resource \"posture_data\" \"x\" {}\n"),
            ("b.hcl", "resource \"posture_data\" \"x\" {}\n"),
        ],
        "Duplicate resource declaration",
        "b.hcl:1:1",
    );
    check_invalid(
        &[("main.hcl", "variable \"v\" {}\nvariable \"v\" {}\n")],
        "Duplicate variable declaration",
        "main.hcl:2:1",
    );
}

#[test]
fn unknown_function() {
    check_invalid(
        &[("main.hcl", "locals {\n  a = lenght([1])\n}\n")],
        "Call to unknown function",
        "main.hcl:2:7",
    );
}

#[test]
fn invalid_function_arguments() {
    check_invalid(
        &[("main.hcl", "locals {\n  a = length(1, 2)\n}\n")],
        // HCL's summary for an extra argument, as Terraform prints it.
        "Too many function arguments",
        "main.hcl:2:17",
    );
}

#[test]
fn failing_validation_rule_shows_its_message() {
    let d = dir_with(&[(
        "main.hcl",
        "variable \"env\" {\n  type = string\n  validation {\n    condition     = contains([\"prod\", \"dev\"], var.env)\n    error_message = \"env must be prod or dev.\"\n  }\n}\n",
    )]);
    let o = posture(d.path(), &["validate", "--var", "env=staging"], "", &[]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("Error: Invalid value for variable"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("env must be prod or dev."),
        "{}",
        o.stderr
    );
    let o = posture(d.path(), &["validate", "--var", "env=prod"], "", &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn every_error_of_a_run_is_reported_together() {
    let d = dir_with(&[
        ("a.hcl", "locals {\n  a = local.nope\n}\n"),
        (
            "b.hcl",
            "resource \"posture_data\" \"x\" {\n  bogus = 1\n}\n",
        ),
    ]);
    let o = posture(d.path(), &["validate", "--json"], "", &[]);
    assert_eq!(o.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["error_count"], 2, "{doc}");
    let files: Vec<&str> = doc["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|d| d["range"]["filename"].as_str())
        .collect();
    assert_eq!(files, ["a.hcl", "b.hcl"]);
}

#[test]
fn variable_precedence_follows_terraform() {
    let d = dir_with(&[
        ("main.hcl", "variable \"v\" {\n  default = \"default\"\n}\n"),
        ("posture.vars.hcl", "v = \"file\"\n"),
        ("b.auto.vars.hcl", "v = \"auto-b\"\n"),
        ("a.auto.vars.hcl", "v = \"auto-a\"\n"),
        ("extra.vars.hcl", "v = \"var-file\"\n"),
    ]);
    let env = [("POSTURE_VAR_v", "env")];
    let o = posture(d.path(), &["console"], "var.v\n", &env);
    assert_eq!(o.stdout.trim(), "\"auto-b\"", "{}", o.stderr);
    let o = posture(
        d.path(),
        &["console", "--var", "v=cli", "--var-file", "extra.vars.hcl"],
        "var.v\n",
        &env,
    );
    assert_eq!(o.stdout.trim(), "\"var-file\"", "{}", o.stderr);
    let o = posture(
        d.path(),
        &["console", "--var-file", "extra.vars.hcl", "--var", "v=cli"],
        "var.v\n",
        &env,
    );
    assert_eq!(o.stdout.trim(), "\"cli\"", "{}", o.stderr);
    std::fs::remove_file(d.path().join("a.auto.vars.hcl")).expect("rm");
    std::fs::remove_file(d.path().join("b.auto.vars.hcl")).expect("rm");
    std::fs::remove_file(d.path().join("posture.vars.hcl")).expect("rm");
    let o = posture(d.path(), &["console"], "var.v\n", &env);
    assert_eq!(o.stdout.trim(), "\"env\"", "{}", o.stderr);
}

#[test]
fn modules_with_for_each_inputs_and_outputs() {
    let d = dir_with(&[
        (
            "main.hcl",
            "module \"app\" {\n  source   = \"./modules/app\"\n  for_each = toset([\"eu\", \"us\"])\n  region   = each.key\n}\noutput \"names\" {\n  value = { for k, m in module.app : k => m.name }\n}\n",
        ),
        (
            "modules/app/main.hcl",
            "variable \"region\" {\n  type = string\n}\nlocals {\n  name = \"app-${var.region}\"\n}\noutput \"name\" {\n  value = local.name\n}\n",
        ),
    ]);
    let o = posture(d.path(), &["console"], "module.app[\"us\"].name\n", &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout.trim(), "\"app-us\"");
    let o = posture(d.path(), &["validate"], "", &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn sensitive_values_are_never_shown() {
    let d = dir_with(&[(
        "main.hcl",
        "variable \"token\" {\n  sensitive = true\n  default   = \"s3cr3t-token\"\n}\noutput \"t\" {\n  value = \"Bearer ${var.token}\"\n}\n",
    )]);
    let o = posture(d.path(), &["validate"], "", &[]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("Output refers to sensitive values"),
        "{}",
        o.stderr
    );
    let o = posture(
        d.path(),
        &["console"],
        "var.token\n\"x${var.token}\"\n",
        &[],
    );
    assert!(!o.stdout.contains("s3cr3t"), "{}", o.stdout);
    assert!(!o.stderr.contains("s3cr3t"), "{}", o.stderr);
    assert!(o.stdout.contains("(sensitive value)"), "{}", o.stdout);
}

#[test]
fn version_prints_the_crate_version() {
    let d = dir_with(&[]);
    let o = posture(d.path(), &["version"], "", &[]);
    assert_eq!(
        o.stdout.trim(),
        format!("posture v{}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn fmt_check_exit_codes_and_rewrite() {
    let d = dir_with(&[("main.hcl", "locals {\n a = 1\n  bbb = 2\n}\n")]);
    let o = posture(d.path(), &["fmt", "--check"], "", &[]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert_eq!(o.stdout.trim(), "main.hcl");
    assert_eq!(
        std::fs::read_to_string(d.path().join("main.hcl")).expect("read"),
        "locals {\n a = 1\n  bbb = 2\n}\n"
    );
    let o = posture(d.path(), &["fmt"], "", &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(d.path().join("main.hcl")).expect("read"),
        "locals {\n  a   = 1\n  bbb = 2\n}\n"
    );
    let o = posture(d.path(), &["fmt", "--check"], "", &[]);
    assert_eq!(o.code, 0);
    std::fs::write(d.path().join("bad.hcl"), "locals {\n  a = \n").expect("write");
    let o = posture(d.path(), &["fmt"], "", &[]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("bad.hcl:"), "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(d.path().join("bad.hcl")).expect("read"),
        "locals {\n  a = \n"
    );
}

#[test]
fn cluster_blocks_spread_resources_over_a_fleet() {
    let d = dir_with(&[(
        "main.hcl",
        "cluster \"fleet\" {\n  for_each = { prod-eu = \"prod\", dev = \"dev\" }\n  context  = each.key\n  labels   = { env = each.value }\n}\nresource \"posture_data\" \"per_cluster\" {\n  for_each = { for k, c in cluster.fleet : k => c if c.labels.env == \"prod\" }\n  input    = each.value.context\n}\n",
    )]);
    let o = posture(
        d.path(),
        &["console"],
        "keys(posture_data.per_cluster)\ncluster.fleet.dev.field_manager\n",
        &[],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("\"prod-eu\"") && !o.stdout.contains("\"dev\",\n"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("\"posture\""),
        "default field manager: {}",
        o.stdout
    );
    let o = posture(d.path(), &["console"], "cluster.flet\n", &[]);
    assert!(
        o.stderr.contains("Reference to undeclared cluster")
            && o.stderr.contains("Did you mean \"fleet\"?"),
        "{}",
        o.stderr
    );
}
