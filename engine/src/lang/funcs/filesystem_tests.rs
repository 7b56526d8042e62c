//! File functions against a temporary module directory.

use super::super::testing::*;
use super::super::{FuncCtx, TemplateRenderer, call};
use crate::value::{Type, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn module() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(root.join("hello.txt"), "hello world").expect("write");
    std::fs::write(root.join("bin.dat"), [0xff_u8, 0x00]).expect("write");
    std::fs::write(root.join("b.md"), "# b").expect("write");
    std::fs::create_dir_all(root.join("sub/deeper")).expect("mkdir");
    std::fs::write(root.join("sub/c.txt"), "c").expect("write");
    std::fs::write(root.join("sub/deeper/d.txt"), "d").expect("write");
    std::fs::write(root.join("tmpl.tftpl"), "Hi ${name}").expect("write");
    // A link back to the module root: fileset must not follow it forever.
    #[cfg(unix)]
    std::os::unix::fs::symlink(root, root.join("sub/loop")).expect("symlink");
    dir
}

#[test]
fn file_functions_read_relative_to_the_module() {
    let dir = module();
    let t = Type::String;
    run_in(
        dir.path(),
        vec![
            ("file", "file", vec![s("hello.txt")], ok(s("hello world"))),
            (
                "file through ..",
                "file",
                vec![s("sub/../hello.txt")],
                ok(s("hello world")),
            ),
            (
                "file missing",
                "file",
                vec![s("missing.txt")],
                err(
                    "/missing.txt\"; this function works only with files that are distributed as part of the configuration source code",
                ),
            ),
            (
                "file not utf-8",
                "file",
                vec![s("bin.dat")],
                err("contents of \"bin.dat\" are not valid UTF-8; use the filebase64 function"),
            ),
            (
                "filebase64",
                "filebase64",
                vec![s("bin.dat")],
                ok(s("/wA=")),
            ),
            (
                "filemd5",
                "filemd5",
                vec![s("hello.txt")],
                ok(s("5eb63bbbe01eeed093cb22bb8f5acdc3")),
            ),
            (
                "filesha256",
                "filesha256",
                vec![s("hello.txt")],
                ok(s(
                    "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
                )),
            ),
            (
                "filebase64sha256",
                "filebase64sha256",
                vec![s("hello.txt")],
                ok(s("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")),
            ),
            (
                "fileexists",
                "fileexists",
                vec![s("hello.txt")],
                ok(b(true)),
            ),
            (
                "fileexists missing",
                "fileexists",
                vec![s("nope.txt")],
                ok(b(false)),
            ),
            (
                "fileexists directory",
                "fileexists",
                vec![s("sub")],
                err("/sub\" is a directory, not a file"),
            ),
            (
                "fileset",
                "fileset",
                vec![s("."), s("*.txt")],
                ok(st(t.clone(), vec![s("hello.txt")])),
            ),
            (
                "fileset doublestar",
                "fileset",
                vec![s("."), s("**/*.txt")],
                ok(st(
                    t.clone(),
                    vec![s("hello.txt"), s("sub/c.txt"), s("sub/deeper/d.txt")],
                )),
            ),
            (
                "fileset under a path",
                "fileset",
                vec![s("sub"), s("{c,x}.txt")],
                ok(st(t.clone(), vec![s("c.txt")])),
            ),
            (
                "fileset no match",
                "fileset",
                vec![s("."), s("*.none")],
                ok(st(t.clone(), vec![])),
            ),
            (
                "basename",
                "basename",
                vec![s("foo/bar/baz.txt")],
                ok(s("baz.txt")),
            ),
            (
                "dirname",
                "dirname",
                vec![s("foo/bar/baz.txt")],
                ok(s("foo/bar")),
            ),
            (
                "abspath of absolute",
                "abspath",
                vec![s("/a/b/../c")],
                ok(s("/a/c")),
            ),
            (
                "pathexpand plain",
                "pathexpand",
                vec![s("a/b")],
                ok(s("a/b")),
            ),
            (
                "pathexpand other user",
                "pathexpand",
                vec![s("~bob/x")],
                err("cannot expand user-specific home dir"),
            ),
            (
                "templatefile without renderer",
                "templatefile",
                vec![s("tmpl.tftpl"), obj(vec![("name", s("x"))])],
                err("templates are not available here"),
            ),
            (
                "templatefile vars must be a map",
                "templatefile",
                vec![s("tmpl.tftpl"), s("x")],
                err("invalid vars value: must be a map"),
            ),
            (
                "templatefile bad name",
                "templatefile",
                vec![s("tmpl.tftpl"), obj(vec![("1x", s("x"))])],
                err("invalid template variable name \"1x\""),
            ),
            (
                "templatefile missing",
                "templatefile",
                vec![s("none.tftpl"), obj(vec![])],
                err("no file exists at"),
            ),
        ],
    );
}

/// Renders by listing what it was given, so the test sees the hand-off.
struct Echo;

impl TemplateRenderer for Echo {
    fn render(
        &self,
        src: &str,
        path: &Path,
        vars: &BTreeMap<String, Value>,
    ) -> Result<Value, String> {
        let names: Vec<&str> = vars.keys().map(String::as_str).collect();
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Value::from(format!("{src}|{file}|{}", names.join(","))))
    }
}

#[test]
fn templatefile_hands_source_path_and_vars_to_the_renderer() {
    let dir = module();
    let ctx = FuncCtx {
        base_dir: dir.path(),
        templates: &Echo,
    };
    let vars = obj(vec![("name", s("Ada")), ("n", n("1"))]);
    let got = call(&ctx, "templatefile", vec![s("tmpl.tftpl"), vars]).expect("render");
    assert_eq!(got, s("Hi ${name}|tmpl.tftpl|n,name"));
    let got = call(
        &ctx,
        "templatestring",
        vec![s("${n}!"), obj(vec![("n", n("1"))])],
    )
    .expect("render");
    assert_eq!(got, s("${n}!|<templatestring>|n"));
    let bad = call(
        &ctx,
        "templatestring",
        vec![s("x"), obj(vec![("a b", n("1"))])],
    )
    .expect_err("bad name");
    assert!(
        bad.message
            .contains("invalid template variable name \"a b\""),
        "{}",
        bad.message
    );
}

#[test]
fn templatestring_parse_error_failed_the_call_not_the_argument() {
    // Terraform 1.15.5 (templatestring_local_tmpl): "Invalid function
    // argument" for the "template" parameter.
    let dir = module();
    let ctx = FuncCtx {
        base_dir: dir.path(),
        templates: &Echo,
    };
    let bad = call(
        &ctx,
        "templatestring",
        vec![s("cost %{literal}"), obj(vec![])],
    )
    .expect_err("parse error");
    assert_eq!(bad.arg, Some(0), "{}", bad.message);
    assert!(
        bad.message.starts_with(
            "Invalid value for \"template\" parameter: invalid template: <templatestring argument>:1,"
        ),
        "{}",
        bad.message
    );
}
