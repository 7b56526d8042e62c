//! Intent groups: the intents of one recorded chunk kept under one key of
//! the `intents` tree, instead of one key each.
//!
//! Why: every key costs sled a tree insert when recorded and another when
//! completed; for a 100,000-instance apply those two were about a third of
//! its CPU. A chunk is recorded together and, on the apply path, completed
//! together, so one key per chunk turns 200,000 tree operations into about
//! 200.
//!
//! A member's id is `<group key>/<seq as 16 hex digits>`: the group it is in
//! is read off the id, without a lookup, and ids still sort in the order
//! they were recorded. A single intent keeps its own key and an id without
//! a `/`.
//!
//! The value is [`MAGIC`] then, per member, the id's and then the intent
//! JSON's length (u32, big-endian) and bytes. It never starts with `{`, so
//! a posture that predates groups refuses it as corrupt instead of
//! misreading it.

/// The first byte of a group value (an intent's JSON starts with `{`).
pub(super) const MAGIC: u8 = b'G';

/// The key of the group an intent id belongs to, or `None` for a single intent.
pub(super) fn group_of(id: &str) -> Option<&str> {
    id.split_once('/').map(|(group, _)| group)
}

/// The id of the member with `seq` in the group keyed `group`.
pub(super) fn member_id(group: &str, seq: u64) -> String {
    format!("{group}/{seq:016x}")
}

/// True when a stored `intents` value is a group.
pub(super) fn is_group(raw: &[u8]) -> bool {
    raw.first() == Some(&MAGIC)
}

/// Encodes members (id, intent JSON).
pub(super) fn encode<'a>(members: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut out = vec![MAGIC];
    for (id, json) in members {
        for part in [id.as_bytes(), json] {
            // Parts are ids and one intent's JSON: far below 4 GiB.
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
    }
    out
}

/// Decodes a group value into its members (id, intent JSON), borrowed from
/// `raw`; `Err` says what is wrong with it.
pub(super) fn decode(raw: &[u8]) -> Result<Vec<(&str, &[u8])>, String> {
    let Some((&MAGIC, mut rest)) = raw.split_first() else {
        return Err("an intent group without its marker".into());
    };
    let mut members = Vec::new();
    while !rest.is_empty() {
        let (id, r) = part(rest)?;
        let (json, r) = part(r)?;
        let id = std::str::from_utf8(id).map_err(|_| "an intent id is not UTF-8".to_string())?;
        members.push((id, json));
        rest = r;
    }
    Ok(members)
}

fn part(b: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let truncated = || "an intent group is truncated".to_string();
    let (len, rest) = b.split_first_chunk::<4>().ok_or_else(truncated)?;
    let len = u32::from_be_bytes(*len) as usize;
    if rest.len() < len {
        return Err(truncated());
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_in_order() {
        let a = member_id("0000000000000010-u", 16);
        let b = member_id("0000000000000010-u", 17);
        let raw = encode([(a.as_str(), &b"{\"x\":1}"[..]), (b.as_str(), &b"{}"[..])]);
        assert!(is_group(&raw));
        let got = decode(&raw).expect("decodes");
        assert_eq!(
            got,
            vec![(a.as_str(), &b"{\"x\":1}"[..]), (b.as_str(), &b"{}"[..])]
        );
        assert_eq!(group_of(&a), Some("0000000000000010-u"));
        assert_eq!(group_of("0000000000000010-u"), None);
        assert!(a < b, "ids sort in the order they were recorded");
    }

    #[test]
    fn a_truncated_group_is_refused_not_misread() {
        let raw = encode([("g/0000000000000001", &b"{\"address\":\"a\"}"[..])]);
        for cut in 1..raw.len() {
            let r = decode(&raw[..cut]);
            assert!(
                r.is_err() || r.as_ref().is_ok_and(|m| m.is_empty()),
                "cut {cut}: {r:?}"
            );
        }
        assert!(decode(b"{\"id\":1}").is_err());
        assert!(!is_group(b"{\"id\":1}"));
    }
}
