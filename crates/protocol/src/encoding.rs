//! Form decoding of incoming parameters and RFC 3986 encoding for canonicalization.
//!
//! Two different encodings meet here, and confusing them is the classic signature bug:
//! - *incoming* query strings and form bodies use `application/x-www-form-urlencoded`
//!   (`+` is a space; Python's `urlencode` sends spaces that way and may escape `~` or `*`);
//! - the *canonical* form that is signed uses Alibaba's RFC 3986 rule (only
//!   `A-Z a-z 0-9 - _ . ~` stay literal, space is `%20`, `*` is `%2A`, hex is upper case).
//!
//! So every parameter is decoded once, strictly, and re-encoded canonically; the raw bytes
//! the client sent are never signed directly.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::{Echo, ParamSource, ProtocolError};

/// Everything except the RFC 3986 unreserved set is escaped.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Size limits applied while parsing a request. They bound memory and CPU per request before
/// any signature is checked, so they must hold for unauthenticated input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most parameters accepted, query and body together.
    pub max_params: usize,
    /// Longest decoded parameter name, in bytes.
    pub max_name_len: usize,
    /// Longest decoded parameter value, in bytes (policy documents are the big ones).
    pub max_value_len: usize,
    /// Longest raw query string, in bytes.
    pub max_query_len: usize,
    /// Largest body, in bytes.
    pub max_body_len: usize,
    /// Longest `Authorization` header (and any other single header value we parse).
    pub max_header_len: usize,
    /// Most names in a V3 `SignedHeaders` list.
    pub max_signed_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_params: 512,
            max_name_len: 256,
            max_value_len: 64 * 1024,
            max_query_len: 128 * 1024,
            max_body_len: 1024 * 1024,
            max_header_len: 8 * 1024,
            max_signed_headers: 64,
        }
    }
}

/// Encodes `s` with Alibaba's RFC 3986 rule (`%20` for space, `%2A` for `*`, `~` kept,
/// upper-case hex). This is the encoding used in canonical query strings and string-to-sign.
pub fn percent_encode_rfc3986(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one form-urlencoded component strictly: `+` is a space, `%` must be followed by
/// two hex digits, and the result must be UTF-8.
pub fn form_decode_component(input: &[u8]) -> Result<String, &'static str> {
    let mut out = Vec::with_capacity(input.len());
    let mut it = input.iter().copied();
    while let Some(b) = it.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = it.next().and_then(hex_val);
                let lo = it.next().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push((h << 4) | l),
                    _ => return Err("a '%' is not followed by two hexadecimal digits"),
                }
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).map_err(|_| "a decoded name or value is not valid UTF-8")
}

/// Parses an `application/x-www-form-urlencoded` string into ordered `(name, value)` pairs.
///
/// Empty segments (`a=1&&b=2`, a trailing `&`) are skipped; a segment without `=` is a name
/// with an empty value; an empty name is an error. Duplicate names are an error. Limits are
/// checked before decoding so hostile input costs at most linear work.
pub fn parse_form(
    input: &[u8],
    location: ParamSource,
    limits: &Limits,
) -> Result<Vec<(String, String)>, ProtocolError> {
    let max_len = match location {
        ParamSource::Query => limits.max_query_len,
        ParamSource::Body => limits.max_body_len,
    };
    if input.len() > max_len {
        return Err(ProtocolError::RequestTooLarge {
            location,
            limit: max_len,
        });
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    for segment in input.split(|&b| b == b'&') {
        if segment.is_empty() {
            continue;
        }
        if pairs.len() >= limits.max_params {
            return Err(ProtocolError::TooManyParameters {
                limit: limits.max_params,
            });
        }
        let (raw_name, raw_value) = match segment.iter().position(|&b| b == b'=') {
            Some(i) => (
                segment.get(..i).unwrap_or_default(),
                segment.get(i + 1..).unwrap_or_default(),
            ),
            None => (segment, &[][..]),
        };
        let malformed = |reason: &str| ProtocolError::MalformedParameters {
            location,
            reason: reason.to_string(),
        };
        let name = form_decode_component(raw_name).map_err(malformed)?;
        if name.is_empty() {
            return Err(malformed("a parameter has an empty name"));
        }
        if name.len() > limits.max_name_len {
            return Err(ProtocolError::ParameterTooLong {
                name: Echo::new(&name),
                limit: limits.max_name_len,
            });
        }
        let value = form_decode_component(raw_value).map_err(|reason| {
            ProtocolError::MalformedParameters {
                location,
                reason: format!("{reason} (in the value of \"{}\")", Echo::new(&name)),
            }
        })?;
        if value.len() > limits.max_value_len {
            return Err(ProtocolError::ParameterTooLong {
                name: Echo::new(&name),
                limit: limits.max_value_len,
            });
        }
        if seen.insert(name.clone(), ()).is_some() {
            return Err(ProtocolError::DuplicateParameter {
                name: Echo::new(&name),
            });
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// Merges query and body parameters into one sorted map; a name present in both is an error.
pub fn merge_params(
    query: Vec<(String, String)>,
    body: Vec<(String, String)>,
    limits: &Limits,
) -> Result<BTreeMap<String, String>, ProtocolError> {
    if query.len().saturating_add(body.len()) > limits.max_params {
        return Err(ProtocolError::TooManyParameters {
            limit: limits.max_params,
        });
    }
    let mut map = BTreeMap::new();
    for (k, v) in query.into_iter().chain(body) {
        if map.contains_key(&k) {
            return Err(ProtocolError::DuplicateParameter {
                name: Echo::new(&k),
            });
        }
        map.insert(k, v);
    }
    Ok(map)
}

/// Canonical query string: pairs sorted by name (byte order), each name and value RFC 3986
/// encoded, `name=value` joined by `&`; empty values are kept as `name=`.
pub fn canonical_query<'a, I>(pairs: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut sorted: Vec<(&str, &str)> = pairs.into_iter().collect();
    sorted.sort_unstable();
    let mut out = String::new();
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&percent_encode_rfc3986(k));
        out.push('=');
        out.push_str(&percent_encode_rfc3986(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3986_rules() {
        assert_eq!(percent_encode_rfc3986("a b*c~d"), "a%20b%2Ac~d");
        assert_eq!(percent_encode_rfc3986("A-Z_a.z0"), "A-Z_a.z0");
        assert_eq!(percent_encode_rfc3986("+&=/:@"), "%2B%26%3D%2F%3A%40");
        assert_eq!(percent_encode_rfc3986("é"), "%C3%A9");
    }

    #[test]
    fn decode_form_semantics() {
        assert_eq!(form_decode_component(b"a+b%20c").unwrap(), "a b c");
        assert_eq!(form_decode_component(b"%7e%7E~%2a*").unwrap(), "~~~**");
        assert!(form_decode_component(b"%").is_err());
        assert!(form_decode_component(b"%4").is_err());
        assert!(form_decode_component(b"%zz").is_err());
        assert!(form_decode_component(b"%FF").is_err());
    }

    #[test]
    fn parse_form_shapes() {
        let l = Limits::default();
        let p = parse_form(b"a=1&&b&c=&", ParamSource::Query, &l).unwrap();
        assert_eq!(
            p,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), String::new()),
                ("c".into(), String::new())
            ]
        );
        assert!(matches!(
            parse_form(b"a=1&a=2", ParamSource::Query, &l),
            Err(ProtocolError::DuplicateParameter { .. })
        ));
        assert!(matches!(
            parse_form(b"=1", ParamSource::Body, &l),
            Err(ProtocolError::MalformedParameters { .. })
        ));
    }

    #[test]
    fn parse_form_limits() {
        let l = Limits {
            max_params: 2,
            max_name_len: 3,
            max_value_len: 4,
            max_query_len: 20,
            ..Limits::default()
        };
        assert!(matches!(
            parse_form(b"a=1&b=2&c=3", ParamSource::Query, &l),
            Err(ProtocolError::TooManyParameters { limit: 2 })
        ));
        assert!(matches!(
            parse_form(b"abcd=1", ParamSource::Query, &l),
            Err(ProtocolError::ParameterTooLong { .. })
        ));
        assert!(matches!(
            parse_form(b"a=12345", ParamSource::Query, &l),
            Err(ProtocolError::ParameterTooLong { .. })
        ));
        assert!(matches!(
            parse_form(&[b'a'; 21], ParamSource::Query, &l),
            Err(ProtocolError::RequestTooLarge { .. })
        ));
    }

    #[test]
    fn merge_rejects_cross_duplicates() {
        let l = Limits::default();
        let q = vec![("a".to_string(), "1".to_string())];
        let b = vec![("a".to_string(), "2".to_string())];
        assert!(matches!(
            merge_params(q, b, &l),
            Err(ProtocolError::DuplicateParameter { .. })
        ));
    }

    #[test]
    fn canonical_query_sorts_and_keeps_empty() {
        assert_eq!(
            canonical_query([("test", "ok"), ("empty", "")]),
            "empty=&test=ok"
        );
    }
}
