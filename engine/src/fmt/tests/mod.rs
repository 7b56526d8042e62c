//! Tests of `posture fmt`. This file: input → expected cases derived from
//! hclwrite's formatting rules (the rules of `terraform fmt`), each also
//! checked for idempotence and against scrambled whitespace. `run.rs`: the
//! command's behaviour on temporary directories.

mod generated;
mod run;

use crate::fmt::{FmtError, format_source};

/// (name, input, expected). Inputs that start with a newline keep it: like
/// hclwrite, fmt keeps leading blank lines.
const CASES: &[(&str, &str, &str)] = &[
    ("empty input", "", ""),
    ("only blank lines", "\n\n\n", ""),
    ("spaces around =", "a=1\n", "a = 1\n"),
    ("final newline added", "a = 1", "a = 1\n"),
    (
        "trailing blank lines collapse to one newline",
        "a = 1\n\n\n",
        "a = 1\n",
    ),
    ("CRLF becomes LF", "a = 1\r\nbb = 2\r\n", "a  = 1\nbb = 2\n"),
    (
        "trailing whitespace removed, comments included",
        "a = 1   \n# note   \nb {  \n}  \n",
        "a = 1\n# note\nb {\n}\n",
    ),
    (
        "tabs between tokens become one space",
        "\ta\t=\t1\n",
        "a = 1\n",
    ),
    ("over-indented top level", "      a = 1\n", "a = 1\n"),
    (
        "consecutive attributes align",
        "a = 1\nbungle = 2\nxy=3\n",
        "a      = 1\nbungle = 2\nxy     = 3\n",
    ),
    (
        "a blank line breaks the alignment run",
        "a = 1\n\nbungle = 2\n",
        "a = 1\n\nbungle = 2\n",
    ),
    (
        "a comment line breaks the alignment run",
        "a = 1\n# about bungle\nbungle = 2\n",
        "a = 1\n# about bungle\nbungle = 2\n",
    ),
    (
        "blank lines in the middle are kept, not collapsed",
        "a = 1\n\n\n\nb = 2\n",
        "a = 1\n\n\n\nb = 2\n",
    ),
    ("leading blank lines are kept", "\n\na = 1\n", "\n\na = 1\n"),
    (
        "nested blocks indent and break alignment",
        r#"
resource "k8s_deployment" "web" {
name = "web"
replicas=3
spec {
image="nginx"
}
namespace = "default"
}
"#,
        r#"
resource "k8s_deployment" "web" {
  name     = "web"
  replicas = 3
  spec {
    image = "nginx"
  }
  namespace = "default"
}
"#,
    ),
    (
        "block header spacing",
        "resource   \"a\"   \"b\"{\nx=1\n}\n",
        "resource \"a\" \"b\" {\n  x = 1\n}\n",
    ),
    ("empty block", "b{}\n", "b {}\n"),
    ("empty block with a line break", "b {\n}\n", "b {\n}\n"),
    ("one-line block", "b {a = 1}\n", "b { a = 1 }\n"),
    (
        "multi-line object aligns its keys",
        r#"
locals {
labels = {
app = "web"
"app.kubernetes.io/name" = "web"
}
}
"#,
        r#"
locals {
  labels = {
    app                      = "web"
    "app.kubernetes.io/name" = "web"
  }
}
"#,
    ),
    (
        "one-line object and empty object",
        "x = {a=1, b=2}\ny = { }\n",
        "x = { a = 1, b = 2 }\ny = {}\n",
    ),
    (
        "colon-style object keys get spaces and no alignment",
        "x = {\na: 1\nbb:2\n}\n",
        "x = {\n  a : 1\n  bb : 2\n}\n",
    ),
    (
        "tuples",
        "x = [ 1,2 ,3 ]\ny = [ ]\n",
        "x = [1, 2, 3]\ny = []\n",
    ),
    ("nested empty tuples", "x = [ [ ] ]\n", "x = [[]]\n"),
    (
        "multi-line tuple of objects",
        "x = [\n{\na = 1\n},\n{ b = 2 },\n]\n",
        "x = [\n  {\n    a = 1\n  },\n  { b = 2 },\n]\n",
    ),
    (
        "brackets opened together indent once",
        "x = [[\na\n]]\n",
        "x = [[\n  a\n]]\n",
    ),
    (
        "asymmetric brackets stay stable",
        "x = [[\n[\na\n]]\n]\n",
        "x = [[\n  [\n    a\n  ]]\n]\n",
    ),
    (
        "multi-line function call arguments",
        "x = merge(\nlocal.a,\n{\nb = 1\n},\n)\n",
        "x = merge(\n  local.a,\n  {\n    b = 1\n  },\n)\n",
    ),
    (
        "function call spacing",
        "x = f (a ,b,c)\ny = f(a ...)\n",
        "x = f(a, b, c)\ny = f(a...)\n",
    ),
    (
        "provider-namespaced function",
        "x = provider :: k8s :: quote(1)\n",
        "x = provider::k8s::quote(1)\n",
    ),
    (
        "binary operators",
        "x = a&&b||c\ny = a==b\nz = a<=b+1*2%3/4\n",
        "x = a && b || c\ny = a == b\nz = a <= b + 1 * 2 % 3 / 4\n",
    ),
    ("conditional", "x = a?b:c\n", "x = a ? b : c\n"),
    (
        "unary minus and not",
        "a = -1\nb = x -1\nc = [-1, - 2]\nd = x*-y\ne = ! z\nf = (-2+1)\ng = x ? -1 : - 2\n",
        "a = -1\nb = x - 1\nc = [-1, -2]\nd = x * -y\ne = !z\nf = (-2 + 1)\ng = x ? -1 : -2\n",
    ),
    (
        "unary minus at the start of a line",
        "x = [\n- 2,\n3\n]\n",
        "x = [\n  -2,\n  3\n]\n",
    ),
    (
        "traversals, indexes and splats",
        "a = b . c [ 0 ]\nd = e [ * ].f\ng = h.*.i\nj = k.0.l\nm = f()[0]\nn = [\"x\"][0]\n",
        "a = b.c[0]\nd = e[*].f\ng = h.*.i\nj = k.0.l\nm = f()[0]\nn = [\"x\"][0]\n",
    ),
    (
        "for expressions",
        "a = [for s in var.list: upper(s) if s != \"\"]\nb = {for k,v in m: k=>v}\nc = [for x in [1,2]: x]\nd = {for k, v in m : k => v...}\n",
        "a = [for s in var.list : upper(s) if s != \"\"]\nb = { for k, v in m : k => v }\nc = [for x in [1, 2] : x]\nd = { for k, v in m : k => v... }\n",
    ),
    (
        "multi-line for expression",
        "x = {\nfor k, v in m :\nk => v\n}\n",
        "x = {\n  for k, v in m :\n  k => v\n}\n",
    ),
    (
        "interpolation contents are spaced, literal text is not",
        "a = \"hello ${ var.name }!  a  =  b\"\nb = [\"${~ x ~}\"]\nc = \"${ 1+2 }${ y }\"\n",
        "a = \"hello ${var.name}!  a  =  b\"\nb = [\"${~x~}\"]\nc = \"${1 + 2}${y}\"\n",
    ),
    (
        "template directives",
        "a = \"%{ if x }yes%{ else }no%{ endif }\"\n",
        "a = \"%{if x}yes%{else}no%{endif}\"\n",
    ),
    (
        "escapes in strings are kept",
        "a = \"say \\\"hi\\\" $${literal} %%{literal}\"\n",
        "a = \"say \\\"hi\\\" $${literal} %%{literal}\"\n",
    ),
    (
        "object constructor inside an interpolation",
        "a = [\"${ {a=1} }\"]\n",
        "a = [\"${ { a = 1 } }\"]\n",
    ),
    (
        "multi-line interpolation is indented",
        "a = \"x${\nhello\n}\"\n",
        "a = \"x${\n  hello\n}\"\n",
    ),
    (
        "heredoc body and marker are kept verbatim",
        "b {\ntext = <<EOT\n  hello ${ name }   \n    world\nEOT\nother = 1\n}\n",
        "b {\n  text  = <<EOT\n  hello ${name}   \n    world\nEOT\n  other = 1\n}\n",
    ),
    (
        "indented heredoc keeps its closing marker indentation",
        "b {\nx = <<-EOT\n      a\n      EOT\n}\n",
        "b {\n  x = <<-EOT\n      a\n      EOT\n}\n",
    ),
    (
        "heredoc with template directives",
        "t = <<EOT\n%{ for x in xs ~}\n${x}\n%{ endfor ~}\nEOT\n",
        "t = <<EOT\n%{for x in xs~}\n${x}\n%{endfor~}\nEOT\n",
    ),
    (
        "heredoc as a function argument",
        "x = join(\",\", [\n<<EOT\na\nEOT\n])\n",
        "x = join(\",\", [\n  <<EOT\na\nEOT\n])\n",
    ),
    (
        "trailing comments align",
        "a = 1 # foo\nbungle = \"bonce\" # baz\nzebra = \"striped\" // qux\n",
        "a      = 1         # foo\nbungle = \"bonce\"   # baz\nzebra  = \"striped\" // qux\n",
    ),
    (
        "trailing comment after a block header",
        "foo {} # here\na = 1 # foo\n",
        "foo {} # here\na = 1  # foo\n",
    ),
    (
        "multi-line value breaks = alignment but not comment alignment",
        "a = 1 # foo\nbungle = (\n\"bonce\"\n) # baz\nzebra = \"striped\" # baz\n",
        "a = 1 # foo\nbungle = (\n  \"bonce\"\n)                 # baz\nzebra = \"striped\" # baz\n",
    ),
    (
        "whole-line comments follow the indentation",
        "foo {\n# one\n  // two\nbar = [\n# three\n]\n}\n",
        "foo {\n  # one\n  // two\n  bar = [\n    # three\n  ]\n}\n",
    ),
    (
        "block comments keep their inner lines",
        "b {\n/* a\n   b */\nx = 1 /* inline */ + 2\n}\n",
        "b {\n  /* a\n   b */\n  x = 1 /* inline */ + 2\n}\n",
    ),
    (
        "comment on the last line without a newline",
        "a = 1\n# last",
        "a = 1\n# last\n",
    ),
    (
        "alignment counts characters, not bytes",
        "𝒜 = 1 # foo\nbungle = \"🇬🇧\" # baz\nzebra = \"striped\" # baz\n",
        "𝒜      = 1         # foo\nbungle = \"🇬🇧\"       # baz\nzebra  = \"striped\" # baz\n",
    ),
    (
        "vars file",
        "replicas=3\nimage = \"nginx:1.27\"\nlabels={team=\"web\"}\n",
        "replicas = 3\nimage    = \"nginx:1.27\"\nlabels   = { team = \"web\" }\n",
    ),
    (
        "bare block labels are quoted, as terraform fmt does",
        "resource k8s_namespace web {\n}\nmodule \"a\" {}\n",
        "resource \"k8s_namespace\" \"web\" {\n}\nmodule \"a\" {}\n",
    ),
    (
        "an attribute that is one interpolation is unwrapped",
        "b {\nname = \"${var.name}\"\nstrip = \"${~ x ~}\"\nobj = \"${ {a=1} }\"\n}\n",
        "b {\n  name  = var.name\n  strip = x\n  obj   = { a = 1 }\n}\n",
    ),
    (
        "unwrapping drops line breaks at the ends of the interpolation",
        "a = \"${\nhello\n}\"\n",
        "a = hello\n",
    ),
    (
        "unwrapping a multi-line expression adds parentheses (a line that closes a bracket dedents)",
        "a = \"${x ?\ny : z}\"\nb = \"${(x ?\ny : z)}\"\nc = \"${(x)\n+ (y)}\"\n",
        "a = (x ?\ny : z)\nb = (x ?\ny : z)\nc = ((x)\n+ (y))\n",
    ),
    (
        "templates with text, several parts or nested values are not unwrapped",
        "a = \"${x}-${y}\"\nb = \"v${x}\"\nc = \"${x}${y}\"\nd = { k = \"${x}\" }\ne = [\"${x}\"]\nf = \"${f(\"${x}\")}\"\n",
        "a = \"${x}-${y}\"\nb = \"v${x}\"\nc = \"${x}${y}\"\nd = { k = \"${x}\" }\ne = [\"${x}\"]\nf = f(\"${x}\")\n",
    ),
    (
        "identifiers with combining marks stay whole; a mark shares its letter's column",
        "cafe\u{301} = 1\nx=cafe\u{301}\n",
        "cafe\u{301} = 1\nx    = cafe\u{301}\n",
    ),
    (
        "a comment on a line opening a multi-line value joins the comment column",
        "a=\"apple\"# foo\nbungle=(# woo parens\n\"bonce\"\n)# baz\nzebra=\"striped\"# baz\n",
        "a = \"apple\" # foo\nbungle = (  # woo parens\n  \"bonce\"\n)                 # baz\nzebra = \"striped\" # baz\n",
    ),
    (
        "hclwrite's unary-minus guess is kept: after => or ${ a minus is spaced",
        "a = [\"${-x}\"]\nb = { for k, v in m : k => -v }\n",
        "a = [\"${- x}\"]\nb = { for k, v in m : k => - v }\n",
    ),
    (
        "escaped template openers are literal text, as hcl-edit reads them",
        "a = [\"$$${ x }\", \"%%%{ y }\", \"$${ z }\"]\n",
        "a = [\"$$${ x }\", \"%%%{ y }\", \"$${ z }\"]\n",
    ),
    (
        "nested lone interpolations unwrap all the way",
        "a = \"${ \"${x}\" }\"\n",
        "a = x\n",
    ),
];

#[test]
fn formats_every_case_as_hclwrite_does() {
    let mut failures = Vec::new();
    for (name, input, want) in CASES {
        match format_source(input) {
            Ok(got) if got == *want => {}
            Ok(got) => failures.push(format!(
                "{name}:\n--- input\n{input}\n--- want\n{want}\n--- got\n{got}"
            )),
            Err(e) => failures.push(format!("{name}: error {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn formatting_is_idempotent_for_every_case() {
    let mut failures = Vec::new();
    for (name, input, _) in CASES {
        let Ok(once) = format_source(input) else {
            failures.push(format!("{name}: first pass failed"));
            continue;
        };
        match format_source(&once) {
            Ok(twice) if twice == once => {}
            Ok(twice) => failures.push(format!("{name}:\n{once}\n--- became\n{twice}")),
            Err(e) => failures.push(format!("{name}: second pass error {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn syntax_error_reports_line_and_column() {
    let err = format_source("a = 1\nb {\n  c = \n}\n");
    let Err(FmtError::Syntax {
        path,
        line,
        column,
        message,
    }) = err
    else {
        panic!("expected a syntax error, got {err:?}");
    };
    assert_eq!(path, None);
    assert_eq!((line, column), (3, 7), "message: {message}");
    assert!(!message.is_empty());
}

#[test]
fn unclosed_block_is_a_syntax_error() {
    let err = format_source("b {\n  a = 1\n");
    assert!(
        matches!(
            err,
            Err(FmtError::Syntax {
                line: 2,
                column: 9,
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn syntax_error_message_names_the_position() {
    let Err(err) = format_source("a = [1,\n") else {
        panic!("expected an error");
    };
    let text = err.to_string();
    assert!(
        text.starts_with("<input>:1:9: syntax error: expected `]`"),
        "{text}"
    );
    assert!(text.contains("fix the syntax error"), "{text}");
}

// fmt parsed with plain hcl-edit, which ends a heredoc at `EOT # done`:
// the file `validate` accepts was a syntax error to fmt.
#[test]
fn fmt_read_heredocs_otherwise_than_the_loader() {
    let src = "a = <<EOT\nx\nEOT # done\nEOT\nb = 1\nc = <<EOT\nEOT\nd  =  {k = 1, k = 2}\n";
    let out = format_source(src).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out,
        "a = <<EOT\nx\nEOT # done\nEOT\nb = 1\nc = <<EOT\nEOT\nd = { k = 1, k = 2 }\n"
    );
    // What the loader refuses, fmt refuses at the same place.
    let err =
        format_source("x = 1\na = <<EOT\n%{ if true }\nEOT\nb = 1\nc = <<EOT\n%{ endif }\nEOT\n");
    let Err(FmtError::Syntax {
        line,
        column,
        message,
        ..
    }) = err
    else {
        panic!("expected a syntax error, got {err:?}");
    };
    assert_eq!((line, column), (2, 5), "{message}");
    assert!(message.starts_with("Unsupported heredoc"), "{message}");
}

/// Re-renders canonical text with extra spaces and tabs in every gap where
/// whitespace is not content (never inside strings, heredocs or comments).
fn scramble(canonical: &str, seed: u64) -> String {
    use crate::fmt::lexer::{Kind, lex};
    let mut state = seed;
    let mut next = move || {
        // A small LCG: deterministic, so a failure is reproducible.
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let tokens = lex(canonical);
    let mut out = String::new();
    let mut prev = Kind::Newline;
    for (i, t) in tokens.iter().enumerate() {
        // The canonical spaces before this token, recovered from the text.
        let end = if i + 1 < tokens.len() {
            tokens[i + 1].start
        } else {
            canonical.len()
        };
        let template_text = |k| {
            matches!(
                k,
                Kind::OQuote | Kind::QuotedLit | Kind::StringLit | Kind::OHeredoc
            )
        };
        let in_template = template_text(prev)
            || matches!(
                t.kind,
                Kind::QuotedLit
                    | Kind::StringLit
                    | Kind::CQuote
                    | Kind::CHeredoc
                    | Kind::TemplateInterp
                    | Kind::TemplateControl
            )
            || (prev == Kind::TemplateSeqEnd);
        if !in_template {
            for _ in 0..next() % 4 {
                out.push(if next() % 3 == 0 { '\t' } else { ' ' });
            }
        }
        out.push_str(&canonical[t.start..end]);
        prev = t.kind;
    }
    out
}

#[test]
fn extra_whitespace_anywhere_formats_back_to_the_canonical_text() {
    let mut failures = Vec::new();
    let mut scrambled = 0;
    for (name, _, want) in CASES {
        for seed in 0..20 {
            let messy = scramble(want, seed);
            scrambled += usize::from(messy != *want);
            match format_source(&messy) {
                Ok(got) if got == *want => {}
                Ok(got) => {
                    failures.push(format!("{name} (seed {seed}):\n{messy}\n--- got\n{got}"));
                    break;
                }
                Err(e) => {
                    failures.push(format!("{name} (seed {seed}): {e}\n{messy}"));
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        scrambled > 20 * (CASES.len() - 5),
        "only {scrambled} inputs were scrambled"
    );
}

#[test]
fn verify_rejects_output_that_changed_a_token_or_does_not_parse() {
    use crate::fmt::{lexer::lex, verify};
    let tokens = lex("a = 1\n");
    assert!(verify(&tokens, "a = 1\n").is_ok());
    assert!(matches!(
        verify(&tokens, "a = 2\n"),
        Err(FmtError::Internal { .. })
    ));
    assert!(matches!(
        verify(&tokens, "a = \"1\n"),
        Err(FmtError::Internal { .. })
    ));
}
