//! Checkpoint notes are untrusted input: the parser must never panic, and whatever it
//! accepts must re-encode to exactly the same bytes (one spelling per checkpoint).
#![no_main]

use cloudward_trail::SignedCheckpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = SignedCheckpoint::parse(data) {
        let text = parsed.to_text().expect("a parsed checkpoint re-encodes");
        assert_eq!(text.as_bytes(), data, "accepted a non-canonical note");
        // Verifying against an empty keyring must fail cleanly, never panic.
        assert!(cloudward_trail::Keyring::new().verify(&parsed).is_err());
    }
});
