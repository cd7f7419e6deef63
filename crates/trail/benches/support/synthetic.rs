//! Synthetic ActionTrail events shared by the trail benchmark and the `trail_export`
//! example (included by path from both).
#![allow(dead_code)]

use cloudward_trail::event::{
    ActionTrailEvent, EventCategory, EventRw, EventTime, EventType, IdentityType,
    SessionAttributes, SessionContext, UserIdentity,
};
use serde_json::{Map, json};

pub fn event(i: u64) -> ActionTrailEvent {
    let mut params = Map::new();
    params.insert("UserName".into(), json!(format!("user-{i}")));
    params.insert("DisplayName".into(), json!(format!("User number {i}")));
    params.insert("RegionId".into(), json!("cn-hangzhou"));
    params.insert("AcsProduct".into(), json!("Ram"));
    ActionTrailEvent {
        event_id: format!("0190c2a4-5b1e-7c3d-9e8f-{i:012x}"),
        event_version: 1,
        event_name: "CreateUser".into(),
        event_source: "ram.aliyuncs.com".into(),
        event_type: EventType::ApiCall,
        event_category: EventCategory::Management,
        event_rw: EventRw::Write,
        event_time: EventTime::from_unix(1_700_000_000 + (i / 100) as i64).unwrap(),
        acs_region: "cn-hangzhou".into(),
        request_id: format!("4C3E8F2A-{i:08X}-4D1B-9C7E-2F6A1B3D5E7F"),
        api_version: "2015-05-01".into(),
        service_name: "Ram".into(),
        source_ip_address: "203.0.113.45".into(),
        vpc_id: None,
        user_agent: "AlibabaCloud (Linux; x86_64) Python/3.11.6 Core/0.3.3 TeaDSL/1".into(),
        user_identity: UserIdentity {
            kind: IdentityType::RamUser,
            principal_id: Some("238902601002291234".into()),
            account_id: Some("1594986938261234".into()),
            access_key_id: Some("LTAI5tQ9ExampleKeyId01".into()),
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
        response_elements: Some(json!({
            "RequestId": format!("4C3E8F2A-{i:08X}-4D1B-9C7E-2F6A1B3D5E7F"),
            "User": {"UserName": format!("user-{i}"), "UserId": format!("2{i:017}"),
                     "CreateDate": "2023-11-14T22:13:20Z"}
        })),
        referenced_resources: Some(
            [("ACS::RAM::User".to_owned(), vec![format!("user-{i}")])]
                .into_iter()
                .collect(),
        ),
        error_code: None,
        error_message: None,
        additional_event_data: None,
        recipient_account_id: None,
    }
}

pub fn canonical(i: u64) -> Vec<u8> {
    event(i).redact().unwrap().canonical_bytes().unwrap()
}
