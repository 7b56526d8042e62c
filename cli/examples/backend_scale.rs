//! State backends at scale (docs/benchmarks.md, "State backends at 100,000
//! instances"): one generated state pushed as the first commit, changed by
//! one record and committed (the apply path: intent, completion, commit),
//! and opened and loaded again, through the local (sled), s3 (moto_server
//! on loopback) and kubernetes (the sandbox) backends side by side, with
//! the bytes each stores; a lock round trip on an empty state; the
//! heartbeat's requests and one renewal's time. Tests never assert on time:
//! this prints a markdown table for the page.
//!
//! `bench/backend-scale.sh` runs it; by hand (moto_server on PATH):
//! `cargo run --release -p posture-cli --example backend_scale -- [INSTANCES] [ROUNDS]`

#![allow(clippy::unwrap_used)]

#[path = "../../engine/tests/it/support/large_state.rs"]
#[allow(dead_code)]
mod large_state;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use posture_backend_kubernetes::{K8sLocation, K8sSettings};
use posture_backend_s3::{S3Location, S3Settings, StaticKeys};
use posture_engine::state::{
    Action, LocalLocation, LockOptions, NewIntent, Outcome, SharedCipher, StateLocation,
    encode_compact,
};
use posture_provider_route53::testing::{FaultProxy, MotoServer};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const BUCKET: &str = "posture-bench";
/// Lock round trips timed per backend (the median is reported).
const LOCK_TRIPS: usize = 20;
/// The lock_ttl the heartbeat is counted under (it beats every third).
const SHORT_TTL: Duration = Duration::from_secs(3);
/// How long the lock is held while its heartbeat is counted: twelve beats
/// and half an interval, so that none falls on the edge.
const HOLD: Duration = Duration::from_millis(12_500);
/// The default lock_ttl of every backend.
const DEFAULT_TTL: Duration = Duration::from_secs(120);

/// The peers: moto (and a counting proxy in front of it), the sandbox.
struct Peers {
    rt: tokio::runtime::Runtime,
    moto: MotoServer,
    proxy: FaultProxy,
    sandbox: posture_sandbox::Sandbox,
    tmp: tempfile::TempDir,
    cipher: SharedCipher,
}

impl Peers {
    fn start() -> Res<Peers> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let moto = rt.block_on(MotoServer::start())?;
        let proxy = rt.block_on(FaultProxy::start(moto.addr()))?;
        let cfg = posture_sandbox::SandboxConfig {
            clusters: vec!["c1".into()],
            nodes: 1,
            ..Default::default()
        };
        let sandbox = rt.block_on(posture_sandbox::start(cfg))?;
        let tmp = tempfile::tempdir()?;
        sandbox.write_kubeconfig(&tmp.path().join("kubeconfig"))?;
        let cipher = cipher(tmp.path())?;
        let peers = Peers {
            rt,
            moto,
            proxy,
            sandbox,
            tmp,
            cipher,
        };
        let client = peers.s3(&peers.moto.endpoint(), "x", DEFAULT_TTL)?;
        let client = client.client().clone();
        peers
            .rt
            .block_on(client.create_bucket().bucket(BUCKET).send())?;
        Ok(peers)
    }

    fn s3(&self, endpoint: &str, key: &str, ttl: Duration) -> Res<S3Location> {
        let mut s = S3Settings::new(BUCKET, key);
        s.endpoint = Some(endpoint.to_string());
        s.region = Some("us-east-1".into());
        s.force_path_style = true;
        s.lock_ttl = ttl;
        s.static_keys = Some(StaticKeys {
            access_key: "test".into(),
            secret_key: "test".into(),
            session_token: None,
        });
        Ok(S3Location::new(s)?)
    }

    fn k8s_settings(&self, suffix: &str, ttl: Duration) -> K8sSettings {
        let mut s = K8sSettings::new("default", suffix);
        s.kubeconfig = Some(self.kubeconfig());
        s.context = Some("c1".into());
        s.lock_ttl = ttl;
        s
    }

    fn kubeconfig(&self) -> String {
        self.tmp.path().join("kubeconfig").display().to_string()
    }

    fn kube(&self) -> Res<kube::Client> {
        let cluster = posture_provider_kubernetes::cluster::ClusterRef {
            name: "bench".into(),
            kubeconfig: Some(self.kubeconfig()),
            context: Some("c1".into()),
            field_manager: "bench".into(),
        };
        let (client, _) = self
            .rt
            .block_on(posture_provider_kubernetes::kubeconfig::connect(&cluster))?;
        Ok(client)
    }

    /// S3 objects under `prefix`: key and size.
    fn s3_stored(&self, prefix: &str) -> Res<Vec<(String, u64)>> {
        let loc = self.s3(&self.moto.endpoint(), "x", DEFAULT_TTL)?;
        let client = loc.client().clone();
        let (mut out, mut token) = (Vec::new(), None);
        loop {
            let page = self.rt.block_on(
                client
                    .list_objects_v2()
                    .bucket(BUCKET)
                    .prefix(prefix)
                    .set_continuation_token(token)
                    .send(),
            )?;
            for o in page.contents() {
                let size = o.size().unwrap_or(0).max(0) as u64;
                out.push((o.key().unwrap_or_default().to_string(), size));
            }
            token = page.next_continuation_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Secrets of the state named `base`: (chunks of serial `serial`'s
    /// generation, all Secrets, bytes of data).
    fn k8s_stored(&self, base: &str, serial: u64) -> Res<(usize, usize, u64)> {
        let api: kube::Api<k8s_openapi::api::core::v1::Secret> =
            kube::Api::namespaced(self.kube()?, "default");
        let list = self.rt.block_on(api.list(&Default::default()))?;
        let (mut chunks, mut all, mut bytes) = (0, 0, 0u64);
        for s in list.items {
            let name = s.metadata.name.clone().unwrap_or_default();
            if !name.starts_with(base) {
                continue;
            }
            all += 1;
            if name.starts_with(&format!("{base}-s{serial}-")) {
                chunks += 1;
            }
            for v in s.data.unwrap_or_default().values() {
                bytes += v.0.len() as u64;
            }
        }
        Ok((chunks, all, bytes))
    }

    /// Requests the sandbox served so far.
    fn k8s_requests(&self) -> u64 {
        self.sandbox
            .metrics("c1")
            .unwrap_or_default()
            .values()
            .sum()
    }
}

/// pbkdf2 + aes_gcm, from a configuration as a user writes it.
fn cipher(dir: &Path) -> Res<SharedCipher> {
    let d = dir.join("enc");
    std::fs::create_dir_all(&d)?;
    std::fs::write(
        d.join("main.hcl"),
        "posture {\n  encryption {\n    key_provider \"pbkdf2\" \"k\" { passphrase = \
         \"bench-passphrase-not-a-secret\" }\n    method \"aes_gcm\" \"m\" { keys = \
         key_provider.pbkdf2.k }\n    state { method = method.aes_gcm.m }\n  }\n}\n",
    )?;
    let ws = posture_engine::workspace::Workspace::load(&d, &[], &BTreeMap::new());
    let block = ws
        .tree
        .module
        .settings
        .encryption
        .ok_or("no encryption block")?;
    let c = posture_encryption::from_block(&block, &BTreeMap::new())
        .map_err(|d| format!("{:?}", d.iter().map(|d| &d.summary).collect::<Vec<_>>()))?;
    Ok(std::sync::Arc::new(c))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

fn mib(b: u64) -> String {
    format!("{:.1}", b as f64 / (1024.0 * 1024.0))
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

/// What one backend measured.
#[derive(Default)]
struct Row {
    name: String,
    first_commit: Duration,
    open: Duration,
    one_changed: Duration,
    commit: Duration,
    load: Duration,
    stored: String,
    lock_trip: Duration,
    /// Requests per heartbeat, counted at the peer (`None`: local, a file).
    per_beat: Option<f64>,
    renewal: Duration,
}

/// The state's push, one-record commits (`rounds`), cold opens and loads.
fn state_rounds(loc: &dyn StateLocation, json: &str, rounds: usize, row: &mut Row) -> Res<()> {
    let opts = LockOptions::new("bench");
    let b = loc.open(&opts)?;
    let (r, t) = timed(|| b.push(json, true));
    r?;
    row.first_commit = t;
    b.close()?;
    let (mut opens, mut changes, mut commits, mut loads) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        let (b, t) = timed(|| loc.open(&opts));
        let b = b?;
        opens.push(t);
        let (r, t) = timed(|| -> Res<Duration> {
            let mut rec = b
                .load()?
                .instances
                .remove("route53_record.r[\"svc-00005\"]")
                .ok_or("no such record")?;
            rec.attributes["ttl"] = serde_json::json!(60 + round);
            let id = b.record_intent(NewIntent {
                address: rec.address.clone(),
                action: Action::Update,
                planned: rec.attributes.clone(),
            })?;
            b.complete_intent(&id, Outcome::Upsert(Box::new(rec)))?;
            let (r, t) = timed(|| b.commit(None, "apply: 1 changed"));
            r?;
            Ok(t)
        });
        commits.push(r?);
        changes.push(t);
        b.close()?;
        let (r, t) = timed(|| -> Res<usize> {
            let b = loc.open(&opts)?;
            let n = b.load()?.instances.len();
            b.close()?;
            Ok(n)
        });
        r?;
        loads.push(t);
    }
    row.open = median(opens);
    row.one_changed = median(changes);
    row.commit = median(commits);
    row.load = median(loads);
    Ok(())
}

fn lock_trips(loc: &dyn StateLocation) -> Res<Duration> {
    let opts = LockOptions::new("bench lock");
    loc.open(&opts)?.close()?; // creates the empty state
    let mut v = Vec::new();
    for _ in 0..LOCK_TRIPS {
        let (r, t) = timed(|| loc.open(&opts).and_then(|b| b.close()));
        r?;
        v.push(t);
    }
    Ok(median(v))
}

/// Requests per heartbeat: the lock held for [`HOLD`] under [`SHORT_TTL`]
/// (a beat every third of it), `count` read before and after.
fn per_beat(loc: &dyn StateLocation, count: &dyn Fn() -> u64) -> Res<f64> {
    let b = loc.open(&LockOptions::new("bench heartbeat").lease(SHORT_TTL))?;
    let before = count();
    std::thread::sleep(HOLD);
    let seen = count() - before;
    b.close()?;
    let beats = (HOLD.as_secs_f64() / (SHORT_TTL.as_secs_f64() / 3.0)).floor();
    Ok(seen as f64 / beats)
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        n += match p.is_dir() {
            true => dir_bytes(&p),
            false => e.metadata().map(|m| m.len()).unwrap_or(0),
        };
    }
    n
}

/// One local lock-file renewal as the heartbeat writes it: a temporary
/// file of the same size, fsync, rename.
fn local_renewal(dir: &Path) -> Res<Duration> {
    let lock = std::fs::read(dir.join("lock.json")).unwrap_or_else(|_| vec![b' '; 400]);
    let mut v = Vec::new();
    for i in 0..LOCK_TRIPS {
        let tmp = dir.join(format!("bench-{i}.tmp"));
        let (r, t) = timed(|| -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&lock)?;
            f.sync_all()?;
            std::fs::rename(&tmp, dir.join("bench-lock.json"))
        });
        r?;
        v.push(t);
    }
    Ok(median(v))
}

fn s3_renewal(peers: &Peers, key: &str) -> Res<Duration> {
    let loc = peers.s3(&peers.moto.endpoint(), "x", DEFAULT_TTL)?;
    let c = loc.client().clone();
    let body = vec![b'{'; 400];
    let put = c
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(body.clone().into());
    let mut etag = peers
        .rt
        .block_on(put.send())?
        .e_tag()
        .unwrap_or_default()
        .to_string();
    let mut v = Vec::new();
    for _ in 0..LOCK_TRIPS {
        let put = c.put_object().bucket(BUCKET).key(key).if_match(&etag);
        let send = put.body(body.clone().into()).send();
        let (r, t) = timed(|| peers.rt.block_on(send).map_err(|e| e.to_string()));
        etag = r?.e_tag().unwrap_or_default().to_string();
        v.push(t);
    }
    Ok(median(v))
}

/// One Lease replace with its resourceVersion, as the heartbeat renews.
fn k8s_renewal(peers: &Peers, name: &str) -> Res<Duration> {
    use k8s_openapi::api::coordination::v1::Lease;
    let api: kube::Api<Lease> = kube::Api::namespaced(peers.kube()?, "default");
    let mut v = Vec::new();
    for _ in 0..LOCK_TRIPS {
        let lease = peers.rt.block_on(api.get(name))?;
        let (r, t) = timed(|| {
            peers
                .rt
                .block_on(api.replace(name, &Default::default(), &lease))
        });
        r?;
        v.push(t);
    }
    Ok(median(v))
}

fn run(peers: &Peers, json: &str, rounds: usize, sealed: bool) -> Res<Vec<Row>> {
    let tag = if sealed { " + pbkdf2/aes_gcm" } else { "" };
    let suffix = if sealed { "enc" } else { "plain" };
    let wrap_local = |l: LocalLocation| -> Box<dyn StateLocation> {
        match sealed {
            true => Box::new(l.with_cipher(peers.cipher.clone())),
            false => Box::new(l),
        }
    };
    let mut rows = Vec::new();

    let mut row = Row {
        name: format!("local (sled){tag}"),
        ..Row::default()
    };
    let dir = peers.tmp.path().join(format!("local-{suffix}"));
    state_rounds(
        &*wrap_local(LocalLocation::new(&dir)),
        json,
        rounds,
        &mut row,
    )?;
    row.stored = format!("{} MiB on disk", mib(dir_bytes(&dir)));
    let lock_dir = peers.tmp.path().join(format!("lock-{suffix}"));
    row.lock_trip = lock_trips(&*wrap_local(LocalLocation::new(&lock_dir)))?;
    row.renewal = local_renewal(&lock_dir)?;
    rows.push(row);

    let mut row = Row {
        name: format!("s3 (moto){tag}"),
        ..Row::default()
    };
    let key = format!("{suffix}/state.json");
    let s3 = |endpoint: &str, key: &str, ttl| -> Res<Box<dyn StateLocation>> {
        let l = peers.s3(endpoint, key, ttl)?;
        Ok(match sealed {
            true => Box::new(l.with_cipher(peers.cipher.clone())),
            false => Box::new(l),
        })
    };
    state_rounds(
        &*s3(&peers.moto.endpoint(), &key, DEFAULT_TTL)?,
        json,
        rounds,
        &mut row,
    )?;
    let objects = peers.s3_stored(&key)?;
    let bytes = objects.iter().map(|o| o.1).sum();
    let current = objects
        .iter()
        .find(|o| o.0 == key)
        .map(|o| o.1)
        .unwrap_or(0);
    row.stored = format!(
        "{} objects, {} MiB (the state object: {} MiB)",
        objects.len(),
        mib(bytes),
        mib(current)
    );
    let lock_key = format!("{suffix}/lock-bench.json");
    row.lock_trip = lock_trips(&*s3(&peers.moto.endpoint(), &lock_key, DEFAULT_TTL)?)?;
    let beat_key = format!("{suffix}/beat.json");
    let through_proxy = s3(&peers.proxy.endpoint(), &beat_key, SHORT_TTL)?;
    row.per_beat = Some(per_beat(&*through_proxy, &|| peers.proxy.total())?);
    row.renewal = s3_renewal(peers, &format!("{suffix}/renewal.lock"))?;
    rows.push(row);

    let mut row = Row {
        name: format!("kubernetes (sandbox){tag}"),
        ..Row::default()
    };
    let k8s = |name: &str, ttl| -> Res<Box<dyn StateLocation>> {
        let l = K8sLocation::new(peers.k8s_settings(name, ttl))?;
        Ok(match sealed {
            true => Box::new(l.with_cipher(peers.cipher.clone())),
            false => Box::new(l),
        })
    };
    let name = format!("bench-{suffix}");
    state_rounds(&*k8s(&name, DEFAULT_TTL)?, json, rounds, &mut row)?;
    let base = peers.k8s_settings(&name, DEFAULT_TTL).base_name();
    // The first commit is serial 1, each round commits one more.
    let (chunks, all, bytes) = peers.k8s_stored(&base, 1 + rounds as u64)?;
    row.stored = format!(
        "{all} Secrets, {} MiB (the current generation: {chunks} chunks)",
        mib(bytes)
    );
    let lock_name = format!("lock-{suffix}");
    row.lock_trip = lock_trips(&*k8s(&lock_name, DEFAULT_TTL)?)?;
    let beat = k8s(&format!("beat-{suffix}"), SHORT_TTL)?;
    row.per_beat = Some(per_beat(&*beat, &|| peers.k8s_requests())?);
    let lease = format!(
        "{}-lock",
        peers.k8s_settings(&lock_name, DEFAULT_TTL).base_name()
    );
    row.renewal = k8s_renewal(peers, &lease)?;
    rows.push(row);
    Ok(rows)
}

fn print_rows(rows: &[Row]) {
    let beat = |per: Option<f64>| match per {
        Some(p) => format!("{p:.1} | {:.3}", p / (DEFAULT_TTL.as_secs_f64() / 3.0)),
        None => "1 lock-file rewrite | 0.025".to_string(),
    };
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
            r.name,
            ms(r.first_commit),
            ms(r.open),
            ms(r.one_changed),
            ms(r.commit),
            ms(r.load),
            r.stored,
            ms(r.lock_trip),
            beat(r.per_beat),
            r.renewal.as_secs_f64() * 1000.0
        );
    }
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let rounds: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(3);
    let sealed_too = std::env::var("ENCRYPTED").map(|v| v != "0").unwrap_or(true);
    let mut state = large_state::large_state(n);
    state.serial = 0;
    let json = encode_compact(&state);
    eprintln!(
        "state: {n} instances, {} MiB of JSON",
        mib(json.len() as u64)
    );
    let peers = Peers::start()?;
    println!(
        "| backend | first commit (push) ms | open (lock + read) ms | 1 record changed: intent + completion + commit ms | of which commit ms | open + load + close ms | stored | lock round trip ms | heartbeat: requests per beat | requests/s at lock_ttl 2m | one renewal ms |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
    // Rows are printed as each set finishes, so a stopped run keeps them.
    print_rows(&run(&peers, &json, rounds, false)?);
    if sealed_too {
        print_rows(&run(&peers, &json, rounds, true)?);
    }
    let Peers { rt, sandbox, .. } = peers;
    drop(rt.block_on(sandbox.shutdown()));
    Ok(())
}
