//! V2 parsing on arbitrary query/body/headers. Oracles: no panic; whatever parses can be
//! verified and clock-checked without panicking; hints never panic.
#![no_main]

use cloudward_protocol::{IncomingRequest, Limits, parse_request, request_hints};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    post: bool,
    form: bool,
    query: String,
    body: Vec<u8>,
    extra_headers: Vec<(String, String)>,
    secret: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let mut headers = input.extra_headers;
    // Never an Authorization header here: that is the V3 target's job.
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
    if input.form {
        headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded; charset=UTF-8".into(),
        ));
    }
    let req = IncomingRequest {
        method: if input.post { "POST" } else { "GET" },
        path: "/",
        query: &input.query,
        headers: &headers,
        body: &input.body,
    };
    let _ = request_hints(&req);
    if let Ok(parsed) = parse_request(&req, &Limits::default()) {
        let _ = parsed.verify(&input.secret);
        let _ = parsed.check_clock(
            time::OffsetDateTime::UNIX_EPOCH,
            time::Duration::minutes(15),
        );
    }
});
