//! A Route53 endpoint nothing listens on, through the real binary: the run
//! shows each retry as it happens, gives up after the documented attempts
//! (docs/providers/route53.md), and prints the cause in one line naming the
//! endpoint. It used to wait 105.7 s in silence and end in a 500-character
//! debug dump of the SDK's error.

use super::support::posture_without_aws_env as posture;

use std::path::Path;

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Two zones on a closed endpoint, with `extra` settings for the provider.
fn config(dir: &Path, port: u16, extra: &str) -> String {
    let endpoint = format!("http://127.0.0.1:{port}");
    std::fs::write(
        dir.join("main.hcl"),
        format!(
            "provider \"route53\" {{\n  endpoint   = \"{endpoint}\"\n  access_key = \"AKIATESTONLY\"\n  secret_key = \"not-a-secret\"\n{extra}}}\n\nresource \"route53_zone\" \"a\" {{\n  name = \"a.example.com\"\n}}\n\nresource \"route53_zone\" \"b\" {{\n  name = \"b.example.com\"\n}}\n"
        ),
    )
    .expect("main.hcl");
    endpoint
}

/// The lines of `text` that start with `prefix`.
fn lines<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn a_closed_route53_port_shows_retries_and_gives_up_in_bounded_time() {
    let d = tempfile::tempdir().expect("tempdir");
    let endpoint = config(d.path(), closed_port(), "");
    let o = posture(d.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        !o.stdout.contains("Apply complete!"),
        "a failed run printed success:\n{}",
        o.all()
    );

    // Each retry is shown as it happens: 3 of them (4 attempts) for an
    // endpoint that cannot be reached, whatever max_retries says.
    let retries = lines(&o.stderr, "route53: ");
    for n in 1..=3 {
        let want = format!(
            "route53: ListHostedZonesByName: connection refused to {endpoint}; retry {n}/3 in "
        );
        assert!(
            retries.iter().any(|l| l.starts_with(&want)),
            "no {want:?}\n{}",
            o.all()
        );
    }
    assert!(
        retries.iter().all(|l| !l.contains("retry 4/")),
        "{}",
        o.all()
    );

    // The cause in one line each, naming the endpoint; the second zone's
    // call fails at once once the first gave up.
    let errors = lines(&o.stderr, "Error: ");
    assert_eq!(errors.len(), 2, "{}", o.all());
    let given_up = format!(
        "ListHostedZonesByName failed: Unreachable: connection refused to {endpoint} (gave up after 4 attempts)"
    );
    assert!(
        errors.iter().any(|l| l.ends_with(&given_up)),
        "{given_up:?}\n{}",
        o.all()
    );
    for e in &errors {
        assert!(e.contains(&endpoint), "{e}");
        assert!(e.len() < 300, "a long error line: {e}");
        for dump in [
            "DispatchFailure",
            "ConnectorError",
            "Os {",
            "source:",
            "hyper",
        ] {
            assert!(!e.contains(dump), "{dump:?} in {e}");
        }
        assert!(!e.contains("not-a-secret"), "{e}");
    }
    // Bounded by attempts, counted above (no "retry 4/"; "gave up after 4
    // attempts"), not by a wall-clock assertion.

    let o = posture(d.path(), &["state", "list"]);
    assert_eq!(o.stdout.trim(), "", "nothing was created\n{}", o.all());
}

#[test]
fn max_retries_bounds_the_attempts_at_a_closed_port() {
    let d = tempfile::tempdir().expect("tempdir");
    let endpoint = config(d.path(), closed_port(), "  max_retries = 2\n");
    let o = posture(d.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 1, "{}", o.all());
    let retries = lines(&o.stderr, "route53: ");
    assert!(!retries.is_empty(), "{}", o.all());
    assert!(
        retries.iter().all(|l| l.starts_with(&format!(
            "route53: ListHostedZonesByName: connection refused to {endpoint}; retry 1/1 in "
        ))),
        "{}",
        o.all()
    );
    assert!(
        o.stderr.contains(&format!(
            "connection refused to {endpoint} (gave up after 2 attempts)"
        )),
        "{}",
        o.all()
    );
}
