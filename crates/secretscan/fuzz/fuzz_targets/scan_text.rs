//! The scanner on arbitrary text. Oracles: it never panics; every finding points at its id
//! (right line and column) and shows no more of the secret than the four-character
//! preview; every reported id and secret preview is plausible by the crate's own rules.
#![no_main]

use cloudward_secretscan::{ScanOptions, is_plausible_access_key_id, scan_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let options = ScanOptions {
        lone_ids: data.first().is_some_and(|b| b & 1 == 1),
        examples: data.first().is_some_and(|b| b & 2 == 2),
    };
    let lines: Vec<&str> = text.lines().collect();
    for f in scan_text("fuzz", &text, &options) {
        assert!(is_plausible_access_key_id(&f.access_key_id), "{f:?}");
        let line = lines[f.line - 1];
        let at: String = line.chars().skip(f.column - 1).take(f.access_key_id.chars().count()).collect();
        assert_eq!(at, f.access_key_id);
        if let Some(preview) = &f.secret_preview {
            assert_eq!(preview.chars().count(), 5);
            assert!(preview.ends_with('…'));
            let secret_line = lines[f.secret_line.unwrap() - 1];
            assert!(secret_line.contains(preview.trim_end_matches('…')));
        }
    }
});
