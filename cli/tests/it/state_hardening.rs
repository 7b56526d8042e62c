//! Regression tests through the binary for states that wedged for good:
//! deep values, serials that wrap, damaged lock files, a database that lost
//! committed history; and the reasons `state mv` and `state push` give.

use super::support::{Out, posture};

use std::path::Path;

fn run(dir: &Path, args: &[&str], code: i32) -> Out {
    let o = posture(dir, args);
    assert_eq!(
        o.code, code,
        "posture {args:?}: exit {}\n{}\n{}",
        o.code, o.stdout, o.stderr
    );
    o
}

fn workdir(main: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.hcl"), main).expect("write main.hcl");
    d
}

/// Locals nesting a list `depth` levels deep, built with literals (the
/// parser allows 64 levels per expression, so a chain of locals) and with
/// `jsondecode`; `local.literal` and `local.decoded` hold the results.
fn deep_locals(depth: usize) -> String {
    let mut text = String::from("locals {\n  l0 = \"leaf\"\n");
    let (mut done, mut i) = (0, 0);
    while done < depth {
        let step = (depth - done).min(50);
        text.push_str(&format!(
            "  l{} = {}local.l{i}{}\n",
            i + 1,
            "[".repeat(step),
            "]".repeat(step)
        ));
        done += step;
        i += 1;
    }
    let json = format!("{}\\\"leaf\\\"{}", "[".repeat(depth), "]".repeat(depth));
    text.push_str(&format!(
        "  literal = local.l{i}\n  decoded = jsondecode(\"{json}\")\n}}\n"
    ));
    text
}

#[test]
fn value_nested_200_levels_round_trips_through_apply_plan_show_push_and_destroy() {
    let main = format!(
        "{}\nresource \"posture_data\" \"literal\" {{\n  input = local.literal\n}}\n\
         resource \"posture_data\" \"decoded\" {{\n  input = local.decoded\n}}\n\
         output \"deep\" {{\n  value = local.decoded\n}}\n",
        deep_locals(200)
    );
    let d = workdir(&main);
    let dir = d.path();
    run(dir, &["validate"], 0);
    run(dir, &["apply", "--auto-approve"], 0);
    // The records apply wrote read back: this used to fail for good.
    let plan = run(dir, &["plan"], 0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    run(dir, &["state", "show", "posture_data.decoded"], 0);
    run(dir, &["show", "--json"], 0);
    run(dir, &["output"], 0);
    let pulled = run(dir, &["state", "pull"], 0).stdout;
    std::fs::write(dir.join("pulled.json"), &pulled).expect("write");
    run(dir, &["state", "push", "--force", "pulled.json"], 0);
    run(dir, &["plan", "--out", "deep.plan"], 0);
    // show of a saved plan used to call it "not JSON" past 128 levels.
    let shown = run(dir, &["show", "deep.plan"], 0);
    assert!(shown.stdout.contains("No changes."), "{}", shown.stdout);
    run(dir, &["apply", "deep.plan"], 0);
    run(dir, &["destroy", "--auto-approve"], 0);
    assert_eq!(run(dir, &["state", "list"], 0).stdout, "");
}

#[test]
fn value_nested_past_the_language_bound_is_a_diagnostic_at_file_line_col() {
    let main = format!(
        "{}\noutput \"o\" {{\n  value = local.literal\n}}\n",
        deep_locals(1_050)
    );
    let d = workdir(&main);
    for args in [&["validate"][..], &["plan"][..]] {
        let o = run(d.path(), args, 1);
        assert!(o.stderr.contains("Value nested too deeply"), "{}", o.stderr);
        assert!(o.stderr.contains("main.hcl:"), "{}", o.stderr);
        assert!(o.stderr.contains("at most 1000"), "{}", o.stderr);
    }
}

#[test]
fn pushed_state_nested_past_the_decoder_bound_is_refused_without_a_crash() {
    let d = workdir("resource \"posture_data\" \"a\" {\n  input = 1\n}\n");
    run(d.path(), &["apply", "--auto-approve"], 0);
    let hostile = format!("{{\"format_version\":1,\"x\":{}}}", "[".repeat(100_000));
    std::fs::write(d.path().join("deep.json"), hostile).expect("write");
    let o = run(d.path(), &["state", "push", "--force", "deep.json"], 1);
    assert!(
        o.stderr.contains("nested more than 5000 levels"),
        "{}",
        o.stderr
    );
    run(d.path(), &["plan"], 0);
}

fn with_serial(dir: &Path, name: &str, state: &serde_json::Value, serial: u64) {
    let mut s = state.clone();
    s["serial"] = serial.into();
    std::fs::write(dir.join(name), s.to_string()).expect("write");
}

#[test]
fn serial_that_cannot_grow_is_refused_and_an_old_state_cannot_come_back_unforced() {
    let d = workdir("resource \"posture_data\" \"a\" {\n  input = 1\n}\n");
    let dir = d.path();
    run(dir, &["apply", "--auto-approve"], 0);
    let state: serde_json::Value =
        serde_json::from_str(&run(dir, &["state", "pull"], 0).stdout).expect("JSON");
    std::fs::write(dir.join("old.json"), state.to_string()).expect("write");
    with_serial(dir, "max.json", &state, u64::MAX);
    for force in [false, true] {
        let mut args = vec!["state", "push", "max.json"];
        if force {
            args.push("--force");
        }
        let o = run(dir, &args, 1);
        assert!(o.stderr.contains("is too large"), "{}", o.stderr);
    }
    // Serials past 127 used to make `state history` report corruption.
    with_serial(dir, "s300.json", &state, 300);
    run(dir, &["state", "push", "s300.json"], 0);
    std::fs::write(
        dir.join("main.hcl"),
        "resource \"posture_data\" \"a\" {\n  input = 2\n}\n",
    )
    .expect("write");
    run(dir, &["apply", "--auto-approve"], 0);
    let history = run(dir, &["state", "history"], 0).stdout;
    assert!(history.contains("   301  "), "{history}");
    let o = run(dir, &["state", "push", "old.json"], 1);
    assert!(o.stderr.contains("older than"), "{}", o.stderr);
}

#[test]
fn force_unlock_removes_a_lock_file_of_garbage_with_a_clear_message() {
    let d = workdir("resource \"posture_data\" \"a\" {\n  input = 1\n}\n");
    let dir = d.path();
    run(dir, &["apply", "--auto-approve"], 0);
    std::fs::write(dir.join(".posture/lock.json"), b"\xff\xfe\x00garbage").expect("write");
    let o = run(dir, &["plan"], 1);
    assert!(o.stderr.contains("is damaged"), "{}", o.stderr);
    assert!(!o.stderr.contains("may read and write"), "{}", o.stderr);
    let id = o
        .stderr
        .split('`')
        .find_map(|part| part.strip_prefix("posture force-unlock "))
        .expect("the message names the force-unlock command")
        .to_string();
    let wrong = run(dir, &["force-unlock", "--force", "damaged-000000000000"], 1);
    assert!(wrong.stderr.contains(&id), "{}", wrong.stderr);
    let ok = run(dir, &["force-unlock", "--force", &id], 0);
    assert!(
        ok.stdout.contains("damaged lock file was removed"),
        "{}",
        ok.stdout
    );
    run(dir, &["plan"], 0);
}

#[test]
fn truncated_database_without_seal_or_snapshots_is_refused_not_opened_at_serial_2_of_8() {
    let d = workdir(
        "variable \"n\" {\n  default = 0\n}\nresource \"posture_data\" \"a\" {\n  input = var.n\n}\n",
    );
    let dir = d.path();
    for n in 1..=8 {
        run(
            dir,
            &["apply", "--auto-approve", "--var", &format!("n={n}")],
            0,
        );
    }
    let state = dir.join(".posture");
    std::fs::remove_file(state.join("db.seal.json")).expect("remove seal");
    for e in std::fs::read_dir(state.join("db")).expect("db").flatten() {
        if e.file_name().to_string_lossy().starts_with("snap.") {
            std::fs::remove_file(e.path()).expect("remove snapshot");
        }
    }
    let log = state.join("db/db");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .expect("log");
    f.set_len(5_000).expect("truncate");
    drop(f);
    for args in [&["state", "history"][..], &["plan"][..]] {
        let o = run(dir, args, 1);
        assert!(o.stderr.contains("but serial 8"), "{}", o.stderr);
        assert!(o.stderr.contains("lost committed history"), "{}", o.stderr);
        assert!(
            o.stderr.contains("Restore the directory from a backup"),
            "{}",
            o.stderr
        );
    }
}

#[test]
fn state_mv_to_an_address_with_a_newline_names_the_newline() {
    let d = workdir("resource \"posture_data\" \"a\" {\n  input = 1\n}\n");
    run(d.path(), &["apply", "--auto-approve"], 0);
    for dst in ["posture_data.b\nc", "posture_data.b\n"] {
        let o = run(d.path(), &["state", "mv", "posture_data.a", dst], 1);
        assert!(o.stderr.contains("contains a line break"), "{}", o.stderr);
    }
    assert_eq!(
        run(d.path(), &["state", "list"], 0).stdout,
        "posture_data.a\n"
    );
}

#[test]
fn state_push_of_a_bad_file_names_it_and_does_not_advise_a_backup() {
    let d = workdir("resource \"posture_data\" \"a\" {\n  input = 1\n}\n");
    run(d.path(), &["apply", "--auto-approve"], 0);
    std::fs::write(d.path().join("bad.json"), "not json").expect("write");
    let o = run(d.path(), &["state", "push", "bad.json"], 1);
    assert!(
        o.stderr.contains("bad.json: it is not a posture state"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("written by `posture state pull`"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("backup"), "{}", o.stderr);
    assert!(!o.stderr.contains("state the pushed"), "{}", o.stderr);
}
