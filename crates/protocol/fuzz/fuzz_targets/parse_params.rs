//! The form parser on arbitrary bytes. Oracle: whatever parses re-encodes (RFC 3986) to a
//! string that parses back to the same pairs.
#![no_main]

use cloudward_protocol::{Limits, ParamSource, parse_form, percent_encode_rfc3986};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(pairs) = parse_form(data, ParamSource::Query, &limits) else {
        return;
    };
    let reencoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encode_rfc3986(k),
                percent_encode_rfc3986(v)
            )
        })
        .collect();
    let again = parse_form(reencoded.join("&").as_bytes(), ParamSource::Body, &limits);
    assert_eq!(again.as_ref().ok(), Some(&pairs));
});
