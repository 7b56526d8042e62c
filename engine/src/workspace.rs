//! Loading a working directory the way every command does: the module tree,
//! the root variables from all their sources, the `posture` block checks.

use crate::config::vars::{self, CliVar};
use crate::config::{ModuleTree, check_required_version, load_tree};
use crate::diag::{Diagnostic, Diagnostics, SourceMap};
use crate::schema::Schemas;
use crate::scope::{Evaluation, Strictness};
use std::collections::BTreeMap;
use std::path::Path;

/// A loaded working directory.
pub struct Workspace {
    /// Every source file read.
    pub sources: SourceMap,
    /// The configuration.
    pub tree: ModuleTree,
    /// Root variable values, raw.
    pub raw_vars: BTreeMap<String, vars::RawVar>,
    /// Problems found while loading.
    pub diags: Diagnostics,
}

impl Workspace {
    /// Loads `dir` with the given `--var`/`--var-file` options and environment.
    pub fn load(dir: &Path, cli: &[CliVar], env: &BTreeMap<String, String>) -> Workspace {
        let mut sources = SourceMap::default();
        let (tree, mut diags) = load_tree(dir, &mut sources);
        if tree.module.files.is_empty() && !diags.has_errors() {
            diags.push(Diagnostic::error(
                "No configuration files",
                format!("The directory {} contains no posture configuration files (*.hcl). Change to a directory that has them, or use --chdir.", dir.display()),
            ));
        }
        if let Some((c, span)) = &tree.module.settings.required_version {
            match check_required_version(c, env!("CARGO_PKG_VERSION")) {
                Ok(true) => {}
                Ok(false) => diags.push(
                    Diagnostic::error(
                        "Unsupported posture version",
                        format!("This configuration requires posture {c}, but this is posture {}. Use a posture release that matches the constraint.", env!("CARGO_PKG_VERSION")),
                    )
                    .at(*span),
                ),
                Err(e) => diags.push(Diagnostic::error("Invalid required_version", e).at(*span)),
            }
        }
        let (raw_vars, vdiags) = vars::collect(dir, &tree.module, cli, env, &mut sources);
        diags.extend(vdiags);
        Workspace {
            sources,
            tree,
            raw_vars,
            diags,
        }
    }

    /// Starts an evaluation of the whole configuration.
    pub fn evaluation<'a>(
        &'a self,
        schemas: &'a dyn Schemas,
        strictness: Strictness,
    ) -> Evaluation<'a> {
        Evaluation::new(
            &self.tree,
            &self.sources,
            schemas,
            self.raw_vars.clone(),
            strictness,
        )
    }

    /// Loads and evaluates everything, as `posture validate` does: returns
    /// every diagnostic, sorted.
    pub fn validate(&self, schemas: &dyn Schemas) -> Diagnostics {
        self.validate_then(schemas, |_| Diagnostics::default())
    }

    /// As [`Workspace::validate`], then, when that found no error, `more`
    /// on the same evaluation (every value already computed and memoised,
    /// so later checks do not evaluate the configuration a second time);
    /// what `more` returns is added. Diagnostics the evaluation reports
    /// during `more` are not: they repeat the ones already collected.
    pub fn validate_then(
        &self,
        schemas: &dyn Schemas,
        more: impl FnOnce(&Evaluation<'_>) -> Diagnostics,
    ) -> Diagnostics {
        let mut all = self.diags.clone();
        if !self.diags.has_errors() {
            let ev = self.evaluation(schemas, Strictness::Validate);
            ev.evaluate_all();
            all.extend(ev.diagnostics());
            all.extend(crate::config::providers::check_with_schemas(
                &self.tree, schemas,
            ));
            if !all.has_errors() {
                all.extend(more(&ev));
            }
        }
        all.sort_dedup();
        all
    }
}
