//! Building the one ActionTrail event of an API call from what the server knows about it.
//!
//! The server gathers the facts of a call ([`CallFacts`]) on every path — allowed,
//! denied, failed authentication, unknown action — and [`build_event`] turns them into
//! an [`ActionTrailEvent`]. Redaction happens later, in [`crate::AuditLog::record`],
//! through [`ActionTrailEvent::redact_with`] with the action's declared secret fields, so
//! nothing unredacted can be stored.

use std::collections::BTreeMap;

use cloudward_protocol::ApiError;
use cloudward_service::{ActionSpec, Params, Principal, PrincipalKind, ReadWrite, RequestContext};
use cloudward_trail::EventError;
use cloudward_trail::event::{
    ActionTrailEvent, EVENT_VERSION, EventCategory, EventRw, EventTime, EventType, IdentityType,
    SessionAttributes, SessionContext, UserIdentity,
};
use serde_json::{Map, Value};

/// Everything the server knows about one call when it answers.
#[derive(Debug, Clone, Copy)]
pub struct CallFacts<'a> {
    /// The action's spec, when the `(Version, Action)` pair was found.
    pub spec: Option<&'a ActionSpec>,
    /// `Version` as sent (even if unknown).
    pub version: Option<&'a str>,
    /// `Action` as sent (even if unknown).
    pub action: Option<&'a str>,
    /// Service name derived from the version when the action is unknown.
    pub product: Option<&'a str>,
    /// The authenticated caller, if authentication succeeded.
    pub caller: Option<&'a Principal>,
    /// For unauthenticated calls: the account of the claimed key, if it exists.
    pub claimed_account: Option<&'a str>,
    /// For unauthenticated calls: the claimed AccessKeyId.
    pub claimed_access_key_id: Option<&'a str>,
    /// Business parameters, when the request parsed and authenticated.
    pub params: Option<&'a Params>,
    /// The answer: the response body or the error.
    pub result: Result<&'a Value, &'a ApiError>,
    /// Request facts (id, source IP, time, user agent, TLS, MFA).
    pub context: &'a RequestContext,
    /// Region of this deployment (`acsRegion`).
    pub region: &'a str,
}

/// Request parameters that name a resource: `(parameter, ActionTrail resource type)`.
/// They fill `referencedResources`, which `LookupEvents` searches by `ResourceType` and
/// `ResourceName`.
pub const RESOURCE_PARAMETERS: &[(&str, &str)] = &[
    ("UserName", "ACS::RAM::User"),
    ("NewUserName", "ACS::RAM::User"),
    ("GroupName", "ACS::RAM::Group"),
    ("RoleName", "ACS::RAM::Role"),
    ("RoleArn", "ACS::RAM::Role"),
    ("PolicyName", "ACS::RAM::Policy"),
    ("UserAccessKeyId", "ACS::RAM::AccessKey"),
    ("AccountId", "ACS::ResourceManager::Account"),
    ("FolderId", "ACS::ResourceManager::Folder"),
    ("PolicyId", "ACS::ResourceManager::ControlPolicy"),
];

/// Builds the (not yet redacted) event for one call. Fails only for a receive time the
/// event format cannot carry.
pub fn build_event(facts: &CallFacts<'_>) -> Result<ActionTrailEvent, EventError> {
    let context = facts.context;
    let identity = match facts.caller {
        Some(p) => principal_identity(p, context.mfa_present),
        None => UserIdentity {
            kind: IdentityType::Anonymous,
            principal_id: None,
            account_id: facts.claimed_account.map(str::to_owned),
            access_key_id: facts
                .claimed_access_key_id
                .filter(|k| !k.is_empty())
                .map(str::to_owned),
            user_name: None,
            session_context: None,
        },
    };
    let rw = match facts.spec.map(|s| s.rw) {
        Some(ReadWrite::Write) => EventRw::Write,
        // Unknown actions changed nothing.
        Some(ReadWrite::Read) | None => EventRw::Read,
    };
    let service_name = facts
        .spec
        .map(|s| s.product)
        .or(facts.product)
        .unwrap_or("")
        .to_owned();
    let event_name = facts
        .spec
        .map(|s| s.name)
        .or(facts.action)
        .unwrap_or("")
        .to_owned();
    let request_parameters: Map<String, Value> = facts
        .params
        .iter()
        .flat_map(|p| p.iter())
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let referenced_resources = facts.params.and_then(referenced_resources);
    let (response_elements, error_code, error_message) = match facts.result {
        Ok(value) if rw == EventRw::Write && !value.is_null() => (Some(value.clone()), None, None),
        Ok(_) => (None, None, None),
        Err(err) => (None, Some(err.code.clone()), Some(err.message.clone())),
    };
    let mut additional = Map::new();
    additional.insert(
        "Scheme".to_owned(),
        Value::from(if context.secure_transport {
            "https"
        } else {
            "http"
        }),
    );
    let recipient = facts
        .caller
        .map(|p| p.account_id.clone())
        .or_else(|| facts.claimed_account.map(str::to_owned));
    Ok(ActionTrailEvent {
        // Time-ordered (v7): the lookup index finds an event by the millisecond in its id.
        event_id: new_event_id(),
        event_version: EVENT_VERSION,
        event_name,
        event_source: facts.spec.map(|s| s.event_source).unwrap_or("").to_owned(),
        event_type: EventType::ApiCall,
        event_category: EventCategory::Management,
        event_rw: rw,
        event_time: EventTime::from_datetime(context.received_at)?,
        acs_region: facts.region.to_owned(),
        request_id: context.request_id.clone(),
        api_version: facts
            .spec
            .map(|s| s.version)
            .or(facts.version)
            .unwrap_or("")
            .to_owned(),
        service_name,
        source_ip_address: context.source_ip.to_string(),
        vpc_id: None,
        user_agent: context.user_agent.clone(),
        user_identity: identity,
        request_parameters,
        response_elements,
        referenced_resources,
        error_code,
        error_message,
        additional_event_data: Some(additional),
        recipient_account_id: recipient,
    })
}

thread_local! {
    /// SplitMix64 state for the random bits of event ids, seeded once per thread from
    /// the OS (`Uuid::now_v7` asks the OS for every id: a system call per API call).
    static ID_RNG: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

fn next_random() -> Option<u64> {
    ID_RNG.with(|cell| {
        let state = match cell.get() {
            Some(s) => s,
            None => u64::from_le_bytes(cloudward_service::random_bytes::<8>().ok()?),
        };
        let state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        cell.set(Some(state));
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Some(z ^ (z >> 31))
    })
}

/// A new UUIDv7 event id: the current millisecond and 74 random bits. Event ids need to
/// be unique and time-ordered, not unpredictable, so a per-thread generator seeded from
/// the OS is enough.
#[must_use]
pub fn new_event_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let (Some(a), Some(b)) = (next_random(), next_random()) else {
        return uuid::Uuid::now_v7().to_string();
    };
    let mut bytes = [0u8; 10];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes()[..2]);
    let id = uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.hyphenated().encode_lower(&mut buf).to_owned()
}

/// `userIdentity` of an authenticated principal.
#[must_use]
pub fn principal_identity(p: &Principal, mfa: bool) -> UserIdentity {
    let (kind, user_name) = match &p.kind {
        PrincipalKind::Root => (IdentityType::RootAccount, "root".to_owned()),
        PrincipalKind::User { user_name, .. } => (IdentityType::RamUser, user_name.clone()),
        PrincipalKind::AssumedRole {
            role_name,
            session_name,
            ..
        } => (
            IdentityType::AssumedRole,
            format!("{role_name}:{session_name}"),
        ),
    };
    UserIdentity {
        kind,
        principal_id: Some(p.principal_id()),
        account_id: Some(p.account_id.clone()),
        access_key_id: Some(p.access_key_id.clone()),
        user_name: Some(user_name),
        session_context: Some(SessionContext {
            attributes: SessionAttributes {
                mfa_authenticated: mfa,
                creation_date: None,
            },
            session_issuer: None,
        }),
    }
}

fn referenced_resources(params: &Params) -> Option<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (param, kind) in RESOURCE_PARAMETERS {
        if let Some(value) = params.get(*param).filter(|v| !v.is_empty()) {
            let list = out.entry((*kind).to_owned()).or_default();
            if !list.contains(value) {
                list.push(value.clone());
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Secret fields to redact for an action beyond the trail crate's registry: those its
/// [`ActionSpec::secret_fields`] declares.
#[must_use]
pub fn declared_secrets(spec: Option<&ActionSpec>) -> &'static [&'static str] {
    spec.map_or(&[], |s| s.secret_fields)
}
