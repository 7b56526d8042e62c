//! The providers of a run, found by resource type prefix.

use super::{Provider, ProviderSchema};
use crate::addrs::Mode;
use crate::schema::{Schema, Schemas};

use std::sync::Arc;

/// The providers available to a run, with their schemas fetched once.
#[derive(Clone, Default)]
pub struct Providers {
    list: Vec<(String, Arc<dyn Provider>, ProviderSchema)>,
}

impl Providers {
    /// Registers providers; the built-in `posture` provider is always first.
    pub fn new(extra: Vec<Arc<dyn Provider>>) -> Providers {
        let mut all: Vec<Arc<dyn Provider>> = vec![Arc::new(super::PostureDataProvider)];
        all.extend(extra);
        let list = all
            .into_iter()
            .map(|p| {
                let s = p.schema();
                (p.name().to_string(), p, s)
            })
            .collect();
        Providers { list }
    }

    /// The provider serving a resource type: the one whose schema declares it.
    pub fn for_type(&self, mode: Mode, type_name: &str) -> Option<(&str, &Arc<dyn Provider>)> {
        self.list
            .iter()
            .find(|(_, _, s)| s.get(mode, type_name).is_some())
            .map(|(n, p, _)| (n.as_str(), p))
    }

    /// A provider by name.
    pub fn by_name(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.list
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, p, _)| p)
    }
}

impl Schemas for Providers {
    fn schema(&self, mode: Mode, type_name: &str) -> Option<Schema> {
        self.list
            .iter()
            .find_map(|(_, _, s)| s.get(mode, type_name).cloned())
    }
    fn type_names(&self, mode: Mode) -> Vec<String> {
        let mut v: Vec<String> = self
            .list
            .iter()
            .flat_map(|(_, _, s)| match mode {
                Mode::Managed => s.resources.keys().cloned().collect::<Vec<_>>(),
                Mode::Data => s.data_sources.keys().cloned().collect(),
            })
            .collect();
        v.sort();
        v
    }
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|(n, _, _)| n))
            .finish()
    }
}

impl Providers {
    /// The schema of a type, from whichever provider serves it.
    pub fn schema_of(&self, mode: Mode, type_name: &str) -> Option<Schema> {
        Schemas::schema(self, mode, type_name)
    }
}

impl Providers {
    /// Names and schemas of every provider.
    pub fn provider_schemas(&self) -> impl Iterator<Item = (&str, &ProviderSchema)> {
        self.list.iter().map(|(n, _, s)| (n.as_str(), s))
    }

    /// Configures every provider from its `provider` block (or no settings),
    /// as every command that talks to providers does first.
    ///
    /// # Errors
    /// Diagnostics for unknown provider blocks, settings that do not decode,
    /// and providers that refuse their settings.
    pub async fn configure(
        &self,
        ev: &crate::scope::Evaluation<'_>,
    ) -> Result<(), crate::diag::Diagnostics> {
        use crate::diag::{Diagnostic, Diagnostics};
        let mut diags = Diagnostics::default();
        for (name, block) in &ev.tree().module.providers {
            if self.by_name(name).is_none() {
                let names: Vec<&str> = self.list.iter().map(|(n, _, _)| n.as_str()).collect();
                let hint = crate::diag::suggest(name, names)
                    .map(|s| format!(" Did you mean \"{s}\"?"))
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::error(
                        "Unknown provider",
                        format!("This posture has no provider named \"{name}\".{hint}"),
                    )
                    .at(block.span),
                );
            }
        }
        for (name, p, schema) in &self.list {
            let settings = ev.provider_settings(name, &schema.provider);
            if ev.diagnostics().has_errors() {
                continue;
            }
            if let Err(e) = p.configure(settings).await {
                let mut d = Diagnostic::error(
                    "Invalid provider configuration",
                    format!("provider \"{name}\": {}", e.message),
                );
                if let Some(b) = ev.tree().module.providers.get(name) {
                    d = d.at(b.span);
                }
                diags.push(d);
            }
        }
        diags.extend(ev.diagnostics());
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(())
        }
    }
}
