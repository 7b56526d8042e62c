//! placeholder

pub(super) fn register(_: &mut super::util::Table) {}
