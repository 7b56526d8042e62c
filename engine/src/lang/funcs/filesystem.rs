//! File-system functions: file, fileexists, filebase64, the file hash
//! functions, fileset, templatefile, basename, dirname, abspath,
//! pathexpand. Relative paths resolve against [`FuncCtx::base_dir`] (the
//! module directory), except `abspath`, which like Terraform's uses the
//! process's working directory. Only reads; never writes.

use super::crypto::{b64, digest, hex};
use super::paths::{base, clean, dir, expand_home, glob_match, join};
use super::util::{Table, arg_err, fail, p, quote_go, reg, set};
use super::{FuncCtx, FuncError};
use crate::value::{Type, Value};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use std::collections::BTreeMap;

pub(super) fn register(t: &mut Table) {
    let s = || Type::String;
    reg(t, "file", vec![p("path", s())], s(), file);
    reg(
        t,
        "fileexists",
        vec![p("path", s())],
        Type::Bool,
        fileexists,
    );
    reg(t, "filebase64", vec![p("path", s())], s(), filebase64);
    reg(t, "filemd5", vec![p("path", s())], s(), filemd5);
    reg(t, "filesha1", vec![p("path", s())], s(), filesha1);
    reg(t, "filesha256", vec![p("path", s())], s(), filesha256);
    reg(t, "filesha512", vec![p("path", s())], s(), filesha512);
    reg(
        t,
        "filebase64sha256",
        vec![p("path", s())],
        s(),
        filebase64sha256,
    );
    reg(
        t,
        "filebase64sha512",
        vec![p("path", s())],
        s(),
        filebase64sha512,
    );
    reg(
        t,
        "fileset",
        vec![p("path", s()), p("pattern", s())],
        set(s()),
        fileset,
    );
    reg(
        t,
        "templatefile",
        vec![p("path", s()), p("vars", Type::Dynamic)],
        Type::Dynamic,
        templatefile,
    );
    reg(
        t,
        "templatestring",
        vec![p("template", s()), p("vars", Type::Dynamic)],
        Type::Dynamic,
        templatestring,
    );
    reg(t, "basename", vec![p("path", s())], s(), basename);
    reg(t, "dirname", vec![p("path", s())], s(), dirname);
    reg(t, "abspath", vec![p("path", s())], s(), abspath);
    reg(t, "pathexpand", vec![p("path", s())], s(), pathexpand);
}

fn arg(args: &[Value]) -> &str {
    args[0].as_str().unwrap_or_default()
}

/// The path Terraform reads: `~` expanded, joined to the module directory
/// when relative, cleaned.
fn resolve(ctx: &FuncCtx<'_>, path: &str) -> Result<String, FuncError> {
    let path = expand_home(path).map_err(|e| fail(format!("failed to expand ~: {e}")))?;
    if path.starts_with('/') {
        return Ok(clean(&path));
    }
    Ok(join(&ctx.base_dir.to_string_lossy(), &path))
}

fn read(ctx: &FuncCtx<'_>, path: &str) -> Result<Vec<u8>, FuncError> {
    use std::io::Read as _;
    let full = resolve(ctx, path)?;
    let limit = super::limits::MAX_STRING_BYTES;
    // Read at most one byte past the bound: `/dev/zero` has no length.
    let mut bytes = Vec::new();
    let got =
        std::fs::File::open(&full).and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes));
    if got.is_ok() && bytes.len() > limit {
        return Err(arg_err(
            0,
            "path",
            format!(
                "{} is larger than {limit} bytes (64 MiB), the most posture reads into a value",
                quote_go(&full)
            ),
        ));
    }
    got.map(|_| bytes).map_err(|e| {
        let msg = if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "no file exists at {}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource",
                quote_go(&full)
            )
        } else {
            format!("failed to read file: {e}")
        };
        arg_err(0, "path", msg)
    })
}

fn read_string(ctx: &FuncCtx<'_>, path: &str) -> Result<String, FuncError> {
    String::from_utf8(read(ctx, path)?).map_err(|_| {
        fail(format!(
            "contents of {} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead",
            quote_go(path)
        ))
    })
}

fn string(s: String) -> Result<Value, FuncError> {
    Ok(Value::String(s))
}

fn file(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    read_string(ctx, arg(&a)).map(Value::String)
}

fn filebase64(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(b64(&read(ctx, arg(&a))?))
}

fn filemd5(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(hex(&digest::<Md5>(&read(ctx, arg(&a))?)))
}

fn filesha1(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(hex(&digest::<Sha1>(&read(ctx, arg(&a))?)))
}

fn filesha256(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(hex(&digest::<Sha256>(&read(ctx, arg(&a))?)))
}

fn filesha512(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(hex(&digest::<Sha512>(&read(ctx, arg(&a))?)))
}

fn filebase64sha256(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(b64(&digest::<Sha256>(&read(ctx, arg(&a))?)))
}

fn filebase64sha512(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(b64(&digest::<Sha512>(&read(ctx, arg(&a))?)))
}

fn fileexists(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let full = resolve(ctx, arg(&a))?;
    match std::fs::metadata(&full) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(_) => Err(fail(format!("failed to stat {}", quote_go(&full)))),
        Ok(m) if m.is_file() => Ok(Value::Bool(true)),
        Ok(m) if m.is_dir() => Err(arg_err(
            0,
            "path",
            format!("{} is a directory, not a file", quote_go(&full)),
        )),
        Ok(_) => Err(arg_err(
            0,
            "path",
            format!("{} is not a regular file", quote_go(&full)),
        )),
    }
}

fn fileset(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let root = resolve(ctx, arg(&a))?;
    let pattern = a[1].as_str().unwrap_or_default();
    let pattern = clean(pattern);
    let mut found = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let here = if rel.is_empty() {
            root.clone()
        } else {
            format!("{root}/{rel}")
        };
        let Ok(entries) = std::fs::read_dir(&here) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            // Real directories only: following symlinked directories could
            // loop forever (a link to a parent).
            if kind.is_dir() {
                stack.push(child);
                continue;
            }
            // A symlink counts when it leads to a regular file.
            let is_file = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
            if is_file && glob_match(&pattern, &child) {
                found.push(Value::String(child));
            }
        }
    }
    Ok(Value::set_of(Type::String, found))
}

/// HCL identifier rule for template variable names.
fn valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// The template variables, checked as Terraform checks them.
fn template_vars(a: &[Value]) -> Result<BTreeMap<String, Value>, FuncError> {
    let vars: BTreeMap<String, Value> = match &a[1] {
        Value::Map(_, m) | Value::Object(m) => m.clone(),
        _ => return Err(arg_err(1, "vars", "invalid vars value: must be a map")),
    };
    for name in vars.keys() {
        if !valid_identifier(name) {
            return Err(arg_err(
                1,
                "vars",
                format!(
                    "invalid template variable name {}: must start with a letter, followed by zero or more letters, digits, and underscores",
                    quote_go(name)
                ),
            ));
        }
    }
    Ok(vars)
}

fn templatefile(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let vars = template_vars(&a)?;
    let path = arg(&a);
    let src = read_string(ctx, path)?;
    let full = resolve(ctx, path)?;
    ctx.templates
        .render(&src, std::path::Path::new(&full), &vars)
        .map_err(fail)
}

/// `templatestring` (Terraform 1.9+): renders a template held in a string.
/// That its first argument is a plain reference, as Terraform requires,
/// is the evaluator's check.
fn templatestring(ctx: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let vars = template_vars(&a)?;
    let src = arg(&a);
    // A template that does not parse blames the argument, as in Terraform.
    if let Err(e) = hcl_edit::parser::parse_template(src) {
        return Err(super::util::arg_err(
            0,
            "template",
            format!(
                "invalid template: <templatestring argument>:{},{}: {}",
                e.location().line(),
                e.location().column(),
                e.message()
            ),
        ));
    }
    let origin = ctx.base_dir.join("<templatestring>");
    ctx.templates.render(src, &origin, &vars).map_err(fail)
}

fn basename(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(base(arg(&a)))
}

fn dirname(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    string(dir(arg(&a)))
}

fn abspath(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let p = arg(&a);
    if p.starts_with('/') {
        return string(clean(p));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| fail(format!("failed to get working directory: {e}")))?;
    string(join(&cwd.to_string_lossy(), p))
}

fn pathexpand(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    expand_home(arg(&a)).map(Value::String).map_err(fail)
}

#[cfg(test)]
#[path = "filesystem_tests.rs"]
mod tests;
