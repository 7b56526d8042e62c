//! `posture state list|show|history|rm|mv|pull|push`: reading and editing
//! the state directly, as `terraform state` does.
//!
//! Every subcommand takes the state lock (`--lock-timeout` to wait for it).
//! Edits (`rm`, `mv`) change records only and commit one new serial through
//! [`Backend::rewrite`]; they never call a provider nor touch real objects.
//! This module must not print secrets, except `state pull`, whose output is
//! the raw state for backups and migrations, as `terraform state pull`.

mod edit;

pub(crate) use edit::commit;

use super::common::{self, LockArgs};
use posture_engine::addrs::{Mode as AddrMode, parse_instance};
use posture_engine::plan::statecodec;
use posture_engine::state::{Backend, InstanceRecord, Mode, State, StateError};
use posture_engine::value::{Value, render};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `posture state`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand, Debug)]
enum Sub {
    /// List the instances in the state, sorted (optionally only those under ADDRESS...).
    List {
        /// Resource, instance or module addresses to filter by.
        addresses: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Show one instance's attributes, or with --serial N the whole snapshot N.
    Show {
        /// The instance address, e.g. posture_data.x["a"].
        address: Option<String>,
        /// Show the snapshot committed at this serial (see `posture state history`).
        #[arg(long, value_name = "N")]
        serial: Option<u64>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// List every committed serial: time, operation, who, summary, instance count.
    History {
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Forget instances without destroying them (a resource address forgets all its instances).
    Rm {
        /// Instance, resource or module addresses.
        #[arg(required = true)]
        addresses: Vec<String>,
        /// Only say what would be removed.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Rename an instance, a whole resource or a module's instances in the state.
    Mv {
        /// The current address.
        source: String,
        /// The new address (must not exist in the state).
        destination: String,
        /// Only say what would be moved.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Print the raw state as versioned JSON (secrets included: for backups and migrations).
    Pull {
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Replace the state with a JSON state file (`-` reads stdin).
    Push {
        /// The state file, as `posture state pull` writes it.
        file: PathBuf,
        /// Push even if the lineage differs or the serial is older.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
}

/// Runs the command.
pub fn run(a: Args) -> u8 {
    let result = match a.command {
        Sub::List { addresses, lock } => list(&addresses, &lock),
        Sub::Show {
            address,
            serial,
            lock,
        } => show(address.as_deref(), serial, &lock),
        Sub::History { lock } => history(&lock),
        Sub::Rm {
            addresses,
            dry_run,
            lock,
        } => edit::rm(&addresses, dry_run, &lock),
        Sub::Mv {
            source,
            destination,
            dry_run,
            lock,
        } => edit::mv(&source, &destination, dry_run, &lock),
        Sub::Pull { lock } => pull(&lock),
        Sub::Push { file, force, lock } => push(&file, force, &lock),
    };
    match result {
        Ok(()) => 0,
        Err(code) => code,
    }
}

/// Opens the state under its lock for `operation`, wherever the
/// configuration puts it; configuration errors are ignored here, as state
/// commands must work on a configuration that does not validate.
pub(crate) fn open(operation: &str, lock: &LockArgs) -> Result<Arc<dyn Backend>, u8> {
    let ws = posture_engine::workspace::Workspace::load(&super::cwd(), &[], &super::env());
    common::open_state(Some(&ws), operation, lock)
}

/// The working state, or exit 1 with the reason.
pub(crate) fn load(backend: &Arc<dyn Backend>) -> Result<State, u8> {
    backend.load().map_err(|e| {
        eprintln!("Error: Failed to read state\n\n{e}");
        1
    })
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub(crate) fn out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// A user-typed address in canonical form: an instance or resource address,
/// or a module instance path (`module.a["k"]`).
pub(crate) fn canonical(s: &str) -> Result<String, String> {
    // The parser would stop at a line break and blame what follows, or
    // accept a trailing one: say what is really wrong.
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        let what = match c {
            '\n' | '\r' => "a line break".to_string(),
            '\t' => "a tab".to_string(),
            c => format!("the control character U+{:04X}", c as u32),
        };
        return Err(format!(
            "{s:?} is not a valid address: it contains {what}; an address is one line, such as \
             posture_data.x[\"a\"] (check the quoting in your shell)"
        ));
    }
    if let Ok(a) = parse_instance(s) {
        return Ok(a.to_string());
    }
    if s.starts_with("module.") {
        // A module path is valid when a resource address can follow it.
        if let Ok(a) = parse_instance(&format!("{s}.t.n")) {
            return Ok(a.module.to_string());
        }
    }
    Err(format!(
        "{s:?} is not a valid address; write a resource (posture_data.x), an instance \
         (posture_data.x[0], posture_data.x[\"a\"]) or a module (module.app[\"eu\"])"
    ))
}

/// Whether the instance at `addr` is `filter` or lies under it (an instance
/// of that resource, or anything in that module).
pub(crate) fn under(addr: &str, filter: &str) -> bool {
    addr == filter
        || (addr.starts_with(filter)
            && matches!(addr.as_bytes().get(filter.len()), Some(b'[') | Some(b'.')))
}

/// Parses every filter, or exit 1 naming the bad one.
pub(crate) fn canonical_all(addresses: &[String]) -> Result<Vec<String>, u8> {
    addresses
        .iter()
        .map(|a| canonical(a))
        .collect::<Result<_, _>>()
        .map_err(|e| {
            eprintln!("Error: Invalid address\n\n{e}.");
            1
        })
}

fn list(addresses: &[String], lock: &LockArgs) -> Result<(), u8> {
    let filters = canonical_all(addresses)?;
    let backend = open("state list", lock)?;
    let state = load(&backend)?;
    // BTreeMap keys: already sorted.
    let mut text = String::new();
    for addr in state.instances.keys() {
        if filters.is_empty() || filters.iter().any(|f| under(addr, f)) {
            text.push_str(addr);
            text.push('\n');
        }
    }
    out(&text);
    Ok(())
}

fn show(address: Option<&str>, serial: Option<u64>, lock: &LockArgs) -> Result<(), u8> {
    let providers = common::providers();
    match (address, serial) {
        (None, None) => {
            eprintln!(
                "Error: Missing address\n\n`posture state show` needs an instance address (see `posture state list`), or --serial N to show a whole snapshot (see `posture state history`)."
            );
            Err(1)
        }
        (Some(_), Some(_)) => {
            eprintln!(
                "Error: Too many arguments\n\nGive either an instance address or --serial N, not both; `posture state show --serial N` shows every instance of that snapshot."
            );
            Err(1)
        }
        (None, Some(n)) => {
            let backend = open("state show", lock)?;
            let snap = backend.snapshot(n).map_err(|e| {
                eprintln!("Error: No such snapshot\n\n{e}");
                1
            })?;
            let mut text = format!(
                "# snapshot serial {} (lineage {}), {} instance(s)\n\n",
                snap.serial,
                snap.lineage,
                snap.instances.len()
            );
            for rec in snap.instances.values() {
                text.push_str(&render_instance(rec, &providers));
            }
            out(&text);
            print_outputs(&snap);
            Ok(())
        }
        (Some(a), None) => {
            let addr = canonical(a).map_err(|e| {
                eprintln!("Error: Invalid address\n\n{e}.");
                1
            })?;
            let backend = open("state show", lock)?;
            let state = load(&backend)?;
            match state.instances.get(&addr) {
                Some(rec) => {
                    print!("{}", render_instance(rec, &providers));
                    Ok(())
                }
                None => {
                    let several = state.instances.keys().filter(|k| under(k, &addr)).count();
                    let hint = if several > 0 {
                        format!(
                            " {addr} has {several} instances; name one of them, e.g. {}.",
                            state
                                .instances
                                .keys()
                                .find(|k| under(k, &addr))
                                .map(String::as_str)
                                .unwrap_or("")
                        )
                    } else {
                        String::new()
                    };
                    eprintln!(
                        "Error: No instance found for the given address\n\nThere is no instance {addr} in the state.{hint} This command requires an address of one specific instance; `posture state list` lists them."
                    );
                    Err(1)
                }
            }
        }
    }
}

/// One instance as `terraform state show` prints it, sensitive values shown
/// as `(sensitive value)`.
pub(crate) fn render_instance(
    rec: &InstanceRecord,
    providers: &posture_engine::provider::Providers,
) -> String {
    // A record may hold only deposed objects (its current one deleted).
    let mut out = if rec.attributes.is_null() && !rec.deposed.is_empty() {
        String::new()
    } else {
        render_object(rec, &format!("{}:", rec.address), providers)
    };
    // Objects a replacement left, not deleted yet, as Terraform shows them.
    for (key, d) in &rec.deposed {
        let object = InstanceRecord {
            attributes: d.attributes.clone(),
            sensitive_paths: d.sensitive_paths.clone(),
            tainted: false,
            deposed: Default::default(),
            ..rec.clone()
        };
        let heading = format!("{}: (deposed object {key})", rec.address);
        out.push_str(&render_object(&object, &heading, providers));
    }
    out
}

/// One object of a record, under the line `# HEADING`.
fn render_object(
    rec: &InstanceRecord,
    heading: &str,
    providers: &posture_engine::provider::Providers,
) -> String {
    let mode = match rec.mode {
        Mode::Managed => AddrMode::Managed,
        Mode::Data => AddrMode::Data,
    };
    let name = parse_instance(&rec.address)
        .map(|a| a.resource.name)
        .unwrap_or_else(|_| rec.address.clone());
    // Typed by the schema when the type is known, so values render as the
    // console shows them; otherwise the redacted JSON, never the raw one.
    let attrs: BTreeMap<String, Value> = match providers.schema_of(mode, &rec.resource_type) {
        Some(schema) => match statecodec::from_state(rec, &schema) {
            Value::Object(m) => m,
            _ => BTreeMap::new(),
        },
        None => match Value::from_json(&rec.redacted_attributes()) {
            Value::Object(m) => m,
            _ => BTreeMap::new(),
        },
    };
    let kind = if rec.mode == Mode::Data {
        "data"
    } else {
        "resource"
    };
    let mut out = format!(
        "# {heading}\n{kind} \"{}\" \"{name}\" {{\n",
        rec.resource_type
    );
    let width = attrs.keys().map(String::len).max().unwrap_or(0);
    for (k, v) in &attrs {
        let shown = render(v).replace('\n', "\n    ");
        out.push_str(&format!("    {k:width$} = {shown}\n"));
    }
    if rec.tainted {
        out.push_str("    # tainted: the next apply replaces it\n");
    }
    out.push_str("}\n\n");
    out
}

fn print_outputs(state: &State) {
    super::apply::print_outputs(&state.outputs);
}

fn history(lock: &LockArgs) -> Result<(), u8> {
    let backend = open("state history", lock)?;
    let entries = backend.history().map_err(|e| {
        eprintln!("Error: Failed to read the state history\n\n{e}");
        1
    })?;
    if entries.is_empty() {
        println!(
            "No serial has been committed yet: the state is empty. `posture apply` commits the first one."
        );
        return Ok(());
    }
    let who_w = entries
        .iter()
        .map(|e| e.who.len())
        .max()
        .unwrap_or(3)
        .max(3);
    let op_w = entries
        .iter()
        .map(|e| e.operation.len())
        .max()
        .unwrap_or(9)
        .max(9);
    println!(
        "{:>6}  {:<24}  {:<op_w$}  {:<who_w$}  {:>9}  SUMMARY",
        "SERIAL", "TIME", "OPERATION", "WHO", "INSTANCES"
    );
    for e in &entries {
        println!(
            "{:>6}  {:<24}  {:<op_w$}  {:<who_w$}  {:>9}  {}",
            e.serial, e.time, e.operation, e.who, e.instances, e.summary
        );
    }
    Ok(())
}

fn pull(lock: &LockArgs) -> Result<(), u8> {
    let backend = open("state pull", lock)?;
    let json = backend.pull().map_err(|e| {
        eprintln!("Error: Failed to read state\n\n{e}");
        1
    })?;
    out(&json);
    out("\n");
    Ok(())
}

fn push(file: &std::path::Path, force: bool, lock: &LockArgs) -> Result<(), u8> {
    let text = if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| {
        eprintln!(
            "Error: Failed to read the state file\n\n{}: {e}; give the path of a file written by `posture state pull`.",
            file.display()
        );
        1
    })?;
    let backend = open("state push", lock)?;
    let before = load(&backend)?.serial;
    match backend.push(&text, force) {
        Ok(serial) if serial == before => {
            println!("The pushed state is the current state (serial {serial}); nothing changed.");
            Ok(())
        }
        Ok(serial) => {
            println!(
                "Pushed {}: the state is now serial {serial}.",
                file.display()
            );
            Ok(())
        }
        Err(e @ StateError::InvalidPush { .. }) => {
            eprintln!("Error: Failed to push the state\n\n{}: {e}", file.display());
            Err(1)
        }
        Err(e) => {
            eprintln!("Error: Failed to push the state\n\n{e}");
            Err(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{canonical, under};

    #[test]
    fn addresses_are_canonical_and_modules_are_accepted() {
        assert_eq!(
            canonical("posture_data.x[\"a\"]").as_deref(),
            Ok("posture_data.x[\"a\"]")
        );
        assert_eq!(
            canonical("module.m[\"k\"]").as_deref(),
            Ok("module.m[\"k\"]")
        );
        assert_eq!(
            canonical("module.m.module.n").as_deref(),
            Ok("module.m.module.n")
        );
        let e = canonical("posture_data.").expect_err("incomplete");
        assert!(e.contains("posture_data."), "{e}");
        assert!(canonical("module.").is_err());
    }

    #[test]
    fn address_with_a_newline_is_refused_for_the_newline() {
        for s in [
            "posture_data.y\nz",
            "posture_data.y\n",
            "posture_data.y\r\n",
        ] {
            let e = canonical(s).expect_err("line break");
            assert!(e.contains("contains a line break"), "{e}");
        }
        let e = canonical("posture_data.y\tz").expect_err("tab");
        assert!(e.contains("contains a tab"), "{e}");
    }

    #[test]
    fn under_matches_instances_of_a_resource_and_contents_of_a_module_only() {
        assert!(under("posture_data.x", "posture_data.x"));
        assert!(under("posture_data.x[0]", "posture_data.x"));
        assert!(under("posture_data.x[\"a\"]", "posture_data.x"));
        assert!(!under("posture_data.xy", "posture_data.x"));
        assert!(!under("posture_data.x[0]", "posture_data.x[1]"));
        assert!(under("module.m.posture_data.x", "module.m"));
        assert!(under("module.m[\"k\"].posture_data.x", "module.m"));
        assert!(!under("module.mm.posture_data.x", "module.m"));
        assert!(!under("module.m.posture_data.x", "posture_data.x"));
    }
}
