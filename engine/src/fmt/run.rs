//! The `posture fmt [--check] [--diff] [--recursive] [--write=false] [PATH...]`
//! behaviour, modelled on `terraform fmt`: which files to visit, what to
//! print for each, and how to replace a file safely.
//!
//! It must not print anything but the list of changed files, diffs and (for
//! standard input) the formatted text, all to the writer it is given; and it
//! must not choose exit codes: that is the CLI's job, from the [`FmtReport`].

use super::{FmtError, format_source};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What `posture fmt` was asked to do. [`Default`] is plain `posture fmt`:
/// format the `.hcl` files of the current directory in place.
///
/// # Examples
///
/// ```
/// use posture_engine::fmt::FmtOptions;
/// use std::path::PathBuf;
///
/// // posture fmt --check --recursive envs/
/// let opts = FmtOptions {
///     check: true,
///     recursive: true,
///     paths: vec![PathBuf::from("envs")],
///     ..FmtOptions::default()
/// };
/// assert!(opts.write, "--check alone leaves `write` on; check wins and writes nothing");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FmtOptions {
    /// `--check`: write nothing; list the files that need formatting. The
    /// CLI exits 3 when [`FmtReport::needs_formatting`] is true.
    pub check: bool,
    /// `--diff`: print a unified diff of each change.
    pub diff: bool,
    /// `--write` (default true): replace files with their formatted text.
    /// Ignored with `--check` and for standard input.
    pub write: bool,
    /// `--recursive`: also visit subdirectories (never hidden ones such as
    /// `.posture/`, nor `target/`).
    pub recursive: bool,
    /// Files and directories to format; empty means the current directory,
    /// and a single `-` means standard input to standard output.
    pub paths: Vec<PathBuf>,
}

impl Default for FmtOptions {
    fn default() -> Self {
        FmtOptions {
            check: false,
            diff: false,
            write: true,
            recursive: false,
            paths: Vec::new(),
        }
    }
}

/// The outcome of [`run`].
///
/// Per-file problems (a syntax error, an unreadable or unwritable file, a
/// named file that is not `.hcl`) do not stop the run: they are collected in
/// `errors` and the other files are still processed, as with
/// `terraform fmt`. The CLI should print each error (its `Display` says
/// where and what to do) to standard error, then exit 2 if `errors` is not
/// empty, else 3 if `--check` was given and
/// [`needs_formatting`](Self::needs_formatting), else 0. An `Err` from
/// [`run`] itself also means exit 2.
///
/// # Examples
///
/// ```
/// use posture_engine::fmt::{FmtOptions, run_with_stdin};
///
/// let opts = FmtOptions { check: true, paths: vec!["-".into()], ..FmtOptions::default() };
/// let mut out = Vec::new();
/// let report = run_with_stdin(&opts, &mut "a=1\n".as_bytes(), &mut out).unwrap();
/// assert!(report.needs_formatting());
/// assert!(report.errors.is_empty());
/// assert!(out.is_empty(), "--check on stdin prints nothing");
/// ```
#[derive(Debug, Default)]
pub struct FmtReport {
    /// Number of files (or standard input) that were read and parsed.
    pub files_checked: usize,
    /// Files whose formatting differs from the canonical style: rewritten,
    /// or with `--check`/`--write=false`, left as they were. Standard input
    /// appears as `<stdin>`.
    pub changed: Vec<PathBuf>,
    /// Problems with single files; those files were left unchanged.
    pub errors: Vec<FmtError>,
}

impl FmtReport {
    /// Whether any file differs from the canonical style.
    ///
    /// # Examples
    ///
    /// ```
    /// let report = posture_engine::fmt::FmtReport::default();
    /// assert!(!report.needs_formatting());
    /// ```
    pub fn needs_formatting(&self) -> bool {
        !self.changed.is_empty()
    }
}

/// Runs `posture fmt` with `opts`, reading standard input for `-`.
///
/// See [`run_with_stdin`] for the behaviour and errors.
///
/// # Examples
///
/// ```
/// use posture_engine::fmt::{FmtOptions, run};
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("main.hcl"), "a=1\n").unwrap();
/// let opts = FmtOptions { paths: vec![dir.path().to_path_buf()], ..FmtOptions::default() };
/// let mut out = Vec::new();
/// let report = run(&opts, &mut out).unwrap();
/// assert_eq!(report.changed, vec![dir.path().join("main.hcl")]);
/// assert_eq!(std::fs::read_to_string(dir.path().join("main.hcl")).unwrap(), "a = 1\n");
/// ```
pub fn run(opts: &FmtOptions, out: &mut dyn Write) -> Result<FmtReport, FmtError> {
    run_with_stdin(opts, &mut std::io::stdin().lock(), out)
}

/// Runs `posture fmt` with `opts`, reading `stdin` when the only path is `-`.
///
/// For each changed file it prints the file's name (one per line), then with
/// `--diff` a unified diff (`old/<path>`, `new/<path>`). Files are replaced
/// atomically (temp file and rename) unless `--check` or `--write=false`.
/// For `-` it prints the formatted text (or only the diff with `--diff`, or
/// nothing with `--check`).
///
/// # Errors
///
/// Before anything is written: [`FmtError::NotFound`] for a missing path,
/// [`FmtError::StdinWithPaths`] for `-` mixed with other paths. During the
/// run: [`FmtError::Output`] if `out` cannot be written. Per-file errors go
/// to [`FmtReport::errors`].
///
/// # Examples
///
/// ```
/// use posture_engine::fmt::{FmtOptions, run_with_stdin};
///
/// let opts = FmtOptions { paths: vec!["-".into()], ..FmtOptions::default() };
/// let mut out = Vec::new();
/// run_with_stdin(&opts, &mut "b {\nx=1\n}".as_bytes(), &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "b {\n  x = 1\n}\n");
/// ```
pub fn run_with_stdin(
    opts: &FmtOptions,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<FmtReport, FmtError> {
    let mut report = FmtReport::default();
    if opts.paths.iter().any(|p| p.as_os_str() == "-") {
        if opts.paths.len() > 1 {
            return Err(FmtError::StdinWithPaths);
        }
        format_stdin(opts, stdin, out, &mut report)?;
        return Ok(report);
    }
    let paths = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    // Check every path first, so a typo in the last one does not leave the
    // first ones half-processed.
    for path in &paths {
        match fs::metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FmtError::NotFound { path: path.clone() });
            }
            Err(source) => {
                return Err(FmtError::Read {
                    path: path.clone(),
                    source,
                });
            }
        }
    }
    for path in &paths {
        if path.is_dir() {
            visit_dir(opts, path, out, &mut report)?;
        } else if is_hcl_name(path) {
            format_file(opts, path, out, &mut report)?;
        } else {
            report.errors.push(FmtError::NotHcl { path: path.clone() });
        }
    }
    Ok(report)
}

fn format_stdin(
    opts: &FmtOptions,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    report: &mut FmtReport,
) -> Result<(), FmtError> {
    let name = PathBuf::from("<stdin>");
    let mut bytes = Vec::new();
    if let Err(source) = stdin.read_to_end(&mut bytes) {
        report.errors.push(FmtError::Read { path: name, source });
        return Ok(());
    }
    let src = match text_of(bytes, &name) {
        Ok(src) => src,
        Err(e) => {
            report.errors.push(e);
            return Ok(());
        }
    };
    let formatted = match format_source(&src) {
        Ok(f) => f,
        Err(e) => {
            report.errors.push(e.at(name));
            return Ok(());
        }
    };
    report.files_checked += 1;
    let changed = formatted != src;
    if changed {
        report.changed.push(name.clone());
    }
    let output = if opts.diff {
        if changed {
            unified_diff(&src, &formatted, &name)
        } else {
            String::new()
        }
    } else if opts.check {
        String::new()
    } else {
        formatted
    };
    out.write_all(output.as_bytes())
        .map_err(|source| FmtError::Output { source })
}

/// Hidden entries (`.posture/`, `.git/`), editor backups (`x~`, `#x#`) and
/// `target/` are never visited.
fn is_ignored(name: &str, is_dir: bool) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'))
        || (is_dir && name == "target")
}

fn is_hcl_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".hcl") && n.len() > ".hcl".len())
}

fn visit_dir(
    opts: &FmtOptions,
    dir: &Path,
    out: &mut dyn Write,
    report: &mut FmtReport,
) -> Result<(), FmtError> {
    let read_err = |source| FmtError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match fs::read_dir(dir).and_then(|rd| rd.collect::<Result<Vec<_>, _>>()) {
        Ok(entries) => entries,
        Err(e) => {
            report.errors.push(read_err(e));
            return Ok(());
        }
    };
    let mut entries: Vec<(PathBuf, bool)> = entries
        .iter()
        .map(|e| {
            let path = child_path(dir, &e.file_name());
            // Not following symlinks (as terraform fmt): a link to a parent
            // directory must not send `--recursive` round in circles.
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (path, is_dir)
        })
        .collect();
    // Sorted, so output and reports do not depend on the file system.
    entries.sort();
    for (path, is_dir) in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if is_ignored(&name, is_dir) {
            continue;
        }
        if is_dir {
            if opts.recursive {
                visit_dir(opts, &path, out, report)?;
            }
        } else if is_hcl_name(&path) {
            format_file(opts, &path, out, report)?;
        }
    }
    Ok(())
}

/// A file's text; bytes that are not UTF-8 text are a syntax error at
/// their line and column. A byte order mark stays (see `format_source`).
fn text_of(bytes: Vec<u8>, path: &Path) -> Result<String, FmtError> {
    let bom = bytes.starts_with(b"\xef\xbb\xbf");
    match crate::config::source::decode(bytes) {
        Ok(text) if bom => Ok(format!("{}{text}", crate::config::source::BOM)),
        Ok(text) => Ok(text),
        Err(bad) => Err(FmtError::Syntax {
            path: Some(path.to_path_buf()),
            line: bad.line,
            column: bad.column,
            message: bad.summary_and_detail().1.to_string(),
        }),
    }
}

/// `dir/name`, but plain `name` in `.`: file names are printed as the user
/// would type them (`main.hcl`, not `./main.hcl`), as terraform fmt does.
fn child_path(dir: &Path, name: &std::ffi::OsStr) -> PathBuf {
    if dir == Path::new(".") {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

fn format_file(
    opts: &FmtOptions,
    path: &Path,
    out: &mut dyn Write,
    report: &mut FmtReport,
) -> Result<(), FmtError> {
    let src = match fs::read(path) {
        Ok(bytes) => match text_of(bytes, path) {
            Ok(src) => src,
            Err(e) => {
                report.errors.push(e);
                return Ok(());
            }
        },
        Err(source) => {
            report.errors.push(FmtError::Read {
                path: path.to_path_buf(),
                source,
            });
            return Ok(());
        }
    };
    let formatted = match format_source(&src) {
        Ok(f) => f,
        Err(e) => {
            report.errors.push(e.at(path.to_path_buf()));
            return Ok(());
        }
    };
    report.files_checked += 1;
    if formatted == src {
        return Ok(());
    }
    report.changed.push(path.to_path_buf());
    let output_err = |source| FmtError::Output { source };
    writeln!(out, "{}", path.display()).map_err(output_err)?;
    if opts.write
        && !opts.check
        && let Err(source) = write_atomically(path, &formatted)
    {
        report.errors.push(FmtError::Write {
            path: path.to_path_buf(),
            source,
        });
    }
    if opts.diff {
        out.write_all(unified_diff(&src, &formatted, path).as_bytes())
            .map_err(output_err)?;
    }
    Ok(())
}

fn unified_diff(old: &str, new: &str, path: &Path) -> String {
    let name = path.display();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("old/{name}"), &format!("new/{name}"))
        .to_string()
}

/// Replaces `path` with `text` through a temp file in the same directory and
/// a rename, so a crash leaves either the old file or the new one, never a
/// mix. Keeps the file's permissions; writes through a symlink to its target.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let target = fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let perms = fs::metadata(&target)?.permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".posture-fmt-")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().set_permissions(perms)?;
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_in_the_current_directory_are_named_without_dot_slash() {
        assert_eq!(
            child_path(Path::new("."), "a.hcl".as_ref()),
            PathBuf::from("a.hcl")
        );
        assert_eq!(
            child_path(Path::new("envs"), "a.hcl".as_ref()),
            PathBuf::from("envs/a.hcl")
        );
    }

    #[test]
    fn ignored_names() {
        for (name, is_dir) in [
            (".posture", true),
            ("target", true),
            ("a.hcl~", false),
            ("#a.hcl#", false),
        ] {
            assert!(is_ignored(name, is_dir), "{name}");
        }
        for (name, is_dir) in [("envs", true), ("target.hcl", false), ("#", false)] {
            assert!(!is_ignored(name, is_dir), "{name}");
        }
        assert!(is_hcl_name(Path::new("prod.vars.hcl")));
        assert!(!is_hcl_name(Path::new(".hcl")));
        assert!(!is_hcl_name(Path::new("main.tf")));
    }
}
