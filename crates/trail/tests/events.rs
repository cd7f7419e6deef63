//! Event model, canonical bytes and redaction.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_trail::RedactedEvent;
use cloudward_trail::event::{ActionTrailEvent, IdentityType};
use cloudward_trail::redact::{
    GLOBAL_SECRET_FIELDS, REDACTED, SECRET_FIELD_REGISTRY, secret_fields,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

#[test]
fn json_field_names_follow_actiontrail() {
    let bytes = common::redacted(7).canonical_bytes().unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    for key in [
        "eventId",
        "eventVersion",
        "eventName",
        "eventSource",
        "eventType",
        "eventCategory",
        "eventRW",
        "eventTime",
        "acsRegion",
        "requestId",
        "apiVersion",
        "serviceName",
        "sourceIpAddress",
        "userAgent",
        "userIdentity",
        "requestParameters",
        "responseElements",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["eventVersion"], json!(1));
    assert_eq!(v["eventRW"], json!("Write"));
    assert_eq!(v["eventTime"], json!("2023-11-14T22:13:27Z"));
    let id = &v["userIdentity"];
    assert_eq!(id["type"], json!("ram-user"));
    for key in ["principalId", "accountId", "accessKeyId", "userName"] {
        assert!(id.get(key).is_some(), "missing userIdentity.{key}");
    }
    assert_eq!(
        id["sessionContext"]["attributes"]["mfaAuthenticated"],
        json!("false")
    );
    // eventId comes first so tools can find it without parsing.
    assert!(bytes.starts_with(b"{\"eventId\":\""));
}

#[test]
fn identity_types_serialize_to_actiontrail_names() {
    for (t, s) in [
        (IdentityType::RootAccount, "root-account"),
        (IdentityType::RamUser, "ram-user"),
        (IdentityType::AssumedRole, "assumed-role"),
        (IdentityType::Anonymous, "anonymous"),
        (IdentityType::System, "system"),
    ] {
        assert_eq!(serde_json::to_value(t).unwrap(), json!(s));
    }
}

#[test]
fn alibaba_sample_parses() {
    // The §6.1 sample (RAM user assumes a role), with the truncated fields filled in.
    let sample = json!({
      "eventId": "2546c4b7-6b56-403e-97d3-500d8d29339a",
      "eventVersion": 1,
      "responseElements": {
        "requestId": "2546c4b7-6b56-403e-97d3-500d8d29339a",
        "assumedRoleUser": {"arn": "acs:ram::159498693826****:role/custom-role-for-actiontrail/Alice",
                            "assumedRoleId": "39484351102463****:Alice"},
        "credentials": {"accessKeyId": "STS.NUQNP4PiGyckMsNiGELCs****",
                        "accessKeySecret": "Ss7sq2j0ZoJujZnmVgXcu6QT9e****", "expiration": "2021-08-02T04:42:19Z"}
      },
      "eventSource": "sts.aliyuncs.com",
      "requestParameters": {"AcsHost": "sts.aliyuncs.com", "AcsProduct": "Sts", "RequestId": "2546c4b7",
        "RoleSessionName": "Alice", "DurationSeconds": 3600, "HostId": "sts.aliyuncs.com",
        "RoleArn": "acs:ram::159498693826****:role/custom-role-for-actiontrail"},
      "sourceIpAddress": "192.168.XX.XX",
      "userAgent": "Jakarta Commons-HttpClient/3.1",
      "eventType": "ApiCall",
      "eventCategory": "Management",
      "eventRW": "Write",
      "referencedResources": {"ACS::RAM::AccessKey": ["STS.NUQNP4PiGyckMsNiGELCs****"]},
      "userIdentity": {"sessionContext": {"attributes": {"mfaAuthenticated": "false", "creationDate": "2021-08-02T03:42:19Z"}},
        "accountId": "159498693826****", "principalId": "23890260100229****", "type": "ram-user", "userName": "Alice"},
      "serviceName": "Sts",
      "additionalEventData": {"Scheme": "https", "CallerBid": "26842"},
      "acsRegion": "cn-hangzhou",
      "eventName": "AssumeRole",
      "eventTime": "2021-08-02T03:42:19Z",
      "requestId": "2546c4b7-6b56-403e-97d3-500d8d29339a",
      "apiVersion": "2015-04-01"
    });
    let event: ActionTrailEvent = serde_json::from_value(sample).unwrap();
    let red = event.redact().unwrap();
    let bytes = red.canonical_bytes().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(!text.contains("Ss7sq2j0ZoJujZnmVgXcu6QT9e"), "{text}");
    assert!(text.contains(REDACTED));
    // Canonical bytes parse back to the same bytes.
    assert_eq!(RedactedEvent::from_canonical_bytes(&bytes).unwrap(), red);
}

#[test]
fn canonical_bytes_ignore_map_insertion_order() {
    let mut a = common::event(1);
    let mut b = common::event(1);
    let mut m1 = Map::new();
    m1.insert("Zeta".into(), json!(1));
    m1.insert("Alpha".into(), json!({"y": 1, "x": [ {"b": 2, "a": 1} ]}));
    let mut m2 = Map::new();
    m2.insert("Alpha".into(), json!({"x": [ {"a": 1, "b": 2} ], "y": 1}));
    m2.insert("Zeta".into(), json!(1));
    a.request_parameters = m1;
    b.request_parameters = m2;
    let (a, b) = (a.redact().unwrap(), b.redact().unwrap());
    assert_eq!(a.canonical_bytes().unwrap(), b.canonical_bytes().unwrap());
    let text = String::from_utf8(a.canonical_bytes().unwrap()).unwrap();
    assert!(
        text.contains(r#""requestParameters":{"Alpha":{"x":[{"a":1,"b":2}],"y":1},"Zeta":1}"#),
        "{text}"
    );
    assert!(!text.contains('\n') && !text.contains(": "));
}

#[test]
fn non_canonical_bytes_are_refused() {
    let bytes = common::redacted(3).canonical_bytes().unwrap();
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    let pretty = serde_json::to_vec_pretty(&v).unwrap();
    assert!(RedactedEvent::from_canonical_bytes(&pretty).is_err());
    v["eventVersion"] = json!(2);
    assert!(RedactedEvent::from_canonical_bytes(&serde_json::to_vec(&v).unwrap()).is_err());
    v["eventVersion"] = json!(1);
    v["surprise"] = json!(true);
    assert!(RedactedEvent::from_canonical_bytes(&serde_json::to_vec(&v).unwrap()).is_err());
}

/// Every declared secret field, placed at the top level, nested in an object, inside
/// an array, in flattened RPC form and in lower-camel case, in both the request and
/// the response: the secret never appears in the canonical bytes.
#[test]
fn every_declared_secret_is_redacted() {
    let mut cases: Vec<(&str, &str, &str)> = Vec::new();
    for (service, action, fields) in SECRET_FIELD_REGISTRY {
        for f in *fields {
            cases.push((service, action, f));
        }
    }
    for f in GLOBAL_SECRET_FIELDS {
        cases.push(("Ecs", "DescribeInstances", f));
    }
    assert!(cases.len() > 30);
    for (n, (service, action, field)) in cases.into_iter().enumerate() {
        let secret = format!("s3cr3t-{n}-{field}-value");
        let lower = {
            let mut c = field.chars();
            c.next()
                .map(|h| h.to_ascii_lowercase().to_string() + c.as_str())
                .unwrap()
        };
        let mut e = common::event(n as u64);
        e.service_name = service.to_owned();
        e.event_name = action.to_owned();
        let p = &mut e.request_parameters;
        p.insert(field.to_owned(), json!(secret));
        p.insert(format!("Credentials.{field}"), json!(secret));
        p.insert(
            "Nested".into(),
            json!({"Inner": {field: secret}, "List": [{field: secret}, {lower.clone(): [secret]}]}),
        );
        e.response_elements =
            Some(json!({"Result": {lower.clone(): secret, field: {"deep": secret}}}));
        e.additional_event_data = Some(Map::from_iter([(field.to_string(), json!(secret))]));
        let bytes = e.redact().unwrap().canonical_bytes().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            !text.contains(&secret),
            "{service}/{action}/{field} leaked: {text}"
        );
        assert!(text.contains(REDACTED));
    }
}

#[test]
fn action_registry_is_specific_and_case_insensitive() {
    assert!(secret_fields("Ram", "CreateVirtualMFADevice").contains(&"Base32StringSeed"));
    assert!(secret_fields("ram", "createvirtualmfadevice").contains(&"Base32StringSeed"));
    assert!(secret_fields("Ecs", "DescribeInstances").is_empty());
    // Action-specific names are redacted only where declared (or passed as extra).
    let mut e = common::event(1);
    e.request_parameters
        .insert("SecretData".into(), json!("keep-me"));
    let text = String::from_utf8(e.clone().redact().unwrap().canonical_bytes().unwrap()).unwrap();
    assert!(text.contains("keep-me"));
    let text = String::from_utf8(
        e.redact_with(&["SecretData"])
            .unwrap()
            .canonical_bytes()
            .unwrap(),
    )
    .unwrap();
    assert!(!text.contains("keep-me"));
}

#[test]
fn non_secret_fields_survive() {
    let text = String::from_utf8(common::redacted(5).canonical_bytes().unwrap()).unwrap();
    assert!(text.contains("user-5") && !text.contains(REDACTED));
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            proptest::collection::btree_map(".{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Canonical bytes are stable under parse -> serialize, whatever the parameters.
    #[test]
    fn canonical_round_trip(params in proptest::collection::btree_map("[A-Za-z.]{1,10}", json_value(), 0..6), resp in json_value()) {
        let mut e = common::event(9);
        e.request_parameters = params.into_iter().collect();
        e.response_elements = Some(resp);
        let red = e.redact().unwrap();
        let bytes = red.canonical_bytes().unwrap();
        let back = RedactedEvent::from_canonical_bytes(&bytes).unwrap();
        prop_assert_eq!(back.canonical_bytes().unwrap(), bytes);
        prop_assert!(!back.canonical_bytes().unwrap().contains(&b'\n'));
    }

    /// Arbitrary bytes never panic the event parser.
    #[test]
    fn event_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = RedactedEvent::from_canonical_bytes(&bytes);
    }
}
