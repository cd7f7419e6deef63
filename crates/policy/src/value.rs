//! Request context values and the typed readings of condition values.
//!
//! Every context value is read once, when the context is built, as each type an operator may
//! compare (string, lower-cased string, number, date, boolean, IP address), so evaluation never
//! parses or allocates.

use std::net::IpAddr;

use ipnet::IpNet;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Reads a number the way the `Numeric*` operators do: a decimal or exponent form, finite.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Reads a date the way the `Date*` operators do, as nanoseconds since the Unix epoch.
///
/// Accepted: RFC 3339 / ISO 8601 date-times (`2012-11-11T23:59:59Z`, fractions and offsets
/// allowed), a bare date (`2024-01-31`, midnight UTC) and integer epoch seconds.
pub(crate) fn parse_date(s: &str) -> Option<i128> {
    let s = s.trim();
    let first = s.bytes().next()?;
    if !first.is_ascii_digit() && first != b'-' {
        return None;
    }
    if (s.bytes().all(|b| b.is_ascii_digit()) || (first == b'-' && s.len() > 1))
        && let Ok(secs) = s.parse::<i64>()
    {
        return Some(i128::from(secs) * 1_000_000_000);
    }
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(dt.unix_timestamp_nanos());
    }
    // Accept a lower-case `t`/`z` and a bare date, which ISO 8601 allows and RFC 3339 does not.
    let upper = s.to_ascii_uppercase();
    if upper != s
        && let Ok(dt) = OffsetDateTime::parse(&upper, &Rfc3339)
    {
        return Some(dt.unix_timestamp_nanos());
    }
    let date_fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &date_fmt)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp_nanos())
}

/// Reads `true` / `false`, ignoring case.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Reads an IP address; an IPv4-mapped IPv6 address reads as the IPv4 address.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = s.trim().parse().ok()?;
    Some(normalize_ip(ip))
}

fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Reads an address or CIDR block for `IpAddress` / `NotIpAddress`; an address is a block of
/// one.
pub(crate) fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Some(net.trunc());
    }
    parse_ip(s).map(IpNet::from)
}

/// One value of a request context key, read as every type an operator may compare.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextValue {
    pub(crate) raw: Box<str>,
    pub(crate) lower: Box<str>,
    pub(crate) number: Option<f64>,
    pub(crate) date: Option<i128>,
    pub(crate) boolean: Option<bool>,
    pub(crate) ip: Option<IpAddr>,
}

impl ContextValue {
    /// A string value.
    pub fn string(s: &str) -> Self {
        Self {
            raw: s.into(),
            lower: s.to_lowercase().into(),
            number: parse_number(s),
            date: parse_date(s),
            boolean: parse_bool(s),
            ip: parse_ip(s),
        }
    }

    /// A boolean value (compares equal to the strings `true` / `false`).
    pub fn boolean(b: bool) -> Self {
        let text = if b { "true" } else { "false" };
        Self {
            raw: text.into(),
            lower: text.into(),
            number: None,
            date: None,
            boolean: Some(b),
            ip: None,
        }
    }

    /// A number; an integer also reads as epoch seconds for the `Date*` operators.
    pub fn number(n: f64) -> Self {
        let text = if n.fract() == 0.0 && n.abs() < 1e15 {
            format!("{n:.0}")
        } else {
            n.to_string()
        };
        let date = (n.fract() == 0.0 && n.abs() < 1e15).then(|| (n as i128) * 1_000_000_000);
        Self {
            lower: text.clone().into(),
            raw: text.into(),
            number: Some(n).filter(|n| n.is_finite()),
            date,
            boolean: None,
            ip: None,
        }
    }

    /// The value as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

/// The request context: condition keys (case-insensitive) to one or more values.
///
/// A key given an empty list is treated exactly like a missing key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Sorted by lower-cased key, so lookups are a binary search.
    entries: Vec<(Box<str>, Vec<ContextValue>)>,
}

/// Why a JSON context could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("context key `{key}`: {message}")]
pub struct ContextError {
    /// The key as written.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to the given values, replacing any earlier values.
    pub fn set(&mut self, key: &str, values: Vec<ContextValue>) -> &mut Self {
        let key: Box<str> = key.to_lowercase().into();
        match self.entries.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => {
                if let Some(entry) = self.entries.get_mut(i) {
                    entry.1 = values;
                }
            }
            Err(i) => self.entries.insert(i, (key, values)),
        }
        self
    }

    /// Sets `key` to one string value.
    pub fn set_str(&mut self, key: &str, value: &str) -> &mut Self {
        self.set(key, vec![ContextValue::string(value)])
    }

    /// Sets `key` to one boolean value.
    pub fn set_bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.set(key, vec![ContextValue::boolean(value)])
    }

    /// Sets `acs:CurrentTime` from a timestamp (time is an input; this crate never reads a
    /// clock).
    pub fn set_current_time(&mut self, at: OffsetDateTime) -> &mut Self {
        let text = at.format(&Rfc3339).unwrap_or_default();
        self.set(
            "acs:CurrentTime",
            vec![ContextValue {
                lower: text.to_lowercase().into(),
                raw: text.into(),
                number: None,
                date: Some(at.unix_timestamp_nanos()),
                boolean: None,
                ip: None,
            }],
        )
    }

    /// The values of `key` (which must already be lower-case), empty when missing.
    pub(crate) fn get_lower(&self, key_lower: &str) -> &[ContextValue] {
        match self.entries.binary_search_by(|(k, _)| (**k).cmp(key_lower)) {
            Ok(i) => self.entries.get(i).map_or(&[], |(_, v)| v.as_slice()),
            Err(_) => &[],
        }
    }

    /// The values of `key` (any case), empty when missing.
    pub fn get(&self, key: &str) -> &[ContextValue] {
        self.get_lower(&key.to_lowercase())
    }

    /// Iterates over (lower-cased key, values).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[ContextValue])> {
        self.entries.iter().map(|(k, v)| (&**k, v.as_slice()))
    }

    /// Reads a JSON object whose values are strings, booleans, numbers or lists of them.
    ///
    /// # Errors
    ///
    /// When the JSON is not an object or a value is null, an object or a nested list.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, ContextError> {
        let mut ctx = Self::new();
        let serde_json::Value::Object(map) = value else {
            return Err(ContextError {
                key: String::new(),
                message: "the context must be a JSON object".into(),
            });
        };
        for (key, v) in map {
            let values = match v {
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|item| scalar(key, item))
                    .collect::<Result<Vec<_>, _>>()?,
                other => vec![scalar(key, other)?],
            };
            ctx.set(key, values);
        }
        Ok(ctx)
    }
}

fn scalar(key: &str, v: &serde_json::Value) -> Result<ContextValue, ContextError> {
    match v {
        serde_json::Value::String(s) => Ok(ContextValue::string(s)),
        serde_json::Value::Bool(b) => Ok(ContextValue::boolean(*b)),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) => Ok(ContextValue::number(f)),
            None => Err(ContextError {
                key: key.to_owned(),
                message: format!("{n} is not a representable number"),
            }),
        },
        other => Err(ContextError {
            key: key.to_owned(),
            message: format!(
                "values must be strings, booleans, numbers or a list of them, not {}",
                match other {
                    serde_json::Value::Null => "null",
                    serde_json::Value::Array(_) => "a nested list",
                    _ => "an object",
                }
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("60"), Some(60_000_000_000));
        assert_eq!(parse_date("1970-01-01t00:01:00z"), Some(60_000_000_000));
        assert_eq!(parse_date("1970-01-01T08:00:00+08:00"), Some(0));
        assert_eq!(parse_date("abc"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn numbers_and_ips() {
        assert_eq!(parse_number("1.5"), Some(1.5));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_ip("::ffff:10.0.0.1"), parse_ip("10.0.0.1"));
        assert!(parse_net("10.0.0.7/8").is_some_and(|n| n.to_string() == "10.0.0.0/8"));
        assert!(parse_net("2001:db8::/32").is_some());
        assert!(parse_net("10.0.0.1/33").is_none());
    }

    #[test]
    fn context_keys_are_case_insensitive() {
        let mut ctx = Context::new();
        ctx.set_str("acs:SourceIp", "10.0.0.1");
        assert_eq!(ctx.get("ACS:SOURCEIP").len(), 1);
        ctx.set_str("ACS:sourceip", "10.0.0.2");
        assert_eq!(
            ctx.get("acs:sourceip").first().map(|v| v.as_str()),
            Some("10.0.0.2")
        );
    }
}
