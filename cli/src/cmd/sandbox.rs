//! `posture sandbox`: emulated Kubernetes clusters on loopback (see docs/sandbox.md).

use posture_sandbox::Ready;

/// Runs the sandbox until SIGINT/SIGTERM; prints its ready line on stdout
/// once every cluster listens (scripts wait for it).
pub fn run(args: posture_sandbox::SandboxArgs) -> u8 {
    let rt = match super::common::runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    match rt.block_on(posture_sandbox::run(args, |r| {
        println!("{}", ready_line(&r))
    })) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}

/// `sandbox ready: NAME=URL ... kubeconfig=PATH admin=URL`, the line
/// docs/sandbox.md shows and scripts/demo.sh waits for.
pub fn ready_line(r: &Ready) -> String {
    let clusters: Vec<String> = r
        .clusters
        .iter()
        .map(|(name, url)| format!("{name}={url}"))
        .collect();
    format!(
        "sandbox ready: {} kubeconfig={} admin={}",
        clusters.join(" "),
        r.kubeconfig.display(),
        r.admin_url
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_line_is_rendered_by_the_cli_from_the_sandbox_value() {
        let r = Ready {
            clusters: vec![
                ("mgmt".into(), "https://127.0.0.1:40113".into()),
                ("prod-eu".into(), "https://127.0.0.1:38411".into()),
            ],
            kubeconfig: "./sandbox.kubeconfig".into(),
            admin_url: "http://127.0.0.1:41029".into(),
        };
        assert_eq!(
            ready_line(&r),
            "sandbox ready: mgmt=https://127.0.0.1:40113 prod-eu=https://127.0.0.1:38411 kubeconfig=./sandbox.kubeconfig admin=http://127.0.0.1:41029"
        );
    }
}
