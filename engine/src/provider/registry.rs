//! The providers of a run, found by resource type prefix.

use super::{Provider, ProviderSchema};
use crate::addrs::Mode;
use crate::schema::{Schema, Schemas};

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// Makes a fresh, unconfigured instance of one provider: each aliased
/// configuration (`provider "route53" { alias = "eu" }`) gets its own.
pub type ProviderFactory = Arc<dyn Fn() -> Arc<dyn Provider> + Send + Sync>;

/// The providers available to a run, with their schemas fetched once.
/// Each provider has its default instance; [`Providers::configure`] adds
/// one instance per aliased configuration, keyed `NAME.ALIAS`.
#[derive(Clone, Default)]
pub struct Providers {
    list: Vec<(String, Arc<dyn Provider>, ProviderSchema)>,
    factories: BTreeMap<String, ProviderFactory>,
    aliased: Arc<OnceLock<BTreeMap<String, Arc<dyn Provider>>>>,
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
        Providers {
            list,
            ..Providers::default()
        }
    }

    /// As [`Providers::new`], from factories, so that a provider may have
    /// several configurations: one instance per (provider, alias).
    pub fn from_factories(factories: Vec<ProviderFactory>) -> Providers {
        let mut p = Providers::new(factories.iter().map(|f| f()).collect());
        p.factories = p
            .list
            .iter()
            .skip(1)
            .map(|(n, _, _)| n.clone())
            .zip(factories)
            .collect();
        p
    }

    /// The instance of a configuration key (`route53`, `route53.eu`); the
    /// aliased ones exist once [`Providers::configure`] ran.
    pub fn instance(&self, key: &str) -> Option<(&str, &Arc<dyn Provider>)> {
        if let Some((k, p)) = self.aliased.get().and_then(|m| m.get_key_value(key)) {
            return Some((k.as_str(), p));
        }
        self.list
            .iter()
            .find(|(n, _, _)| n == key)
            .map(|(n, p, _)| (n.as_str(), p))
    }

    /// The configuration serving a resource of `module`'s tree: the one its
    /// `provider` meta-argument names, else the default one of its type.
    pub fn for_resource(
        &self,
        resource: &crate::config::Resource,
    ) -> Option<(&str, &Arc<dyn Provider>)> {
        let default = self.for_type(resource.addr.mode, &resource.addr.type_name)?;
        let r = crate::config::providers::resolve(resource, default.0);
        match r.alias {
            Some(_) => self.instance(&r.key()),
            None => Some(default),
        }
    }

    /// The configuration a recorded instance is read with: the one its
    /// resource names when still configured (so a changed alias reads from
    /// the new configuration), else the one that made it (`provider` in its
    /// record: `route53` or `route53.eu`).
    ///
    /// # Errors
    /// A message when no provider serves the type or the recorded aliased
    /// configuration is no longer declared.
    pub fn for_state(
        &self,
        tree: &crate::config::ModuleTree,
        address: &str,
        mode: Mode,
        type_name: &str,
        recorded: &str,
    ) -> Result<(&str, &Arc<dyn Provider>), String> {
        let configured = crate::addrs::parse_instance(address).ok().and_then(|a| {
            let t = tree.descendant(&a.module.static_path())?;
            t.module.resources.get(&a.resource)
        });
        if let Some(r) = configured
            && let Some(found) = self.for_resource(r)
        {
            return Ok(found);
        }
        let Some(default) = self.for_type(mode, type_name) else {
            return Err(format!(
                "is of type {type_name} in state, and no provider of this posture serves it. Use a posture build with that provider, or remove the instance from state with posture state rm."
            ));
        };
        let key = recorded.strip_prefix("provider.").unwrap_or(recorded);
        if !key.contains('.') || crate::config::providers::key_provider(key) != default.0 {
            return Ok(default);
        }
        self.instance(key).ok_or_else(|| format!("was made with provider configuration {key}, which is no longer declared. Declare provider \"{}\" {{ alias = \"{}\" }} again until it is destroyed or moved to another configuration.", default.0, key.split_once('.').map_or("", |(_, a)| a)))
    }

    /// The provider serving a resource type: the one whose schema declares it.
    pub fn for_type(&self, mode: Mode, type_name: &str) -> Option<(&str, &Arc<dyn Provider>)> {
        self.list
            .iter()
            .find(|(_, _, s)| s.get(mode, type_name).is_some())
            .map(|(n, p, _)| (n.as_str(), p))
    }

    /// A provider by name, or an aliased configuration by key (`route53.eu`).
    pub fn by_name(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.instance(name).map(|(_, p)| p)
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
        use crate::diag::Diagnostic;
        let tree = ev.tree();
        let names: Vec<String> = self.list.iter().map(|(n, _, _)| n.clone()).collect();
        let serves = |mode: Mode, t: &str| self.for_type(mode, t).map(|(n, _)| n.to_string());
        let mut diags = crate::config::providers::check(tree, &names, &serves);
        // One fresh instance per aliased configuration, made once per run.
        let mut made: BTreeMap<String, Arc<dyn Provider>> = BTreeMap::new();
        for (key, block) in &tree.module.providers {
            if block.alias.is_none() || !names.contains(&block.name) {
                continue;
            }
            match self.factories.get(&block.name) {
                Some(f) => {
                    made.insert(key.clone(), f());
                }
                None => diags.push(
                    Diagnostic::error(
                        "Provider does not support aliases",
                        format!(
                            "provider \"{}\" has a single configuration in this posture build; remove alias.",
                            block.name
                        ),
                    )
                    .at(block.span),
                ),
            }
        }
        let _ = self.aliased.set(made);
        let mut todo: Vec<(String, Arc<dyn Provider>, &crate::schema::Schema)> = self
            .list
            .iter()
            .map(|(n, p, s)| (n.clone(), p.clone(), &s.provider))
            .collect();
        if let Some(m) = self.aliased.get() {
            for (key, p) in m {
                let name = crate::config::providers::key_provider(key);
                if let Some((_, _, s)) = self.list.iter().find(|(n, _, _)| n == name) {
                    todo.push((key.clone(), p.clone(), &s.provider));
                }
            }
        }
        for (key, p, schema) in todo {
            let settings = ev.provider_settings(&key, schema);
            if ev.diagnostics().has_errors() {
                continue;
            }
            if let Err(e) = p.configure(settings).await {
                let mut d = Diagnostic::error(
                    "Invalid provider configuration",
                    format!("provider \"{key}\": {}", e.message),
                );
                if let Some(b) = tree.module.providers.get(&key) {
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
