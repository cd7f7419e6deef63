//! The Alibaba response envelope: success bodies, error bodies, and a client-side parser.
//!
//! JSON is what every current SDK reads; XML is rendered only when the request said
//! `Format=XML`. Both are written by hand (no XML library) because the shape is tiny and
//! fixed, and escaping is the only hard part.

use serde_json::{Map, Value};

use crate::encoding::percent_encode_rfc3986;
use crate::error::ProtocolError;
use crate::request::ResponseFormat;

/// `Content-Type` of JSON responses.
pub const CONTENT_TYPE_JSON: &str = "application/json;charset=utf-8";
/// `Content-Type` of XML responses.
pub const CONTENT_TYPE_XML: &str = "text/xml;charset=utf-8";

/// An API error as any layer (protocol, authorizer, service) reports it to the client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// Alibaba error code, e.g. `EntityNotExist.User`.
    pub code: String,
    /// HTTP status.
    pub http_status: u16,
    /// Client-facing message; must not contain secrets.
    pub message: String,
    /// `AccessDeniedDetail` object for authorization failures.
    pub access_denied_detail: Option<Value>,
}

impl ApiError {
    /// The generic `InternalError` (500): internals go to the log, never to the client.
    pub fn internal() -> Self {
        Self::new(
            "InternalError",
            500,
            "The request processing has failed due to some unknown error.",
        )
    }

    /// An error without `AccessDeniedDetail`.
    pub fn new(code: impl Into<String>, http_status: u16, message: impl Into<String>) -> Self {
        ApiError {
            code: code.into(),
            http_status,
            message: message.into(),
            access_denied_detail: None,
        }
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        ApiError::new(e.code(), e.http_status(), e.message())
    }
}

impl From<&ProtocolError> for ApiError {
    fn from(e: &ProtocolError) -> Self {
        ApiError::new(e.code(), e.http_status(), e.message())
    }
}

/// The product name used in `Recommend` links for the API versions Cloudward serves.
pub fn product_for_version(version: &str) -> Option<&'static str> {
    Some(match version {
        "2015-05-01" => "Ram",
        "2015-04-01" => "Sts",
        "2019-08-15" => "Ims",
        "2022-04-19" => "ResourceDirectoryMaster",
        "2020-07-06" => "Actiontrail",
        "2020-09-07" => "Config",
        "2016-01-20" => "Kms",
        _ => return None,
    })
}

/// The `Recommend` troubleshooting link, with every component percent-encoded.
pub fn recommend_url(code: &str, product: Option<&str>, request_id: &str) -> String {
    let mut url = format!(
        "https://api.aliyun.com/troubleshoot?q={}",
        percent_encode_rfc3986(code)
    );
    if let Some(p) = product {
        url.push_str("&product=");
        url.push_str(&percent_encode_rfc3986(p));
    }
    url.push_str("&requestId=");
    url.push_str(&percent_encode_rfc3986(request_id));
    url
}

/// Renders an error body: `{"RequestId","HostId","Code","Message","Recommend",
/// "AccessDeniedDetail"?}` in JSON, or the same fields under `<Error>` in XML.
///
/// `product` (see [`product_for_version`]) goes into the `Recommend` link; it is a separate
/// argument because the error may come from a request whose `Version` never parsed.
/// Returns `(content_type, body)`; the HTTP status is `err.http_status`.
pub fn render_error(
    err: &ApiError,
    request_id: &str,
    host_id: &str,
    product: Option<&str>,
    format: ResponseFormat,
) -> (&'static str, Vec<u8>) {
    let mut map = Map::new();
    map.insert("RequestId".into(), Value::from(request_id));
    map.insert("HostId".into(), Value::from(host_id));
    map.insert("Code".into(), Value::from(err.code.as_str()));
    map.insert("Message".into(), Value::from(err.message.as_str()));
    map.insert(
        "Recommend".into(),
        Value::from(recommend_url(&err.code, product, request_id)),
    );
    if let Some(detail) = &err.access_denied_detail {
        map.insert("AccessDeniedDetail".into(), detail.clone());
    }
    match format {
        ResponseFormat::Json => (CONTENT_TYPE_JSON, json_bytes(&Value::Object(map))),
        ResponseFormat::Xml => (CONTENT_TYPE_XML, xml_document("Error", &map)),
    }
}

/// Renders a success body. JSON: `body`'s fields preceded by `RequestId` (a non-object body
/// is placed under `Data`). XML: root `<{Action}Response>`, `RequestId` first, objects as
/// nested elements, arrays as repeated elements named after their key.
pub fn render_success(
    action: &str,
    request_id: &str,
    body: Value,
    format: ResponseFormat,
) -> (&'static str, Vec<u8>) {
    let mut map = Map::new();
    map.insert("RequestId".into(), Value::from(request_id));
    match body {
        Value::Object(fields) => {
            for (k, v) in fields {
                if k != "RequestId" {
                    map.insert(k, v);
                }
            }
        }
        Value::Null => {}
        other => {
            map.insert("Data".into(), other);
        }
    }
    match format {
        ResponseFormat::Json => (CONTENT_TYPE_JSON, json_bytes(&Value::Object(map))),
        ResponseFormat::Xml => (
            CONTENT_TYPE_XML,
            xml_document(&format!("{action}Response"), &map),
        ),
    }
}

fn json_bytes(v: &Value) -> Vec<u8> {
    // Serializing a `Value` to memory cannot fail (all keys are strings); the fallback keeps
    // the no-panic rule without an `expect`.
    serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec())
}

/// A valid XML element name from arbitrary text: invalid characters become `_`, and a name
/// that cannot start an element gets a `_` prefix. The action name comes from the client,
/// so the root element needs this too.
fn xml_name(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let starts_ok = out
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts_ok {
        out.insert(0, '_');
    }
    // Names starting with "xml" (any case) are reserved.
    if out.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("xml")) {
        out.insert(0, '_');
    }
    out
}

/// Escapes text content; characters XML 1.0 cannot carry at all become U+FFFD.
fn xml_escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

fn xml_element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                xml_element(out, name, item);
            }
        }
        other => {
            let name = xml_name(name);
            out.push('<');
            out.push_str(&name);
            out.push('>');
            match other {
                Value::Object(fields) => {
                    for (k, v) in fields {
                        xml_element(out, k, v);
                    }
                }
                Value::String(s) => xml_escape_into(out, s),
                Value::Number(n) => out.push_str(&n.to_string()),
                Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Value::Null | Value::Array(_) => {}
            }
            out.push_str("</");
            out.push_str(&name);
            out.push('>');
        }
    }
}

fn xml_document(root: &str, fields: &Map<String, Value>) -> Vec<u8> {
    let root = xml_name(root);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    out.push('<');
    out.push_str(&root);
    out.push('>');
    for (k, v) in fields {
        xml_element(&mut out, k, v);
    }
    out.push_str("</");
    out.push_str(&root);
    out.push('>');
    out.into_bytes()
}

/// An error body as a client reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBody {
    /// `Code`.
    pub code: String,
    /// `Message` (empty if absent).
    pub message: String,
    /// `RequestId`, if present.
    pub request_id: Option<String>,
    /// `HostId`, if present.
    pub host_id: Option<String>,
    /// `Recommend`, if present.
    pub recommend: Option<String>,
    /// `AccessDeniedDetail` (JSON bodies only).
    pub access_denied_detail: Option<Value>,
}

/// Parses an error body (JSON, or the XML `<Error>` form) as the SDKs do: field names in
/// `PascalCase` or `camelCase`. Returns `None` when the body has no error code.
pub fn parse_error_body(body: &[u8]) -> Option<ErrorBody> {
    let text = std::str::from_utf8(body).ok()?.trim_start();
    if text.starts_with('<') {
        return parse_xml_error(text);
    }
    let Value::Object(map) = serde_json::from_slice::<Value>(body).ok()? else {
        return None;
    };
    let field = |a: &str, b: &str| {
        map.get(a)
            .or_else(|| map.get(b))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(ErrorBody {
        code: field("Code", "code")?,
        message: field("Message", "message").unwrap_or_default(),
        request_id: field("RequestId", "requestId"),
        host_id: field("HostId", "hostId"),
        recommend: field("Recommend", "recommend"),
        access_denied_detail: map
            .get("AccessDeniedDetail")
            .or_else(|| map.get("accessDeniedDetail"))
            .cloned(),
    })
}

fn xml_text(doc: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = doc.find(&open)? + open.len();
    let rest = doc.get(start..)?;
    let end = rest.find(&close)?;
    Some(xml_unescape(rest.get(..end)?))
}

fn xml_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i..).unwrap_or_default();
        let Some(semi) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = after.get(1..semi).unwrap_or_default();
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = after.get(semi + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse_xml_error(doc: &str) -> Option<ErrorBody> {
    Some(ErrorBody {
        code: xml_text(doc, "Code")?,
        message: xml_text(doc, "Message").unwrap_or_default(),
        request_id: xml_text(doc, "RequestId"),
        host_id: xml_text(doc, "HostId"),
        recommend: xml_text(doc, "Recommend"),
        access_denied_detail: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_json_shape() {
        let err = ApiError::new("EntityNotExist.User", 404, "The user does not exist.");
        let (ct, body) = render_error(
            &err,
            "REQ-1",
            "ram.example",
            Some("Ram"),
            ResponseFormat::Json,
        );
        assert_eq!(ct, CONTENT_TYPE_JSON);
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.starts_with("{\"RequestId\":\"REQ-1\",\"HostId\":\"ram.example\",\"Code\""));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v["Recommend"],
            "https://api.aliyun.com/troubleshoot?q=EntityNotExist.User&product=Ram&requestId=REQ-1"
        );
        assert!(v.get("AccessDeniedDetail").is_none());
        let parsed = parse_error_body(&body).unwrap();
        assert_eq!(parsed.code, "EntityNotExist.User");
        assert_eq!(parsed.message, "The user does not exist.");
        assert_eq!(parsed.request_id.as_deref(), Some("REQ-1"));
    }

    #[test]
    fn error_with_detail_and_xml() {
        let mut err = ApiError::new("NoPermission", 403, "a <b> & 'c'");
        err.access_denied_detail =
            Some(json!({"PolicyType": "ControlPolicy", "AuthAction": "ram:CreateUser"}));
        let (_, body) = render_error(&err, "R", "h", None, ResponseFormat::Json);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["AccessDeniedDetail"]["AuthAction"], "ram:CreateUser");
        assert_eq!(
            v["Recommend"],
            "https://api.aliyun.com/troubleshoot?q=NoPermission&requestId=R"
        );
        let (ct, xml) = render_error(&err, "R", "h", None, ResponseFormat::Xml);
        assert_eq!(ct, CONTENT_TYPE_XML);
        let xml = String::from_utf8(xml).unwrap();
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><RequestId>R</RequestId>"
        ));
        assert!(xml.contains("<Message>a &lt;b&gt; &amp; &apos;c&apos;</Message>"));
        assert!(xml.contains("<AccessDeniedDetail><PolicyType>ControlPolicy</PolicyType>"));
        assert!(xml.ends_with("</Error>"));
        let parsed = parse_error_body(xml.as_bytes()).unwrap();
        assert_eq!(parsed.code, "NoPermission");
        assert_eq!(parsed.message, "a <b> & 'c'");
    }

    #[test]
    fn success_json_and_xml() {
        let body = json!({"Users": {"User": [{"UserName": "a"}, {"UserName": "b&c"}]}, "IsTruncated": false, "N": 3, "RequestId": "spoof"});
        let (_, j) = render_success("ListUsers", "RID", body.clone(), ResponseFormat::Json);
        let text = String::from_utf8(j).unwrap();
        assert!(text.starts_with("{\"RequestId\":\"RID\",\"Users\""));
        assert!(!text.contains("spoof"));
        let (_, x) = render_success("ListUsers", "RID", body, ResponseFormat::Xml);
        let x = String::from_utf8(x).unwrap();
        assert_eq!(
            x,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListUsersResponse><RequestId>RID</RequestId>\
             <Users><User><UserName>a</UserName></User><User><UserName>b&amp;c</UserName></User></Users>\
             <IsTruncated>false</IsTruncated><N>3</N></ListUsersResponse>"
        );
    }

    #[test]
    fn xml_names_and_control_chars_are_sanitized() {
        let (_, x) = render_success(
            "Bad<Action>",
            "R",
            json!({"1key": "\u{1}x\ry", "a b": null, "xmlThing": 1}),
            ResponseFormat::Xml,
        );
        let x = String::from_utf8(x).unwrap();
        assert!(x.contains("<Bad_Action_Response>"));
        assert!(x.contains("<_1key>\u{FFFD}x&#13;y</_1key>"));
        assert!(x.contains("<a_b></a_b>"));
        assert!(x.contains("<_xmlThing>1</_xmlThing>"));
    }

    #[test]
    fn from_protocol_error() {
        let e: ApiError = ProtocolError::AccessKeyNotFound.into();
        assert_eq!(e.code, "InvalidAccessKeyId.NotFound");
        assert_eq!(e.http_status, 404);
    }

    #[test]
    fn parse_error_body_variants() {
        let b = br#"{"code":"Throttling.User","message":"slow down","requestId":"x"}"#;
        let p = parse_error_body(b).unwrap();
        assert_eq!(p.code, "Throttling.User");
        assert_eq!(p.request_id.as_deref(), Some("x"));
        assert!(parse_error_body(b"{}").is_none());
        assert!(parse_error_body(b"not json").is_none());
        assert!(parse_error_body(b"\xff").is_none());
        assert_eq!(xml_unescape("&#65;&#x42;&bogus;&"), "AB&bogus;&");
    }

    #[test]
    fn products() {
        assert_eq!(product_for_version("2015-04-01"), Some("Sts"));
        assert_eq!(product_for_version("1999-01-01"), None);
    }
}
