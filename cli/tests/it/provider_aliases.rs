//! Provider aliases through the real binary: two `route53` configurations
//! (`provider "route53" { alias = "eu" }`) on two endpoints, each resource
//! calling the one its `provider` meta-argument names, and the diagnostics
//! for references that name no usable configuration. `provider =
//! nonsense.whatever` used to be parsed, ignored, and pass validate and plan.

use super::support::posture_without_aws_env as posture;

use posture_provider_route53::testing::MotoServer;
use std::io::{Read, Write};
use std::path::Path;

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn provider_block(alias: Option<&str>, endpoint: &str) -> String {
    let alias = alias
        .map(|a| format!("  alias      = \"{a}\"\n"))
        .unwrap_or_default();
    format!(
        "provider \"route53\" {{\n{alias}  endpoint   = \"{endpoint}\"\n  access_key = \"AKIATESTONLY\"\n  secret_key = \"not-a-secret\"\n}}\n\n"
    )
}

fn zone(name: &str, provider: Option<&str>) -> String {
    let p = provider
        .map(|p| format!("  provider = {p}\n"))
        .unwrap_or_default();
    format!(
        "resource \"route53_zone\" \"{name}\" {{\n{p}  name     = \"{name}.example.com\"\n}}\n\n"
    )
}

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("main.hcl"), text).expect("main.hcl");
}

/// The hosted zone names moto at `endpoint` holds (moto routes on the
/// service named in the Authorization header, and checks no signature).
fn zones_at(endpoint: &str) -> Vec<String> {
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect to moto");
    write!(
        s,
        "GET /2013-04-01/hostedzone HTTP/1.0\r\nHost: {addr}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIATESTONLY/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n"
    )
    .expect("request");
    let mut body = String::new();
    s.read_to_string(&mut body).expect("response");
    body.split("<Name>")
        .skip(1)
        .filter_map(|x| x.split('<').next())
        .map(str::to_string)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn each_route53_configuration_calls_its_own_endpoint() {
    let d = tempfile::tempdir().expect("tempdir");
    let (home, eu) = (closed_port(), closed_port());
    let home = format!("http://127.0.0.1:{home}");
    let eu = format!("http://127.0.0.1:{eu}");
    write(
        d.path(),
        &format!(
            "{}{}{}{}",
            provider_block(None, &home),
            provider_block(Some("eu"), &eu),
            zone("home", None),
            zone("eu", Some("route53.eu")),
        ),
    );
    let o = posture(d.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 1, "{}", o.all());
    let errors: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("Error: "))
        .collect();
    let named = |zone: &str, endpoint: &str| {
        errors.iter().any(|l| {
            l.contains(&format!("route53_zone.{zone}")) && l.contains(&format!("to {endpoint}"))
        })
    };
    assert!(named("home", &home), "{}", o.all());
    assert!(named("eu", &eu), "{}", o.all());
    assert!(!named("home", &eu) && !named("eu", &home), "{}", o.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn two_route53_configurations_create_in_their_own_endpoints_and_follow_an_alias_change() {
    let m1 = MotoServer::start()
        .await
        .expect("moto (scripts/install-moto.sh)");
    let m2 = MotoServer::start()
        .await
        .expect("moto (scripts/install-moto.sh)");
    let (home, eu) = (m1.endpoint(), m2.endpoint());
    tokio::task::spawn_blocking(move || {
        let d = tempfile::tempdir().expect("tempdir");
        let blocks = format!(
            "{}{}",
            provider_block(None, &home),
            provider_block(Some("eu"), &eu)
        );
        write(
            d.path(),
            &format!(
                "{blocks}{}{}{}",
                zone("home", None),
                zone("explicit", Some("route53")),
                zone("eu", Some("route53.eu")),
            ),
        );
        let o = posture(d.path(), &["apply", "--auto-approve"]);
        assert_eq!(o.code, 0, "{}", o.all());
        assert_eq!(
            zones_at(&home),
            vec!["explicit.example.com.", "home.example.com."]
        );
        assert_eq!(zones_at(&eu), vec!["eu.example.com."]);
        let o = posture(d.path(), &["plan"]);
        assert_eq!(o.code, 0, "{}", o.all());
        assert!(o.stdout.contains("No changes."), "{}", o.all());

        // The alias changed: read and planned against the new configuration,
        // where the zone does not exist.
        write(
            d.path(),
            &format!(
                "{blocks}{}{}{}",
                zone("home", None),
                zone("explicit", Some("route53")),
                zone("eu", None)
            ),
        );
        let o = posture(d.path(), &["plan"]);
        assert_eq!(o.code, 0, "{}", o.all());
        assert!(
            o.stdout.contains("route53_zone.eu will be created"),
            "{}",
            o.all()
        );
        assert!(o.stdout.contains("Plan: 1 to add"), "{}", o.all());

        // Its configuration removed while it is in state: an error, not a
        // delete sent to the default endpoint.
        write(
            d.path(),
            &format!(
                "{}{}{}",
                provider_block(None, &home),
                zone("home", None),
                zone("explicit", Some("route53"))
            ),
        );
        let o = posture(d.path(), &["plan"]);
        assert_eq!(o.code, 1, "{}", o.all());
        assert!(
            o.stderr
                .contains("route53_zone.eu was made with provider configuration route53.eu, which is no longer declared"),
            "{}",
            o.all()
        );

        // Destroy deletes each zone through the configuration that made it.
        write(
            d.path(),
            &format!("{blocks}{}", zone("home", None)),
        );
        let o = posture(d.path(), &["destroy", "--auto-approve"]);
        assert_eq!(o.code, 0, "{}", o.all());
        assert!(zones_at(&home).is_empty(), "{:?}", zones_at(&home));
        assert!(zones_at(&eu).is_empty(), "{:?}", zones_at(&eu));
    })
    .await
    .expect("join");
    drop((m1, m2));
}

/// Validates `text`; returns stderr after checking it failed.
fn invalid(text: &str) -> String {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), text);
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 1, "{}", o.all());
    o.stderr
}

#[test]
fn provider_nonsense_whatever_no_longer_passes_validate() {
    let e = invalid(&zone("a", Some("nonsense.whatever")));
    assert!(
        e.contains("Error: Invalid provider configuration reference"),
        "{e}"
    );
    assert!(e.contains("on main.hcl:2:14"), "{e}");
    assert!(
        e.contains("names a configuration of provider \"nonsense\""),
        "{e}"
    );
}

#[test]
fn an_undeclared_alias_is_not_present_and_the_declared_one_suggested() {
    let e = invalid(&format!(
        "{}{}",
        provider_block(Some("eu"), "http://127.0.0.1:1"),
        zone("a", Some("route53.nope"))
    ));
    assert!(
        e.contains("Error: Provider configuration not present"),
        "{e}"
    );
    assert!(e.contains("on main.hcl:9:14"), "{e}");
    assert!(e.contains("Did you mean route53.eu?"), "{e}");
}

#[test]
fn a_provider_of_the_wrong_type_is_refused() {
    let e = invalid(&format!(
        "provider \"kubernetes\" {{\n  alias = \"x\"\n}}\n\n{}",
        zone("a", Some("kubernetes.x"))
    ));
    assert!(
        e.contains("Error: Invalid provider configuration reference"),
        "{e}"
    );
    assert!(e.contains("on main.hcl:6:14"), "{e}");
    assert!(e.contains("which provider \"route53\" serves"), "{e}");
}

#[test]
fn a_provider_argument_that_is_not_a_reference_is_refused() {
    let e = invalid(&zone("a", Some("\"route53.eu\"")));
    assert!(e.contains("Error: Invalid provider reference"), "{e}");
    assert!(e.contains("on main.hcl:2:14"), "{e}");
}

#[test]
fn two_provider_blocks_with_the_same_alias_are_refused() {
    let e = invalid(&format!(
        "{}{}",
        provider_block(Some("eu"), "http://127.0.0.1:1"),
        provider_block(Some("eu"), "http://127.0.0.1:2")
    ));
    assert!(
        e.contains("Error: Duplicate provider configuration declaration"),
        "{e}"
    );
    assert!(e.contains("on main.hcl:8:1"), "{e}");
    assert!(
        e.contains("provider.route53.eu was already declared"),
        "{e}"
    );
}

#[test]
fn an_alias_of_a_provider_that_does_not_exist_is_refused() {
    let e = invalid("provider \"route35\" {\n  alias = \"eu\"\n}\n");
    assert!(e.contains("Error: Unknown provider"), "{e}");
    assert!(e.contains("on main.hcl:1:1"), "{e}");
    assert!(e.contains("Did you mean \"route53\"?"), "{e}");
}

/// A root module with the two configurations on `home` and `eu`, and a
/// call of `./child` (one zone, no provider argument) with `providers`.
fn module_config(dir: &Path, home: &str, eu: &str, providers: &str) {
    std::fs::create_dir_all(dir.join("child")).expect("child");
    std::fs::write(dir.join("child/main.hcl"), zone("z", None)).expect("child main");
    write(
        dir,
        &format!(
            "{}{}module \"c\" {{\n  source    = \"./child\"\n  providers = {providers}\n}}\n",
            provider_block(None, home),
            provider_block(Some("eu"), eu),
        ),
    );
}

#[test]
fn a_module_providers_map_hands_the_child_the_aliased_configuration() {
    let d = tempfile::tempdir().expect("tempdir");
    let home = format!("http://127.0.0.1:{}", closed_port());
    let eu = format!("http://127.0.0.1:{}", closed_port());
    module_config(d.path(), &home, &eu, "{ route53 = route53.eu }");
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let o = posture(d.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 1, "{}", o.all());
    let err = o
        .stderr
        .lines()
        .find(|l| l.starts_with("Error: module.c.route53_zone.z: "))
        .unwrap_or_default();
    assert!(err.contains(&format!("to {eu} ")), "{}", o.all());
}

#[test]
fn a_module_providers_map_to_an_undeclared_or_foreign_configuration_is_refused() {
    let d = tempfile::tempdir().expect("tempdir");
    module_config(
        d.path(),
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
        "{ route53 = route53.nope }",
    );
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr
            .contains("Error: Provider configuration not present"),
        "{}",
        o.all()
    );
    assert!(o.stderr.contains("on main.hcl:16:27"), "{}", o.all());
    assert!(o.stderr.contains("Did you mean route53.eu?"), "{}", o.all());

    module_config(
        d.path(),
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
        "{ route53 = kubernetes }",
    );
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("Error: Invalid providers entry"),
        "{}",
        o.all()
    );
    assert!(o.stderr.contains("on main.hcl:16:27"), "{}", o.all());
}
