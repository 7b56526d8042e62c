//! Server-side apply: field sets (FieldsV1), list types, managedFields bookkeeping and
//! the apply merge with conflict detection.

pub mod apply;
pub mod fieldset;
pub mod managed;
pub mod schema;
