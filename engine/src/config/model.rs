//! The configuration model: one [`Module`] per directory.

use super::typeexpr::TypeConstraint;
use crate::addrs::{Mode, ResourceAddr};
use crate::diag::{FileId, Span};
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::Body;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// An unevaluated expression and the file it came from.
#[derive(Debug, Clone)]
pub struct Expr {
    /// The file.
    pub file: FileId,
    /// The syntax tree (with byte spans into the file).
    pub expr: Expression,
}

impl Expr {
    /// Where the expression is.
    pub fn span(&self) -> Span {
        Span::new(self.file, self.expr.span().unwrap_or(0..0))
    }
}

/// A block body kept for later decoding against a schema.
#[derive(Debug, Clone)]
pub struct BodyRef {
    /// The file.
    pub file: FileId,
    /// The body, without the meta-arguments posture itself handles.
    pub body: Body,
}

/// `posture { ... }`
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `required_version = "..."` and where it is.
    pub required_version: Option<(String, Span)>,
    /// `backend "local" { path = "..." }`, `backend "s3" { ... }` or `backend "kubernetes" { ... }`
    pub backend: Option<Backend>,
    /// `encryption { ... }`, kept as written: the `posture-encryption`
    /// crate decodes it (the engine knows no cipher).
    pub encryption: Option<EncryptionBlock>,
    /// `state_partition = "cluster"`: one state and lock per cluster
    /// (docs/backends.md); [`StatePartition::None`] when unset.
    pub state_partition: StatePartition,
}

/// How the state of a configuration is split (`posture { state_partition }`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatePartition {
    /// One state and one lock for everything (the default).
    #[default]
    None,
    /// One state and one lock per cluster, and one for resources on no cluster.
    Cluster,
}

/// The `encryption` block of `posture { }`, undecoded.
#[derive(Debug, Clone)]
pub struct EncryptionBlock {
    /// Its body and file.
    pub body: BodyRef,
    /// Where the block is.
    pub span: Span,
}

/// The backend types a `backend` block may name, and each one's settings.
pub const BACKEND_KINDS: &[(&str, &[&str])] = &[
    ("local", &["path", "lock_ttl"]),
    (
        "s3",
        &[
            "bucket",
            "key",
            "region",
            "endpoint",
            "force_path_style",
            "profile",
            "access_key",
            "secret_key",
            "token",
            "workspace_key_prefix",
            "encrypt",
            "server_side_encryption",
            "kms_key_id",
            "lock_ttl",
        ],
    ),
    (
        "kubernetes",
        &[
            "kubeconfig",
            "context",
            "namespace",
            "secret_suffix",
            "name",
            "lock_ttl",
        ],
    ),
];

/// A literal backend setting (backends are read before any variable is).
#[derive(Debug, Clone, PartialEq)]
pub enum BackendSetting {
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
}

/// A state backend setting.
#[derive(Debug, Clone)]
pub struct Backend {
    /// Backend type: one of [`BACKEND_KINDS`].
    pub kind: String,
    /// `path`, when set (local).
    pub path: Option<String>,
    /// Every setting given, with where its value is.
    pub settings: BTreeMap<String, (BackendSetting, Span)>,
    /// Where the block is.
    pub span: Span,
}

/// A `variable` block.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// `type`, or `any` when absent.
    pub ty: TypeConstraint,
    /// `default`
    pub default: Option<Expr>,
    /// `description`
    pub description: Option<String>,
    /// `validation` blocks.
    pub validations: Vec<Validation>,
    /// `sensitive`
    pub sensitive: bool,
    /// `nullable` (default true)
    pub nullable: bool,
    /// Where the block starts.
    pub span: Span,
}

/// A `validation { condition, error_message }` block.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Must be true for the value to be accepted.
    pub condition: Expr,
    /// Shown when the condition is false.
    pub error_message: Expr,
}

/// A `locals` entry.
#[derive(Debug, Clone)]
pub struct Local {
    /// Its name.
    pub name: String,
    /// Its expression.
    pub value: Expr,
}

/// An `output` block.
#[derive(Debug, Clone)]
pub struct Output {
    /// Its name.
    pub name: String,
    /// `value`
    pub value: Expr,
    /// `description`
    pub description: Option<String>,
    /// `sensitive`
    pub sensitive: bool,
    /// `depends_on`
    pub depends_on: Vec<Expr>,
    /// Where the block starts.
    pub span: Span,
}

/// `lifecycle { ... }`
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    /// Create the replacement before destroying the old object.
    pub create_before_destroy: bool,
    /// Refuse any plan that destroys this resource.
    pub prevent_destroy: bool,
    /// Attribute paths whose changes are ignored (or every attribute, with `all`).
    pub ignore_changes: IgnoreChanges,
    /// References whose change replaces this resource.
    pub replace_triggered_by: Vec<Expr>,
}

/// What `ignore_changes` names.
#[derive(Debug, Clone, Default)]
pub enum IgnoreChanges {
    /// Nothing ignored.
    #[default]
    None,
    /// `ignore_changes = all`
    All,
    /// Attribute paths, as traversals like `tags["env"]`.
    Paths(Vec<Expr>),
}

/// A `resource` or `data` block.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Its address within the module.
    pub addr: ResourceAddr,
    /// `count`
    pub count: Option<Expr>,
    /// `for_each`
    pub for_each: Option<Expr>,
    /// `depends_on`
    pub depends_on: Vec<Expr>,
    /// `lifecycle`
    pub lifecycle: Lifecycle,
    /// `provider = route53.eu`: the provider configuration it uses
    /// (`None`: the default configuration of the provider serving its type).
    pub provider: Option<super::providers::ProviderRef>,
    /// The `providers = { ... }` maps of the module calls above it, the
    /// innermost first: (the name inside the called module, what the caller
    /// passes). Empty in the root module.
    pub inherited_providers: Vec<Vec<super::providers::ProviderMapping>>,
    /// The body without meta-arguments.
    pub body: BodyRef,
    /// Where the block starts (its type and labels).
    pub span: Span,
}

impl Resource {
    /// `resource "t" "n"` or `data "t" "n"`, as diagnostics name the block.
    pub fn describe(&self) -> String {
        let kw = match self.addr.mode {
            Mode::Managed => "resource",
            Mode::Data => "data",
        };
        format!("{kw} \"{}\" \"{}\"", self.addr.type_name, self.addr.name)
    }
}

/// A `module "NAME" { source = "./dir" ... }` block.
#[derive(Debug, Clone)]
pub struct ModuleCall {
    /// Its name.
    pub name: String,
    /// `source` as written.
    pub source: String,
    /// The directory the source resolves to.
    pub source_dir: PathBuf,
    /// `count`
    pub count: Option<Expr>,
    /// `for_each`
    pub for_each: Option<Expr>,
    /// Input variables for the child module.
    pub inputs: BTreeMap<String, Expr>,
    /// `depends_on`
    pub depends_on: Vec<Expr>,
    /// `providers = { route53 = route53.eu }`: the caller's configurations
    /// the called module's resources use.
    pub providers: Vec<super::providers::ProviderMapping>,
    /// Where the block starts.
    pub span: Span,
}

/// A `provider "NAME" { ... }` block: the provider's settings.
#[derive(Debug, Clone)]
pub struct ProviderBlock {
    /// The provider's name (`route53`).
    pub name: String,
    /// `alias = "eu"` and where it is: a second configuration of the provider.
    pub alias: Option<(String, Span)>,
    /// The settings (without `alias`), decoded against the provider's schema when used.
    pub body: BodyRef,
    /// Where the block starts.
    pub span: Span,
}

/// A `cluster "NAME" { ... }` block: a Kubernetes cluster resources target
/// with `cluster = cluster.NAME` (or `cluster.NAME["key"]` with for_each).
#[derive(Debug, Clone)]
pub struct ClusterBlock {
    /// Its name.
    pub name: String,
    /// `for_each`, for a fleet of clusters.
    pub for_each: Option<Expr>,
    /// `kubeconfig`, `context`, `labels`, `field_manager`.
    pub attrs: BTreeMap<String, Expr>,
    /// Where the block starts.
    pub span: Span,
}

/// Everything declared in one directory.
#[derive(Debug, Clone, Default)]
pub struct Module {
    /// The directory.
    pub dir: PathBuf,
    /// The files, in load order.
    pub files: Vec<FileId>,
    /// The `posture` block, root module only.
    pub settings: Settings,
    /// `variable` blocks by name.
    pub variables: BTreeMap<String, Variable>,
    /// `locals` entries by name.
    pub locals: BTreeMap<String, Local>,
    /// `output` blocks by name.
    pub outputs: BTreeMap<String, Output>,
    /// `resource` and `data` blocks by address.
    pub resources: BTreeMap<ResourceAddr, Resource>,
    /// `module` blocks by name.
    pub module_calls: BTreeMap<String, ModuleCall>,
    /// `provider` blocks by configuration key, `route53` or `route53.eu`
    /// (root module only).
    pub providers: BTreeMap<String, ProviderBlock>,
    /// `cluster` blocks by name.
    pub clusters: BTreeMap<String, ClusterBlock>,
}
