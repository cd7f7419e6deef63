//! Property tests: what our client signs, our server verifies (V2 GET query, V2 POST form
//! body, V3 query, V3 form body), and any tampering is caught. Plus "arbitrary bytes never
//! panic" for every entry point that sees untrusted input (the fuzz targets' smoke case).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use cloudward_protocol::{
    COMMON_PARAMS, Credentials, IncomingRequest, Limits, ParamSource, ProtocolError, V3Request,
    parse_error_body, parse_form, parse_request, request_hints, sign_v2_params, sign_v3,
};
use common::*;
use proptest::prelude::*;

/// Parameter names: identifier-like (as SDKs send) or arbitrary Unicode.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z][A-Za-z0-9._-]{0,12}",
        1 => "[ -~é中😀]{1,8}",
        1 => "\\PC{1,6}",
    ]
    .prop_filter("not a common parameter", |n| {
        !COMMON_PARAMS.contains(&n.as_str())
    })
}

/// Values with every character that has a special meaning somewhere in the pipeline.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{0,16}",
        1 => "[ *~+&=%é中😀]{0,8}",
        1 => "\\PC{0,10}",
        1 => Just(String::new()),
    ]
}

fn params() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(name(), value(), 0..8)
}

/// Header values as HTTP carries them: printable ASCII, no surrounding spaces.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof!["[!-~]([ -~]{0,12}[!-~])?", Just(String::new())]
}

fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("x-test-[a-z0-9-]{1,8}", header_value()), 0..4)
}

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{1,44}"
}

fn spelling() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop_oneof![
        Just(("~", "*")),
        Just(("%7E", "%2A")),
        Just(("~", "%2A")),
        Just(("%7e", "%2a"))
    ]
}

fn with_action(p: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut all = p.clone();
    all.insert("Action".into(), "GetCallerIdentity".into());
    all.insert("Version".into(), "2015-04-01".into());
    all
}

struct V3Case {
    signed: cloudward_protocol::V3Signed,
    body: Vec<u8>,
}

fn v3_case(
    query: &BTreeMap<String, String>,
    form: &BTreeMap<String, String>,
    extra: &[(String, String)],
    creds: &Credentials,
) -> V3Case {
    let body = if form.is_empty() {
        Vec::new()
    } else {
        urlencode(form, "~", "%2A").into_bytes()
    };
    let signed = sign_v3(
        &V3Request {
            method: "POST",
            host: "127.0.0.1:18080",
            action: "GetCallerIdentity",
            version: "2015-04-01",
            query,
            body: &body,
            content_type: (!body.is_empty()).then_some(FORM),
            extra_headers: extra,
        },
        creds,
        "d410180a5abf7fe235dd9b74aca91fc0",
        NOW,
    );
    V3Case { signed, body }
}

fn disjoint(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> bool {
    a.keys().all(|k| !b.contains_key(k))
}

fn is_mismatch(e: &ProtocolError) -> bool {
    e.code() == "SignatureDoesNotMatch"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn v2_get_round_trip(p in params(), s in secret(), sp in spelling(), sts in any::<bool>()) {
        let c = Credentials {
            access_key_id: "LTAI5tExampleExample12".into(),
            access_key_secret: s,
            security_token: sts.then(|| "CAIS tok+en/=&".to_string()),
        };
        let signed = sign_v2_params("GET", &with_action(&p), &c, "nonce-1", NOW);
        let req = parse("GET", &urlencode(&signed, sp.0, sp.1), &[], b"").unwrap();
        prop_assert_eq!(&req.params, &p);
        prop_assert!(req.verify(c.access_key_secret.as_bytes()).is_ok());
        prop_assert!(req.verify(b"other-secret").is_err());
    }

    #[test]
    fn v2_post_form_round_trip(p in params(), s in secret()) {
        let c = Credentials::new("LTAI5tExampleExample12", s);
        let signed = sign_v2_params("POST", &with_action(&p), &c, "nonce-2", NOW);
        let body = cloudward_protocol::encode_params(&signed);
        let req = parse("POST", "", &form_headers(), body.as_bytes()).unwrap();
        prop_assert_eq!(&req.params, &p);
        prop_assert!(req.verify(c.access_key_secret.as_bytes()).is_ok());
    }

    #[test]
    fn v3_query_and_form_round_trip(
        q in params(), f in params(), extra in extra_headers(), s in secret(), sts in any::<bool>()
    ) {
        prop_assume!(disjoint(&q, &f));
        let c = Credentials {
            access_key_id: "STS.NKKJ4fxwXFRPSA1RpHM7UN1eB".into(),
            access_key_secret: s,
            security_token: sts.then(|| "CAIS-token".to_string()),
        };
        let case = v3_case(&q, &f, &extra, &c);
        let req = parse("POST", &case.signed.query, &case.signed.headers, &case.body).unwrap();
        let mut all = q.clone();
        all.extend(f.clone());
        prop_assert_eq!(&req.params, &all);
        prop_assert!(req.verify(c.access_key_secret.as_bytes()).is_ok());
        let mut wrong = c.access_key_secret.clone();
        wrong.push('x');
        prop_assert!(is_mismatch(&req.verify(wrong.as_bytes()).unwrap_err()));
    }

    #[test]
    fn v2_tampering_is_detected(
        p in params().prop_filter("non-empty", |p| !p.is_empty()),
        pick in any::<prop::sample::Index>(),
        new_value in value(),
        new_name in name(),
        how in 0u8..3,
    ) {
        let c = creds();
        let signed = sign_v2_params("GET", &with_action(&p), &c, "nonce-3", NOW);
        let key = pick.get(&p.keys().collect::<Vec<_>>()).to_string();
        let mut tampered = signed.clone();
        match how {
            0 => {
                prop_assume!(p[&key] != new_value);
                tampered.insert(key, new_value);
            }
            1 => {
                prop_assume!(!signed.contains_key(&new_name));
                let v = tampered.remove(&key).unwrap();
                tampered.insert(new_name, v);
            }
            _ => {
                tampered.remove(&key);
            }
        }
        let req = parse("GET", &urlencode(&tampered, "~", "*"), &[], b"").unwrap();
        prop_assert!(is_mismatch(&req.verify(c.access_key_secret.as_bytes()).unwrap_err()));
    }

    #[test]
    fn v3_tampering_is_detected(
        q in params(),
        f in params().prop_filter("non-empty", |f| !f.is_empty()),
        extra in extra_headers(),
        which in any::<prop::sample::Index>(),
        target in 0u8..4,
        new_value in value(),
        flip in any::<prop::sample::Index>(),
    ) {
        prop_assume!(disjoint(&q, &f));
        let c = creds();
        let case = v3_case(&q, &f, &extra, &c);
        let headers = case.signed.headers.clone();
        let mut body = case.body.clone();
        let mut query_map = q.clone();
        let mut hdrs = headers.clone();
        match target {
            // A query parameter value changes (or a new one appears).
            0 => {
                let key = if q.is_empty() { "Injected".to_string() } else {
                    which.get(&q.keys().collect::<Vec<_>>()).to_string()
                };
                prop_assume!(!f.contains_key(&key));
                prop_assume!(query_map.get(&key) != Some(&new_value));
                query_map.insert(key, new_value);
            }
            // A signed header changes (not authorization, not the content hash).
            1 => {
                let candidates: Vec<usize> = hdrs.iter().enumerate()
                    .filter(|(_, (k, _))| k != "authorization" && k != "x-acs-content-sha256")
                    .map(|(i, _)| i).collect();
                let i = *which.get(&candidates);
                let name = hdrs[i].0.clone();
                let replacement = if name == "x-acs-date" {
                    "2026-03-01T12:00:01Z".to_string()
                } else {
                    format!("{}x", hdrs[i].1)
                };
                hdrs[i].1 = replacement;
            }
            // A body byte changes: the content hash no longer matches.
            2 => {
                let i = flip.index(body.len());
                body[i] ^= 0x01;
            }
            // A form parameter is renamed (body changes, hash caught again).
            _ => {
                let key = which.get(&f.keys().collect::<Vec<_>>()).to_string();
                let mut f2 = f.clone();
                let v = f2.remove(&key).unwrap();
                f2.insert(format!("{key}2"), v);
                body = urlencode(&f2, "~", "%2A").into_bytes();
            }
        }
        let query = cloudward_protocol::encode_params(&query_map);
        match parse("POST", &query, &hdrs, &body) {
            Err(e) => {
                prop_assert!(target >= 2, "unexpected parse error {:?}", e);
                prop_assert_eq!(e, ProtocolError::ContentSha256Mismatch);
            }
            Ok(req) => {
                prop_assert!(target < 2);
                prop_assert!(is_mismatch(&req.verify(c.access_key_secret.as_bytes()).unwrap_err()));
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        query in prop::collection::vec(any::<u8>(), 0..256),
        body in prop::collection::vec(any::<u8>(), 0..256),
        headers in prop::collection::vec(("\\PC{0,24}", "\\PC{0,64}"), 0..6),
        auth in proptest::option::of("(ACS3-HMAC-SHA256 )?[ -~]{0,120}"),
        form in any::<bool>(),
        post in any::<bool>(),
    ) {
        let _ = parse_form(&query, ParamSource::Query, &Limits::default());
        let _ = parse_error_body(&body);
        let q = String::from_utf8_lossy(&query);
        let mut h = headers;
        if form {
            h.push(("content-type".into(), FORM.into()));
        }
        if let Some(a) = auth {
            h.push(("Authorization".into(), a));
        }
        let req = IncomingRequest { method: if post { "POST" } else { "GET" }, path: "/", query: &q, headers: &h, body: &body };
        let _ = request_hints(&req);
        if let Ok(parsed) = parse_request(&req, &Limits::default()) {
            let _ = parsed.verify(b"secret");
        }
    }

    #[test]
    fn form_parse_reencode_is_stable(
        query in prop::collection::vec(
            prop_oneof![any::<u8>(), Just(b'%'), Just(b'&'), Just(b'='), Just(b'+')], 0..128)
    ) {
        if let Ok(pairs) = parse_form(&query, ParamSource::Query, &Limits::default()) {
            let re = cloudward_protocol::canonical_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let again = parse_form(re.as_bytes(), ParamSource::Query, &Limits::default()).unwrap();
            let mut sorted = pairs.clone();
            sorted.sort();
            prop_assert_eq!(again, sorted);
        }
    }
}
