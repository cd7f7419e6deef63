//! The durable log: concurrent appends, proofs, checkpoints, restart, tamper detection on
//! open, key rotation, export + offline verification, retention, LookupEvents, trails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use cloudward_audit::AuditLog;
use cloudward_audit::blocks::{EventFields, read_events, stored_events};
use cloudward_audit::export::export_data_dir;
use cloudward_audit::log::{DB_FILE, StoreLeaves, open_reader};
use cloudward_audit::lookup::{Attribute, LookupQuery};
use cloudward_audit::trails::{self, Trail};
use cloudward_trail::checkpoint::verify_checkpoint_consistency;
use cloudward_trail::merkle::{self, verify_inclusion};
use cloudward_trail::{ExportOptions, MemoryTree, VerifyOptions, verify_export};
use common::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn fill(log: &AuditLog, clock: &TestClock, n: usize, account: &str) -> Vec<u64> {
    let mut tasks = Vec::new();
    for t in 0..4 {
        let log = log.clone();
        let who = user(account, &format!("user{t}"));
        let evs: Vec<_> = (0..n / 4)
            .map(|i| {
                event(
                    clock,
                    &who,
                    "GetUser",
                    &params(&[("UserName", &format!("u{i}"))]),
                )
            })
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for e in evs {
                out.push(log.record(e, &[]).await.unwrap());
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    all
}

#[test]
fn concurrent_appends_get_dense_indices_and_proofs_verify() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let rt = rt();
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    let indices = rt.block_on(fill(&log, &clock, 1000, "1000000000000001"));
    assert_eq!(indices, (0..1000).collect::<Vec<u64>>());
    assert_eq!(log.size(), 1000);
    let cp = rt.block_on(log.checkpoint_now()).unwrap();
    assert_eq!(cp.checkpoint.size, 1000);
    log.keyring().unwrap().verify(&cp).unwrap();

    // The stored tree equals an in-memory tree over the stored bodies.
    let conn = open_reader(&dir.path().join(DB_FILE)).unwrap();
    let mut mem = MemoryTree::new();
    let stored = read_events(&conn, 0, u64::MAX).unwrap();
    assert_eq!(
        stored.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..1000).collect::<Vec<u64>>()
    );
    let bodies: Vec<Vec<u8>> = stored.into_iter().map(|(_, b)| b).collect();
    for b in &bodies {
        mem.append_data(b).unwrap();
    }
    assert_eq!(mem.root(), cp.checkpoint.root);
    let src = StoreLeaves::new(&conn, 1000);
    for i in [0u64, 1, 15, 16, 17, 511, 512, 999] {
        let proof = merkle::inclusion_proof(&src, i, 1000).unwrap();
        assert_eq!(proof, merkle::inclusion_proof(&mem, i, 1000).unwrap());
        let leaf = merkle::leaf_hash(&bodies[i as usize]);
        verify_inclusion(i, 1000, &leaf, &proof, &cp.checkpoint.root).unwrap();
    }

    // Inclusion proof through the log API, by event id.
    let event_id: String = EventFields::parse(&bodies[777]).unwrap().event_id;
    let p = rt
        .block_on(log.inclusion_proof(event_id.clone(), vec!["1000000000000001".into()], None))
        .unwrap();
    assert_eq!(p.index, 777);
    verify_inclusion(
        777,
        p.checkpoint.checkpoint.size,
        &p.leaf_hash,
        &p.proof,
        &p.checkpoint.checkpoint.root,
    )
    .unwrap();
    // Another account cannot see it.
    assert!(
        rt.block_on(log.inclusion_proof(event_id, vec!["2".into()], None))
            .is_err()
    );

    // More events, a second checkpoint, a consistency proof between them.
    rt.block_on(fill(&log, &clock, 600, "1000000000000001"));
    clock.advance(10);
    let cp2 = rt.block_on(log.checkpoint_now()).unwrap();
    let c = rt.block_on(log.consistency_proof(1000, 1600)).unwrap();
    verify_checkpoint_consistency(&cp.checkpoint, &cp2.checkpoint, &c.proof).unwrap();
    drop(log);
    writer.join();

    // Restart: the state is restored and checked; appends continue.
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    assert_eq!(log.size(), 1600);
    rt.block_on(fill(&log, &clock, 4, "1000000000000001"));
    assert_eq!(log.size(), 1604);
    drop(log);
    writer.join();
}

#[test]
fn a_tampered_store_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let rt = rt();
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    rt.block_on(fill(&log, &clock, 100, "1"));
    rt.block_on(log.checkpoint_now()).unwrap();
    drop(log);
    writer.join();
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    // A cached subtree on the root's path: the stored tree no longer matches the frontier.
    conn.execute(
        "UPDATE subtrees SET hash = zeroblob(32) WHERE level = 6 AND idx = 0",
        [],
    )
    .unwrap();
    let err = rt
        .block_on(async {
            cloudward_audit::AuditLog::open(options(dir.path()), clock.clone(), None)
        })
        .unwrap_err();
    assert!(err.to_string().contains("integrity"), "{err}");
    conn.execute("UPDATE subtrees SET hash = (SELECT hash FROM subtrees WHERE level = 6 AND idx = 0) WHERE 0", []).unwrap();
    drop(conn);
}

#[test]
fn an_edited_event_body_fails_export_verification_at_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let rt = rt();
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    rt.block_on(fill(&log, &clock, 100, "1"));
    rt.block_on(log.checkpoint_now()).unwrap();
    let ring = log.keyring().unwrap();
    drop(log);
    writer.join();
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    // Edit event 42 inside its block (same length, so the block stays well-formed).
    let (first, ends, mut body): (i64, Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT first, ends, body FROM blocks WHERE first <= 42 ORDER BY first DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let end_of = |i: i64| -> usize {
        if i < 0 {
            return 0;
        }
        let at = i as usize * 4;
        u32::from_le_bytes(ends[at..at + 4].try_into().unwrap()) as usize
    };
    let (start, end) = (end_of(42 - first - 1), end_of(42 - first));
    let text = String::from_utf8(body[start..end].to_vec()).unwrap();
    let edited = text.replace("GetUser", "GetUsex");
    assert_ne!(edited, text);
    body[start..end].copy_from_slice(edited.as_bytes());
    conn.execute(
        "UPDATE blocks SET body = ?1 WHERE first = ?2",
        rusqlite::params![body, first],
    )
    .unwrap();
    drop(conn);
    let out = tempfile::tempdir().unwrap();
    export_data_dir(dir.path(), out.path(), ExportOptions::default(), false).unwrap();
    let report = verify_export(out.path(), &ring, &VerifyOptions::default()).unwrap();
    let failure = report.failure.expect("tampering must be found");
    // The export line's leafHash is recomputed from the edited bytes, so the signed root
    // catches it and names the checkpoint interval that holds index 42.
    assert_eq!(
        failure.kind,
        cloudward_trail::FailureKind::RootMismatch,
        "{failure}"
    );
}

#[test]
fn rotation_keeps_old_checkpoints_verifiable_and_export_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let rt = rt();
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    rt.block_on(fill(&log, &clock, 200, "1"));
    let before = rt.block_on(log.checkpoint_now()).unwrap();
    clock.advance(100);
    let after = rt.block_on(log.rotate_key()).unwrap();
    rt.block_on(fill(&log, &clock, 40, "1"));
    clock.advance(100);
    rt.block_on(log.checkpoint_now()).unwrap();
    let ring = log.keyring().unwrap();
    assert_eq!(ring.keys().len(), 2);
    assert!(ring.keys()[0].not_after.is_some(), "old key retired");
    ring.verify(&before).unwrap();
    ring.verify(&after).unwrap();
    assert_ne!(before.signatures[0].key_id, after.signatures[0].key_id);
    // Private key file is 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("audit-keys/signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let out = tempfile::tempdir().unwrap();
    let summary = export_data_dir(
        dir.path(),
        &out.path().join("x"),
        ExportOptions {
            events_per_file: 64,
            gzip: true,
        },
        false,
    )
    .unwrap();
    assert_eq!(summary.events, 240);
    // The rotation's checkpoint had the same size as `before`: the first one is kept.
    assert_eq!(summary.checkpoints, 2);
    let report = verify_export(
        &out.path().join("x"),
        &ring,
        &VerifyOptions {
            check_events: true,
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    assert!(report.is_ok(), "{:?}", report.failure);
    assert_eq!(report.events, 240);
    drop(log);
    writer.join();
}

#[test]
fn lookup_filters_pages_and_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let rt = rt();
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    let alice = user("111", "alice");
    let bob = user("111", "bob");
    let eve = user("222", "eve");
    rt.block_on(async {
        for i in 0..30 {
            clock.advance(1);
            let who = if i % 3 == 0 { &bob } else { &alice };
            let action = if i % 2 == 0 { "CreateUser" } else { "GetUser" };
            log.record(
                event(
                    &clock,
                    who,
                    action,
                    &params(&[("UserName", &format!("n{i}"))]),
                ),
                &[],
            )
            .await
            .unwrap();
            log.record(event(&clock, &eve, "GetUser", &params(&[])), &[])
                .await
                .unwrap();
        }
    });
    let look = |q: LookupQuery| rt.block_on(log.lookup(q));
    let q = |filters: Vec<(Attribute, String)>, max: usize, backward: bool| LookupQuery {
        accounts: vec!["111".into()],
        start_s: T0,
        end_s: T0 + 100,
        filters,
        max_results: max,
        backward,
        after: None,
    };
    // All of account 111, paged by 7, newest first.
    let mut seen = Vec::new();
    let mut query = q(vec![], 7, true);
    loop {
        let page = look(query.clone()).unwrap();
        for b in &page.events {
            let v: serde_json::Value = serde_json::from_slice(b).unwrap();
            assert_eq!(v["userIdentity"]["accountId"], "111");
            seen.push(v["eventTime"].as_str().unwrap().to_owned());
        }
        match page.next {
            Some(c) => query.after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 30);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted);
    // By user, event name, resource name/type, access key, event id.
    assert_eq!(
        look(q(vec![(Attribute::UserName, "bob".into())], 50, true))
            .unwrap()
            .events
            .len(),
        10
    );
    assert_eq!(
        look(q(
            vec![(Attribute::EventName, "CreateUser".into())],
            50,
            false
        ))
        .unwrap()
        .events
        .len(),
        15
    );
    assert_eq!(
        look(q(vec![(Attribute::ResourceName, "n4".into())], 50, true))
            .unwrap()
            .events
            .len(),
        1
    );
    assert_eq!(
        look(q(
            vec![(Attribute::ResourceType, "ACS::RAM::User".into())],
            50,
            true
        ))
        .unwrap()
        .events
        .len(),
        30
    );
    assert_eq!(
        look(q(
            vec![(Attribute::EventAccessKeyId, "LTAIalice".into())],
            50,
            true
        ))
        .unwrap()
        .events
        .len(),
        20
    );
    assert_eq!(
        look(q(
            vec![
                (Attribute::UserName, "alice".into()),
                (Attribute::EventName, "GetUser".into())
            ],
            50,
            true
        ))
        .unwrap()
        .events
        .len(),
        10
    );
    // Account scoping: eve's events are invisible to 111 even by name.
    assert_eq!(
        look(q(vec![(Attribute::UserName, "eve".into())], 50, true))
            .unwrap()
            .events
            .len(),
        0
    );
    // Time window.
    let mut narrow = q(vec![], 50, true);
    narrow.start_s = T0 + 1;
    narrow.end_s = T0 + 5;
    assert_eq!(look(narrow).unwrap().events.len(), 5);
    drop(log);
    writer.join();
}

#[test]
fn retention_purges_events_but_keeps_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let rt = rt();
    let mut opts = options(dir.path());
    opts.retention = std::time::Duration::from_secs(86_400);
    let (log, writer, _) = rt
        .block_on(async { AuditLog::open(opts, clock.clone(), None) })
        .unwrap();
    rt.block_on(fill(&log, &clock, 100, "1"));
    clock.advance(2 * 86_400);
    rt.block_on(fill(&log, &clock, 20, "1"));
    let cp = rt.block_on(log.checkpoint_now()).unwrap();
    let purged = log.purge_now().unwrap();
    assert_eq!(purged, 100);
    let conn = open_reader(&dir.path().join(DB_FILE)).unwrap();
    let left = stored_events(&conn).unwrap().0;
    assert_eq!(left, 20);
    // Leaves stay: proofs for purged positions still reach the signed root.
    let src = StoreLeaves::new(&conn, cp.checkpoint.size);
    assert_eq!(
        merkle::root(&src, cp.checkpoint.size).unwrap(),
        cp.checkpoint.root
    );
    drop(log);
    writer.join();
    // And the log reopens cleanly.
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    assert_eq!(log.size(), 120);
    drop(log);
    writer.join();
}

#[test]
fn trails_deliver_gzip_lines_and_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(T0);
    let rt = rt();
    let (log, writer) = rt.block_on(async { open(dir.path(), clock.clone()) });
    rt.block_on(fill(&log, &clock, 8, "111"));
    let trail = Trail {
        account_id: "111".into(),
        name: "my-trail".into(),
        event_rw: "All".into(),
        is_org: false,
        oss_bucket: "bucket-a".into(),
        oss_prefix: "audit".into(),
        oss_role: String::new(),
        sls_project: String::new(),
        sls_role: String::new(),
        trail_region: "All".into(),
        home_region: "cn-hangzhou".into(),
        logging: false,
        created_s: T0,
        updated_s: T0,
        start_logging_s: None,
        stop_logging_s: None,
        cursor: 0,
        delivered: 0,
        last_delivery_s: None,
        last_error: None,
    };
    let t = trail.clone();
    let size = log.size();
    log.write_blocking(move |c| {
        trails::insert(c, &t)?;
        trails::set_logging(c, "111", "my-trail", true, T0, size)
    })
    .unwrap();
    rt.block_on(fill(&log, &clock, 12, "111"));
    rt.block_on(fill(&log, &clock, 4, "222"));
    let delivered = rt
        .block_on(async {
            let log = log.clone();
            tokio::task::spawn_blocking(move || trails::deliver_all(&log))
                .await
                .unwrap()
        })
        .unwrap();
    assert_eq!(delivered, 12);
    let base = trails::delivery_base(&dir.path().join("trail-delivery"), &trail);
    assert!(base.join("keys.json").exists());
    let cps: Vec<_> = std::fs::read_dir(base.join("checkpoints"))
        .unwrap()
        .collect();
    assert_eq!(cps.len(), 1);
    let mut files = Vec::new();
    let mut stack = vec![base.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".jsonl.gz") {
                files.push(p);
            }
        }
    }
    assert_eq!(files.len(), 1);
    let mut text = String::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(std::fs::File::open(&files[0]).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text.lines().count(), 12);
    for line in text.lines() {
        let l = cloudward_trail::export::parse_event_line(line.as_bytes()).unwrap();
        assert_eq!(l.leaf_hash, merkle::leaf_hash(l.event));
        assert!(line.contains("\"accountId\":\"111\""));
    }
    // Nothing new: nothing delivered.
    let again = rt
        .block_on(async {
            let log = log.clone();
            tokio::task::spawn_blocking(move || trails::deliver_all(&log))
                .await
                .unwrap()
        })
        .unwrap();
    assert_eq!(again, 0);
    let _ = Arc::new(());
    drop(log);
    writer.join();
}
