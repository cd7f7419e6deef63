//! Canonicalization and MAC primitives shared by the signer and the verifier.
//!
//! Signing and verification call the very same functions, which is what makes "our client
//! signs byte-for-byte what our server verifies" true by construction; the published test
//! vectors then pin these functions to what Alibaba's SDKs compute.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::encoding::{canonical_query, percent_encode_rfc3986};

/// The V3 algorithm name, as it appears in `Authorization` and the string-to-sign.
pub const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Hex SHA-256 of the empty body, the usual `x-acs-content-sha256` of RPC calls.
pub const EMPTY_SHA256_HEX: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// HMAC-SHA1. HMAC accepts keys of any length, so `new_from_slice` cannot fail; should it
/// ever, the empty output can never equal a decoded signature (those are checked non-empty).
pub(crate) fn hmac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    match <Hmac<Sha1> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// HMAC-SHA256; same reasoning as [`hmac_sha1`] for the impossible error branch.
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// V2 string-to-sign: `METHOD&%2F&enc(canonical query)`, where the canonical query holds
/// every parameter except `Signature`, sorted by name, empty values kept.
pub fn v2_string_to_sign<'a, I>(method: &str, params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let canonical = canonical_query(params.into_iter().filter(|(k, _)| *k != "Signature"));
    format!("{method}&%2F&{}", percent_encode_rfc3986(&canonical))
}

/// V2 HMAC key: the secret followed by `&`.
pub(crate) fn v2_mac(secret: &[u8], string_to_sign: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(secret.len() + 1);
    key.extend_from_slice(secret);
    key.push(b'&');
    hmac_sha1(&key, string_to_sign.as_bytes())
}

/// V3 canonical headers block and `SignedHeaders` value.
///
/// `headers` are `(name, value)` with names in any case; only those whose lower-cased name is
/// in `signed` (already lower-case, sorted, unique) are used. Several headers with one name
/// are trimmed, sorted and joined with `,`, as the Python SDK does. Returns `None` when a
/// signed header is absent, because then the client and we cannot have signed the same thing.
pub(crate) fn v3_canonical_headers(
    headers: &[(String, String)],
    signed: &[String],
) -> Option<String> {
    let mut out = String::new();
    for name in signed {
        let mut values: Vec<&str> = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect();
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    Some(out)
}

/// V3 canonical request:
/// `METHOD \n URI \n canonical query \n canonical headers \n signed headers \n payload hash`.
pub(crate) fn v3_canonical_request(
    method: &str,
    path: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed: &[String],
    payload_hash_hex: &str,
) -> String {
    let uri = if path.is_empty() { "/" } else { path };
    format!(
        "{method}\n{uri}\n{canonical_query}\n{canonical_headers}\n{}\n{payload_hash_hex}",
        signed.join(";")
    )
}

/// V3 string-to-sign: algorithm name and the hex SHA-256 of the canonical request.
pub(crate) fn v3_string_to_sign(canonical_request: &str) -> String {
    format!(
        "{V3_ALGORITHM}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    use super::*;

    /// §4 vector 5 (tea SDK unit test): duplicate header names in two cases, an empty query
    /// value, path "" (signed as "/"), and a payload hash given directly.
    #[test]
    fn vector5_duplicate_headers_and_empty_query_value() {
        let headers = vec![
            ("x-acs-test".to_string(), "http".to_string()),
            ("x-acs-TEST".to_string(), "https".to_string()),
        ];
        let signed = vec!["x-acs-test".to_string()];
        let ch = v3_canonical_headers(&headers, &signed).unwrap();
        assert_eq!(ch, "x-acs-test:http,https\n");
        let query = canonical_query([("test", "ok"), ("empty", "")]);
        let cr = v3_canonical_request(
            "GET",
            "",
            &query,
            &ch,
            &signed,
            "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23",
        );
        assert_eq!(
            cr,
            "GET\n/\nempty=&test=ok\nx-acs-test:http,https\n\nx-acs-test\n55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23"
        );
        let sts = v3_string_to_sign(&cr);
        let sig = hex::encode(hmac_sha256(b"secret", sts.as_bytes()));
        assert_eq!(
            sig,
            "d16b30a7699ae9e43875b13195b2f81bcc3ed10c14a9b5eb780e51619aa50be1"
        );
    }

    #[test]
    fn canonical_headers_missing_signed_header_is_none() {
        let headers = vec![("a".to_string(), "1".to_string())];
        assert!(v3_canonical_headers(&headers, &["b".to_string()]).is_none());
    }

    /// §4 vector 1 through the internal functions (the integration tests go through the
    /// public parser as well).
    #[test]
    fn vector1_internal() {
        let params = [
            ("AccessKeyId", "testid"),
            ("Action", "CreateUser"),
            ("Format", "JSON"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2015-08-18T03:15:45Z"),
            ("UserName", "test"),
            ("Version", "2015-05-01"),
            ("Signature", "ignored"),
        ];
        let sts = v2_string_to_sign("GET", params);
        assert_eq!(
            sts,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DCreateUser%26Format%3DJSON%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2%26SignatureVersion%3D1.0%26Timestamp%3D2015-08-18T03%253A15%253A45Z%26UserName%3Dtest%26Version%3D2015-05-01"
        );
        assert_eq!(
            BASE64.encode(v2_mac(b"testsecret", &sts)),
            "kRA2cnpJVacIhDMzXnoNZG9tDCI="
        );
    }
}
