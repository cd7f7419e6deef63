//! Redaction per action: for every registered action that declares secret fields, and
//! every row of the trail crate's registry, a call carrying those fields in its request
//! parameters and response stores no secret value — whatever the key's case or nesting.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_audit::log::{DB_FILE, open_reader};
use cloudward_service::{Access, ActionSpec, ReadWrite};
use cloudward_trail::redact::{GLOBAL_SECRET_FIELDS, REDACTED, SECRET_FIELD_REGISTRY};
use common::*;
use serde_json::json;

fn no_handler(_: cloudward_service::Call<'_>) -> cloudward_service::HandlerFuture<'_> {
    Box::pin(async { Ok(serde_json::Value::Null) })
}

fn any(
    _: &cloudward_service::Params,
    _: &cloudward_service::Principal,
) -> Result<String, cloudward_protocol::ApiError> {
    Ok("*".into())
}

#[test]
fn every_declared_secret_is_redacted_in_requests_and_responses() {
    // Registered specs (the server's real action table) plus one synthetic spec per row
    // of the trail crate's registry.
    let mut specs: Vec<ActionSpec> = cloudward_iam::actions();
    specs.extend(cloudward_audit::actions());
    for (service, action, fields) in SECRET_FIELD_REGISTRY {
        specs.push(ActionSpec {
            product: service,
            event_source: "test",
            version: "2000-01-01",
            name: action,
            ram_action: "test:Test",
            rw: ReadWrite::Write,
            access: Access::Policy { resource: any },
            secret_fields: fields,
            handler: no_handler,
        });
    }
    let declared: Vec<&ActionSpec> = specs
        .iter()
        .filter(|s| !s.secret_fields.is_empty())
        .collect();
    assert!(
        declared.len() >= SECRET_FIELD_REGISTRY.len(),
        "no action declares secrets?"
    );

    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    let who = user("1", "alice");
    let mut secrets = Vec::new();
    for (n, spec) in declared.iter().enumerate() {
        let mut pairs = Vec::new();
        let mut response = serde_json::Map::new();
        for (k, field) in spec
            .secret_fields
            .iter()
            .chain(GLOBAL_SECRET_FIELDS)
            .enumerate()
        {
            let secret = format!("S3cr3t-{n}-{k}-{field}-value");
            pairs.push((field.to_string(), secret.clone()));
            // Responses: nested, lower-camel and flattened forms.
            let camel = format!("{}{}", field[..1].to_ascii_lowercase(), &field[1..]);
            response.insert(format!("Nested{k}"), json!({ camel: format!("{secret}-resp"), "list": [{ field.to_string(): format!("{secret}-list") }] }));
            response.insert(
                format!("Credentials.{field}"),
                json!(format!("{secret}-flat")),
            );
            secrets.push(secret);
        }
        let params = params(
            &pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        );
        let body = serde_json::Value::Object(response);
        let event = spec_event(&clock, spec, &who, &params, Ok(&body));
        rt.block_on(log.record(event, spec.secret_fields)).unwrap();
    }
    drop(log);
    writer.join();
    let conn = open_reader(&dir.path().join(DB_FILE)).unwrap();
    let bodies: Vec<String> = cloudward_audit::blocks::read_events(&conn, 0, u64::MAX)
        .unwrap()
        .into_iter()
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    assert_eq!(bodies.len(), declared.len());
    for (body, spec) in bodies.iter().zip(&declared) {
        assert!(
            body.contains(REDACTED),
            "{}: nothing redacted: {body}",
            spec.name
        );
        for secret in &secrets {
            assert!(
                !body.contains(secret.as_str()),
                "{}/{}: {secret} leaked: {body}",
                spec.product,
                spec.name
            );
        }
    }
    // Nowhere in the database files either.
    let mut raw = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            raw.extend(std::fs::read(p).unwrap());
        }
    }
    // Every secret value starts with this marker: one scan covers them all.
    let marker = b"S3cr3t-";
    assert!(
        !raw.windows(marker.len()).any(|w| w == marker),
        "a secret value is in the data directory"
    );
}
