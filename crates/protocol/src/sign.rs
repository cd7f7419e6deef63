//! Client-side signing (used by the `cloudward` CLI and by tests).
//!
//! Both signers reuse the verifier's canonicalization functions, so whatever they emit is
//! what [`crate::parse_request`] + [`crate::SignedRequest::verify`] accept.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use time::OffsetDateTime;

use crate::canonical::{
    V3_ALGORITHM, hmac_sha256, sha256_hex, v2_mac, v2_string_to_sign, v3_canonical_headers,
    v3_canonical_request, v3_string_to_sign,
};
use crate::credentials::Credentials;
use crate::encoding::canonical_query;
use crate::timestamp::format_timestamp;

/// Adds the V2 common parameters (`AccessKeyId`, `SignatureMethod`, `SignatureVersion`,
/// `SignatureNonce`, `Timestamp`, `SecurityToken` for STS credentials, and `Format=JSON`
/// unless the caller set `Format`) to `params` and signs them.
///
/// `params` should hold `Action`, `Version` and the operation's parameters. Values the caller
/// gave for the common parameters are replaced. The returned map includes `Signature`; its
/// entries may be split freely between the query string and a form body, since V2 signs the
/// union of both.
pub fn sign_v2_params(
    method: &str,
    params: &BTreeMap<String, String>,
    creds: &Credentials,
    nonce: &str,
    timestamp: OffsetDateTime,
) -> BTreeMap<String, String> {
    let mut all = params.clone();
    all.remove("Signature");
    all.remove("SecurityToken");
    all.insert("AccessKeyId".into(), creds.access_key_id.clone());
    all.insert("SignatureMethod".into(), "HMAC-SHA1".into());
    all.insert("SignatureVersion".into(), "1.0".into());
    all.insert("SignatureNonce".into(), nonce.into());
    all.insert("Timestamp".into(), format_timestamp(timestamp));
    all.entry("Format".into()).or_insert_with(|| "JSON".into());
    if let Some(token) = &creds.security_token {
        all.insert("SecurityToken".into(), token.clone());
    }
    let sts = v2_string_to_sign(method, all.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mac = v2_mac(creds.access_key_secret.as_bytes(), &sts);
    all.insert("Signature".into(), BASE64.encode(mac));
    all
}

/// [`sign_v2_params`], rendered as an RFC 3986 encoded `k=v&...` string usable as the query
/// string (GET) or as an `application/x-www-form-urlencoded` body (POST).
pub fn sign_v2(
    method: &str,
    params: &BTreeMap<String, String>,
    creds: &Credentials,
    nonce: &str,
    timestamp: OffsetDateTime,
) -> String {
    encode_params(&sign_v2_params(method, params, creds, nonce, timestamp))
}

/// Encodes parameters as `k=v` pairs joined by `&`, in map order, RFC 3986 encoded.
pub fn encode_params(params: &BTreeMap<String, String>) -> String {
    canonical_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// What a V3 request to sign consists of. RPC requests always go to path `/`.
#[derive(Debug, Clone, Copy)]
pub struct V3Request<'a> {
    /// HTTP method (`POST` for the tea SDK's RPC calls).
    pub method: &'a str,
    /// `host` header value, including `:port` when not the scheme default.
    pub host: &'a str,
    /// `x-acs-action`.
    pub action: &'a str,
    /// `x-acs-version`.
    pub version: &'a str,
    /// Query parameters (signed through the canonical query string).
    pub query: &'a BTreeMap<String, String>,
    /// Body bytes (signed through `x-acs-content-sha256`).
    pub body: &'a [u8],
    /// `content-type`, signed when given (required when the body carries form parameters).
    pub content_type: Option<&'a str>,
    /// More headers to send and sign (e.g. `accept`, `user-agent`). Names are lower-cased;
    /// names that are not HTTP tokens, `authorization`, and names that the signer sets itself
    /// are dropped.
    pub extra_headers: &'a [(String, String)],
}

/// The result of [`sign_v3`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Signed {
    /// Headers to send, `authorization` last, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Canonical (RFC 3986) query string to put after `/?`.
    pub query: String,
    /// The canonical request that was signed, for debugging.
    pub canonical_request: String,
    /// The string-to-sign, for debugging.
    pub string_to_sign: String,
}

const SIGNER_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "host",
    "x-acs-accesskey-id",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-security-token",
    "x-acs-signature-nonce",
    "x-acs-version",
];

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// Signs a request with `ACS3-HMAC-SHA256`, signing every header it sends.
pub fn sign_v3(
    req: &V3Request<'_>,
    creds: &Credentials,
    nonce: &str,
    date: OffsetDateTime,
) -> V3Signed {
    let payload_hash = sha256_hex(req.body);
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), req.host.into()),
        ("x-acs-action".into(), req.action.into()),
        ("x-acs-version".into(), req.version.into()),
        ("x-acs-date".into(), format_timestamp(date)),
        ("x-acs-signature-nonce".into(), nonce.into()),
        ("x-acs-content-sha256".into(), payload_hash.clone()),
    ];
    if let Some(ct) = req.content_type {
        headers.push(("content-type".into(), ct.into()));
    }
    if let Some(token) = &creds.security_token {
        headers.push(("x-acs-accesskey-id".into(), creds.access_key_id.clone()));
        headers.push(("x-acs-security-token".into(), token.clone()));
    }
    for (name, value) in req.extra_headers {
        let name = name.to_ascii_lowercase();
        if is_token(&name) && !SIGNER_HEADERS.contains(&name.as_str()) {
            headers.push((name, value.clone()));
        }
    }
    let mut signed: Vec<String> = headers.iter().map(|(k, _)| k.clone()).collect();
    signed.sort_unstable();
    signed.dedup();
    // Every name in `signed` comes from `headers`, so this cannot be `None`.
    let canonical_headers = v3_canonical_headers(&headers, &signed).unwrap_or_default();
    let query = encode_params(req.query);
    let canonical_request = v3_canonical_request(
        req.method,
        "/",
        &query,
        &canonical_headers,
        &signed,
        &payload_hash,
    );
    let string_to_sign = v3_string_to_sign(&canonical_request);
    let signature = hex::encode(hmac_sha256(
        creds.access_key_secret.as_bytes(),
        string_to_sign.as_bytes(),
    ));
    headers.push((
        "authorization".into(),
        format!(
            "{V3_ALGORITHM} Credential={},SignedHeaders={},Signature={signature}",
            creds.access_key_id,
            signed.join(";")
        ),
    ));
    V3Signed {
        headers,
        query,
        canonical_request,
        string_to_sign,
    }
}
