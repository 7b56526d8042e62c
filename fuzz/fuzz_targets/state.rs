//! Fuzz target `state`: the input is decoded as everything posture reads
//! back from a state: a whole state file (`state push`, snapshots), and one
//! instance record, intent, output and history entry (the database's
//! entries). Each must come back as a value or an error, whatever the
//! bytes, however deep the nesting: a panic, a stack overflow or a hang is
//! a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posture_engine::state::{
    HistoryEntry, InstanceRecord, Intent, OutputValue, decode, decode_json, encode,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        // Non-UTF-8 goes through the same path as text would after lossy reading.
        let _ = decode(&String::from_utf8_lossy(data), "fuzz input");
        return;
    };
    if let Ok(state) = decode(text, "fuzz input") {
        // What decodes re-encodes and decodes to the same state.
        let again = decode(&encode(&state), "re-encoded").expect("a decoded state round-trips");
        assert_eq!(again, state);
    }
    let _ = decode_json::<InstanceRecord>(text);
    let _ = decode_json::<Intent>(text);
    let _ = decode_json::<OutputValue>(text);
    let _ = decode_json::<HistoryEntry>(text);
});
