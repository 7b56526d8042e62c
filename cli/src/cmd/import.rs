//! `posture import ADDRESS ID`: adopts an existing object into the state,
//! as `terraform import` does.
//!
//! The address must be declared in the configuration and free in the state;
//! the provider reads the object by id (`Provider::import`), and the record
//! is committed as one new serial. Nothing is created or changed remotely;
//! the next plan compares the object with its configuration.

use super::common::{self, LockArgs};
use posture_engine::addrs::{InstanceKey, Mode, ResourceInstanceAddr, parse_instance};
use posture_engine::plan::statecodec;
use posture_engine::session::Session;
use posture_engine::state::InstanceRecord;
use posture_engine::workspace::Workspace;

/// Arguments of `posture import`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The instance address to import into, e.g. posture_data.x or posture_data.x["a"].
    address: String,
    /// The provider's id of the existing object.
    id: String,
    #[command(flatten)]
    lock: LockArgs,
    #[command(flatten)]
    vars: super::VarArgs,
}

/// Runs the command.
pub fn run(a: Args) -> u8 {
    match import(&a) {
        Ok(()) => 0,
        Err(c) => c,
    }
}

fn import(a: &Args) -> Result<(), u8> {
    // Refused before anything is loaded: no provider has an object whose id
    // is blank, and `posture_data` would adopt one.
    if a.id.trim().is_empty() {
        eprintln!(
            "Error: Invalid import id\n\nThe import ID cannot be empty{}: give the provider's id of the existing object, e.g. `posture import {} ID`.",
            if a.id.is_empty() {
                ""
            } else {
                " or only whitespace"
            },
            a.address
        );
        return Err(1);
    }
    let ws = common::load(&a.vars)?;
    let addr = parse_instance(&a.address).map_err(|e| {
        eprintln!("Error: Invalid address\n\n{e}.");
        1
    })?;
    let address = addr.to_string();
    check_declared(&ws, &addr)?;
    let providers = common::providers();
    let type_name = &addr.resource.type_name;
    let (Some(schema), true) = (
        providers.schema_of(Mode::Managed, type_name),
        providers.for_type(Mode::Managed, type_name).is_some(),
    ) else {
        return Err(unknown_type(type_name, &address));
    };
    let backend = common::open_state(Some(&ws), "import", &a.lock)?;
    let rt = common::runtime()?;
    let session = Session::new(ws, providers, backend);
    // The provider needs its settings (credentials, clusters) to read; then
    // what a killed run left is settled, as plan does: the address may be
    // one it was creating, and a state with pending operations is not
    // rewritten.
    let prepared = rt.block_on(session.prepare());
    super::plan::print_recovered(&session);
    if let Err(e) = prepared {
        return Err(super::plan::report_run_error(&e, &session));
    }
    let (ws, providers, backend) = (session.workspace(), session.providers(), session.backend());
    let Some((pname, provider)) = providers.for_type(Mode::Managed, type_name) else {
        return Err(unknown_type(type_name, &address));
    };
    let mut state = super::state::load(backend)?;
    if state.instances.contains_key(&address) {
        eprintln!(
            "Error: Resource already managed by posture\n\nposture is already managing a remote object for {address}. To import to this address you must first remove the existing object from the state (`posture state rm {address}`)."
        );
        return Err(1);
    }
    println!("{address}: Importing from ID {:?}...", a.id);
    // The configuration the resource names (`provider = route53.eu`).
    let (pname, provider) = providers
        .for_state(&ws.tree, &address, Mode::Managed, type_name, pname)
        .unwrap_or((pname, provider));
    let value = rt
        .block_on(provider.import(type_name, &a.id))
        .map_err(|e| {
            eprintln!(
                "Error: Cannot import {address}\n\nThe provider could not read the object with id {:?}: {e}. Check the id: only existing objects can be imported.",
                a.id
            );
            1
        })?;
    let (attributes, sensitive_paths) = statecodec::to_state(&value, &schema);
    let record = InstanceRecord {
        address: address.clone(),
        mode: posture_engine::state::Mode::Managed,
        resource_type: type_name.clone(),
        provider: pname.to_string(),
        target: provider.batch_key(type_name, &value),
        schema_version: 0,
        attributes,
        sensitive_paths,
        dependencies: Vec::new(),
        create_before_destroy: false,
        tainted: false,
        deposed: Default::default(),
    };
    state.instances.insert(address.clone(), record);
    super::state::commit(backend, &state, &format!("import: {address}"))?;
    println!("{address}: Import prepared!\n  Prepared {type_name} for import");
    println!(
        "\nImport successful!\n\nThe resources that were imported are shown above. These resources are now in\nyour posture state and will henceforth be managed by posture. Run `posture plan`\nto compare them with their configuration."
    );
    Ok(())
}

fn unknown_type(type_name: &str, address: &str) -> u8 {
    eprintln!(
        "Error: Unknown resource type\n\nNo provider of this posture serves resource type {type_name:?}, so {address} cannot be imported. Check the type name in the configuration."
    );
    1
}

/// The resource must have a block in the configuration, and the key must
/// fit its `count` (a number) or `for_each` (a string), or their absence.
fn check_declared(ws: &Workspace, addr: &ResourceInstanceAddr) -> Result<(), u8> {
    let address = addr.to_string();
    if addr.resource.mode == Mode::Data {
        eprintln!(
            "Error: Invalid address\n\n{address} is a data source: only managed resources can be imported. Data sources are read on every plan."
        );
        return Err(1);
    }
    let path = addr.module.static_path();
    let resource = ws
        .tree
        .descendant(&path)
        .and_then(|m| m.module.resources.get(&addr.resource));
    let Some(res) = resource else {
        let module_hint = if addr.module.is_root() {
            String::new()
        } else {
            format!(" in module {}", path.join("."))
        };
        eprintln!(
            "Error: Configuration for import target does not exist\n\nThe configuration for the given import target {address} does not exist. All target instances must have an associated configuration to be imported.\n\nTo import to this address you must first add a resource block for it{module_hint}:\n\nresource \"{}\" \"{}\" {{\n  # (resource arguments)\n}}",
            addr.resource.type_name, addr.resource.name
        );
        return Err(1);
    };
    let fits = matches!(
        (&addr.key, res.count.is_some(), res.for_each.is_some()),
        (InstanceKey::None, false, false)
            | (InstanceKey::Int(_), true, _)
            | (InstanceKey::Str(_), _, true)
    );
    if !fits {
        let want = if res.count.is_some() {
            format!("{}[0] (it uses count)", addr.resource)
        } else if res.for_each.is_some() {
            format!("{}[\"KEY\"] (it uses for_each)", addr.resource)
        } else {
            format!("{} (it has neither count nor for_each)", addr.resource)
        };
        eprintln!(
            "Error: Invalid instance key\n\nThe key of {address} does not match the resource's configuration: write {want}."
        );
        return Err(1);
    }
    Ok(())
}
