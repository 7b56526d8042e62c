//! `posture force-unlock [--force] LOCK_ID`: removes a state lock left by a
//! run that died, as `terraform force-unlock` does.
//!
//! It asks for "yes" on a terminal unless `--force`, and removes the lock
//! only when LOCK_ID is the id of the lock held now. It never opens the
//! state database: the lock record is readable without it.

use posture_engine::state::{LockInfo, StateError, StateLocation};
use std::io::{BufRead, IsTerminal, Write};

/// Arguments of `posture force-unlock`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The lock id, as the "state is locked" error shows it.
    lock_id: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    force: bool,
}

/// Runs the command.
pub fn run(a: Args) -> u8 {
    let ws = posture_engine::workspace::Workspace::load(&super::cwd(), &[], &super::env());
    let location = match super::common::location(Some(&ws)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    // A partitioned state has a lock per partition: the one with this id.
    let holders = location.lock_holders().map(|hs| {
        hs.iter()
            .find(|h| h.id == a.lock_id)
            .or(hs.first())
            .cloned()
    });
    let holder = match holders {
        Ok(Some(h)) => h,
        // A damaged lock file names no holder: its id is a digest of it.
        Err(StateError::LockFileCorrupt {
            path, unlock_id, ..
        }) if unlock_id == a.lock_id => {
            let what = format!(
                "The lock file {} is damaged, so who holds the lock is unknown.",
                path.display()
            );
            if !a.force && !confirmed(&what) {
                return 1;
            }
            return unlock(location.as_ref(), &a.lock_id);
        }
        Ok(None) => {
            eprintln!(
                "Error: Failed to unlock state\n\nThe {} is not locked; there is nothing to unlock.",
                location.describe()
            );
            return 1;
        }
        Err(e) => {
            eprintln!("Error: Failed to unlock state\n\n{e}");
            return 1;
        }
    };
    if holder.id != a.lock_id {
        eprintln!(
            "Error: Failed to unlock state\n\nLock ID {} does not match the current lock {} held by {} (operation: {}, since {}). Check the ID; nothing was unlocked.",
            a.lock_id, holder.id, holder.who, holder.operation, holder.created
        );
        return 1;
    }
    let what = format!(
        "The lock {} is held by {} (operation: {}, pid {}, since {}).",
        holder.id, holder.who, holder.operation, holder.pid, holder.created
    );
    if !a.force && !confirmed(&what) {
        return 1;
    }
    unlock(location.as_ref(), &a.lock_id)
}

/// Asks for "yes" on a terminal; false (with the reason printed) otherwise.
fn confirmed(what: &str) -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        eprintln!(
            "Error: No confirmation possible\n\nposture asks for confirmation on a terminal; standard input is not one. Use --force to unlock without asking."
        );
        return false;
    }
    print!(
        "{what}\n\nDo you really want to force-unlock?\n  posture will remove the lock on the state.\n  This will allow local posture commands to modify this state, even though it\n  may still be in use. Only 'yes' will be accepted to confirm.\n\n  Enter a value: "
    );
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = stdin.lock().read_line(&mut line);
    if line.trim() != "yes" {
        eprintln!("\nforce-unlock cancelled; the lock is still held.");
        return false;
    }
    true
}

fn unlock(location: &dyn StateLocation, lock_id: &str) -> u8 {
    match location.force_unlock(lock_id) {
        Ok(Some(info)) => {
            print_unlocked(&info);
            0
        }
        Ok(None) => {
            println!(
                "posture state has been successfully unlocked!\n\nThe damaged lock file was removed; posture commands can now take a new lock. If a posture run was still alive on this state, its next write fails instead of overwriting."
            );
            0
        }
        Err(e) => {
            eprintln!("Error: Failed to unlock state\n\n{e}");
            1
        }
    }
}

fn print_unlocked(info: &LockInfo) {
    println!(
        "posture state has been successfully unlocked!\n\nThe lock {} held by {} (operation: {}, pid {} on {}, since {}) was removed; posture commands can now take a new lock. If that run is still alive, its next write fails instead of overwriting.",
        info.id, info.who, info.operation, info.pid, info.host, info.created
    );
}
