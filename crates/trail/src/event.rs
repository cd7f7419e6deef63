//! The ActionTrail event model (Alibaba Cloud ActionTrail event JSON, `eventVersion` 1)
//! and its canonical byte form, which is the Merkle leaf data.
//!
//! Canonical form: compact `serde_json` output, struct fields in declaration order
//! (`eventId` first, so tools can find it without a JSON parser), optional fields
//! omitted when absent, and every JSON object inside free-form fields
//! (`requestParameters`, `responseElements`, `additionalEventData`, ...) written with
//! keys sorted by their UTF-8 bytes. Two events that compare equal therefore have the
//! same bytes, whatever order their maps were filled in.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::merkle::{Hash, leaf_hash};

/// Errors building, reading or serializing events.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// JSON (de)serialization failed.
    #[error("event JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `eventVersion` other than 1.
    #[error("unsupported eventVersion {0}; only 1 exists")]
    Version(u32),
    /// A timestamp outside what the event format can carry.
    #[error("invalid event time: {0}")]
    Time(String),
    /// The bytes parsed, but are not the canonical serialization of the event.
    #[error("event bytes are not in canonical form")]
    NotCanonical,
}

/// `eventType`: how the call reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// An API call (SDK, CLI, HTTP).
    ApiCall,
    /// A console sign-in.
    ConsoleSignin,
    /// An action taken in the console.
    ConsoleOperation,
    /// An action taken by a cloud service on the account's behalf.
    AliyunServiceEvent,
}

/// `eventCategory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventCategory {
    /// Control-plane (management) events.
    Management,
    /// Data-plane events.
    Data,
}

/// `eventRW`: whether the call reads or changes state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventRw {
    /// Read-only call.
    Read,
    /// State-changing call.
    Write,
}

/// `userIdentity.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityType {
    /// The account's root identity.
    #[serde(rename = "root-account")]
    RootAccount,
    /// A RAM user.
    #[serde(rename = "ram-user")]
    RamUser,
    /// An STS session of a RAM role.
    #[serde(rename = "assumed-role")]
    AssumedRole,
    /// The platform itself.
    #[serde(rename = "system")]
    System,
    /// A CloudSSO user.
    #[serde(rename = "cloudsso-user")]
    CloudSsoUser,
    /// A SAML-federated user.
    #[serde(rename = "saml-user")]
    SamlUser,
    /// An OIDC-federated user.
    #[serde(rename = "oidc-user")]
    OidcUser,
    /// Another Alibaba Cloud account (cross-account service call).
    #[serde(rename = "alibaba-cloud-account")]
    AlibabaCloudAccount,
    /// Cloudward extension: a caller that was not authenticated (missing or bad
    /// signature, unknown or disabled AccessKey, expired token). `accessKeyId` then
    /// carries the *claimed* key id, if any; nothing in the identity is verified.
    #[serde(rename = "anonymous")]
    Anonymous,
}

/// `eventTime` and other timestamps: UTC, whole seconds, written `yyyy-MM-ddTHH:mm:ssZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime(OffsetDateTime);

impl EventTime {
    /// From Unix seconds.
    pub fn from_unix(seconds: i64) -> Result<Self, EventError> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .map(Self)
            .map_err(|e| EventError::Time(e.to_string()))
    }

    /// From a date-time: converted to UTC, sub-second part dropped (the format has none).
    pub fn from_datetime(t: OffsetDateTime) -> Result<Self, EventError> {
        Self::from_unix(t.unix_timestamp())
    }

    /// Unix seconds.
    #[must_use]
    pub fn unix(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// The date-time (UTC).
    #[must_use]
    pub fn datetime(&self) -> OffsetDateTime {
        self.0
    }

    fn format(&self) -> Result<String, time::error::Format> {
        self.0.format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
    }
}

impl Serialize for EventTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.format().map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for EventTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let t = OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)?;
        Self::from_datetime(t).map_err(serde::de::Error::custom)
    }
}

/// `userIdentity.sessionContext.attributes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionAttributes {
    /// Whether the session passed MFA; ActionTrail writes it as the string "true"/"false".
    #[serde(with = "bool_string")]
    pub mfa_authenticated: bool,
    /// When the session (or STS token) was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<EventTime>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionContext {
    /// Session attributes.
    pub attributes: SessionAttributes,
    /// The role or principal that issued the session (AWS-style; optional).
    #[serde(
        default,
        skip_serializing_if = "absent",
        serialize_with = "canonical_opt_value"
    )]
    pub session_issuer: Option<Value>,
}

/// `userIdentity`: who made the call, as far as authentication established it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserIdentity {
    /// Kind of principal.
    #[serde(rename = "type")]
    pub kind: IdentityType,
    /// Root: account id; RAM user: user id; assumed role: `RoleId:RoleSessionName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// The caller's account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// AccessKey id used (`STS.…` for sessions); claimed, unverified for `anonymous`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// `root`, the RAM user name, or `<role>:<session>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Session details for console and STS sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_context: Option<SessionContext>,
}

/// One ActionTrail event. Field names and order are those of the canonical JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActionTrailEvent {
    /// GUID of the event.
    pub event_id: String,
    /// Format version, always 1.
    pub event_version: u32,
    /// API name, e.g. `CreateUser`.
    pub event_name: String,
    /// Endpoint host that handled the call, e.g. `ram.aliyuncs.com`.
    pub event_source: String,
    /// How the call arrived.
    pub event_type: EventType,
    /// Management or data event.
    pub event_category: EventCategory,
    /// Read or write.
    #[serde(rename = "eventRW")]
    pub event_rw: EventRw,
    /// When the call was received (UTC).
    pub event_time: EventTime,
    /// Region of the event, e.g. `cn-hangzhou`.
    pub acs_region: String,
    /// Request id returned to the caller.
    pub request_id: String,
    /// API version, e.g. `2015-05-01`.
    pub api_version: String,
    /// Service, e.g. `Ram`, `Sts`.
    pub service_name: String,
    /// Caller IP address.
    pub source_ip_address: String,
    /// Source VPC, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// Caller's User-Agent.
    pub user_agent: String,
    /// Who called.
    pub user_identity: UserIdentity,
    /// Request parameters (secrets redacted, see [`crate::redact`]).
    #[serde(serialize_with = "canonical_map")]
    pub request_parameters: Map<String, Value>,
    /// Response body on success (secrets redacted); absent on failure.
    #[serde(
        default,
        skip_serializing_if = "absent",
        serialize_with = "canonical_opt_value"
    )]
    pub response_elements: Option<Value>,
    /// Resource type (e.g. `ACS::RAM::User`) to the ids the call touched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_resources: Option<BTreeMap<String, Vec<String>>>,
    /// Error code when the call failed (e.g. `NoPermission`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Error message when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Extra data, e.g. `{"Scheme":"https"}` or `isMFAChecked` for sign-ins.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "canonical_opt_map"
    )]
    pub additional_event_data: Option<Map<String, Value>>,
    /// Account that receives the event (the resource owner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_account_id: Option<String>,
}

/// The only `eventVersion` there is.
pub const EVENT_VERSION: u32 = 1;

/// An event whose secrets have been redacted: the only kind that has canonical bytes,
/// so nothing unredacted can reach the log (invariant: secrets are redacted in audit
/// events). Build one with [`ActionTrailEvent::redact`].
#[derive(Debug, Clone, PartialEq)]
pub struct RedactedEvent(ActionTrailEvent);

impl ActionTrailEvent {
    /// Redacts secrets with the default registry ([`crate::redact::secret_fields`] for
    /// this event's `serviceName`/`eventName`, plus the global list) and checks the
    /// version.
    pub fn redact(self) -> Result<RedactedEvent, EventError> {
        self.redact_with(&[])
    }

    /// As [`ActionTrailEvent::redact`], also redacting the `extra` field names.
    pub fn redact_with(mut self, extra: &[&str]) -> Result<RedactedEvent, EventError> {
        if self.event_version != EVENT_VERSION {
            return Err(EventError::Version(self.event_version));
        }
        crate::redact::redact_event(&mut self, extra);
        Ok(RedactedEvent(self))
    }
}

impl RedactedEvent {
    /// The event.
    #[must_use]
    pub fn event(&self) -> &ActionTrailEvent {
        &self.0
    }

    /// Gives the event back (e.g. to build a response); redaction stays applied.
    #[must_use]
    pub fn into_inner(self) -> ActionTrailEvent {
        self.0
    }

    /// The canonical bytes: the Merkle leaf data and the `event` of an export line.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, EventError> {
        let mut out = Vec::with_capacity(1024);
        self.write_canonical(&mut out)?;
        Ok(out)
    }

    /// Appends the canonical bytes to `out`.
    pub fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), EventError> {
        serde_json::to_writer(out, &self.0)?;
        Ok(())
    }

    /// Merkle leaf hash of the canonical bytes.
    pub fn leaf_hash(&self) -> Result<Hash, EventError> {
        Ok(leaf_hash(&self.canonical_bytes()?))
    }

    /// Parses canonical bytes back (e.g. from the store), re-applying redaction, and
    /// checks that they were canonical: re-serializing must give the same bytes, so the
    /// leaf hash the log committed to is the one this event reproduces.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, EventError> {
        let event: ActionTrailEvent = serde_json::from_slice(bytes)?;
        let redacted = event.redact()?;
        if redacted.canonical_bytes()? != bytes {
            return Err(EventError::NotCanonical);
        }
        Ok(redacted)
    }
}

/// `None` and `Some(null)` both mean "absent": writing neither keeps parse -> serialize
/// stable (a written `null` would read back as `None`).
#[allow(clippy::ref_option)]
fn absent(v: &Option<Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

/// Writes a JSON value with object keys sorted, recursively.
struct Canonical<'a>(&'a Value);

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(m) => canonical_map(m, s),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Canonical(item))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

fn canonical_map<S: Serializer>(m: &Map<String, Value>, s: S) -> Result<S::Ok, S::Error> {
    // The workspace enables serde_json's preserve_order, so Map keeps insertion order;
    // sort here so that order never leaks into the leaf bytes.
    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut map = s.serialize_map(Some(entries.len()))?;
    for (k, v) in entries {
        map.serialize_entry(k, &Canonical(v))?;
    }
    map.end()
}

// serde's `serialize_with` hands these a `&Option<_>`; the signatures are fixed by it.
#[allow(clippy::ref_option)]
fn canonical_opt_value<S: Serializer>(v: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => Canonical(v).serialize(s),
        None => s.serialize_none(),
    }
}

#[allow(clippy::ref_option)]
fn canonical_opt_map<S: Serializer>(
    v: &Option<Map<String, Value>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(m) => canonical_map(m, s),
        None => s.serialize_none(),
    }
}

mod bool_string {
    use serde::{Deserialize, Deserializer, Serializer};

    // Callers are serde's `with` attribute, which passes `&bool`.
    #[allow(clippy::trivially_copy_pass_by_ref)]
    pub(super) fn serialize<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if *v { "true" } else { "false" })
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        match text.as_ref() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "expected \"true\" or \"false\", got {other:?}"
            ))),
        }
    }
}
