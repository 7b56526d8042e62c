//! Expected values from Terraform 1.15.5 (the fn_base64gzip*,
//! fn_textencodebase64_* and fn_textdecodebase64_* conformance cases).

use super::super::testing::*;
use super::super::{FuncCtx, NoTemplates};
use base64::Engine as _;
use sha2::Digest as _;
use std::io::Read as _;
use std::path::Path;

#[test]
fn base64gzip_was_missing() {
    run(vec![
        (
            "short input: Go's exact bytes",
            "base64gzip",
            vec![s("hello")],
            ok(s("H4sIAAAAAAAA/8pIzcnJBwAAAP//AQAA//+GphA2BQAAAA==")),
        ),
        (
            "empty",
            "base64gzip",
            vec![s("")],
            ok(s("H4sIAAAAAAAA/wAAAP//AQAA//8AAAAAAAAAAA==")),
        ),
    ]);
}

#[test]
fn base64gzip_of_a_large_input_is_terraforms_string() {
    // The function end to end on an input of several dynamic blocks; the
    // compressor's own tests (godeflate/tests.rs) hold the bulk of cases.
    let text: String = (0..5000)
        .map(|i| format!("line {i} of the user data\n"))
        .collect();
    let ctx = FuncCtx {
        base_dir: Path::new("."),
        templates: &NoTemplates,
    };
    let got = super::base64gzip(&ctx, vec![s(&text)]).expect("base64gzip");
    let gz = base64::engine::general_purpose::STANDARD
        .decode(got.as_str().unwrap_or_default())
        .expect("base64");
    let mut back = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut back)
        .expect("valid gzip");
    assert_eq!(back, text);
    // Length and SHA-256 of Terraform 1.15.5's base64gzip of this text.
    let sha: String = sha2::Sha256::digest(&gz)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        (gz.len(), sha.as_str()),
        (
            12829,
            "0bdfba718b92f5c92604b269bb184eb38832c627702f5221cd374ae559bac139"
        )
    );
}

#[test]
fn textencodebase64_and_textdecodebase64_were_missing() {
    run(vec![
        (
            "utf-16le",
            "textencodebase64",
            vec![s("hello"), s("UTF-16LE")],
            ok(s("aABlAGwAbABvAA==")),
        ),
        (
            "utf-16 has a BOM",
            "textencodebase64",
            vec![s("hi"), s("UTF-16")],
            ok(s("/v8AaABp")),
        ),
        (
            "surrogates",
            "textencodebase64",
            vec![s("😀"), s("UTF-16LE")],
            ok(s("PdgA3g==")),
        ),
        (
            "alias, any case",
            "textencodebase64",
            vec![s("é"), s("latin1")],
            ok(s("6Q==")),
        ),
        (
            "iso-8859-9",
            "textencodebase64",
            vec![s("é"), s("ISO-8859-9")],
            ok(s("6Q==")),
        ),
        (
            "cp1252",
            "textencodebase64",
            vec![s("€"), s("windows-1252")],
            ok(s("gA==")),
        ),
        (
            "shift_jis",
            "textencodebase64",
            vec![s("日本"), s("Shift_JIS")],
            ok(s("k/qWew==")),
        ),
        (
            "euc-jp alias",
            "textencodebase64",
            vec![s("日本"), s("EUC-JP")],
            ok(s("xvzL3A==")),
        ),
        (
            "koi8-r",
            "textencodebase64",
            vec![s("Ж"), s("KOI8-R")],
            ok(s("9g==")),
        ),
        (
            "big5",
            "textencodebase64",
            vec![s("中"), s("Big5")],
            ok(s("pKQ=")),
        ),
        (
            "unmappable",
            "textencodebase64",
            vec![s("€"), s("ISO-8859-1")],
            err("cannot be represented in ISO_8859-1:1987"),
        ),
        (
            "not ascii",
            "textencodebase64",
            vec![s("é"), s("US-ASCII")],
            err("cannot be represented in US-ASCII"),
        ),
        (
            "unknown encoding",
            "textencodebase64",
            vec![s("a"), s("cp1252")],
            err("\"cp1252\" is not a supported IANA encoding name or alias"),
        ),
        (
            "decode utf-16le",
            "textdecodebase64",
            vec![s("aABlAGwAbABvAA=="), s("UTF-16LE")],
            ok(s("hello")),
        ),
        (
            "decode utf-16 with BOM",
            "textdecodebase64",
            vec![s("//5oAGkA"), s("UTF-16")],
            ok(s("hi")),
        ),
        (
            "decode utf-16 without BOM",
            "textdecodebase64",
            vec![s("AGgAaQ=="), s("UTF-16")],
            ok(s("hi")),
        ),
        (
            "decode latin1",
            "textdecodebase64",
            vec![s("aOlsbG8="), s("ISO-8859-1")],
            ok(s("héllo")),
        ),
        (
            "decode cp1252",
            "textdecodebase64",
            vec![s("gA=="), s("windows-1252")],
            ok(s("€")),
        ),
        (
            "decode newline",
            "textdecodebase64",
            vec![s("aGk=\n"), s("UTF-8")],
            ok(s("hi")),
        ),
        (
            "undefined byte",
            "textdecodebase64",
            vec![s("gQ=="), s("windows-1252")],
            err("symbols that are not defined for windows-1252"),
        ),
        (
            "invalid utf-8",
            "textdecodebase64",
            vec![s("/w=="), s("UTF-8")],
            err("symbols that are not defined for UTF-8"),
        ),
        (
            "decoded U+FFFD",
            "textdecodebase64",
            vec![s("77+9"), s("UTF-8")],
            err("symbols that are not defined for UTF-8"),
        ),
        (
            "bad base64",
            "textdecodebase64",
            vec![s("!!"), s("UTF-8")],
            err("invalid base64 symbol at offset 0"),
        ),
        (
            "missing padding",
            "textdecodebase64",
            vec![s("aGk"), s("UTF-8")],
            err("invalid base64 symbol at offset 0"),
        ),
    ]);
}
