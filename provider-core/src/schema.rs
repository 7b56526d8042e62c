//! Schemas that providers declare for their resource types. Decoding an
//! HCL body against one is the engine's (`posture_engine::lang::decode`):
//! a schema is plain data, and this layer knows no syntax.

use crate::addrs::Mode;
use crate::value::Type;
use std::collections::BTreeMap;

/// One attribute of a resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Its type (`Type::Dynamic` for any).
    pub ty: Type,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (possibly also optional).
    pub computed: bool,
    /// Never shown in plans, output or logs.
    pub sensitive: bool,
    /// A change replaces the object.
    pub force_new: bool,
    /// What it means.
    pub description: &'static str,
}

impl Attribute {
    /// A required argument.
    pub fn required(ty: Type, description: &'static str) -> Attribute {
        Attribute {
            ty,
            required: true,
            optional: false,
            computed: false,
            sensitive: false,
            force_new: false,
            description,
        }
    }
    /// An optional argument.
    pub fn optional(ty: Type, description: &'static str) -> Attribute {
        Attribute {
            required: false,
            optional: true,
            ..Attribute::required(ty, description)
        }
    }
    /// A value only the provider sets.
    pub fn computed(ty: Type, description: &'static str) -> Attribute {
        Attribute {
            required: false,
            computed: true,
            ..Attribute::required(ty, description)
        }
    }
    /// Marks a change to it as forcing replacement.
    pub fn force_new(mut self) -> Attribute {
        self.force_new = true;
        self
    }
    /// Marks it sensitive.
    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }
}

/// How a nested block type repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one; an object (or null).
    Single,
    /// Any number; a list of objects.
    List,
    /// Any number; a set of objects.
    Set,
}

/// A nested block type.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    /// How it repeats.
    pub nesting: Nesting,
    /// Its contents.
    pub block: Schema,
}

/// The schema of a resource type or nested block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    /// Attributes by name.
    pub attributes: BTreeMap<String, Attribute>,
    /// Nested block types by name.
    pub blocks: BTreeMap<String, NestedBlock>,
    /// What the resource type is for.
    pub description: &'static str,
}

impl Schema {
    /// The object type of a decoded body.
    pub fn ty(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|(k, a)| (k.clone(), a.ty.clone()))
            .collect();
        for (k, b) in &self.blocks {
            let t = b.block.ty();
            attrs.insert(
                k.clone(),
                match b.nesting {
                    Nesting::Single => t,
                    Nesting::List => Type::List(Box::new(t)),
                    Nesting::Set => Type::Set(Box::new(t)),
                },
            );
        }
        Type::Object(attrs)
    }
}

/// Where the engine finds the schema of a resource type (the providers, E2).
pub trait Schemas {
    /// The schema of a managed resource or data source type.
    fn schema(&self, mode: Mode, type_name: &str) -> Option<Schema>;
    /// Every type name of the given mode (for "did you mean" hints).
    fn type_names(&self, mode: Mode) -> Vec<String>;
}
