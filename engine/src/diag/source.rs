//! Source files and positions: byte spans turned into line and column.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span in `file` over `range`.
    pub fn new(file: FileId, range: std::ops::Range<usize>) -> Span {
        Span {
            file,
            start: range.start,
            end: range.end,
        }
    }
}

/// A one-based line and column (in characters) plus the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// Byte offset, from 0.
    pub byte: usize,
}

#[derive(Clone)]
struct SourceFile {
    name: String,
    path: PathBuf,
    text: Arc<str>,
    line_starts: Vec<usize>,
}

/// Every source file read in a run, so diagnostics can quote them.
#[derive(Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Adds a file; `name` is how diagnostics show it (relative to the working directory).
    pub fn add(&mut self, name: impl Into<String>, path: &Path, text: Arc<str>) -> FileId {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        self.files.push(SourceFile {
            name: name.into(),
            path: path.to_path_buf(),
            text,
            line_starts,
        });
        FileId((self.files.len() - 1) as u32)
    }
    /// The display name of a file.
    pub fn name(&self, id: FileId) -> &str {
        self.files
            .get(id.0 as usize)
            .map(|f| f.name.as_str())
            .unwrap_or("<unknown>")
    }
    /// The path a file was read from.
    pub fn path(&self, id: FileId) -> Option<&Path> {
        self.files.get(id.0 as usize).map(|f| f.path.as_path())
    }
    /// The text of a file.
    pub fn text(&self, id: FileId) -> &str {
        self.files
            .get(id.0 as usize)
            .map(|f| &*f.text)
            .unwrap_or("")
    }
    /// The source text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        self.text(span.file).get(span.start..span.end).unwrap_or("")
    }
    /// Line and column of a byte offset.
    pub fn pos(&self, file: FileId, byte: usize) -> Pos {
        let Some(f) = self.files.get(file.0 as usize) else {
            return Pos {
                line: 1,
                column: 1,
                byte,
            };
        };
        let byte = byte.min(f.text.len());
        let line = f.line_starts.partition_point(|&s| s <= byte).max(1);
        let start = f.line_starts[line - 1];
        let column = f
            .text
            .get(start..byte)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        Pos { line, column, byte }
    }
    /// The text of line `line` (one-based), without its newline.
    pub fn line_text(&self, file: FileId, line: usize) -> &str {
        let Some(f) = self.files.get(file.0 as usize) else {
            return "";
        };
        let Some(&start) = f.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = f
            .line_starts
            .get(line)
            .map(|e| e - 1)
            .unwrap_or(f.text.len());
        f.text.get(start..end).unwrap_or("").trim_end_matches('\r')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let mut m = SourceMap::default();
        let id = m.add("a.hcl", Path::new("a.hcl"), Arc::from("ab\né = 1\n"));
        assert_eq!(
            m.pos(id, 0),
            Pos {
                line: 1,
                column: 1,
                byte: 0
            }
        );
        let p = m.pos(id, 6); // the "=": é is 2 bytes but one column
        assert_eq!((p.line, p.column), (2, 3));
        assert_eq!(m.line_text(id, 2), "é = 1");
    }
}
