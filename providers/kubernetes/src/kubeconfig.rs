//! Loading a cluster block's kubeconfig with a reason a user can act on:
//! "no such file", "the file is empty", "not valid kubeconfig YAML at line
//! 3, column 7: …", "it has no context "x" (it has: a, b)". kube's loader
//! does the rest (tokens, client certificates, exec plugins) as kubectl
//! does; its own messages are only used for what is checked here first.

use crate::cluster::ClusterRef;
use crate::error::K8sError;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};
use std::path::{Path, PathBuf};

/// The kubeconfig files to read for a cluster block, as kubectl picks them,
/// and how to name them in messages.
fn sources(c: &ClusterRef) -> (String, Vec<PathBuf>) {
    if let Some(p) = &c.kubeconfig {
        return (p.clone(), vec![PathBuf::from(p)]);
    }
    if let Some(v) = std::env::var_os("KUBECONFIG") {
        let paths: Vec<PathBuf> = std::env::split_paths(&v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            let shown = paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return (format!("$KUBECONFIG ({shown})"), paths);
        }
    }
    match std::env::home_dir() {
        Some(h) => {
            let p = h.join(".kube").join("config");
            (p.display().to_string(), vec![p])
        }
        None => ("~/.kube/config".to_string(), Vec::new()),
    }
}

/// One file, read and parsed; the error is the reason alone.
fn read_one(path: &Path) -> Result<Kubeconfig, String> {
    use std::io::ErrorKind;
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => "no such file".to_string(),
        ErrorKind::PermissionDenied => "permission denied (the file cannot be read)".to_string(),
        ErrorKind::IsADirectory => "it is a directory, not a file".to_string(),
        _ => format!("it cannot be read: {e}"),
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".to_string());
    }
    // kube's reader also decodes UTF-16 and makes certificate, token and
    // exec paths relative to the file, as kubectl does.
    Kubeconfig::read_from(path).map_err(|e| describe(&e))
}

/// A loader error as one line. A parse error is reduced to its position and
/// reason: kube's rendering quotes the file's lines, and a kubeconfig holds
/// tokens and keys that must not reach an error message.
fn describe(e: &KubeconfigError) -> String {
    match e {
        KubeconfigError::Parse(p) => {
            let bare = p.without_snippet().to_string();
            let first = bare.lines().next().unwrap_or_default();
            let first = hide_quoted(first.strip_prefix("error: ").unwrap_or(first));
            let first = first.as_str();
            match p.location().filter(|l| l.line() > 0) {
                Some(l) => {
                    // "unclosed bracket '{' at line 1, column 13" → the reason.
                    let at = format!(" at line {}, column {}", l.line(), l.column());
                    let reason = first.strip_suffix(at.as_str()).unwrap_or(first);
                    format!("not valid kubeconfig YAML{at}: {reason}")
                }
                None => format!("not valid kubeconfig YAML: {first}"),
            }
        }
        KubeconfigError::KindMismatch | KubeconfigError::ApiVersionMismatch => {
            format!("the files cannot be merged: {e}")
        }
        other => other.to_string(),
    }
}

/// The reason with double-quoted text hidden: serde quotes the value it
/// found (`invalid type: string "…", expected struct AuthInfo`), which in a
/// mis-indented kubeconfig can be a token.
fn hide_quoted(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut inside = false;
    for ch in reason.chars() {
        if ch == '"' {
            if !inside {
                out.push_str("\"…");
            }
            inside = !inside;
            if !inside {
                out.push('"');
            }
        } else if !inside {
            out.push(ch);
        }
    }
    out
}

/// `a, b` or `none`.
fn listing<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// Checks what kube's loader would report as "failed to load current
/// context: x" and says which part is missing.
fn check_context(kc: &Kubeconfig, wanted: Option<&String>, files: usize) -> Result<(), String> {
    // Verbs agree with one file or several ($KUBECONFIG).
    let one = files == 1;
    let it = if one { "the file" } else { "these files" };
    let (has, sets, defines, does) = if one {
        ("has", "sets", "defines", "does")
    } else {
        ("have", "set", "define", "do")
    };
    let contexts = || listing(kc.contexts.iter().map(|x| x.name.as_str()));
    if kc.contexts.is_empty() {
        return Err(format!("{it} {defines} no contexts"));
    }
    let Some(name) = wanted.or(kc.current_context.as_ref()) else {
        return Err(format!(
            "{it} {sets} no current-context and the cluster block names no context (it has: {})",
            contexts()
        ));
    };
    let Some(ctx) = kc.contexts.iter().find(|x| &x.name == name) else {
        return Err(format!(
            "{it} {has} no context {name:?} (it has: {})",
            contexts()
        ));
    };
    let Some(ctx) = &ctx.context else {
        return Err(format!("context {name:?} is empty"));
    };
    let Some(cl) = kc.clusters.iter().find(|x| x.name == ctx.cluster) else {
        return Err(format!(
            "context {name:?} names cluster {:?}, which {it} {does} not define (clusters: {})",
            ctx.cluster,
            listing(kc.clusters.iter().map(|x| x.name.as_str()))
        ));
    };
    if cl
        .cluster
        .as_ref()
        .and_then(|x| x.server.as_ref())
        .is_none()
    {
        return Err(format!("cluster {:?} has no server URL", ctx.cluster));
    }
    Ok(())
}

/// The client configuration for a cluster block.
///
/// # Errors
/// [`K8sError::Kubeconfig`] naming the cluster, the file, the context and why.
pub async fn load(c: &ClusterRef) -> Result<Config, K8sError> {
    let (file, paths) = sources(c);
    let err = |detail: String| K8sError::Kubeconfig {
        cluster: c.name.clone(),
        file: file.clone(),
        context: context_of(c),
        detail,
    };
    if paths.is_empty() {
        return Err(err(
            "KUBECONFIG is not set and there is no home directory to find ~/.kube/config in"
                .to_string(),
        ));
    }
    let mut merged: Option<Kubeconfig> = None;
    for p in &paths {
        let one = read_one(p).map_err(|d| {
            // With several files, say which one.
            err(if paths.len() > 1 {
                format!("{}: {d}", p.display())
            } else {
                d
            })
        })?;
        merged = Some(match merged {
            None => one,
            // The first file to set a value wins, as kubectl merges.
            Some(m) => m.merge(one).map_err(|e| err(describe(&e)))?,
        });
    }
    let kc = merged.unwrap_or_default();
    check_context(&kc, c.context.as_ref(), paths.len()).map_err(&err)?;
    let opts = KubeConfigOptions {
        context: c.context.clone(),
        cluster: None,
        user: None,
    };
    Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| err(describe(&e)))
}

/// A client for a cluster block and its API server's URL (for messages).
///
/// # Errors
/// As [`load`]; also a client that cannot be built (TLS settings).
pub async fn connect(c: &ClusterRef) -> Result<(Client, String), K8sError> {
    let config = load(c).await?;
    let url = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let client = Client::try_from(config).map_err(|e| K8sError::Kubeconfig {
        cluster: c.name.clone(),
        file: sources(c).0,
        context: context_of(c),
        detail: format!("no client can be made for {url}: {e}"),
    })?;
    Ok((client, url))
}

/// `context "x"`, or the current context.
fn context_of(c: &ClusterRef) -> String {
    c.context.as_ref().map_or_else(
        || "its current context".to_string(),
        |x| format!("context {x:?}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cref(file: &Path, context: Option<&str>) -> ClusterRef {
        ClusterRef {
            name: "lighthouse".into(),
            kubeconfig: Some(file.display().to_string()),
            context: context.map(str::to_string),
            field_manager: "posture".into(),
        }
    }

    const TWO: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: a\n  context:\n    cluster: c\n    user: u\n- name: b\n  context:\n    cluster: gone\n    user: u\nusers:\n- name: u\n  user:\n    token: s3cr3t-token\n";

    async fn detail(text: Option<&str>, context: Option<&str>) -> String {
        let d = tempfile::tempdir().expect("tempdir");
        let f = d.path().join("cfg.yaml");
        if let Some(t) = text {
            std::fs::write(&f, t).expect("write");
        }
        match load(&cref(&f, context)).await {
            Err(K8sError::Kubeconfig { detail, .. }) => detail,
            Err(e) => panic!("another error: {e}"),
            Ok(_) => panic!("loaded"),
        }
    }

    #[tokio::test]
    async fn kubeconfig_errors_are_sentences_not_kube_messages() {
        assert_eq!(detail(None, Some("a")).await, "no such file");
        assert_eq!(detail(Some(""), Some("a")).await, "the file is empty");
        assert_eq!(detail(Some("  \n\n"), None).await, "the file is empty");
        assert_eq!(
            detail(Some("clusters: [ {"), Some("a")).await,
            "not valid kubeconfig YAML at line 1, column 13: unclosed bracket '{'"
        );
        assert_eq!(
            detail(Some(TWO), Some("x")).await,
            "the file has no context \"x\" (it has: a, b)"
        );
        assert_eq!(
            detail(Some(TWO), None).await,
            "the file sets no current-context and the cluster block names no context (it has: a, b)"
        );
        assert_eq!(
            detail(Some(TWO), Some("b")).await,
            "context \"b\" names cluster \"gone\", which the file does not define (clusters: c)"
        );
        assert_eq!(
            detail(Some("apiVersion: v1\nkind: Config\n"), None).await,
            "the file defines no contexts"
        );
    }

    #[tokio::test]
    async fn a_parse_error_never_quotes_the_file() {
        let text =
            "users:\n- name: u\n  user:\n    token: s3cr3t-token\n    client-key-data: [ {\n";
        let d = detail(Some(text), Some("a")).await;
        assert!(d.starts_with("not valid kubeconfig YAML at line "), "{d}");
        assert!(!d.contains("s3cr3t"), "{d}");
        // Mis-indented: the token is where a user object belongs.
        let text = "users:\n- name: u\n  user: s3cr3t-token\n";
        let d = detail(Some(text), Some("a")).await;
        assert!(
            d.starts_with("not valid kubeconfig YAML at line 3, column "),
            "{d}"
        );
        assert!(!d.contains("s3cr3t"), "{d}");
    }

    #[tokio::test]
    async fn a_good_file_loads_its_context() {
        let d = tempfile::tempdir().expect("tempdir");
        let f = d.path().join("cfg.yaml");
        std::fs::write(&f, TWO).expect("write");
        let cfg = load(&cref(&f, Some("a"))).await.expect("loads");
        assert_eq!(cfg.cluster_url.to_string(), "https://127.0.0.1:1/");
    }
}
