//! Offline verification tool and throughput probe.
//!
//! `cargo run --release -p cloudward-trail --example trail_export -- gen <dir> <events> [gzip]`
//! writes a synthetic export (the same events as the criterion bench) signed with a fixed
//! test key; `... -- verify <dir> [threads]` verifies it and prints events/second.
//! Run the verify step under `/usr/bin/time -v` to get CPU time as well as wall time,
//! which stays meaningful on a loaded machine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::Path;
use std::time::Instant;

use cloudward_trail::event::{
    ActionTrailEvent, EventCategory, EventRw, EventTime, EventType, IdentityType,
    SessionAttributes, SessionContext, UserIdentity,
};
use cloudward_trail::{
    CheckpointSigner, ExportOptions, ExportWriter, Keyring, VerifyOptions, verify_export,
};
use ed25519_dalek::SigningKey;
use serde_json::{Map, json};

fn event(i: u64) -> ActionTrailEvent {
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

fn canonical(i: u64) -> Vec<u8> {
    event(i).redact().unwrap().canonical_bytes().unwrap()
}

fn signer() -> CheckpointSigner {
    CheckpointSigner::new("bench-audit", SigningKey::from_bytes(&[5; 32])).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") => {
            let dir = Path::new(&args[2]);
            let events: u64 = args[3].parse().unwrap();
            let gzip = args.get(4).is_some_and(|a| a == "gzip");
            let s = signer();
            let mut w = ExportWriter::create(
                dir,
                ExportOptions {
                    events_per_file: 100_000,
                    gzip,
                },
            )
            .unwrap();
            for i in 0..events {
                w.append_canonical(&canonical(i)).unwrap();
                if w.size().is_multiple_of(100_000) || w.size() == events {
                    let cp = w.checkpoint("bench.cloudward/audit", 1_700_000_000 + w.size());
                    w.write_checkpoint(&s.sign(cp).unwrap()).unwrap();
                }
            }
            let mut ring = Keyring::new();
            ring.add(s.trusted_key(None)).unwrap();
            w.write_keys(&ring).unwrap();
            w.finish().unwrap();
        }
        Some("verify") => {
            let dir = Path::new(&args[2]);
            let threads: usize = args.get(3).map_or(0, |t| t.parse().unwrap());
            let ring = Keyring::from_json(&std::fs::read(dir.join("keys.json")).unwrap()).unwrap();
            let opts = VerifyOptions {
                threads,
                ..VerifyOptions::default()
            };
            let t = Instant::now();
            let r = verify_export(dir, &ring, &opts).unwrap();
            let secs = t.elapsed().as_secs_f64();
            match &r.failure {
                None => println!(
                    "OK: {} events, {} checkpoints, {:.3} s wall, {:.0} events/s",
                    r.events,
                    r.checkpoints_verified,
                    secs,
                    r.events as f64 / secs
                ),
                Some(f) => {
                    println!("FAILED: {f}");
                    std::process::exit(1);
                }
            }
        }
        _ => {
            eprintln!("usage: trail_export gen <dir> <events> [gzip] | verify <dir> [threads]");
            std::process::exit(2);
        }
    }
}
