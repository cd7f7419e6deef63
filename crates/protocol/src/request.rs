//! Incoming RPC requests: parsing, scheme detection and signature verification.
//!
//! The flow on the server is:
//! 1. [`request_hints`] (never fails) to learn the response format and, for audit, the
//!    claimed action and AccessKeyId even of requests that will be rejected;
//! 2. [`parse_request`] to get a [`SignedRequest`] (structure, limits, required parameters,
//!    timestamp syntax, content hash), or [`parse_anonymous_request`] for the few anonymous
//!    actions (`AssumeRoleWithSAML`, `AssumeRoleWithOIDC`);
//! 3. look up the secret for [`SignedRequest::access_key_id`], then
//!    [`SignedRequest::check_clock`], [`SignedRequest::verify`], and the nonce replay cache.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::canonical::{
    V3_ALGORITHM, hmac_sha256, v2_mac, v2_string_to_sign, v3_canonical_headers,
    v3_canonical_request, v3_string_to_sign,
};
use crate::encoding::{Limits, canonical_query, form_decode_component, merge_params, parse_form};
use crate::error::{Echo, ParamSource, ProtocolError};
use crate::timestamp::parse_timestamp;

/// Parameters that belong to the protocol (signing, routing, response format) rather than to
/// the API operation; they are removed from [`SignedRequest::params`].
pub const COMMON_PARAMS: &[&str] = &[
    "AccessKeyId",
    "Action",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureType",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

/// The longest `SignatureNonce` / `x-acs-signature-nonce` we accept. SDKs send 32-36
/// characters; the server keeps nonces in a replay cache, so their size must be bounded.
pub const MAX_NONCE_LEN: usize = 128;

/// An HTTP request as the server received it, before any interpretation.
#[derive(Debug, Clone, Copy)]
pub struct IncomingRequest<'a> {
    /// HTTP method as received (`GET`, `POST`); it is part of both string-to-sign forms.
    pub method: &'a str,
    /// Request path (`/` for RPC). Signed by V3 only; V2 always signs `/`.
    pub path: &'a str,
    /// Raw query string without the leading `?`, still percent-encoded.
    pub query: &'a str,
    /// All header lines; names in any case, repeated names allowed.
    pub headers: &'a [(String, String)],
    /// Raw body.
    pub body: &'a [u8],
}

/// Which signature scheme a request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScheme {
    /// RPC signature V2: `Signature` parameter, HMAC-SHA1, `SignatureVersion=1.0`.
    V2,
    /// `Authorization: ACS3-HMAC-SHA256 ...` header.
    V3,
}

/// The response format a client asked for with `Format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseFormat {
    /// `application/json` (the default; what every current SDK expects).
    #[default]
    Json,
    /// `text/xml`.
    Xml,
}

impl ResponseFormat {
    /// Parses a `Format` value: `JSON`/`XML` in any letter case (the tea SDK sends `json`).
    pub fn from_param(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("json") {
            Some(ResponseFormat::Json)
        } else if s.eq_ignore_ascii_case("xml") {
            Some(ResponseFormat::Xml)
        } else {
            None
        }
    }
}

/// A structurally valid, not yet verified, signed request.
///
/// Holding one proves nothing about the caller: call [`SignedRequest::verify`] with the
/// secret of [`SignedRequest::access_key_id`] and [`SignedRequest::check_clock`] first.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// V2 or V3.
    pub scheme: SignatureScheme,
    /// `Action` (V2 parameter, V3 `x-acs-action` header or parameter).
    pub action: String,
    /// `Version` (V2 parameter, V3 `x-acs-version` header or parameter).
    pub version: String,
    /// The AccessKeyId that claims to have signed.
    pub access_key_id: String,
    /// `SecurityToken` (V2) or `x-acs-security-token` (V3), for STS credentials.
    pub security_token: Option<String>,
    /// `Timestamp` (V2) or `x-acs-date` (V3).
    pub timestamp: OffsetDateTime,
    /// `SignatureNonce` (V2) or `x-acs-signature-nonce` (V3), for the replay cache.
    pub nonce: String,
    /// Requested response format.
    pub format: ResponseFormat,
    /// Business parameters from the query and a form body, without [`COMMON_PARAMS`].
    pub params: BTreeMap<String, String>,
    string_to_sign: String,
    canonical_request: Option<String>,
    provided_signature: Vec<u8>,
}

impl SignedRequest {
    /// Checks the signature against `secret` (the raw AccessKey secret), in constant time.
    ///
    /// On mismatch the error carries the server string-to-sign (any V2 security token in it
    /// replaced by `***`), which clients print to debug their canonicalization.
    pub fn verify(&self, secret: &[u8]) -> Result<(), ProtocolError> {
        let expected = match self.scheme {
            SignatureScheme::V2 => v2_mac(secret, &self.string_to_sign),
            SignatureScheme::V3 => hmac_sha256(secret, self.string_to_sign.as_bytes()),
        };
        // Lengths are public (fixed per scheme); `ct_eq` on slices of unequal length is false.
        let equal: bool = expected.ct_eq(&self.provided_signature).into();
        if equal && !expected.is_empty() {
            Ok(())
        } else {
            Err(ProtocolError::SignatureDoesNotMatch {
                string_to_sign: self.redacted_string_to_sign(),
            })
        }
    }

    /// Accepts the request only if its timestamp is within `window` of `now`, in either
    /// direction (a clock running ahead is as suspicious as a replayed old request).
    pub fn check_clock(&self, now: OffsetDateTime, window: Duration) -> Result<(), ProtocolError> {
        if (self.timestamp - now).abs() > window {
            Err(ProtocolError::TimestampExpired)
        } else {
            Ok(())
        }
    }

    /// The string-to-sign the server computed (V2: `METHOD&%2F&...`; V3: algorithm + hash).
    pub fn string_to_sign(&self) -> &str {
        &self.string_to_sign
    }

    /// The V3 canonical request, for diagnostics; `None` for V2.
    pub fn canonical_request(&self) -> Option<&str> {
        self.canonical_request.as_deref()
    }

    /// The string-to-sign with the value of a V2 `SecurityToken` masked. The token sits in
    /// the V2 string-to-sign as `%26SecurityToken%3D<value>` (or right after `&%2F&` when it
    /// sorts first); inside names and values `&` and `=` are double-encoded (`%2526`,
    /// `%253D`), so these markers can only be real parameter boundaries.
    fn redacted_string_to_sign(&self) -> String {
        let sts = &self.string_to_sign;
        if self.scheme != SignatureScheme::V2 || self.security_token.is_none() {
            return sts.clone();
        }
        let value_start = if let Some(i) = sts.find("%26SecurityToken%3D") {
            i + "%26SecurityToken%3D".len()
        } else if let Some(i) = sts.find("&%2F&SecurityToken%3D") {
            i + "&%2F&SecurityToken%3D".len()
        } else {
            return sts.clone();
        };
        let (head, tail) = sts.split_at_checked(value_start).unwrap_or((sts, ""));
        let rest = tail.find("%26").and_then(|j| tail.get(j..)).unwrap_or("");
        format!("{head}***{rest}")
    }
}

/// An anonymous request (no signature): only a few STS actions accept these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymousRequest {
    /// `Action` parameter or `x-acs-action` header.
    pub action: String,
    /// `Version` parameter or `x-acs-version` header.
    pub version: String,
    /// Requested response format.
    pub format: ResponseFormat,
    /// Business parameters, without [`COMMON_PARAMS`].
    pub params: BTreeMap<String, String>,
}

/// Best-effort facts about a request that may be malformed; see [`request_hints`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHints {
    /// Response format to render errors in (JSON unless `Format=XML` was readable).
    pub format: ResponseFormat,
    /// Claimed action, if readable (at most 128 characters).
    pub action: Option<String>,
    /// Claimed version, if readable (at most 128 characters).
    pub version: Option<String>,
    /// Claimed AccessKeyId, if readable (at most 128 characters).
    pub access_key_id: Option<String>,
    /// Whether the request carries any signature material (`Signature` or `Authorization`).
    pub signed: bool,
}

/// Reads what it can from a request without failing: the first readable `Format`, `Action`,
/// `Version`, `AccessKeyId` from the query, a form body and the `x-acs-*` headers. Used to
/// render errors in the requested format and to fill audit events of rejected requests;
/// never use its output for a security decision.
pub fn request_hints(req: &IncomingRequest<'_>) -> RequestHints {
    const CAP: usize = 128;
    const SCAN: usize = 256 * 1024;
    let mut hints = RequestHints::default();
    let mut format = None;
    let take = |slot: &mut Option<String>, v: &str| {
        if slot.is_none() && !v.is_empty() {
            *slot = Some(v.chars().take(CAP).collect());
        }
    };
    let mut scan = |input: &[u8], hints: &mut RequestHints| {
        let input = input.get(..SCAN).unwrap_or(input);
        for seg in input.split(|&b| b == b'&') {
            let mut kv = seg.splitn(2, |&b| b == b'=');
            let (Some(k), v) = (kv.next(), kv.next().unwrap_or_default()) else {
                continue;
            };
            let Ok(k) = form_decode_component(k) else {
                continue;
            };
            let v = form_decode_component(v).unwrap_or_default();
            match k.as_str() {
                "Format" if format.is_none() => format = ResponseFormat::from_param(&v),
                "Action" => take(&mut hints.action, &v),
                "Version" => take(&mut hints.version, &v),
                "AccessKeyId" => take(&mut hints.access_key_id, &v),
                "Signature" => hints.signed = true,
                _ => {}
            }
        }
    };
    scan(req.query.as_bytes(), &mut hints);
    if is_form(req.headers) {
        scan(req.body, &mut hints);
    }
    for (name, value) in req.headers {
        if name.eq_ignore_ascii_case("x-acs-action") {
            take(&mut hints.action, value.trim());
        } else if name.eq_ignore_ascii_case("x-acs-version") {
            take(&mut hints.version, value.trim());
        } else if name.eq_ignore_ascii_case("authorization") {
            hints.signed = true;
            if let Some(cred) = value
                .split([' ', ','])
                .find_map(|p| p.trim().strip_prefix("Credential="))
            {
                take(&mut hints.access_key_id, cred);
            }
        }
    }
    hints.format = format.unwrap_or_default();
    hints
}

fn header_values<'h>(
    headers: &'h [(String, String)],
    name: &'h str,
) -> impl Iterator<Item = &'h str> + 'h {
    headers
        .iter()
        .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The value of a header that must not be repeated; `Ok(None)` if absent.
fn single_header<'h>(
    headers: &'h [(String, String)],
    name: &'static str,
) -> Result<Option<&'h str>, ProtocolError> {
    let mut it = header_values(headers, name);
    let first = it.next();
    if it.next().is_some() {
        return Err(ProtocolError::incomplete(format!(
            "The header \"{name}\" appears more than once."
        )));
    }
    Ok(first.map(str::trim))
}

/// Whether the body is `application/x-www-form-urlencoded` (parameters may be carried there).
fn is_form(headers: &[(String, String)]) -> bool {
    header_values(headers, "content-type")
        .next()
        .is_some_and(|ct| {
            ct.split(';').next().is_some_and(|mime| {
                mime.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

fn parse_format(params: &BTreeMap<String, String>) -> Result<ResponseFormat, ProtocolError> {
    match params.get("Format") {
        None => Ok(ResponseFormat::Json),
        Some(v) => ResponseFormat::from_param(v)
            .ok_or_else(|| ProtocolError::invalid("Format", "Accepted values are JSON and XML.")),
    }
}

fn required<'p>(
    params: &'p BTreeMap<String, String>,
    name: &str,
) -> Result<&'p str, ProtocolError> {
    match params.get(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ProtocolError::missing(name)),
    }
}

fn check_nonce(name: &str, nonce: &str) -> Result<(), ProtocolError> {
    if nonce.len() > MAX_NONCE_LEN {
        return Err(ProtocolError::invalid(
            name,
            format!("It must be at most {MAX_NONCE_LEN} bytes long."),
        ));
    }
    Ok(())
}

fn business_params(mut all: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for p in COMMON_PARAMS {
        all.remove(*p);
    }
    all
}

/// Query pairs, optional form-body pairs and the merged map, with all size limits applied.
struct ParsedParams {
    query: Vec<(String, String)>,
    merged: BTreeMap<String, String>,
    from_body: bool,
}

fn parse_params(req: &IncomingRequest<'_>, limits: &Limits) -> Result<ParsedParams, ProtocolError> {
    if req.body.len() > limits.max_body_len {
        return Err(ProtocolError::RequestTooLarge {
            location: ParamSource::Body,
            limit: limits.max_body_len,
        });
    }
    let query = parse_form(req.query.as_bytes(), ParamSource::Query, limits)?;
    let form = is_form(req.headers) && !req.body.is_empty();
    let body = if form {
        parse_form(req.body, ParamSource::Body, limits)?
    } else {
        Vec::new()
    };
    let from_body = !body.is_empty();
    let merged = merge_params(query.clone(), body, limits)?;
    Ok(ParsedParams {
        query,
        merged,
        from_body,
    })
}

/// Parses and structurally validates a signed request (V2 or V3), without checking the
/// signature, the clock or the nonce. See the module docs for the full server flow.
///
/// Scheme detection: any `Authorization` header makes it a V3 request (so a garbage header is
/// an error, never silently ignored in favour of V2 parameters); otherwise V2.
pub fn parse_request(
    req: &IncomingRequest<'_>,
    limits: &Limits,
) -> Result<SignedRequest, ProtocolError> {
    let mut auth = header_values(req.headers, "authorization");
    match (auth.next(), auth.next()) {
        (None, _) => parse_v2(req, limits),
        (Some(a), None) => parse_v3(req, a, limits),
        (Some(_), Some(_)) => Err(ProtocolError::incomplete(
            "The Authorization header appears more than once.",
        )),
    }
}

/// Parses a request that carries no signature, for actions the server allows anonymously.
/// Fails with `IncompleteSignature` if it *does* carry signature material, so a signed
/// request can never be downgraded to anonymous handling by the caller's choice of parser.
pub fn parse_anonymous_request(
    req: &IncomingRequest<'_>,
    limits: &Limits,
) -> Result<AnonymousRequest, ProtocolError> {
    if header_values(req.headers, "authorization").next().is_some() {
        return Err(ProtocolError::incomplete(
            "An anonymous request must not carry an Authorization header.",
        ));
    }
    let p = parse_params(req, limits)?;
    if p.merged.contains_key("Signature") {
        return Err(ProtocolError::incomplete(
            "An anonymous request must not carry a Signature parameter.",
        ));
    }
    let action = header_or_param(req.headers, &p.merged, "x-acs-action", "Action")?;
    let version = header_or_param(req.headers, &p.merged, "x-acs-version", "Version")?;
    let format = parse_format(&p.merged)?;
    Ok(AnonymousRequest {
        action,
        version,
        format,
        params: business_params(p.merged),
    })
}

fn parse_v2(req: &IncomingRequest<'_>, limits: &Limits) -> Result<SignedRequest, ProtocolError> {
    let p = parse_params(req, limits)?;
    if !req.body.is_empty() && !is_form(req.headers) {
        // V2 signs parameters only; a body we do not read as parameters would be
        // unauthenticated, so refuse it rather than let a handler see it.
        return Err(ProtocolError::invalid(
            "Content-Type",
            "A V2-signed request body must be application/x-www-form-urlencoded.",
        ));
    }
    let params = &p.merged;
    let action = required(params, "Action")?.to_string();
    let version = required(params, "Version")?.to_string();
    let access_key_id = required(params, "AccessKeyId")?.to_string();
    let signature = required(params, "Signature")?;
    let method = required(params, "SignatureMethod")?;
    if method != "HMAC-SHA1" {
        return Err(ProtocolError::UnsupportedSignatureMethod {
            method: Echo::new(method),
        });
    }
    let sig_version = required(params, "SignatureVersion")?;
    if sig_version != "1.0" {
        return Err(ProtocolError::UnsupportedSignatureVersion {
            version: Echo::new(sig_version),
        });
    }
    let timestamp = parse_timestamp(required(params, "Timestamp")?)?;
    let nonce = required(params, "SignatureNonce")?.to_string();
    check_nonce("SignatureNonce", &nonce)?;
    let format = parse_format(params)?;
    let security_token = params
        .get("SecurityToken")
        .filter(|t| !t.is_empty())
        .cloned();
    let provided_signature = match BASE64.decode(signature) {
        Ok(bytes) if bytes.len() == 20 => bytes,
        _ => {
            return Err(ProtocolError::incomplete(
                "The Signature parameter is not a Base64-encoded HMAC-SHA1 value.",
            ));
        }
    };
    let string_to_sign = v2_string_to_sign(
        req.method,
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    Ok(SignedRequest {
        scheme: SignatureScheme::V2,
        action,
        version,
        access_key_id,
        security_token,
        timestamp,
        nonce,
        format,
        params: business_params(p.merged),
        string_to_sign,
        canonical_request: None,
        provided_signature,
    })
}

/// The parts of an `ACS3-HMAC-SHA256` Authorization header.
struct V3Authorization {
    credential: String,
    signed_headers: Vec<String>,
    signature: Vec<u8>,
}

fn is_header_name_char(c: char) -> bool {
    // RFC 9110 token characters, lower case only (SignedHeaders are lower-cased by SDKs).
    c.is_ascii_lowercase() || c.is_ascii_digit() || "!#$%&'*+-.^_`|~".contains(c)
}

fn parse_authorization(value: &str, limits: &Limits) -> Result<V3Authorization, ProtocolError> {
    if value.len() > limits.max_header_len {
        return Err(ProtocolError::incomplete(
            "The Authorization header is too long.",
        ));
    }
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != V3_ALGORITHM {
        if algorithm.starts_with("ACS3-") {
            return Err(ProtocolError::UnsupportedSignatureMethod {
                method: Echo::new(algorithm),
            });
        }
        return Err(ProtocolError::incomplete(
            "The Authorization header must start with ACS3-HMAC-SHA256.",
        ));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        let Some((key, val)) = part.split_once('=') else {
            return Err(ProtocolError::incomplete(
                "The Authorization header has a part without '='.",
            ));
        };
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => {
                return Err(ProtocolError::incomplete(format!(
                    "The Authorization header has an unknown part \"{}\".",
                    Echo::new(key)
                )));
            }
        };
        if slot.replace(val).is_some() {
            return Err(ProtocolError::incomplete(format!(
                "The Authorization header has \"{key}\" more than once."
            )));
        }
    }
    let credential = match credential {
        Some(c) if !c.is_empty() => c.to_string(),
        _ => {
            return Err(ProtocolError::incomplete(
                "The Authorization header has no Credential.",
            ));
        }
    };
    let Some(signed) = signed.filter(|s| !s.is_empty()) else {
        return Err(ProtocolError::incomplete(
            "The Authorization header has no SignedHeaders.",
        ));
    };
    let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
    if signed_headers.len() > limits.max_signed_headers {
        return Err(ProtocolError::incomplete(
            "SignedHeaders lists too many headers.",
        ));
    }
    for name in &signed_headers {
        if name.is_empty() || !name.chars().all(is_header_name_char) {
            return Err(ProtocolError::incomplete(format!(
                "SignedHeaders contains an invalid header name \"{}\".",
                Echo::new(name)
            )));
        }
    }
    // Canonical headers are emitted in SignedHeaders order, and every SDK sorts them; asking
    // for strict order (which also excludes repeats) keeps one meaning per header list.
    if !signed_headers
        .windows(2)
        .all(|w| matches!(w, [a, b] if a < b))
    {
        return Err(ProtocolError::incomplete(
            "SignedHeaders must be sorted and must not repeat a name.",
        ));
    }
    let signature = match signature.map(hex::decode) {
        Some(Ok(bytes)) if bytes.len() == 32 => bytes,
        _ => {
            return Err(ProtocolError::incomplete(
                "The Authorization Signature is not a hex-encoded HMAC-SHA256 value.",
            ));
        }
    };
    Ok(V3Authorization {
        credential,
        signed_headers,
        signature,
    })
}

/// `Action`/`Version` from the `x-acs-*` header or the parameter; both present and different
/// is an error (which one would the handler trust?).
fn header_or_param(
    headers: &[(String, String)],
    params: &BTreeMap<String, String>,
    header: &'static str,
    param: &str,
) -> Result<String, ProtocolError> {
    let h = single_header(headers, header)?.filter(|v| !v.is_empty());
    let p = params
        .get(param)
        .map(String::as_str)
        .filter(|v| !v.is_empty());
    match (h, p) {
        (Some(h), Some(p)) if h != p => Err(ProtocolError::invalid(
            param,
            format!("The {header} header and the {param} parameter disagree."),
        )),
        (Some(v), _) | (None, Some(v)) => Ok(v.to_string()),
        (None, None) => Err(ProtocolError::missing(param)),
    }
}

fn parse_v3(
    req: &IncomingRequest<'_>,
    authorization: &str,
    limits: &Limits,
) -> Result<SignedRequest, ProtocolError> {
    let auth = parse_authorization(authorization, limits)?;
    let headers = req.headers;
    if req.body.len() > limits.max_body_len {
        return Err(ProtocolError::RequestTooLarge {
            location: ParamSource::Body,
            limit: limits.max_body_len,
        });
    }
    // The body hash is checked before the body is parsed as a form, so a tampered body is
    // reported as what it is rather than as whatever parse error the damage happens to cause.
    let body_hash = Sha256::digest(req.body);
    if let Some(claimed) = single_header(headers, "x-acs-content-sha256")?
        && hex::decode(claimed).ok().as_deref() != Some(body_hash.as_slice())
    {
        return Err(ProtocolError::ContentSha256Mismatch);
    }
    let p = parse_params(req, limits)?;

    let action = header_or_param(headers, &p.merged, "x-acs-action", "Action")?;
    let version = header_or_param(headers, &p.merged, "x-acs-version", "Version")?;
    let Some(_) = single_header(headers, "host")? else {
        return Err(ProtocolError::missing("host"));
    };
    let Some(date) = single_header(headers, "x-acs-date")? else {
        return Err(ProtocolError::missing("x-acs-date"));
    };
    let timestamp = parse_timestamp(date)?;
    let nonce = match single_header(headers, "x-acs-signature-nonce")? {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => return Err(ProtocolError::missing("x-acs-signature-nonce")),
    };
    check_nonce("x-acs-signature-nonce", &nonce)?;
    let security_token = single_header(headers, "x-acs-security-token")?
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    if let Some(ak) = single_header(headers, "x-acs-accesskey-id")?
        && ak != auth.credential
    {
        return Err(ProtocolError::incomplete(
            "The x-acs-accesskey-id header does not match the Authorization Credential.",
        ));
    }

    // Every protocol header that is present must be covered by the signature; otherwise a
    // man in the middle could change it. content-type matters when it decides that the body
    // is read as parameters.
    let mut must_sign: Vec<&str> = vec![
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
        "x-acs-security-token",
        "x-acs-accesskey-id",
    ];
    if p.from_body {
        must_sign.push("content-type");
    }
    for name in must_sign {
        if header_values(headers, name).next().is_some()
            && !auth.signed_headers.iter().any(|s| s == name)
        {
            return Err(ProtocolError::incomplete(format!(
                "The header \"{name}\" is present but not listed in SignedHeaders."
            )));
        }
    }

    let Some(canonical_headers) = v3_canonical_headers(headers, &auth.signed_headers) else {
        return Err(ProtocolError::incomplete(
            "A header listed in SignedHeaders is not present in the request.",
        ));
    };
    let query = canonical_query(p.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let canonical_request = v3_canonical_request(
        req.method,
        req.path,
        &query,
        &canonical_headers,
        &auth.signed_headers,
        &hex::encode(body_hash),
    );
    let string_to_sign = v3_string_to_sign(&canonical_request);
    let format = parse_format(&p.merged)?;
    Ok(SignedRequest {
        scheme: SignatureScheme::V3,
        action,
        version,
        access_key_id: auth.credential,
        security_token,
        timestamp,
        nonce,
        format,
        params: business_params(p.merged),
        string_to_sign,
        canonical_request: Some(canonical_request),
        provided_signature: auth.signature,
    })
}
