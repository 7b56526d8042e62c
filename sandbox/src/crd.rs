//! CustomResourceDefinitions as the apiextensions server treats them: the name must be
//! `<plural>.<group>`, a CRD must not shadow a built-in kind, and an accepted CRD gets
//! `NamesAccepted` and `Established` conditions at once.
//!
//! Registering the kind is `registry`'s job; this module only checks and fills status.

use serde_json::{Value, json};

use crate::registry::ResourceType;
use crate::ssa::managed;
use crate::status::{ApiError, ApiResult};
use crate::store::State;

/// Checks a CRD's name and spec and fills its status (Established, NamesAccepted).
pub fn prepare(st: &State, obj: &mut Value, name: &str) -> ApiResult<()> {
    let Some(t) = crate::registry::crd_type(obj) else {
        return Err(ApiError::invalid("apiextensions.k8s.io", "CustomResourceDefinition", name, vec![(
            "spec".into(),
            "Required value: group, names.plural, names.kind and at least one served version are required".into(),
        )]));
    };
    if name != format!("{}.{}", t.plural, t.group) {
        return Err(ApiError::invalid(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            name,
            vec![(
                "metadata.name".into(),
                format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
            )],
        ));
    }
    if st
        .registry
        .find(&t.group, &t.versions[0], &t.plural)
        .is_some_and(ResourceType::builtin)
    {
        return Err(ApiError::invalid(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            name,
            vec![(
                "spec.group".into(),
                "Invalid value: the group and plural name a built-in resource".into(),
            )],
        ));
    }
    let now = managed::now();
    let names = obj["spec"]["names"].clone();
    let storage: Vec<Value> = t
        .versions
        .first()
        .map(|v| vec![json!(v)])
        .unwrap_or_default();
    obj["status"] = json!({
        "acceptedNames": names,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now},
        ],
        "storedVersions": storage,
    });
    Ok(())
}
