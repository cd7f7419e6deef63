//! Parse + verify cost of a typical STS `GetCallerIdentity` request, V2 and V3, as the server
//! pays it on every call (signing is measured too, for the CLI side).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::hint::black_box;

use cloudward_protocol::{
    Credentials, IncomingRequest, Limits, V3Request, parse_request, sign_v2, sign_v3,
};
use criterion::{Criterion, criterion_group, criterion_main};
use time::macros::datetime;

fn creds() -> Credentials {
    Credentials::new("LTAI5tBcc9zPqEXAMPLE1234", "x9YjRcWq2PmE4tLsN8uVbK1dF3gHoZ")
}

fn bench(c: &mut Criterion) {
    let now = datetime!(2026-03-01 12:00:00 UTC);
    let limits = Limits::default();
    let secret = creds().access_key_secret.into_bytes();

    // V2, as the classic SDK sends it: GET with everything in the query string.
    let params = BTreeMap::from([
        ("Action".to_string(), "GetCallerIdentity".to_string()),
        ("Version".to_string(), "2015-04-01".to_string()),
        ("SignatureType".to_string(), String::new()),
        ("RegionId".to_string(), "cn-hangzhou".to_string()),
    ]);
    let v2_query = sign_v2(
        "GET",
        &params,
        &creds(),
        "6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2",
        now,
    );
    let no_headers: Vec<(String, String)> = vec![];
    let v2 = IncomingRequest {
        method: "GET",
        path: "/",
        query: &v2_query,
        headers: &no_headers,
        body: b"",
    };
    parse_request(&v2, &limits)
        .unwrap()
        .verify(&secret)
        .unwrap();
    c.bench_function("v2_get_caller_identity_parse_verify", |b| {
        b.iter(|| {
            let req = parse_request(black_box(&v2), &limits).unwrap();
            req.verify(black_box(&secret)).unwrap();
        })
    });

    // V3, as the tea SDK sends it: POST, empty body, the usual signed headers.
    let query = BTreeMap::new();
    let extra = vec![
        ("accept".to_string(), "application/json".to_string()),
        (
            "user-agent".to_string(),
            "AlibabaCloud (Linux; x86_64) Python/3.12.3 Core/0.4.5 TeaDSL/1".to_string(),
        ),
    ];
    let signed = sign_v3(
        &V3Request {
            method: "POST",
            host: "127.0.0.1:18080",
            action: "GetCallerIdentity",
            version: "2015-04-01",
            query: &query,
            body: b"",
            content_type: None,
            extra_headers: &extra,
        },
        &creds(),
        "3156853299f313e23d1673dc12e1703d",
        now,
    );
    let v3 = IncomingRequest {
        method: "POST",
        path: "/",
        query: &signed.query,
        headers: &signed.headers,
        body: b"",
    };
    parse_request(&v3, &limits)
        .unwrap()
        .verify(&secret)
        .unwrap();
    c.bench_function("v3_get_caller_identity_parse_verify", |b| {
        b.iter(|| {
            let req = parse_request(black_box(&v3), &limits).unwrap();
            req.verify(black_box(&secret)).unwrap();
        })
    });

    c.bench_function("v2_sign", |b| {
        b.iter(|| sign_v2("GET", black_box(&params), &creds(), "nonce", now))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
