//! Crash safety of the audit log: `cloudward serve` is killed with SIGKILL under
//! concurrent write load (signed calls that succeed, calls refused by authentication,
//! and CreateTrail writes), then restarted. Every request whose response was received has
//! its event; the log reopens (which checks the stored tree against the frontier and the
//! latest signed checkpoint), exports and verifies offline; no partial record is visible
//! (every event row has its leaf, the frontier covers exactly the rows, every body is
//! canonical).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloudward_protocol::{Credentials, encode_params, sign_v2_params};
use common::{ROOT_ID, ROOT_SECRET, ServeOpts, cloudward, outcome, run, start, tempdir};

/// One signed V2 POST over a fresh HTTP/1.1 connection; returns the `x-acs-request-id`
/// of the response (only when a complete response arrived).
fn call(
    addr: SocketAddr,
    action: &str,
    version: &str,
    extra: &[(&str, &str)],
    secret: &str,
    n: u64,
) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    params.insert("Action".into(), action.into());
    params.insert("Version".into(), version.into());
    for (k, v) in extra {
        params.insert((*k).into(), (*v).into());
    }
    let creds = Credentials {
        access_key_id: ROOT_ID.into(),
        access_key_secret: secret.into(),
        security_token: None,
    };
    let nonce = format!("crash-{}-{n}-{}", std::process::id(), uuid::Uuid::new_v4());
    let signed = sign_v2_params(
        "POST",
        &params,
        &creds,
        &nonce,
        time::OffsetDateTime::now_utc(),
    );
    let body = encode_params(&signed);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })?
        .parse()
        .ok()?;
    if rest.len() < len {
        return None; // cut off by the kill: not a received response
    }
    let id = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .starts_with("x-acs-request-id:")
            .then(|| l.split_once(':').map(|x| x.1.trim().to_owned()))
    })??;
    Some((status, id))
}

#[test]
fn sigkill_under_load_loses_no_acknowledged_event_and_the_log_verifies() {
    let data = tempdir();
    let server = start(
        data.path(),
        ServeOpts {
            env: vec![("CLOUDWARD_AUDIT_CHECKPOINT_SECS".into(), "1".into())],
            ..ServeOpts::default()
        },
    );
    let addr = server.addr;
    let received: Arc<Mutex<Vec<(u16, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..6u64 {
        let received = received.clone();
        let stop = stop.clone();
        workers.push(std::thread::spawn(move || {
            let mut n = 0u64;
            let deadline = Instant::now() + Duration::from_secs(30);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                n += 1;
                let reply = match (w + n) % 4 {
                    0 => call(
                        addr,
                        "GetCallerIdentity",
                        "2015-04-01",
                        &[],
                        "WrongSecretWrongSecretWrong0",
                        n,
                    ),
                    1 => call(
                        addr,
                        "CreateTrail",
                        "2020-07-06",
                        &[("Name", &format!("trail-{w}-{n}"))],
                        ROOT_SECRET,
                        n,
                    ),
                    _ => call(addr, "GetCallerIdentity", "2015-04-01", &[], ROOT_SECRET, n),
                };
                if let Some(r) = reply {
                    received.lock().unwrap().push(r);
                }
            }
        }));
    }
    // Let the load run, then kill without warning.
    std::thread::sleep(Duration::from_millis(2500));
    let mut server = server;
    let pid = server.child.id();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = server.child.wait();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let received = received.lock().unwrap().clone();
    assert!(
        received.len() > 50,
        "too little load before the kill: {}",
        received.len()
    );
    assert!(received.iter().any(|(s, _)| *s == 200));
    assert!(
        received.iter().any(|(s, _)| *s >= 400),
        "refused calls must be part of the load"
    );

    // Every acknowledged request has its event, stored whole.
    let db = data.path().join("audit.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        // Events are stored in blocks: read them back through the audit crate's reader.
        let stored = cloudward_audit::blocks::read_events(&conn, 0, u64::MAX).unwrap();
        let ids: HashSet<String> = stored
            .iter()
            .map(|(_, b)| {
                // No partial record: every stored body is a complete canonical event.
                let e = cloudward_trail::RedactedEvent::from_canonical_bytes(b).unwrap();
                e.event().request_id.clone()
            })
            .collect();
        let missing: Vec<_> = received
            .iter()
            .filter(|(_, id)| !ids.contains(id))
            .collect();
        assert!(
            missing.is_empty(),
            "{} acknowledged requests have no event: {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        let events = stored.len() as i64;
        let leaves = cloudward_audit::blocks::stored_leaves(&conn).unwrap() as i64;
        let (chunk_leaves, chunks_end): (i64, i64) = conn
            .query_row(
                "SELECT COALESCE(SUM(length(hashes) / 32), 0), COALESCE(MAX(first + length(hashes) / 32), 0) FROM leaf_chunks",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            chunk_leaves, leaves,
            "leaf chunks do not overlap or leave gaps"
        );
        let max = chunks_end;
        // Stored event indices are dense.
        assert!(
            stored
                .iter()
                .enumerate()
                .all(|(i, (idx, _))| *idx == i as u64),
            "event indices are dense"
        );
        assert_eq!(
            events, leaves,
            "every event has its leaf and no leaf lacks its event"
        );
        assert_eq!(leaves, max, "leaf indices are dense");
        eprintln!(
            "{} responses received, {} events stored",
            received.len(),
            events
        );
    }

    // Restart: open re-checks the tree against the frontier and the signed checkpoint.
    let server = start(data.path(), ServeOpts::default());
    assert!(
        call(
            server.addr,
            "GetCallerIdentity",
            "2015-04-01",
            &[],
            ROOT_SECRET,
            1
        )
        .is_some()
    );
    let cp = call(
        server.addr,
        "CreateCheckpoint",
        "2020-07-06",
        &[],
        ROOT_SECRET,
        2,
    )
    .unwrap();
    assert_eq!(cp.0, 200);
    let (status, _, _) = server.terminate();
    assert!(status.success());

    // Export and verify offline, without the server.
    let out = tempdir();
    let export_dir = out.path().join("export");
    let exported = run(cloudward()
        .args(["trail", "export", "--data-dir"])
        .arg(data.path())
        .arg("--out")
        .arg(&export_dir)
        .arg("--include-tail"));
    let (code, stdout, stderr) = outcome(&exported);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let verified = run(cloudward()
        .args(["trail", "verify", "--allow-unanchored"])
        .arg(&export_dir));
    let (code, stdout, stderr) = outcome(&verified);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("OK:"), "{stdout}");
}
