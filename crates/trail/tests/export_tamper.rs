//! Exported trails: an untouched export verifies; every kind of tampering is caught
//! and the report names the first bad record.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use cloudward_trail::checkpoint::CheckpointSigner;
use cloudward_trail::export::{CHECKPOINT_DIR, parse_event_line, write_event_line};
use cloudward_trail::merkle::leaf_hash;
use cloudward_trail::{
    ExportOptions, ExportWriter, FailureKind, Keyring, SignedCheckpoint, VerifyOptions,
    VerifyReport, verify_export,
};

const ORIGIN: &str = "cloudward.test/audit/1594986938260000";
const FILE0: &str = "events-00000000000000000000.jsonl";
const FILE1: &str = "events-00000000000000000100.jsonl";
const FILE2: &str = "events-00000000000000000200.jsonl";

/// 250 events in files of 100, checkpoints at 100, 200 and 250 signed by `signer(ts)`.
fn build(dir: &Path, gzip: bool, signer_for: &dyn Fn(u64) -> CheckpointSigner) -> Keyring {
    let mut w = ExportWriter::create(
        dir,
        ExportOptions {
            events_per_file: 100,
            gzip,
        },
    )
    .unwrap();
    let mut ring = Keyring::new();
    for i in 0..250u64 {
        w.append(&common::redacted(i)).unwrap();
        if matches!(w.size(), 100 | 200 | 250) {
            let ts = 1_700_000_000 + w.size();
            let s = signer_for(ts);
            let _ = ring.add(s.trusted_key(None));
            w.write_checkpoint(&s.sign(w.checkpoint(ORIGIN, ts)).unwrap())
                .unwrap();
        }
    }
    w.write_keys(&ring).unwrap();
    assert_eq!(w.finish().unwrap(), 250);
    ring
}

fn fresh(gzip: bool) -> (tempfile::TempDir, Keyring) {
    let dir = tempfile::tempdir().unwrap();
    let ring = build(dir.path(), gzip, &|_| common::signer("audit", 1));
    (dir, ring)
}

fn verify(dir: &Path, ring: &Keyring) -> VerifyReport {
    verify_export(dir, ring, &VerifyOptions::default()).unwrap()
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(
        path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

fn cp_path(dir: &Path, size: u64) -> PathBuf {
    dir.join(CHECKPOINT_DIR).join(format!("{size:020}.txt"))
}

fn expect(report: &VerifyReport, kind: FailureKind) -> &cloudward_trail::Failure {
    let f = report
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("expected {kind:?}, verified OK"));
    assert_eq!(f.kind, kind, "{f}");
    f
}

#[test]
fn untouched_export_verifies() {
    for gzip in [false, true] {
        let (dir, ring) = fresh(gzip);
        let r = verify(dir.path(), &ring);
        assert!(r.is_ok(), "gzip={gzip}: {:?}", r.failure);
        assert_eq!(r.events, 250);
        assert_eq!(r.files, 3);
        assert_eq!(r.checkpoints_verified, 3);
        assert_eq!(r.latest_checkpoint.as_ref().unwrap().size, 250);
        assert_eq!(r.unanchored_events, 0);
        // Semantic check of every event also passes.
        let strict = VerifyOptions {
            check_events: true,
            ..VerifyOptions::default()
        };
        assert!(verify_export(dir.path(), &ring, &strict).unwrap().is_ok());
        // The keys.json in the export loads and verifies the export too.
        let copy = Keyring::from_json(&fs::read(dir.path().join("keys.json")).unwrap()).unwrap();
        assert!(verify(dir.path(), &copy).is_ok());
    }
}

#[test]
fn edited_event_is_named_exactly() {
    let (dir, ring) = fresh(false);
    let path = dir.path().join(FILE1);
    let mut l = lines(&path);
    l[50] = l[50].replace("\"user-150\"", "\"mallory\"");
    write_lines(&path, &l);
    let r = verify(dir.path(), &ring);
    let f = expect(&r, FailureKind::Edited);
    assert_eq!(f.file.as_deref(), Some(FILE1));
    assert_eq!(f.line, Some(51));
    assert_eq!(f.event_index, Some(150));
    assert_eq!(
        f.event_id.as_deref(),
        Some("00000000-0000-4000-8000-000000000150")
    );
    assert_eq!(r.events, 150, "events before the bad one were accepted");
    let text = f.to_string();
    assert!(
        text.contains(FILE1) && text.contains(":51") && text.contains("150"),
        "{text}"
    );
}

#[test]
fn edit_with_recomputed_leaf_hash_is_caught_by_the_signed_root() {
    let (dir, ring) = fresh(false);
    let path = dir.path().join(FILE1);
    let mut l = lines(&path);
    let old = parse_event_line(l[50].as_bytes()).unwrap();
    let edited = String::from_utf8(old.event.to_vec())
        .unwrap()
        .replace("192.0.2.10", "198.51.100.1");
    let mut out = Vec::new();
    write_event_line(
        &mut out,
        150,
        &leaf_hash(edited.as_bytes()),
        edited.as_bytes(),
    )
    .unwrap();
    l[50] = String::from_utf8(out).unwrap().trim_end().to_owned();
    write_lines(&path, &l);
    let r = verify(dir.path(), &ring);
    let f = expect(&r, FailureKind::RootMismatch);
    assert_eq!(f.checkpoint_size, Some(200));
    assert_eq!(
        f.event_index,
        Some(100),
        "the range starts after the last good checkpoint"
    );
    assert!(
        f.file
            .as_deref()
            .unwrap()
            .ends_with("00000000000000000200.txt")
    );
    assert!(f.detail.contains("[100, 200)"), "{}", f.detail);
}

#[test]
fn deleted_event_is_missing() {
    let (dir, ring) = fresh(false);
    let path = dir.path().join(FILE1);
    let mut l = lines(&path);
    l.remove(50);
    write_lines(&path, &l);
    let r = verify(dir.path(), &ring);
    let f = expect(&r, FailureKind::Missing);
    assert_eq!(
        (f.file.as_deref(), f.line, f.event_index),
        (Some(FILE1), Some(51), Some(150))
    );
    assert!(f.detail.contains("[150, 151)"), "{}", f.detail);
}

#[test]
fn deleted_file_is_missing() {
    let (dir, ring) = fresh(false);
    fs::remove_file(dir.path().join(FILE1)).unwrap();
    let r = verify(dir.path(), &ring);
    let f = expect(&r, FailureKind::Missing);
    assert_eq!(
        (f.file.as_deref(), f.line, f.event_index),
        (Some(FILE2), Some(1), Some(100))
    );
}

#[test]
fn swapped_events_are_reordered() {
    let (dir, ring) = fresh(false);
    let path = dir.path().join(FILE0);
    let mut l = lines(&path);
    l.swap(10, 11);
    write_lines(&path, &l);
    let r = verify(dir.path(), &ring);
    let f = expect(&r, FailureKind::Reordered);
    assert_eq!(
        (f.file.as_deref(), f.line, f.event_index),
        (Some(FILE0), Some(11), Some(10))
    );
    assert_eq!(
        f.event_id.as_deref(),
        Some("00000000-0000-4000-8000-000000000011")
    );
}

#[test]
fn swapped_and_renumbered_events_fail_the_root() {
    let (dir, ring) = fresh(false);
    let path = dir.path().join(FILE0);
    let mut l = lines(&path);
    l.swap(10, 11);
    // Fix the indices so that continuity holds: only the root can tell.
    l[10] = l[10].replacen("{\"index\":11,", "{\"index\":10,", 1);
    l[11] = l[11].replacen("{\"index\":10,", "{\"index\":11,", 1);
    write_lines(&path, &l);
    let r = verify(dir.path(), &ring);
    let f = expect(&r, FailureKind::RootMismatch);
    assert_eq!(f.checkpoint_size, Some(100));
    assert_eq!(f.event_index, Some(0));
}

#[test]
fn truncated_last_file_partial_line() {
    let (dir, ring) = fresh(false);
    let path = dir.path().join(FILE2);
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 40]).unwrap();
    let r = verify(dir.path(), &ring);
    let f = expect(&r, FailureKind::Truncated);
    assert_eq!(
        (f.file.as_deref(), f.line, f.event_index),
        (Some(FILE2), Some(50), Some(249))
    );
}

#[test]
fn truncated_last_file_whole_lines() {
    let (dir, ring) = fresh(false);
    let path = dir.path().join(FILE2);
    let mut l = lines(&path);
    l.truncate(40);
    write_lines(&path, &l);
    let r = verify(dir.path(), &ring);
    let f = expect(&r, FailureKind::Truncated);
    assert_eq!(f.checkpoint_size, Some(250));
    assert_eq!(f.event_index, Some(240));
    assert_eq!(r.checkpoints_verified, 2);
}

#[test]
fn truncated_gzip_file() {
    let (dir, ring) = fresh(true);
    let path = dir.path().join(format!("{FILE2}.gz"));
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let r = verify(dir.path(), &ring);
    let f = r.failure.as_ref().unwrap();
    assert!(
        matches!(f.kind, FailureKind::Unreadable | FailureKind::Truncated),
        "{f}"
    );
    assert_eq!(f.file.as_deref(), Some(format!("{FILE2}.gz").as_str()));
}

#[test]
fn altered_checkpoint_root_breaks_its_signature() {
    let (dir, ring) = fresh(false);
    let path = cp_path(dir.path(), 200);
    let text = fs::read_to_string(&path).unwrap();
    let root_line = text.lines().nth(2).unwrap().to_owned();
    let mut other = root_line.clone().into_bytes();
    other[0] = if other[0] == b'A' { b'B' } else { b'A' };
    fs::write(
        &path,
        text.replacen(&root_line, std::str::from_utf8(&other).unwrap(), 1),
    )
    .unwrap();
    let r = verify(dir.path(), &ring);
    let f = expect(&r, FailureKind::BadSignature);
    assert_eq!(f.checkpoint_size, Some(200));
    assert_eq!(r.checkpoints_verified, 1);
}

#[test]
fn re_signed_wrong_root_is_a_root_mismatch() {
    let (dir, ring) = fresh(false);
    let path = cp_path(dir.path(), 200);
    let mut signed = SignedCheckpoint::parse(&fs::read(&path).unwrap()).unwrap();
    signed.checkpoint.root[0] ^= 1;
    signed.signatures.clear();
    common::signer("audit", 1).cosign(&mut signed).unwrap();
    fs::write(&path, signed.to_text().unwrap()).unwrap();
    let f = expect(&verify(dir.path(), &ring), FailureKind::RootMismatch).clone();
    assert_eq!(f.checkpoint_size, Some(200));
}

#[test]
fn altered_signature_is_bad() {
    let (dir, ring) = fresh(false);
    let path = cp_path(dir.path(), 100);
    let text = fs::read_to_string(&path).unwrap();
    let sig_line = text.lines().last().unwrap().to_owned();
    let b64_start = sig_line.rfind(' ').unwrap() + 1;
    let mut bad = sig_line.clone().into_bytes();
    let i = b64_start + 20;
    bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
    fs::write(
        &path,
        text.replacen(&sig_line, std::str::from_utf8(&bad).unwrap(), 1),
    )
    .unwrap();
    let f = expect(&verify(dir.path(), &ring), FailureKind::BadSignature).clone();
    assert_eq!(f.checkpoint_size, Some(100));
    assert!(f.file.unwrap().ends_with("00000000000000000100.txt"));
}

#[test]
fn checkpoint_signed_by_unknown_key() {
    let (dir, ring) = fresh(false);
    let path = cp_path(dir.path(), 250);
    let mut signed = SignedCheckpoint::parse(&fs::read(&path).unwrap()).unwrap();
    signed.signatures.clear();
    common::signer("audit", 99).cosign(&mut signed).unwrap();
    fs::write(&path, signed.to_text().unwrap()).unwrap();
    let f = expect(&verify(dir.path(), &ring), FailureKind::UntrustedKey).clone();
    assert_eq!(f.checkpoint_size, Some(250));
}

#[test]
fn malformed_checkpoint_file() {
    let (dir, ring) = fresh(false);
    fs::write(cp_path(dir.path(), 100), "not a note\n").unwrap();
    let f = expect(&verify(dir.path(), &ring), FailureKind::CheckpointMalformed).clone();
    assert!(f.file.unwrap().ends_with("00000000000000000100.txt"));
}

#[test]
fn key_rotation_across_an_export() {
    let dir = tempfile::tempdir().unwrap();
    // Old key signs up to t=1_700_000_200, the new one after.
    let rotate_at = 1_700_000_201;
    let pick = move |ts: u64| common::signer("audit", if ts < rotate_at { 20 } else { 21 });
    build(dir.path(), false, &pick);
    let (old, new) = (common::signer("audit", 20), common::signer("audit", 21));
    let mut ring = Keyring::new();
    ring.add(old.trusted_key(None)).unwrap();
    ring.add(new.trusted_key(Some(rotate_at))).unwrap();
    ring.retire("audit", old.key_id(), rotate_at);
    let r = verify(dir.path(), &ring);
    assert!(r.is_ok(), "{:?}", r.failure);
    assert_eq!(r.checkpoints_verified, 3);

    // Without the old public key the early checkpoints no longer verify.
    ring.remove("audit", old.key_id());
    let f = expect(&verify(dir.path(), &ring), FailureKind::UntrustedKey).clone();
    assert_eq!(f.checkpoint_size, Some(100));
}

#[test]
fn unanchored_tail() {
    let dir = tempfile::tempdir().unwrap();
    let s = common::signer("audit", 1);
    let mut ring = Keyring::new();
    ring.add(s.trusted_key(None)).unwrap();
    let mut w = ExportWriter::create(dir.path(), ExportOptions::default()).unwrap();
    for i in 0..30 {
        w.append(&common::redacted(i)).unwrap();
        if i == 19 {
            w.write_checkpoint(&s.sign(w.checkpoint(ORIGIN, 5)).unwrap())
                .unwrap();
        }
    }
    w.finish().unwrap();
    let r = verify(dir.path(), &ring);
    let f = expect(&r, FailureKind::UnanchoredTail);
    assert_eq!(f.event_index, Some(20));
    let lenient = VerifyOptions {
        allow_unanchored_tail: true,
        ..VerifyOptions::default()
    };
    let r = verify_export(dir.path(), &ring, &lenient).unwrap();
    assert!(r.is_ok());
    assert_eq!(r.unanchored_events, 10);
}

#[test]
fn no_checkpoint_anchors_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ExportWriter::create(dir.path(), ExportOptions::default()).unwrap();
    w.append(&common::redacted(0)).unwrap();
    w.finish().unwrap();
    expect(
        &verify(dir.path(), &Keyring::new()),
        FailureKind::NoCheckpoint,
    );
}

#[test]
fn wrong_origin_and_fork() {
    let (dir, ring) = fresh(false);
    let opts = VerifyOptions {
        expected_origin: Some("other.log".into()),
        ..VerifyOptions::default()
    };
    let r = verify_export(dir.path(), &ring, &opts).unwrap();
    expect(&r, FailureKind::OriginMismatch);

    // A second, validly signed checkpoint for size 200 with another root: a fork.
    let mut signed = SignedCheckpoint::parse(&fs::read(cp_path(dir.path(), 200)).unwrap()).unwrap();
    signed.checkpoint.root[5] ^= 1;
    signed.signatures.clear();
    common::signer("audit", 1).cosign(&mut signed).unwrap();
    fs::write(
        dir.path()
            .join(CHECKPOINT_DIR)
            .join("00000000000000000200-b.txt"),
        signed.to_text().unwrap(),
    )
    .unwrap();
    expect(&verify(dir.path(), &ring), FailureKind::Fork);
}

#[test]
fn writer_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ExportWriter::create(dir.path(), ExportOptions::default()).unwrap();
    assert!(w.append_canonical(b"{\"a\":\n1}").is_err());
    w.append(&common::redacted(0)).unwrap();
    let s = common::signer("audit", 1);
    let mut ahead = w.checkpoint(ORIGIN, 1);
    ahead.size = 2;
    assert!(w.write_checkpoint(&s.sign(ahead).unwrap()).is_err());
    let ok = s.sign(w.checkpoint(ORIGIN, 1)).unwrap();
    w.write_checkpoint(&ok).unwrap();
    assert!(w.write_checkpoint(&ok).is_err(), "duplicate checkpoint");
    w.finish().unwrap();
    assert!(
        ExportWriter::create(dir.path(), ExportOptions::default()).is_err(),
        "non-empty dir"
    );
}

#[test]
fn malformed_line() {
    let (dir, ring) = fresh(false);
    let path = dir.path().join(FILE0);
    let mut l = lines(&path);
    l[3] = l[3].replacen("\"leafHash\"", "\"leafhash\"", 1);
    write_lines(&path, &l);
    let f = expect(&verify(dir.path(), &ring), FailureKind::Malformed).clone();
    assert_eq!((f.line, f.event_index), (Some(4), Some(3)));
    assert_eq!(
        f.event_id.as_deref(),
        Some("00000000-0000-4000-8000-000000000003")
    );
}

/// Big files go through batched, multi-threaded hashing: the verdict and location must
/// not depend on the thread count or on where batches and thread chunks split.
#[test]
fn large_files_locate_failures_identically_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let s = common::signer("audit", 1);
    let mut ring = Keyring::new();
    ring.add(s.trusted_key(None)).unwrap();
    let n = 9_000u64;
    let mut w = ExportWriter::create(
        dir.path(),
        ExportOptions {
            events_per_file: n,
            gzip: false,
        },
    )
    .unwrap();
    let template = common::redacted(0).canonical_bytes().unwrap();
    let template = String::from_utf8(template).unwrap();
    for i in 0..n {
        let e = template.replace("user-0", &format!("user-{i}"));
        w.append_canonical(e.as_bytes()).unwrap();
        if w.size().is_multiple_of(1000) {
            w.write_checkpoint(&s.sign(w.checkpoint(ORIGIN, w.size())).unwrap())
                .unwrap();
        }
    }
    w.finish().unwrap();
    let path = dir.path().join(FILE0);
    let pristine = lines(&path);
    let run = |threads: usize| {
        let opts = VerifyOptions {
            threads,
            ..VerifyOptions::default()
        };
        verify_export(dir.path(), &ring, &opts).unwrap()
    };
    for threads in [1, 2, 3] {
        let r = run(threads);
        assert!(r.is_ok(), "threads={threads}: {:?}", r.failure);
        assert_eq!(r.events, n);
    }
    // (mutation, expected kind, expected 1-based line, expected index)
    type Mutation = Box<dyn Fn(&mut Vec<String>)>;
    let cases: Vec<(Mutation, FailureKind, u64, u64)> = vec![
        (
            Box::new(|l| l[6_100] = l[6_100].replace("user-6100", "user-x")),
            FailureKind::Edited,
            6_101,
            6_100,
        ),
        (
            Box::new(|l| {
                l.remove(4_500);
            }),
            FailureKind::Missing,
            4_501,
            4_500,
        ),
        // Across a thread-chunk boundary inside the first batch.
        (
            Box::new(|l| l.swap(2_730, 2_731)),
            FailureKind::Reordered,
            2_731,
            2_730,
        ),
        // Across the first batch boundary (8192 lines): lookahead reads the next batch.
        (
            Box::new(|l| l.swap(8_191, 8_193)),
            FailureKind::Reordered,
            8_192,
            8_191,
        ),
        (
            Box::new(|l| l.truncate(8_500)),
            FailureKind::Truncated,
            0,
            8_500,
        ),
    ];
    for (mutate, kind, line, index) in cases {
        let mut l = pristine.clone();
        mutate(&mut l);
        write_lines(&path, &l);
        for threads in [1, 2, 3] {
            let r = run(threads);
            let f = expect(&r, kind);
            if line > 0 {
                assert_eq!(f.line, Some(line), "threads={threads}: {f}");
            }
            assert_eq!(f.event_index, Some(index), "threads={threads}: {f}");
        }
    }
    write_lines(&path, &pristine);
    assert!(run(2).is_ok());
}
