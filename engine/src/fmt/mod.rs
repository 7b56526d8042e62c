//! `posture fmt`: rewrites posture's HCL files (`*.hcl`, `*.vars.hcl`) in the
//! canonical style, the one `terraform fmt` produces.
//!
//! The rules are hclwrite's (the library behind `terraform fmt`): two spaces
//! of indentation per open bracket, one space around binary operators and
//! `=`, none inside `()` and `[]`, one inside non-empty `{ }`, the `=` of
//! consecutive single-line attributes aligned into one column, trailing
//! comments of consecutive lines aligned too. Comments, blank lines, string
//! contents and heredoc bodies are kept as they are. Like `terraform fmt`,
//! it also quotes bare block labels and unwraps attribute values that are a
//! lone `"${...}"` (see `canonical.rs`).
//!
//! What this module must not do: change anything but whitespace beyond those
//! two rewrites, or format a file that does not parse. Every result is
//! checked before it is returned: it must parse, and it must hold the same
//! tokens, in the same order, as the rewritten input. A file is only ever
//! replaced whole (temp file and rename).
//!
//! Pipeline: hcl-edit parses (syntax errors stop here) → `lexer` cuts tokens
//! → `canonical` rewrites labels and lone interpolations → `layout` sets the
//! spaces before every token, following hclwrite → `verify`.
//!
//! It does not print for the user nor pick exit codes: [`run`] writes file
//! names and diffs to the writer it is given and returns a [`FmtReport`];
//! the CLI decides what that means.
//!
//! Entry points: [`format_source`] for a string, [`run`] for paths.

mod canonical;
mod layout;
pub(crate) mod lexer;
mod run;
#[cfg(test)]
mod tests;

pub use run::{FmtOptions, FmtReport, run, run_with_stdin};

use std::path::PathBuf;

/// Everything that can go wrong while formatting. Each message says what to
/// do next; a syntax error carries its position.
///
/// # Examples
///
/// ```
/// use posture_engine::fmt::{FmtError, format_source};
///
/// match format_source("replicas = \n") {
///     Err(FmtError::Syntax { line, column, message, .. }) => {
///         assert_eq!((line, column), (1, 12));
///         assert!(message.contains("expected"));
///     }
///     other => panic!("expected a syntax error, got {other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum FmtError {
    /// The source does not parse; nothing was formatted or written.
    #[error(
        "{}:{line}:{column}: syntax error: {message}\n  fix the syntax error first: posture fmt leaves files that do not parse untouched",
        display_path(path.as_ref())
    )]
    Syntax {
        /// The file, or `None` for a string given to [`format_source`].
        path: Option<PathBuf>,
        /// One-based line of the error.
        line: usize,
        /// One-based column of the error.
        column: usize,
        /// What the parser expected or found.
        message: String,
    },
    /// A path given on the command line does not exist.
    #[error("no file or directory at {}: check the path", path.display())]
    NotFound {
        /// The missing path.
        path: PathBuf,
    },
    /// A file given explicitly is not an HCL file.
    #[error(
        "{}: only .hcl files (including .vars.hcl) can be formatted with posture fmt",
        path.display()
    )]
    NotHcl {
        /// The rejected file.
        path: PathBuf,
    },
    /// `-` (standard input) was combined with other paths.
    #[error("`-` reads standard input and cannot be combined with other paths")]
    StdinWithPaths,
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The unreadable path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A formatted file could not be written; the original is left intact.
    #[error("cannot write {}: {source} (the file was left unchanged)", path.display())]
    Write {
        /// The file that could not be replaced.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Writing file names, diffs or formatted output failed.
    #[error("cannot write output: {source}")]
    Output {
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The formatter's own check of its result failed. This is a bug in
    /// posture; the file was not changed.
    #[error(
        "{}: internal formatter error ({message}); the file was left unchanged, please report this with the file",
        display_path(path.as_ref())
    )]
    Internal {
        /// The file being formatted, if any.
        path: Option<PathBuf>,
        /// What the check found.
        message: String,
    },
}

impl FmtError {
    /// Attaches the file name to an error from [`format_source`].
    fn at(self, file: PathBuf) -> Self {
        match self {
            FmtError::Syntax {
                line,
                column,
                message,
                ..
            } => FmtError::Syntax {
                path: Some(file),
                line,
                column,
                message,
            },
            FmtError::Internal { message, .. } => FmtError::Internal {
                path: Some(file),
                message,
            },
            other => other,
        }
    }
}

fn display_path(path: Option<&PathBuf>) -> String {
    path.map_or_else(|| "<input>".to_string(), |p| p.display().to_string())
}

/// Formats HCL source in the canonical style and returns the result.
///
/// Line endings become `\n` and the result ends with exactly one newline
/// (an input with no tokens gives an empty string). Formatting is idempotent:
/// formatting the result again returns it unchanged.
///
/// # Errors
///
/// [`FmtError::Syntax`] (with line and column) when `src` does not parse;
/// [`FmtError::Internal`] if the formatter's check of its own output fails.
///
/// # Examples
///
/// ```
/// use posture_engine::fmt::format_source;
///
/// let src = "resource \"k8s_namespace\" \"web\" {\nname=\"web\"\nlabels={team=\"a\"}\n}\n";
/// let want = "resource \"k8s_namespace\" \"web\" {\n  name   = \"web\"\n  labels = { team = \"a\" }\n}\n";
/// assert_eq!(format_source(src).unwrap(), want);
///
/// // A value is missing on line 2: nothing is formatted.
/// let err = format_source("b {\n  c = \n}\n").unwrap_err();
/// assert!(matches!(err, posture_engine::fmt::FmtError::Syntax { line: 2, column: 7, .. }));
/// ```
pub fn format_source(src: &str) -> Result<String, FmtError> {
    // Line breaks move no line or column, so errors point at the original.
    let src = src.replace("\r\n", "\n");
    // A byte order mark is not HCL but is kept, so fmt changes only spacing.
    let (bom, src) = match src.strip_prefix(crate::config::source::BOM) {
        Some(rest) => ("\u{feff}", rest.to_string()),
        None => ("", src),
    };
    // Parsed as the loader parses (heredocs ended where Terraform ends
    // them), so fmt accepts and refuses exactly what `validate` does.
    let body = crate::config::heredoc::parse_body(&src).map_err(|p| syntax_error(&src, p))?;
    let tokens = lexer::lex(&src);
    let mut tokens = canonical::rewrite(tokens, &canonical::sites(&body));
    layout::format_tokens(&mut tokens);
    let mut out = layout::render(&tokens);
    let kept = out.trim_end_matches('\n').len();
    out.truncate(kept);
    if !out.is_empty() {
        out.push('\n');
    }
    verify(&tokens, &out)?;
    Ok(format!("{bom}{out}"))
}

/// The loader's parse problem as fmt reports it, at its line and column
/// (in characters).
fn syntax_error(src: &str, p: crate::config::heredoc::Problem) -> FmtError {
    match p {
        crate::config::heredoc::Problem::Syntax(e) => FmtError::Syntax {
            path: None,
            line: e.location().line(),
            column: e.location().column(),
            message: e.message().to_string(),
        },
        crate::config::heredoc::Problem::Heredoc(d, at) => {
            let before = &src[..at.start.min(src.len())];
            FmtError::Syntax {
                path: None,
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
                message: format!("{}: {}", d.summary, d.detail),
            }
        }
    }
}

/// Checks that `out` parses and holds exactly the tokens of the input, so a
/// formatter bug can never produce a broken or altered file.
fn verify(input: &[lexer::Token], out: &str) -> Result<(), FmtError> {
    let internal = |message: String| FmtError::Internal {
        path: None,
        message,
    };
    if let Err(p) = crate::config::heredoc::parse_body(out) {
        let (line, column) = match syntax_error(out, p) {
            FmtError::Syntax { line, column, .. } => (line, column),
            _ => (0, 0),
        };
        return Err(internal(format!(
            "the formatted text does not parse at {line}:{column}"
        )));
    }
    let key = |t: &lexer::Token| {
        let text = if t.kind == lexer::Kind::Comment {
            // A last-line comment gains the file's final newline.
            layout::trim_comment(&t.text)
                .trim_end_matches('\n')
                .to_string()
        } else {
            t.text.clone()
        };
        (t.kind, text)
    };
    // Line endings at the end of the file are the only tokens fmt may drop.
    let significant = |tokens: &[lexer::Token]| {
        let end = tokens
            .iter()
            .rposition(|t| t.kind != lexer::Kind::Newline)
            .map_or(0, |i| i + 1);
        tokens[..end].iter().map(key).collect::<Vec<_>>()
    };
    let before = significant(input);
    let after = significant(&lexer::lex(out));
    if before != after {
        let at = before
            .iter()
            .zip(&after)
            .position(|(a, b)| a != b)
            .unwrap_or(before.len().min(after.len()));
        return Err(internal(format!("token {at} changed while formatting")));
    }
    Ok(())
}
