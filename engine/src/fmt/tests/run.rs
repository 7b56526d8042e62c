//! `run` on temporary directories: which files are visited, what is printed,
//! what is written, and what is left alone.

use crate::fmt::{FmtError, FmtOptions, FmtReport, run_with_stdin};
use std::fs;
use std::path::{Path, PathBuf};

const UNFORMATTED: &str = "a=1\nbungle = 2\n";
const FORMATTED: &str = "a      = 1\nbungle = 2\n";

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create test dir");
    }
    fs::write(&path, text).expect("write test file");
    path
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).expect("read test file")
}

/// Runs fmt with no stdin; returns the report and what it printed.
fn fmt(opts: FmtOptions) -> (FmtReport, String) {
    let mut out = Vec::new();
    let report = run_with_stdin(&opts, &mut std::io::empty(), &mut out).expect("run fmt");
    (report, String::from_utf8(out).expect("utf-8 output"))
}

fn opts(paths: &[&Path]) -> FmtOptions {
    FmtOptions {
        paths: paths.iter().map(|p| p.to_path_buf()).collect(),
        ..FmtOptions::default()
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn writes_changed_files_and_lists_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.hcl", UNFORMATTED);
    let b = write(dir.path(), "b.hcl", FORMATTED);
    let vars = write(dir.path(), "prod.vars.hcl", "replicas=3\n");
    let other = write(dir.path(), "notes.txt", UNFORMATTED);

    let (report, out) = fmt(opts(&[dir.path()]));

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files_checked, 3);
    assert_eq!(report.changed, vec![a.clone(), vars.clone()]);
    assert_eq!(out, format!("{}\n{}\n", a.display(), vars.display()));
    assert_eq!(read(&a), FORMATTED);
    assert_eq!(read(&b), FORMATTED);
    assert_eq!(read(&vars), "replicas = 3\n");
    assert_eq!(read(&other), UNFORMATTED, "non-.hcl files are not touched");
    assert_eq!(
        names_in(dir.path()),
        ["a.hcl", "b.hcl", "notes.txt", "prod.vars.hcl"],
        "no temp file left behind"
    );

    let (again, out) = fmt(opts(&[dir.path()]));
    assert!(!again.needs_formatting());
    assert_eq!(out, "");
}

#[test]
fn check_lists_files_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.hcl", UNFORMATTED);
    write(dir.path(), "b.hcl", FORMATTED);

    let (report, out) = fmt(FmtOptions {
        check: true,
        ..opts(&[dir.path()])
    });

    assert!(report.needs_formatting());
    assert_eq!(report.changed, vec![a.clone()]);
    assert_eq!(out, format!("{}\n", a.display()));
    assert_eq!(read(&a), UNFORMATTED);
}

#[test]
fn check_on_formatted_files_reports_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "b.hcl", FORMATTED);
    let (report, out) = fmt(FmtOptions {
        check: true,
        ..opts(&[dir.path()])
    });
    assert!(!report.needs_formatting());
    assert_eq!(report.files_checked, 1);
    assert_eq!(out, "");
}

#[test]
fn write_false_lists_without_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.hcl", UNFORMATTED);
    let (report, out) = fmt(FmtOptions {
        write: false,
        ..opts(&[&a])
    });
    assert_eq!(report.changed, vec![a.clone()]);
    assert_eq!(out, format!("{}\n", a.display()));
    assert_eq!(read(&a), UNFORMATTED);
}

#[test]
fn diff_prints_a_unified_diff_after_the_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.hcl", UNFORMATTED);
    let (_, out) = fmt(FmtOptions {
        diff: true,
        check: true,
        ..opts(&[&a])
    });
    let name = a.display();
    let want = format!(
        "{name}\n--- old/{name}\n+++ new/{name}\n@@ -1,2 +1,2 @@\n-a=1\n+a      = 1\n bungle = 2\n"
    );
    assert_eq!(out, want);
    assert_eq!(read(&a), UNFORMATTED, "--check wins over writing");
}

#[test]
fn recursive_descends_but_skips_hidden_and_target_dirs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let top = write(dir.path(), "main.hcl", UNFORMATTED);
    let sub = write(dir.path(), "envs/prod/main.hcl", UNFORMATTED);
    let hidden = write(dir.path(), ".posture/cache.hcl", UNFORMATTED);
    let target = write(dir.path(), "target/gen.hcl", UNFORMATTED);
    let backup = write(dir.path(), "main.hcl~", UNFORMATTED);

    let (flat, _) = fmt(FmtOptions {
        check: true,
        ..opts(&[dir.path()])
    });
    assert_eq!(flat.changed, vec![top.clone()], "no recursion by default");

    let (deep, _) = fmt(FmtOptions {
        check: true,
        recursive: true,
        ..opts(&[dir.path()])
    });
    assert_eq!(deep.changed, vec![sub.clone(), top.clone()]);

    fmt(FmtOptions {
        recursive: true,
        ..opts(&[dir.path()])
    });
    assert_eq!(read(&sub), FORMATTED);
    for untouched in [&hidden, &target, &backup] {
        assert_eq!(read(untouched), UNFORMATTED, "{}", untouched.display());
    }
}

#[test]
fn syntax_error_leaves_the_file_alone_and_others_are_formatted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken_text = "a=1\nb {\n  c = \n}\n";
    let bad = write(dir.path(), "bad.hcl", broken_text);
    let good = write(dir.path(), "good.hcl", UNFORMATTED);

    let (report, out) = fmt(opts(&[dir.path()]));

    assert_eq!(
        read(&bad),
        broken_text,
        "a file that does not parse is never written"
    );
    assert_eq!(read(&good), FORMATTED);
    assert_eq!(out, format!("{}\n", good.display()));
    let [
        FmtError::Syntax {
            path, line, column, ..
        },
    ] = report.errors.as_slice()
    else {
        panic!("expected one syntax error, got {:?}", report.errors);
    };
    assert_eq!(path.as_ref(), Some(&bad));
    assert_eq!((*line, *column), (3, 7));
    let text = report.errors[0].to_string();
    assert!(
        text.starts_with(&format!("{}:3:7: syntax error", bad.display())),
        "{text}"
    );
    assert_eq!(names_in(dir.path()), ["bad.hcl", "good.hcl"]);
}

#[test]
fn a_named_file_that_is_not_hcl_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let txt = write(dir.path(), "main.tf", UNFORMATTED);
    let (report, _) = fmt(opts(&[&txt]));
    assert!(
        matches!(report.errors.as_slice(), [FmtError::NotHcl { path }] if path == &txt),
        "{:?}",
        report.errors
    );
    assert_eq!(read(&txt), UNFORMATTED);
}

#[test]
fn a_missing_path_stops_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.hcl", UNFORMATTED);
    let missing = dir.path().join("nope");
    let mut out = Vec::new();
    let result = run_with_stdin(&opts(&[&a, &missing]), &mut std::io::empty(), &mut out);
    assert!(
        matches!(&result, Err(FmtError::NotFound { path }) if path == &missing),
        "{result:?}"
    );
    assert_eq!(read(&a), UNFORMATTED);
    assert!(out.is_empty());
}

#[test]
fn stdin_is_formatted_to_the_output() {
    let mut out = Vec::new();
    let opts = FmtOptions {
        paths: vec![PathBuf::from("-")],
        ..FmtOptions::default()
    };
    let report =
        run_with_stdin(&opts, &mut UNFORMATTED.as_bytes(), &mut out).expect("run fmt on stdin");
    assert_eq!(String::from_utf8(out).expect("utf-8"), FORMATTED);
    assert_eq!(report.changed, vec![PathBuf::from("<stdin>")]);

    // Already formatted input is still echoed: stdout is the result.
    let mut out = Vec::new();
    run_with_stdin(&opts, &mut FORMATTED.as_bytes(), &mut out).expect("run fmt on stdin");
    assert_eq!(String::from_utf8(out).expect("utf-8"), FORMATTED);
}

#[test]
fn stdin_with_check_prints_nothing_and_diff_prints_only_the_diff() {
    let stdin = |check, diff| {
        let opts = FmtOptions {
            check,
            diff,
            paths: vec![PathBuf::from("-")],
            ..FmtOptions::default()
        };
        let mut out = Vec::new();
        let report =
            run_with_stdin(&opts, &mut "a=1\n".as_bytes(), &mut out).expect("run fmt on stdin");
        (report, String::from_utf8(out).expect("utf-8"))
    };
    let (report, out) = stdin(true, false);
    assert!(report.needs_formatting());
    assert_eq!(out, "");
    let (_, out) = stdin(false, true);
    assert_eq!(
        out,
        "--- old/<stdin>\n+++ new/<stdin>\n@@ -1 +1 @@\n-a=1\n+a = 1\n"
    );
}

#[test]
fn stdin_syntax_error_is_reported() {
    let opts = FmtOptions {
        paths: vec![PathBuf::from("-")],
        ..FmtOptions::default()
    };
    let mut out = Vec::new();
    let report = run_with_stdin(&opts, &mut "a = [1,\n".as_bytes(), &mut out).expect("run");
    assert!(
        matches!(
            report.errors.as_slice(),
            [FmtError::Syntax {
                line: 1,
                column: 9,
                ..
            }]
        ),
        "{:?}",
        report.errors
    );
    assert!(
        out.is_empty(),
        "nothing printed for input that does not parse"
    );
}

#[test]
fn stdin_cannot_be_mixed_with_paths() {
    let opts = FmtOptions {
        paths: vec![PathBuf::from("-"), PathBuf::from(".")],
        ..FmtOptions::default()
    };
    let result = run_with_stdin(&opts, &mut std::io::empty(), &mut Vec::new());
    assert!(
        matches!(result, Err(FmtError::StdinWithPaths)),
        "{result:?}"
    );
}

#[cfg(unix)]
#[test]
fn rewriting_keeps_permissions_and_follows_symlinks() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let real = write(dir.path(), "real/main.hcl", UNFORMATTED);
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).expect("chmod");
    let link = dir.path().join("link.hcl");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");

    let (report, _) = fmt(opts(&[&link]));

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(fs::symlink_metadata(&link).expect("lstat").is_symlink());
    assert_eq!(read(&real), FORMATTED);
    let mode = fs::metadata(&real).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
}

#[cfg(unix)]
#[test]
fn recursive_does_not_follow_directory_symlinks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = write(dir.path(), "sub/main.hcl", UNFORMATTED);
    // A loop: sub/up -> the top directory.
    std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/up")).expect("symlink");
    let (report, _) = fmt(FmtOptions {
        check: true,
        recursive: true,
        ..opts(&[dir.path()])
    });
    assert_eq!(report.changed, vec![sub]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}
