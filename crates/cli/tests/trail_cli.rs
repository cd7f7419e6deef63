//! `cloudward trail verify` on exported trails: an untouched export verifies (exit 0);
//! an edited, deleted, reordered or truncated record fails with exit 1 and the report
//! names the first bad record (kind, file, line, event index).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;

use cloudward_trail::{ActionTrailEvent, CheckpointSigner, ExportOptions, ExportWriter, Keyring};
use common::{cloudward, outcome, run, tempdir};

fn event(i: u64) -> ActionTrailEvent {
    serde_json::from_value(serde_json::json!({
        "eventId": format!("00000000-0000-7000-8000-{i:012}"),
        "eventVersion": 1,
        "eventName": "GetUser",
        "eventSource": "ram.aliyuncs.com",
        "eventType": "ApiCall",
        "eventCategory": "Management",
        "eventRW": "Read",
        "eventTime": "2026-11-29T10:00:00Z",
        "acsRegion": "cn-hangzhou",
        "requestId": format!("REQ{i}"),
        "apiVersion": "2015-05-01",
        "serviceName": "Ram",
        "sourceIpAddress": "127.0.0.1",
        "userAgent": "test",
        "userIdentity": {"type": "root-account", "accountId": "1000000000000001", "userName": "root"},
        "requestParameters": {"UserName": format!("u{i}")}
    }))
    .unwrap()
}

/// 300 events in files of 100, checkpoints at 100, 200 and 300.
fn export(dir: &Path) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let signer = CheckpointSigner::new("cloudward-audit", key).unwrap();
    let mut ring = Keyring::new();
    ring.add(signer.trusted_key(Some(0))).unwrap();
    let mut w = ExportWriter::create(
        dir,
        ExportOptions {
            events_per_file: 100,
            gzip: false,
        },
    )
    .unwrap();
    for i in 0..300 {
        w.append(&event(i).redact().unwrap()).unwrap();
        if (i + 1) % 100 == 0 {
            let cp = signer
                .sign(w.checkpoint("cloudward/audit/test", 1_000 + i))
                .unwrap();
            w.write_checkpoint(&cp).unwrap();
        }
    }
    w.write_keys(&ring).unwrap();
    w.finish().unwrap();
}

fn verify(dir: &Path) -> (Option<i32>, String) {
    let (code, stdout, stderr) = outcome(&run(cloudward().args(["trail", "verify"]).arg(dir)));
    (code, format!("{stdout}{stderr}"))
}

fn edit_file(dir: &Path, name: &str, f: impl FnOnce(Vec<String>) -> Vec<String>) {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut out = f(lines).join("\n");
    out.push('\n');
    std::fs::write(path, out).unwrap();
}

const SECOND: &str = "events-00000000000000000100.jsonl";

#[test]
fn untouched_export_verifies() {
    let d = tempdir();
    export(d.path());
    let (code, out) = verify(d.path());
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with("OK: 300 events in 3 files, 3 checkpoints verified"),
        "{out}"
    );
}

#[test]
fn edited_record_is_named_by_file_line_and_index() {
    let d = tempdir();
    export(d.path());
    edit_file(d.path(), SECOND, |mut l| {
        l[41] = l[41].replace("\"u141\"", "\"mallory\"");
        l
    });
    let (code, out) = verify(d.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("kind: Edited"), "{out}");
    assert!(out.contains(&format!("file: {SECOND}")), "{out}");
    assert!(out.contains("line: 42"), "{out}");
    assert!(out.contains("event index: 141"), "{out}");
}

#[test]
fn deleted_record_is_named() {
    let d = tempdir();
    export(d.path());
    edit_file(d.path(), SECOND, |mut l| {
        l.remove(10);
        l
    });
    let (code, out) = verify(d.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("kind: Missing"), "{out}");
    assert!(out.contains("event index: 110"), "{out}");
}

#[test]
fn reordered_records_are_named() {
    let d = tempdir();
    export(d.path());
    edit_file(d.path(), SECOND, |mut l| {
        l.swap(5, 6);
        l
    });
    let (code, out) = verify(d.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("kind: Reordered"), "{out}");
    assert!(out.contains("line: 6"), "{out}");
}

#[test]
fn truncated_export_is_named() {
    let d = tempdir();
    export(d.path());
    let last = d.path().join("events-00000000000000000200.jsonl");
    let bytes = std::fs::read(&last).unwrap();
    std::fs::write(&last, &bytes[..bytes.len() - 300]).unwrap();
    let (code, out) = verify(d.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("kind: Truncated"), "{out}");
}
