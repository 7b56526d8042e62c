//! Diagnostics: user mistakes reported with a summary, a detail and the
//! place in the source, collected so that one run reports every mistake.
//! Rendering here produces text; printing is the CLI's job.

mod render;
mod source;

pub use render::{render, to_json};
pub use source::{FileId, Pos, SourceMap, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The run cannot go on.
    Error,
    /// Worth knowing; the run goes on.
    Warning,
}

/// One problem found in the configuration or while evaluating it.
///
/// ```
/// use posture_engine::diag::{Diagnostic, Diagnostics};
/// let mut d = Diagnostics::default();
/// d.push(Diagnostic::error("Unsupported argument", "An argument named \"x\" is not expected here."));
/// assert!(d.has_errors());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub summary: String,
    /// Longer explanation, and what to do about it.
    pub detail: String,
    /// Where, when the problem is in a source file.
    pub span: Option<Span>,
    /// The enclosing block, like `resource "posture_data" "x"`.
    pub context: Option<String>,
}

impl Diagnostic {
    /// An error with no location yet.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            span: None,
            context: None,
        }
    }
    /// A warning with no location yet.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }
    /// Sets the location.
    pub fn at(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }
    /// Sets the location when there is one.
    pub fn at_opt(mut self, span: Option<Span>) -> Diagnostic {
        if self.span.is_none() {
            self.span = span;
        }
        self
    }
    /// Sets the enclosing block description, unless one is already set.
    pub fn in_context(mut self, ctx: impl Into<String>) -> Diagnostic {
        if self.context.is_none() {
            self.context = Some(ctx.into());
        }
        self
    }
}

/// A collection of diagnostics from one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    /// Adds all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Iterates over them.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
    /// Sorts by file and position, keeping the order of equal ones, and
    /// removes exact duplicates (one mistake reached twice).
    pub fn sort_dedup(&mut self) {
        self.0.sort_by_key(|d| d.span.map(|s| (s.file, s.start)));
        self.0.dedup();
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

/// The closest of `candidates` to `name`, for "Did you mean ...?" hints.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("regin", ["region", "zone"]), Some("region"));
        assert_eq!(suggest("xyz", ["region", "zone"]), None);
    }
}
