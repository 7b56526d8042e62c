//! Addresses: how resources, their instances and module instances are named
//! (`module.app["eu"].posture_data.x[0]`). Addresses are plain values with
//! a canonical text form; this module evaluates nothing.

mod parse;

pub use parse::parse_instance;
use std::fmt;

/// The key of one instance of a resource or module: none (neither count nor
/// for_each), an index (count) or a string (for_each).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    /// A single instance.
    None,
    /// `[N]` from count.
    Int(i64),
    /// `["k"]` from for_each.
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(
                f,
                "[{}]",
                crate::value::render(&crate::value::Value::from(s.as_str()))
            ),
        }
    }
}

/// Whether a resource is managed (`resource`) or read (`data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// A `resource` block.
    Managed,
    /// A `data` block.
    Data,
}

/// A resource in a module, not yet expanded: `posture_data.x`, `data.t.n`.
///
/// ```
/// use posture_provider_core::addrs::{Mode, ResourceAddr};
/// let a = ResourceAddr { mode: Mode::Data, type_name: "route53_zone".into(), name: "main".into() };
/// assert_eq!(a.to_string(), "data.route53_zone.main");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceAddr {
    /// Managed or data.
    pub mode: Mode,
    /// The resource type, like `posture_data`.
    pub type_name: String,
    /// The name given in the block.
    pub name: String,
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mode == Mode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.type_name, self.name)
    }
}

/// A path of module instances from the root: empty for the root module.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleInstance(pub Vec<(String, InstanceKey)>);

impl ModuleInstance {
    /// The root module.
    pub fn root() -> ModuleInstance {
        ModuleInstance(Vec::new())
    }
    /// True for the root module.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    /// The instance of call `name` with `key` inside this one.
    pub fn child(&self, name: &str, key: InstanceKey) -> ModuleInstance {
        let mut v = self.0.clone();
        v.push((name.to_string(), key));
        ModuleInstance(v)
    }
    /// The module call names from the root, without keys (the static module path).
    pub fn static_path(&self) -> Vec<&str> {
        self.0.iter().map(|(n, _)| n.as_str()).collect()
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, key)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{name}{key}")?;
        }
        Ok(())
    }
}

/// One instance of a resource, anywhere in the module tree.
///
/// ```
/// use posture_provider_core::addrs::*;
/// let a = ResourceInstanceAddr {
///     module: ModuleInstance::root().child("app", InstanceKey::Str("eu".into())),
///     resource: ResourceAddr { mode: Mode::Managed, type_name: "posture_data".into(), name: "x".into() },
///     key: InstanceKey::Int(0),
/// };
/// assert_eq!(a.to_string(), "module.app[\"eu\"].posture_data.x[0]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceInstanceAddr {
    /// The module instance that holds it.
    pub module: ModuleInstance,
    /// The resource.
    pub resource: ResourceAddr,
    /// Which instance.
    pub key: InstanceKey,
}

impl fmt::Display for ResourceInstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        write!(f, "{}{}", self.resource, self.key)
    }
}
