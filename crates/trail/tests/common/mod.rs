//! Shared fixtures for the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cloudward_trail::event::{
    ActionTrailEvent, EventCategory, EventRw, EventTime, EventType, IdentityType,
    SessionAttributes, SessionContext, UserIdentity,
};
use cloudward_trail::{CheckpointSigner, RedactedEvent};
use ed25519_dalek::SigningKey;
use serde_json::{Map, json};

/// A plausible RAM event number `i`.
pub fn event(i: u64) -> ActionTrailEvent {
    let mut params = Map::new();
    params.insert("UserName".into(), json!(format!("user-{i}")));
    params.insert("RegionId".into(), json!("cn-hangzhou"));
    params.insert("AcsProduct".into(), json!("Ram"));
    ActionTrailEvent {
        event_id: format!("00000000-0000-4000-8000-{i:012}"),
        event_version: 1,
        event_name: if i.is_multiple_of(3) {
            "GetUser"
        } else {
            "CreateUser"
        }
        .into(),
        event_source: "ram.aliyuncs.com".into(),
        event_type: EventType::ApiCall,
        event_category: EventCategory::Management,
        event_rw: if i.is_multiple_of(3) {
            EventRw::Read
        } else {
            EventRw::Write
        },
        event_time: EventTime::from_unix(1_700_000_000 + i as i64).unwrap(),
        acs_region: "cn-hangzhou".into(),
        request_id: format!("REQ-{i}"),
        api_version: "2015-05-01".into(),
        service_name: "Ram".into(),
        source_ip_address: "192.0.2.10".into(),
        vpc_id: None,
        user_agent: "AlibabaCloud (Linux; x86_64) Python/3.11 Core/1.0".into(),
        user_identity: UserIdentity {
            kind: IdentityType::RamUser,
            principal_id: Some("238902601002290000".into()),
            account_id: Some("1594986938260000".into()),
            access_key_id: Some("LTAI5tExampleKeyId0001".into()),
            user_name: Some("alice".into()),
            session_context: Some(SessionContext {
                attributes: SessionAttributes {
                    mfa_authenticated: false,
                    creation_date: Some(EventTime::from_unix(1_700_000_000).unwrap()),
                },
                session_issuer: None,
            }),
        },
        request_parameters: params,
        response_elements: Some(
            json!({"RequestId": format!("REQ-{i}"), "User": {"UserName": format!("user-{i}")}}),
        ),
        referenced_resources: None,
        error_code: None,
        error_message: None,
        additional_event_data: None,
        recipient_account_id: None,
    }
}

pub fn redacted(i: u64) -> RedactedEvent {
    event(i).redact().unwrap()
}

pub fn signer(name: &str, seed: u8) -> CheckpointSigner {
    CheckpointSigner::new(name, SigningKey::from_bytes(&[seed; 32])).unwrap()
}
