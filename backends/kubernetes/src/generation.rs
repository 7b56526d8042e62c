//! Generations: a committed state as gzip chunks of at most [`CHUNK_SIZE`]
//! bytes, each in its own Secret, never changed once written; and the index
//! Secret naming the current generation, switched by one replace with the
//! resourceVersion read as precondition.
//!
//! A reader reads the index once, then exactly the chunks it names, and
//! checks them against the index's digest: it sees one generation whole.
//! Writers never touch a generation an index or a history line names, so a
//! reader racing a commit gets the old generation or the new one.

use std::io::{Read, Write as _};

use k8s_openapi::api::core::v1::Secret;
use posture_engine::state::{Binding, HistoryEntry, State, StateError, decode, encode_compact};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{self, Store, Write};

/// The largest chunk: 1 MiB, the API server's limit for a Secret's data.
pub const CHUNK_SIZE: usize = 1024 * 1024;

/// The data key of a chunk.
const CHUNK_KEY: &str = "chunk";
/// The data key of the index and of a history Secret.
pub(crate) const INDEX_KEY: &str = "index.json";
const GENERATION_LABEL: &str = "posture.dev/generation";
const SERIAL_LABEL: &str = "posture.dev/serial";

/// Where one generation is and how to check it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Pointer {
    /// `s<serial>-<random>`: unique, so two writers never share a chunk.
    pub(crate) generation: String,
    /// The chunk Secrets, in order.
    pub(crate) chunks: Vec<String>,
    pub(crate) serial: u64,
    pub(crate) lineage: String,
    /// SHA-256 of the stored stream (all chunks joined: gzip, sealed when
    /// encryption is on), hex.
    pub(crate) sha256: String,
    /// Bytes of the gzip stream.
    pub(crate) size: u64,
}

/// The index Secret's content, and each history Secret's: a pointer and
/// the `state history` line of its serial.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IndexDoc {
    pub(crate) pointer: Pointer,
    pub(crate) entry: HistoryEntry,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The name of the history Secret of `serial`.
pub(crate) fn history_name(base: &str, serial: u64) -> String {
    format!("{base}-h{serial}")
}

/// Reads an index or history Secret's document.
pub(crate) fn read_doc(store: &Store, s: &Secret) -> Result<IndexDoc, StateError> {
    let name = s.metadata.name.clone().unwrap_or_default();
    let bytes = store::data(s, INDEX_KEY).ok_or_else(|| StateError::Corrupt {
        what: store.url(&name),
        detail: format!("the Secret has no `{INDEX_KEY}` key"),
    })?;
    serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt {
        what: store.url(&name),
        detail: format!("its `{INDEX_KEY}` is not an index posture wrote: {e}"),
    })
}

/// The Secret holding `doc` under `name` (the index or a history line).
pub(crate) fn doc_secret(
    store: &Store,
    name: &str,
    role: &str,
    doc: &IndexDoc,
    resource_version: Option<String>,
) -> Secret {
    let labels = store.labels(role, &[(SERIAL_LABEL, doc.pointer.serial.to_string())]);
    // Strings and numbers only: serialising cannot fail.
    let body = serde_json::to_vec(doc).unwrap_or_default();
    Store::secret(name, labels, vec![(INDEX_KEY, body)], resource_version)
}

/// Writes `state` as a new generation: every chunk is created (never
/// replaced), so nothing a reader may be reading changes.
pub(crate) fn write(store: &Store, state: &State) -> Result<Pointer, StateError> {
    let base = store.settings.base_name();
    let json = encode_compact(state);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let zipped = gz
        .write_all(json.as_bytes())
        .and_then(|()| gz.finish())
        .map_err(|e| StateError::Remote {
            location: store.url(&base),
            detail: format!("compressing the state failed: {e}"),
        })?;
    // Sealed whole, then chunked: every generation of this state is bound
    // to its base name, lineage and serial.
    let zipped = store.seal(
        &base,
        Binding::new(&base, &state.lineage, state.serial),
        zipped,
    )?;
    let rand = uuid::Uuid::new_v4().simple().to_string();
    let generation = format!("s{}-{}", state.serial, &rand[..8]);
    let mut chunks = Vec::new();
    for (i, part) in zipped.chunks(CHUNK_SIZE).enumerate() {
        let name = format!("{base}-{generation}-{i}");
        let labels = store.labels(
            "chunk",
            &[
                (GENERATION_LABEL, generation.clone()),
                (SERIAL_LABEL, state.serial.to_string()),
            ],
        );
        let secret = Store::secret(&name, labels, vec![(CHUNK_KEY, part.to_vec())], None);
        if let Write::Refused = store.create_secret(secret)? {
            return Err(StateError::Conflict {
                location: store.url(&name),
                detail: "a chunk of a new generation already exists".into(),
            });
        }
        chunks.push(name);
    }
    Ok(Pointer {
        generation,
        chunks,
        serial: state.serial,
        lineage: state.lineage.clone(),
        sha256: hex(&Sha256::digest(&zipped)),
        size: zipped.len() as u64,
    })
}

/// Reads the generation `p` names, whole, or says what is wrong with it.
pub(crate) fn read(store: &Store, p: &Pointer, index: &str) -> Result<State, StateError> {
    let damaged = |what: &str, detail: String| StateError::Corrupt {
        what: format!(
            "{} (generation {} named by {})",
            store.url(what),
            p.generation,
            index
        ),
        detail,
    };
    let mut zipped = Vec::with_capacity(usize::try_from(p.size).unwrap_or(0));
    for name in &p.chunks {
        let Some(s) = store.get_secret(name)? else {
            return Err(damaged(
                name,
                "the chunk Secret is missing: the index points at a generation that is not \
                 (or no longer) there"
                    .into(),
            ));
        };
        if store::label(&s.metadata, GENERATION_LABEL) != Some(p.generation.as_str()) {
            return Err(damaged(
                name,
                "the chunk belongs to another generation".into(),
            ));
        }
        let part = store::data(&s, CHUNK_KEY)
            .ok_or_else(|| damaged(name, format!("the chunk has no `{CHUNK_KEY}` key")))?;
        zipped.extend_from_slice(part);
    }
    let digest = hex(&Sha256::digest(&zipped));
    if digest != p.sha256 || zipped.len() as u64 != p.size {
        return Err(damaged(
            index,
            format!(
                "the chunks' SHA-256 is {digest} ({} bytes), the index says {} ({} bytes): a \
                 chunk was changed",
                zipped.len(),
                p.sha256,
                p.size
            ),
        ));
    }
    let opened = store.open(index, &store.settings.base_name(), zipped)?;
    if let Some(b) = &opened.binding {
        b.expect(&store.url(index), &p.lineage, Some(p.serial))?;
    }
    let zipped = opened.plaintext;
    let mut json = String::new();
    flate2::read::GzDecoder::new(zipped.as_slice())
        .read_to_string(&mut json)
        .map_err(|e| damaged(index, format!("the chunks do not decompress: {e}")))?;
    let state = decode(&json, &store.url(index))?;
    if state.serial != p.serial || state.lineage != p.lineage {
        return Err(damaged(
            index,
            format!(
                "the chunks hold serial {} of lineage {}, the index says serial {} of {}",
                state.serial, state.lineage, p.serial, p.lineage
            ),
        ));
    }
    Ok(state)
}

/// Deletes generations of `serial` other than `keep`: writes that never
/// became current (a killed run, or a switch refused). Failures are left
/// for the next commit of that serial; nothing names these chunks.
pub(crate) fn collect_garbage(store: &Store, serial: u64, keep: &str) {
    let selector = format!("{SERIAL_LABEL}={serial},{GENERATION_LABEL}!={keep}");
    let Ok(orphans) = store.list_secrets("chunk", &selector) else {
        return;
    };
    for s in orphans {
        if let Some(name) = &s.metadata.name {
            let _ = store.delete_secret(name);
        }
    }
}

/// Deletes every chunk of generation `g` (a write this run abandoned).
pub(crate) fn discard(store: &Store, p: &Pointer) {
    for name in &p.chunks {
        let _ = store.delete_secret(name);
    }
}
