//! `posture console`

use crate::output::print_diags;
use posture_engine::scope::Strictness;
use posture_engine::value::render;
use posture_engine::workspace::Workspace;
use std::io::{BufRead, IsTerminal, Write};

/// Arguments of `posture console`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    vars: super::VarArgs,
}

/// Reads expressions (one per line, or several lines while brackets are
/// open), prints each value as Terraform's console does. Exit 1 when an
/// expression failed (non-interactive) or the configuration is invalid.
pub fn run(a: Args) -> u8 {
    let ws = Workspace::load(&super::cwd(), &a.vars.cli_vars(), &super::env());
    if ws.diags.has_errors() {
        print_diags(&ws.diags, &ws.sources);
        return 1;
    }
    let providers = super::common::providers();
    let ev = ws.evaluation(&providers, Strictness::Full);
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut failed = false;
    let mut pending = String::new();
    let mut out = std::io::stdout();
    loop {
        if interactive {
            let _ = write!(out, "{}", if pending.is_empty() { "> " } else { ". " });
            let _ = out.flush();
        }
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let t = line.trim();
        if pending.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if pending.is_empty() && (t == "exit" || t == "quit") {
            break;
        }
        pending.push_str(&line);
        if incomplete(&pending) {
            continue;
        }
        let src = std::mem::take(&mut pending);
        let src = src.trim();
        // Each input gets its own entry so its diagnostics can quote it.
        let mut sources = ws.sources.clone();
        let file = sources.add(
            "<console-input>",
            std::path::Path::new("<console-input>"),
            std::sync::Arc::from(src),
        );
        match ev.eval_str(src, file) {
            Ok(v) => {
                let _ = writeln!(out, "{}", render(&v));
            }
            Err(d) => {
                print_diags(&d, &sources);
                failed = true;
            }
        }
    }
    u8::from(failed && !interactive)
}

/// True while `s` is an unfinished expression: a bracket or a heredoc is
/// still open. Heredoc text is not counted (`{` in a template body).
fn incomplete(s: &str) -> bool {
    let mut depth = 0i64;
    let mut heredoc: Option<&str> = None;
    for line in s.lines() {
        if let Some(marker) = heredoc {
            // hclsyntax's rule: a line holding only the marker ends it.
            if line.trim() == marker {
                heredoc = None;
            }
            continue;
        }
        depth += open_brackets(line);
        heredoc = heredoc_opened(line);
    }
    depth > 0 || heredoc.is_some()
}

/// The marker of the heredoc `line` opens at its end (`<<EOT`, `<<-EOT`).
fn heredoc_opened(line: &str) -> Option<&str> {
    let at = line.rfind("<<")?;
    let marker = line[at + 2..].trim_start_matches('-').trim_end();
    let mut chars = marker.chars();
    let first = chars.next()?;
    ((first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-'))
    .then_some(marker)
}

fn open_brackets(s: &str) -> i64 {
    let mut depth = 0i64;
    let mut in_str = false;
    let mut prev = ' ';
    for c in s.chars() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => depth -= 1,
            _ => {}
        }
        prev = c;
    }
    depth
}
