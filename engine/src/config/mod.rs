//! Configuration: `*.hcl` files of a directory turned into a typed model of
//! blocks, with expressions kept unevaluated (and their spans), and the tree
//! of local modules. Loading reports every mistake it finds at once.

mod dupkeys;
pub(crate) mod heredoc;
mod load;
mod model;
pub mod providers;
pub mod source;
pub mod typeexpr;
pub mod vars;
mod version;

pub use load::{ModuleTree, load_tree};
pub use model::*;
pub use version::check_required_version;
