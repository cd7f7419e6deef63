//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use cloudward_protocol::{
    Credentials, IncomingRequest, Limits, ProtocolError, SignedRequest, V3Request, V3Signed,
    parse_request, sign_v3,
};
use time::OffsetDateTime;
use time::macros::datetime;

pub const NOW: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);
pub const FORM: &str = "application/x-www-form-urlencoded";

pub fn creds() -> Credentials {
    Credentials::new("LTAI5tExampleExample12", "s3cr3t-Example-Secret")
}

pub fn sts_creds() -> Credentials {
    Credentials {
        access_key_id: "STS.NKKJ4fxwXFRPSA1RpHM7UN1eB".into(),
        access_key_secret: "FUQXx4EgWunH24BgpoSPY2HpbkmuRoHs6dkSg1HoTkUx".into(),
        security_token: Some("CAIS+token/with=odd&chars".into()),
    }
}

pub fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn parse(
    method: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<SignedRequest, ProtocolError> {
    parse_request(
        &IncomingRequest {
            method,
            path: "/",
            query,
            headers,
            body,
        },
        &Limits::default(),
    )
}

pub fn form_headers() -> Vec<(String, String)> {
    vec![("Content-Type".into(), FORM.into())]
}

/// Python's `quote_plus(s, safe='')` with the given spellings for `~` and `*`, the way the
/// tea and classic SDKs put parameters on the wire.
pub fn quote_plus(s: &str, tilde: &str, star: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b'~' => out.push_str(tilde),
            b'*' => out.push_str(star),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn urlencode(params: &BTreeMap<String, String>, tilde: &str, star: &str) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                quote_plus(k, tilde, star),
                quote_plus(v, tilde, star)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A V3 RPC request as the tea SDK sends it: POST, query parameters, empty body.
pub fn v3_signed(
    query: &BTreeMap<String, String>,
    body: &[u8],
    content_type: Option<&str>,
    creds: &Credentials,
) -> V3Signed {
    sign_v3(
        &V3Request {
            method: "POST",
            host: "127.0.0.1:18080",
            action: "GetCallerIdentity",
            version: "2015-04-01",
            query,
            body,
            content_type,
            extra_headers: &[
                ("accept".into(), "application/json".into()),
                (
                    "user-agent".into(),
                    "AlibabaCloud (Linux) Python/3.12 TeaDSL/1".into(),
                ),
            ],
        },
        creds,
        "3156853299f313e23d1673dc12e1703d",
        NOW,
    )
}

pub fn header_set(headers: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            if k.eq_ignore_ascii_case(name) {
                (k.clone(), value.to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

pub fn header_remove(headers: &[(String, String)], name: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
        .cloned()
        .collect()
}
