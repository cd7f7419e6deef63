//! Parsing: SDK wire quirks that must verify, and bad input that must fail with its
//! documented code (never a panic).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_protocol::{
    IncomingRequest, Limits, ProtocolError, ResponseFormat, SignatureScheme,
    parse_anonymous_request, request_hints, sign_v2_params,
};
use common::*;
use time::Duration;

fn v2_params(extra: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    let mut p = map(&[("Action", "CreateUser"), ("Version", "2015-05-01")]);
    for (k, v) in extra {
        p.insert(k.to_string(), v.to_string());
    }
    p
}

// ---------------------------------------------------------------- SDK quirks

#[test]
fn tea_sdk_lowercase_format_and_plus_for_space() {
    let params = v2_params(&[("Format", "json"), ("Comments", "hello big world")]);
    let signed = sign_v2_params("POST", &params, &creds(), "n1", NOW);
    let query = urlencode(&signed, "~", "%2A");
    assert!(query.contains("Comments=hello+big+world"), "{query}");
    let req = parse("POST", &query, &[], b"").unwrap();
    assert_eq!(req.format, ResponseFormat::Json);
    assert_eq!(req.params["Comments"], "hello big world");
    req.verify(creds().access_key_secret.as_bytes()).unwrap();

    let xml = sign_v2_params("GET", &v2_params(&[("Format", "xml")]), &creds(), "n2", NOW);
    let req = parse("GET", &urlencode(&xml, "~", "*"), &[], b"").unwrap();
    assert_eq!(req.format, ResponseFormat::Xml);
    req.verify(creds().access_key_secret.as_bytes()).unwrap();
}

#[test]
fn classic_sdk_empty_signature_type_is_signed() {
    let params = v2_params(&[("SignatureType", ""), ("UserName", "bob")]);
    let signed = sign_v2_params("GET", &params, &creds(), "n3", NOW);
    let query = urlencode(&signed, "~", "%2A");
    assert!(query.contains("SignatureType=&") || query.ends_with("SignatureType="));
    let req = parse("GET", &query, &[], b"").unwrap();
    assert!(req.string_to_sign().contains("%26SignatureType%3D%26"));
    assert!(!req.params.contains_key("SignatureType"));
    req.verify(creds().access_key_secret.as_bytes()).unwrap();

    // Dropping the empty parameter changes what is signed.
    let stripped = query.replace("SignatureType=&", "");
    let req = parse("GET", &stripped, &[], b"").unwrap();
    assert_eq!(
        req.verify(creds().access_key_secret.as_bytes())
            .unwrap_err()
            .code(),
        "SignatureDoesNotMatch"
    );
}

#[test]
fn tilde_and_star_spellings_all_verify() {
    let params = v2_params(&[("UserName", "a~b*c d+e&f=g/h")]);
    let signed = sign_v2_params("GET", &params, &creds(), "n4", NOW);
    for (tilde, star) in [
        ("~", "*"),
        ("%7E", "%2A"),
        ("%7e", "%2a"),
        ("~", "%2A"),
        ("%7E", "*"),
    ] {
        let query = urlencode(&signed, tilde, star);
        let req = parse("GET", &query, &[], b"").unwrap();
        assert_eq!(req.params["UserName"], "a~b*c d+e&f=g/h");
        req.verify(creds().access_key_secret.as_bytes())
            .unwrap_or_else(|e| panic!("{tilde} {star}: {e}"));
    }
}

#[test]
fn v2_post_form_body_and_split() {
    let params = v2_params(&[("PolicyDocument", "{\"Version\": \"1\"}")]);
    let signed = sign_v2_params("POST", &params, &creds(), "n5", NOW);
    let body = urlencode(&signed, "~", "%2A");
    let req = parse("POST", "", &form_headers(), body.as_bytes()).unwrap();
    req.verify(creds().access_key_secret.as_bytes()).unwrap();
    assert_eq!(req.params["PolicyDocument"], "{\"Version\": \"1\"}");

    // Half in the query, half in the body: V2 signs the union.
    let (q, b): (Vec<_>, Vec<_>) = signed.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let q: std::collections::BTreeMap<_, _> = q
        .into_iter()
        .map(|(_, (k, v))| (k.clone(), v.clone()))
        .collect();
    let b: std::collections::BTreeMap<_, _> = b
        .into_iter()
        .map(|(_, (k, v))| (k.clone(), v.clone()))
        .collect();
    let req = parse(
        "POST",
        &urlencode(&q, "~", "*"),
        &form_headers(),
        urlencode(&b, "~", "*").as_bytes(),
    )
    .unwrap();
    req.verify(creds().access_key_secret.as_bytes()).unwrap();

    // The method is signed.
    let req = parse("GET", "", &form_headers(), body.as_bytes()).unwrap();
    assert!(req.verify(creds().access_key_secret.as_bytes()).is_err());
}

#[test]
fn v2_sts_token_is_read_and_redacted_in_mismatch() {
    let c = sts_creds();
    let signed = sign_v2_params("GET", &v2_params(&[]), &c, "n6", NOW);
    let req = parse("GET", &urlencode(&signed, "~", "*"), &[], b"").unwrap();
    assert_eq!(
        req.security_token.as_deref(),
        Some("CAIS+token/with=odd&chars")
    );
    assert!(!req.params.contains_key("SecurityToken"));
    req.verify(c.access_key_secret.as_bytes()).unwrap();
    let msg = req.verify(b"wrong").unwrap_err().message();
    assert!(msg.contains("SecurityToken%3D***%26"), "{msg}");
    assert!(!msg.contains("CAIS"), "{msg}");
    assert!(!msg.contains(&c.access_key_secret));
}

#[test]
fn v3_tea_style_request_with_port_and_sts() {
    let c = sts_creds();
    let q = map(&[
        ("RoleArn", "acs:ram::123:role/x y"),
        ("RoleSessionName", "alice"),
    ]);
    let signed = v3_signed(&q, b"", None, &c);
    let headers = signed.headers.clone();
    let req = parse("POST", &signed.query, &headers, b"").unwrap();
    assert_eq!(req.scheme, SignatureScheme::V3);
    assert_eq!(req.security_token.as_deref(), c.security_token.as_deref());
    assert_eq!(req.params["RoleArn"], "acs:ram::123:role/x y");
    assert!(
        req.canonical_request()
            .unwrap()
            .contains("host:127.0.0.1:18080\n")
    );
    req.verify(c.access_key_secret.as_bytes()).unwrap();
    req.check_clock(NOW, Duration::minutes(15)).unwrap();

    // Python's urlencode puts `+` for spaces in the URL; canonicalization still matches.
    let python_query = urlencode(&q, "~", "%2A");
    assert!(python_query.contains("x+y"));
    let req = parse("POST", &python_query, &headers, b"").unwrap();
    req.verify(c.access_key_secret.as_bytes()).unwrap();

    // Header names arrive in any case.
    let upper: Vec<_> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
        .collect();
    let req = parse("POST", &signed.query, &upper, b"").unwrap();
    req.verify(c.access_key_secret.as_bytes()).unwrap();
}

#[test]
fn v3_form_body_params() {
    let body = b"PolicyDocument=%7B%22a%22%3A1%7D&Extra=x+y";
    let signed = v3_signed(&map(&[("Q", "1")]), body, Some(FORM), &creds());
    let req = parse("POST", &signed.query, &signed.headers, body).unwrap();
    assert_eq!(req.params["PolicyDocument"], "{\"a\":1}");
    assert_eq!(req.params["Extra"], "x y");
    assert_eq!(req.params["Q"], "1");
    req.verify(creds().access_key_secret.as_bytes()).unwrap();
}

// ---------------------------------------------------------------- bad input

fn code(r: Result<cloudward_protocol::SignedRequest, ProtocolError>) -> &'static str {
    r.map(|_| ()).unwrap_err().code()
}

#[test]
fn malformed_percent_encoding() {
    for bad in ["a=%", "a=%4", "a=%G1", "%ZZ=1", "a=%C3%28", "a=%FF", "=x"] {
        let e = parse("GET", bad, &[], b"").unwrap_err();
        assert_eq!(e.code(), "InvalidParameter", "{bad}");
        assert!(
            matches!(e, ProtocolError::MalformedParameters { .. }),
            "{bad}"
        );
        let e = parse("POST", "", &form_headers(), bad.as_bytes()).unwrap_err();
        assert_eq!(e.code(), "InvalidParameter", "{bad}");
    }
}

#[test]
fn duplicate_parameters() {
    assert_eq!(
        code(parse("GET", "Action=A&Action=B", &[], b"")),
        "InvalidParameter"
    );
    assert_eq!(
        code(parse("POST", "", &form_headers(), b"x=1&x=1")),
        "InvalidParameter"
    );
    let e = parse("POST", "Action=A", &form_headers(), b"Action=A").unwrap_err();
    assert!(matches!(e, ProtocolError::DuplicateParameter { .. }));
    assert!(e.message().contains("\"Action\""));
}

#[test]
fn missing_v2_parameters() {
    let signed = sign_v2_params("GET", &v2_params(&[]), &creds(), "n7", NOW);
    for name in [
        "Action",
        "Version",
        "Signature",
        "AccessKeyId",
        "Timestamp",
        "SignatureNonce",
        "SignatureMethod",
        "SignatureVersion",
    ] {
        let mut p = signed.clone();
        p.remove(name);
        let e = parse("GET", &urlencode(&p, "~", "*"), &[], b"").unwrap_err();
        assert_eq!(e.code(), "MissingParameter", "{name}");
        assert!(
            e.message().contains(&format!("\"{name}\"")),
            "{}",
            e.message()
        );
        // Present but empty counts as missing.
        p.insert(name.to_string(), String::new());
        let e = parse("GET", &urlencode(&p, "~", "*"), &[], b"").unwrap_err();
        assert_eq!(e.code(), "MissingParameter", "{name} empty");
    }
}

#[test]
fn unsupported_v2_method_and_version_and_format() {
    let signed = sign_v2_params("GET", &v2_params(&[]), &creds(), "n8", NOW);
    let with = |k: &str, v: &str| {
        let mut p = signed.clone();
        p.insert(k.into(), v.into());
        parse("GET", &urlencode(&p, "~", "*"), &[], b"")
    };
    assert_eq!(
        code(with("SignatureMethod", "HMAC-SHA256")),
        "UnsupportedSignatureMethod"
    );
    assert_eq!(
        code(with("SignatureVersion", "2.0")),
        "UnsupportedSignatureVersion"
    );
    assert_eq!(code(with("Format", "yaml")), "InvalidParameter");
    assert_eq!(
        code(with("Signature", "not base64!")),
        "IncompleteSignature"
    );
    assert_eq!(code(with("Signature", "AAAA")), "IncompleteSignature");
    assert_eq!(
        code(with("SignatureNonce", &"n".repeat(129))),
        "InvalidParameter"
    );
    // A V2 request may not carry a body it does not sign.
    let q = urlencode(&signed, "~", "*");
    let json = vec![("Content-Type".to_string(), "application/json".to_string())];
    assert_eq!(code(parse("POST", &q, &json, b"{}")), "InvalidParameter");
}

#[test]
fn bad_timestamps() {
    let signed = sign_v2_params("GET", &v2_params(&[]), &creds(), "n9", NOW);
    for bad in [
        "2026-03-01 12:00:00",
        "2026-03-01T12:00:00",
        "1700000000",
        "2026-02-30T00:00:00Z",
        "2026-03-01T12:00:00+08:00",
    ] {
        let mut p = signed.clone();
        p.insert("Timestamp".into(), bad.into());
        assert_eq!(
            code(parse("GET", &urlencode(&p, "~", "*"), &[], b"")),
            "InvalidTimeStamp.Format",
            "{bad}"
        );
    }
    // Fractional seconds are accepted (and signed as sent).
    let mut p = v2_params(&[]);
    p.insert("Timestamp".into(), "ignored".into());
    let mut s = sign_v2_params("GET", &p, &creds(), "n10", NOW);
    s.insert("Timestamp".into(), "2026-03-01T12:00:00.123Z".into());
    let req = parse("GET", &urlencode(&s, "~", "*"), &[], b"").unwrap();
    assert_eq!(req.timestamp, NOW + Duration::milliseconds(123));
}

#[test]
fn clock_skew_both_ways() {
    let signed = sign_v2_params("GET", &v2_params(&[]), &creds(), "n11", NOW);
    let req = parse("GET", &urlencode(&signed, "~", "*"), &[], b"").unwrap();
    let w = Duration::minutes(15);
    req.check_clock(NOW, w).unwrap();
    req.check_clock(NOW + w, w).unwrap();
    req.check_clock(NOW - w, w).unwrap();
    let late = req
        .check_clock(NOW + w + Duration::seconds(1), w)
        .unwrap_err();
    assert_eq!(late.code(), "InvalidTimeStamp.Expired");
    let early = req
        .check_clock(NOW - w - Duration::seconds(1), w)
        .unwrap_err();
    assert_eq!(early.code(), "InvalidTimeStamp.Expired");
}

fn with_auth(auth: &str) -> Result<cloudward_protocol::SignedRequest, ProtocolError> {
    let signed = v3_signed(&map(&[]), b"", None, &creds());
    let headers = header_set(&signed.headers, "authorization", auth);
    parse("POST", &signed.query, &headers, b"")
}

#[test]
fn garbage_authorization_headers() {
    let sig = "a".repeat(64);
    let sh =
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";
    for bad in [
        String::new(),
        "ACS3-HMAC-SHA256".into(),
        "ACS3-HMAC-SHA256 ".into(),
        "Bearer abc".into(),
        "acs LTAI:abc".into(),
        format!("ACS3-HMAC-SHA256 SignedHeaders={sh},Signature={sig}"),
        format!("ACS3-HMAC-SHA256 Credential=,SignedHeaders={sh},Signature={sig}"),
        format!("ACS3-HMAC-SHA256 Credential=a,Signature={sig}"),
        format!("ACS3-HMAC-SHA256 Credential=a,SignedHeaders={sh}"),
        format!(
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders={sh},Signature=zz{}",
            "a".repeat(62)
        ),
        format!("ACS3-HMAC-SHA256 Credential=a,SignedHeaders={sh},Signature=abcd"),
        format!("ACS3-HMAC-SHA256 Credential=a,SignedHeaders={sh},Signature={sig},Extra=1"),
        format!("ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders={sh},Signature={sig}"),
        format!("ACS3-HMAC-SHA256 Credential=a,SignedHeaders={sh};,Signature={sig}"),
        format!("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=x-acs-date;host,Signature={sig}"),
        format!("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=Host;x-acs-date,Signature={sig}"),
        format!("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;host,Signature={sig}"),
        format!("ACS3-HMAC-SHA256 Credential=a,Junk,SignedHeaders={sh},Signature={sig}"),
        format!(
            "ACS3-HMAC-SHA256 Credential={},SignedHeaders={sh},Signature={sig}",
            "x".repeat(10_000)
        ),
    ] {
        assert_eq!(code(with_auth(&bad)), "IncompleteSignature", "{bad:.80}");
    }
    assert_eq!(
        code(with_auth(&format!(
            "ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature={sig}"
        ))),
        "UnsupportedSignatureMethod"
    );
    // Two Authorization headers.
    let signed = v3_signed(&map(&[]), b"", None, &creds());
    let mut headers = signed.headers.clone();
    headers.push((
        "authorization".into(),
        signed.headers.last().unwrap().1.clone(),
    ));
    assert_eq!(
        code(parse("POST", &signed.query, &headers, b"")),
        "IncompleteSignature"
    );
}

#[test]
fn v3_structural_errors() {
    let signed = v3_signed(&map(&[("A", "1")]), b"", None, &creds());
    let h = &signed.headers;
    let q = signed.query.as_str();
    for name in ["x-acs-date", "x-acs-signature-nonce", "host"] {
        let e = parse("POST", q, &header_remove(h, name), b"").unwrap_err();
        assert_eq!(e.code(), "MissingParameter", "{name}");
    }
    // Without x-acs-action (and no Action parameter) the action is missing; with the
    // parameter instead, the signed-but-absent header is the problem.
    let e = parse("POST", q, &header_remove(h, "x-acs-action"), b"").unwrap_err();
    assert_eq!(e.code(), "MissingParameter");
    let e = parse(
        "POST",
        &format!("{q}&Action=GetCallerIdentity"),
        &header_remove(h, "x-acs-action"),
        b"",
    )
    .unwrap_err();
    assert_eq!(e.code(), "IncompleteSignature");
    // Header and parameter disagree.
    let e = parse("POST", &format!("{q}&Action=AssumeRole"), h, b"").unwrap_err();
    assert_eq!(e.code(), "InvalidParameter");
    // Bad date.
    let e = parse("POST", q, &header_set(h, "x-acs-date", "yesterday"), b"").unwrap_err();
    assert_eq!(e.code(), "InvalidTimeStamp.Format");
    // Body does not match x-acs-content-sha256.
    let e = parse("POST", q, h, b"x").unwrap_err();
    assert_eq!(e, ProtocolError::ContentSha256Mismatch);
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    // A protocol header that is present but not signed.
    let mut extra = h.clone();
    extra.push(("x-acs-security-token".into(), "CAIS".into()));
    assert_eq!(code(parse("POST", q, &extra, b"")), "IncompleteSignature");
    // A repeated single-valued header.
    let mut twice = h.clone();
    twice.push(("X-Acs-Date".into(), "2026-03-01T12:00:00Z".into()));
    assert_eq!(code(parse("POST", q, &twice, b"")), "IncompleteSignature");
    // x-acs-accesskey-id must match the Credential.
    let sts = v3_signed(&map(&[]), b"", None, &sts_creds());
    let e = parse(
        "POST",
        &sts.query,
        &header_set(&sts.headers, "x-acs-accesskey-id", "STS.other"),
        b"",
    )
    .unwrap_err();
    assert_eq!(e.code(), "IncompleteSignature");
}

#[test]
fn limits_are_enforced() {
    let limits = Limits {
        max_params: 3,
        ..Limits::default()
    };
    let req = IncomingRequest {
        method: "GET",
        path: "/",
        query: "a=1&b=2&c=3&d=4",
        headers: &[],
        body: b"",
    };
    let e = cloudward_protocol::parse_request(&req, &limits).unwrap_err();
    assert!(matches!(e, ProtocolError::TooManyParameters { limit: 3 }));
    let big = vec![b'a'; Limits::default().max_body_len + 1];
    assert_eq!(
        code(parse("POST", "", &form_headers(), &big)),
        "InvalidParameter"
    );
}

#[test]
fn hints_from_requests_that_fail_to_parse() {
    let headers = vec![("x-acs-action".to_string(), "ListUsers".to_string())];
    let req = IncomingRequest {
        method: "GET",
        path: "/",
        query: "Format=xml&Bad=%ZZ&Version=2015-05-01&AccessKeyId=LTAIx",
        headers: &headers,
        body: b"",
    };
    assert!(cloudward_protocol::parse_request(&req, &Limits::default()).is_err());
    let h = request_hints(&req);
    assert_eq!(h.format, ResponseFormat::Xml);
    assert_eq!(h.action.as_deref(), Some("ListUsers"));
    assert_eq!(h.version.as_deref(), Some("2015-05-01"));
    assert_eq!(h.access_key_id.as_deref(), Some("LTAIx"));
    assert!(!h.signed);
    let none = request_hints(&IncomingRequest {
        method: "",
        path: "",
        query: "",
        headers: &[],
        body: b"",
    });
    assert_eq!(none.format, ResponseFormat::Json);

    let signed = v3_signed(&map(&[]), b"", None, &creds());
    let h = request_hints(&IncomingRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &signed.headers,
        body: b"",
    });
    assert!(h.signed);
    assert_eq!(
        h.access_key_id.as_deref(),
        Some(creds().access_key_id.as_str())
    );
}

#[test]
fn anonymous_requests() {
    let headers: Vec<(String, String)> = vec![];
    let ok = parse_anonymous_request(
        &IncomingRequest {
            method: "POST",
            path: "/",
            query: "Action=AssumeRoleWithOIDC&Version=2015-04-01&OIDCToken=abc&Format=XML",
            headers: &headers,
            body: b"",
        },
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(ok.action, "AssumeRoleWithOIDC");
    assert_eq!(ok.format, ResponseFormat::Xml);
    assert_eq!(ok.params, map(&[("OIDCToken", "abc")]));
    // Signed material cannot be handled as anonymous.
    let e = parse_anonymous_request(
        &IncomingRequest {
            method: "POST",
            path: "/",
            query: "Action=A&Version=B&Signature=x",
            headers: &headers,
            body: b"",
        },
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "IncompleteSignature");
    let e = parse_anonymous_request(
        &IncomingRequest {
            method: "POST",
            path: "/",
            query: "Version=B",
            headers: &headers,
            body: b"",
        },
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "MissingParameter");
}
