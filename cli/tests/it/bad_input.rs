//! Bad input through the `posture` binary, as a user gives it: secrets in
//! function errors, durations and sizes too large to compute or allocate,
//! files that are not UTF-8 text, numbers beyond a 64-bit float. Each run is
//! a diagnostic and an exit code, never a panic (101) or an abort (134).
//!
//! Every run has its address space capped at 4 GB (`ulimit -v`): a run that
//! tried to allocate what the input asks for (481 GB for `count =
//! 4294967297`) would abort instead of printing the diagnostic.

use std::path::Path;
use std::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `posture --chdir dir ARGS` with at most 4 GB of address space.
fn posture(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4000000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_posture"))
        .arg("--chdir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run posture");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in files {
        std::fs::write(d.path().join(name), bytes).expect("write");
    }
    d
}

/// `validate` of one `main.hcl` fails with exit 1 and every one of `wants`.
fn invalid(main: &str, wants: &[&str]) -> Out {
    let d = dir_with(&[("main.hcl", main.as_bytes())]);
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 1, "stderr:\n{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    for w in wants {
        assert!(o.stderr.contains(w), "missing {w:?} in:\n{}", o.stderr);
    }
    o
}

// ---- point 2: function errors show nothing of a sensitive argument ----

const CANARY: &str = "Zq9Wv8Xk";

#[test]
fn function_errors_show_no_piece_of_a_sensitive_argument() {
    let main = format!(
        r#"
variable "fmt" {{
  sensitive = true
  default   = "{CANARY}"
}}
variable "pct" {{
  sensitive = true
  default   = "%{CANARY}"
}}
variable "tpl" {{
  sensitive = true
  default   = "$${{{CANARY}}}"
}}
output "formatdate" {{
  value     = formatdate(var.fmt, "2020-01-01T00:00:00Z")
  sensitive = true
}}
output "uuidv5" {{
  value     = uuidv5(var.fmt, "x")
  sensitive = true
}}
output "format" {{
  value     = format(var.pct, 1)
  sensitive = true
}}
output "templatestring" {{
  value     = templatestring(var.tpl, {{}})
  sensitive = true
}}
"#
    );
    let o = invalid(
        &main,
        &[
            "Invalid value for \"formatdate\" argument 1: the argument is sensitive, so its value is not shown.",
            "Invalid value for \"uuidv5\" argument 1: the argument is sensitive",
            "Invalid value for \"format\" argument 1: the argument is sensitive",
            "Invalid value for \"templatestring\" argument 1: the argument is sensitive",
            "main.hcl:15:",
        ],
    );
    // The excerpts show `var.fmt`, never the value: no 3-character piece of
    // the secret is anywhere in the output.
    let shown = format!("{}{}", o.stdout, o.stderr);
    let chars: Vec<char> = CANARY.chars().collect();
    for w in chars.windows(3) {
        let piece: String = w.iter().collect();
        assert!(!shown.contains(&piece), "{piece:?} shown in:\n{shown}");
    }
}

// ---- point 9: durations too long to add to a clock ----

#[test]
fn huge_lock_timeout_is_refused_instead_of_overflowing() {
    let d = dir_with(&[("main.hcl", b"output \"o\" {\n  value = 1\n}\n")]);
    let o = posture(d.path(), &["plan", "--lock-timeout", "99999999999999999h"]);
    // A bad flag value is a usage error (exit 2), as for any flag.
    assert_eq!(o.code, 2, "stderr:\n{}", o.stderr);
    assert!(
        o.stderr.contains("the longest lock timeout is 168h"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("overflow"), "{}", o.stderr);
    // The longest accepted one works (no lock is held: no wait at all).
    let o = posture(d.path(), &["plan", "--lock-timeout", "168h"]);
    assert_eq!(o.code, 0, "stderr:\n{}", o.stderr);
}

// ---- point 10: sizes from the configuration are bounded ----

#[test]
fn count_of_4294967297_is_a_diagnostic_not_an_abort() {
    invalid(
        "resource \"posture_data\" \"x\" {\n  count = 4294967297\n  input = 1\n}\n",
        &[
            "Error: Invalid count argument",
            "main.hcl:2:11",
            "asks for 4294967297 instances",
            "at most 1000000 instances",
        ],
    );
}

#[test]
fn for_each_of_more_than_a_million_keys_is_a_diagnostic() {
    let mut json = String::from("{");
    for i in 0..1_000_001 {
        json.push_str(&format!("\"k{i}\":0,"));
    }
    json.push_str("\"end\":0}");
    let main = "resource \"posture_data\" \"x\" {\n  for_each = jsondecode(file(\"keys.json\"))\n  input    = each.key\n}\n";
    let d = dir_with(&[
        ("main.hcl", main.as_bytes()),
        ("keys.json", json.as_bytes()),
    ]);
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 1, "stderr:\n{}", o.stderr);
    assert!(
        o.stderr.contains("Invalid for_each argument"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("main.hcl:2:14"), "{}", o.stderr);
    assert!(
        o.stderr.contains("asks for 1000002 instances"),
        "{}",
        o.stderr
    );
}

#[test]
fn user_sized_function_results_are_diagnostics_not_aborts() {
    let cases: &[(&str, &str)] = &[
        (
            "indent(1e12, \"a\\nb\")",
            "posture builds strings of at most",
        ),
        ("format(\"%1000000000000d\", 1)", "is larger than 1000000"),
        ("format(\"%.1000000000000f\", 1)", "is larger than 1000000"),
        (
            "formatlist(\"%1000000s\", range(1000))",
            "posture builds strings of at most",
        ),
        (
            "length(setproduct(range(1000), range(1000), range(1000)))",
            "posture builds collections of at most 1000000 elements",
        ),
        (
            "replace(format(\"%1000000s\", \"\"), \"\", format(\"%1000000s\", \"\"))",
            "posture builds strings of at most",
        ),
        (
            "replace(format(\"%1000000s\", \"\"), \"/( )/\", \"$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1\")",
            "posture builds strings of at most",
        ),
        (
            "join(format(\"%1000000s\", \"\"), range(1000))",
            "posture builds strings of at most",
        ),
        (
            "\"%{ for i in range(1000) }${format(\"%1000000s\", \"\")}%{ endfor }\"",
            "Template result too long",
        ),
        (
            "length([for i in range(1000) : format(\"%1000000s\", \"\")])",
            "For expression result too large",
        ),
        (
            "yamldecode(\"a: &a [x,x,x,x,x,x,x,x,x,x]\\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]\\n\")",
            "MiB of values (through aliases)",
        ),
    ];
    for (expr, want) in cases {
        let main = format!("output \"o\" {{\n  value = {expr}\n}}\n");
        eprintln!("case: {expr}");
        let o = invalid(&main, &[want, "main.hcl:2:"]);
        assert!(
            !o.stderr.contains("memory allocation"),
            "{expr}: {}",
            o.stderr
        );
    }
}

#[test]
fn a_file_function_reads_at_most_64_mib() {
    let main = "output \"o\" {\n  value = length(file(\"/dev/zero\"))\n}\n";
    invalid(
        main,
        &["is larger than 67108864 bytes (64 MiB)", "main.hcl:2:"],
    );
}

// ---- point 14: bytes that are not HCL text, BOMs, 1e400 ----

#[test]
fn invalid_utf8_is_named_at_its_line_and_column() {
    let d = dir_with(&[(
        "main.hcl",
        b"output \"o\" {\n  value = \"ab\xff\xfecd\"\n}\n",
    )]);
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("Error: Invalid character encoding"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("on main.hcl:2:14"), "{}", o.stderr);
    assert!(o.stderr.contains("must be UTF-8 encoded"), "{}", o.stderr);
    let o = posture(d.path(), &["fmt", "--check"]);
    // fmt's exit code for a file it cannot format, as terraform fmt's.
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("main.hcl:2:14"), "{}", o.stderr);
    assert!(o.stderr.contains("UTF-8"), "{}", o.stderr);
}

#[test]
fn a_binary_file_is_named_at_its_line_and_column_with_a_printable_excerpt() {
    let mut bin = b"output \"o\" {\n  value = 1\n}\n\x1b[2J".to_vec();
    bin.extend_from_slice(&[0, 1, 2, 0x7f, 0x45, 0x4c, 0x46]);
    let d = dir_with(&[("main.hcl", &bin)]);
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("Error: Invalid character"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("on main.hcl:4:5"), "{}", o.stderr);
    // The terminal escape in the file is not replayed on the user's screen.
    assert!(!o.stderr.contains('\u{1b}'), "{:?}", o.stderr);
}

#[test]
fn invalid_utf8_in_a_vars_file_is_named_at_its_line_and_column() {
    let d = dir_with(&[
        ("main.hcl", b"variable \"n\" {\n  type = string\n}\n"),
        ("posture.vars.hcl", b"n = \"\xc3\x28\"\n"),
    ]);
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("on posture.vars.hcl:1:6"), "{}", o.stderr);
}

#[test]
fn a_utf8_byte_order_mark_is_accepted_and_kept_by_fmt() {
    let text = b"\xef\xbb\xbfoutput \"o\" {\n  value = 1\n}\n";
    let d = dir_with(&[("main.hcl", text), ("posture.vars.hcl", b"\xef\xbb\xbf")]);
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = posture(d.path(), &["fmt", "--check"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let unformatted = b"\xef\xbb\xbfoutput \"o\" {\nvalue = 1\n}\n";
    std::fs::write(d.path().join("main.hcl"), unformatted).expect("write");
    let o = posture(d.path(), &["fmt"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        std::fs::read(d.path().join("main.hcl")).expect("read"),
        text
    );
}

#[test]
fn literal_1e400_is_the_same_number_as_var_1e400() {
    let big = format!("1{}", "0".repeat(400));
    let main = "variable \"n\" {\n  type = number\n}\noutput \"lit\" {\n  value = 1e400\n}\noutput \"var\" {\n  value = var.n\n}\noutput \"same\" {\n  value = 1e400 == var.n\n}\n";
    let d = dir_with(&[("main.hcl", main.as_bytes())]);
    let o = posture(d.path(), &["plan", "--var", "n=1e400"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains(&format!("+ lit = {big}")), "{}", o.stdout);
    assert!(o.stdout.contains(&format!("+ var = {big}")), "{}", o.stdout);
    assert!(o.stdout.contains("+ same = true"), "{}", o.stdout);
    // The same in a variable file, and `fmt` leaves the literal alone.
    std::fs::write(d.path().join("posture.vars.hcl"), "n = 1E+400\n").expect("write");
    let o = posture(d.path(), &["plan"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("+ same = true"), "{}", o.stdout);
    let o = posture(d.path(), &["fmt", "--check"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
}

// ---- numbers with huge exponents: exact arithmetic is bounded ----

#[test]
fn arithmetic_on_huge_exponents_finishes_instead_of_hanging() {
    // Each output used to build a 100-million-digit integer and hang.
    let main = "output \"sum\" {\n  value = tonumber(\"1e100000000\") + 1\n}\noutput \"tiny\" {\n  value = tonumber(\"1e-100000000\") + 1\n}\noutput \"rem\" {\n  value = tonumber(\"1e100000000\") % 3\n}\noutput \"cmp\" {\n  value = tonumber(\"1e100000000\") > 1\n}\noutput \"floor\" {\n  value = floor(tonumber(\"1e100000000\"))\n}\n";
    let d = dir_with(&[("main.hcl", main.as_bytes())]);
    let o = posture(d.path(), &["plan"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for want in [
        "+ sum = 1e+100000000",
        "+ tiny = 1\n",
        "+ rem = 0\n",
        "+ cmp = true",
        "+ floor = 1e+100000000",
    ] {
        assert!(
            o.stdout.contains(want),
            "missing {want:?} in:\n{}",
            o.stdout
        );
    }
}
