//! Through the real binary: a destroy leaves no outputs, even those that
//! read no resource attribute (they used to survive it); `import` refuses an
//! empty or blank id (it used to adopt the instance with id "").

use super::support::{Out, posture};

use std::path::Path;

fn ok(dir: &Path, args: &[&str]) -> Out {
    let o = posture(dir, args);
    assert_eq!(o.code, 0, "{args:?}\n{}", o.all());
    o
}

const CONFIG: &str = "resource \"posture_data\" \"a\" {\n  input = \"v\"\n}\n\noutput \"constant\" {\n  value = \"hi\"\n}\n\noutput \"secret\" {\n  value     = \"s3cr3t\"\n  sensitive = true\n}\n\noutput \"from_resource\" {\n  value = posture_data.a.output\n}\n";

#[test]
fn outputs_that_read_no_resource_do_not_survive_destroy() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.hcl"), CONFIG).expect("main.hcl");
    ok(d.path(), &["apply", "--auto-approve"]);
    let o = ok(d.path(), &["output", "constant"]);
    assert_eq!(o.stdout, "\"hi\"\n");

    let o = ok(d.path(), &["destroy", "--auto-approve"]);
    assert!(
        o.stdout
            .contains("Apply complete! Resources: 0 added, 0 changed, 1 destroyed."),
        "{}",
        o.all()
    );
    assert!(
        !o.stdout.contains("\nOutputs:\n"),
        "destroy lists outputs:\n{}",
        o.all()
    );

    let o = ok(d.path(), &["output"]);
    assert_eq!(o.stdout, "", "{}", o.all());
    assert!(
        o.stderr.starts_with("Warning: No outputs found"),
        "{}",
        o.all()
    );
    let o = ok(d.path(), &["output", "--json"]);
    assert_eq!(o.stdout.trim(), "{}", "{}", o.all());
    for name in ["constant", "secret", "from_resource"] {
        let o = posture(d.path(), &["output", name]);
        assert_eq!(o.code, 1, "{name}\n{}", o.all());
        assert!(
            o.stderr
                .starts_with(&format!("Error: Output \"{name}\" not found")),
            "{name}\n{}",
            o.all()
        );
    }

    // Applied again, they are back.
    ok(d.path(), &["apply", "--auto-approve"]);
    let o = ok(d.path(), &["output", "constant"]);
    assert_eq!(o.stdout, "\"hi\"\n");
}

#[test]
fn import_refuses_an_empty_or_blank_id() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("main.hcl"),
        "resource \"posture_data\" \"imp\" {\n  input = \"x\"\n}\n",
    )
    .expect("main.hcl");
    for (id, why) in [
        ("", "The import ID cannot be empty:"),
        ("   ", "The import ID cannot be empty or only whitespace:"),
        ("\t\n", "The import ID cannot be empty or only whitespace:"),
    ] {
        let o = posture(d.path(), &["import", "posture_data.imp", id]);
        assert_eq!(o.code, 1, "{id:?}\n{}", o.all());
        assert!(
            o.stderr.starts_with("Error: Invalid import id\n\n") && o.stderr.contains(why),
            "{id:?}\n{}",
            o.all()
        );
        assert!(
            !o.stdout.contains("Import successful"),
            "{id:?}\n{}",
            o.all()
        );
        let o = ok(d.path(), &["state", "list"]);
        assert_eq!(o.stdout.trim(), "", "{id:?}: nothing was imported");
    }
    // A real id still imports.
    let o = ok(d.path(), &["import", "posture_data.imp", "abc-123"]);
    assert!(o.stdout.contains("Import successful!"), "{}", o.all());
}
