//! Export event lines and event JSON from an untrusted export: never panic; a line that
//! parses must re-encode to the same bytes.
#![no_main]

use cloudward_trail::RedactedEvent;
use cloudward_trail::export::{parse_event_line, write_event_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(line) = parse_event_line(data) {
        let mut out = Vec::new();
        write_event_line(&mut out, line.index, &line.leaf_hash, line.event).expect("vec write");
        assert_eq!(out.strip_suffix(b"\n"), Some(data));
    }
    let _ = RedactedEvent::from_canonical_bytes(data);
});
