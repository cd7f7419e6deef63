//! Signed checkpoints: note format, strict parsing, signatures, key rotation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_trail::checkpoint::{ParseError, TrustedKey, key_id, verify_checkpoint_consistency};
use cloudward_trail::merkle::{self, EMPTY_ROOT, MemoryTree};
use cloudward_trail::{Checkpoint, CheckpointError, Keyring, SignedCheckpoint};
use proptest::prelude::*;

const ORIGIN: &str = "cloudward.test/audit/1234567890";

fn cp(size: u64, root: [u8; 32], timestamp: u64) -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.into(),
        size,
        root,
        timestamp,
    }
}

#[test]
fn text_format_is_a_signed_note() {
    let s = common::signer("cloudward.test-audit", 1);
    let signed = s.sign(cp(5, [7; 32], 1_700_000_000)).unwrap();
    let text = signed.to_text().unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(ORIGIN));
    assert_eq!(lines.next(), Some("5"));
    assert_eq!(
        lines.next(),
        Some("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")
    );
    assert_eq!(lines.next(), Some("timestamp 1700000000"));
    assert_eq!(lines.next(), Some(""));
    let sig = lines.next().unwrap();
    assert!(sig.starts_with("\u{2014} cloudward.test-audit "), "{sig}");
    assert_eq!(lines.next(), None);
    assert!(text.ends_with('\n'));
    assert_eq!(SignedCheckpoint::parse(text.as_bytes()).unwrap(), signed);
}

#[test]
fn key_id_follows_signed_note_and_vkey_round_trips() {
    let s = common::signer("k", 2);
    let key = s.trusted_key(None);
    assert_eq!(key.key_id, key_id("k", &key.public));
    let parsed = TrustedKey::from_vkey(&key.vkey()).unwrap();
    assert_eq!(parsed, key);
    // A vkey whose id does not match its key is refused.
    let mut bad = key.vkey();
    bad.replace_range(2..3, if &bad[2..3] == "0" { "1" } else { "0" });
    assert!(TrustedKey::from_vkey(&bad).is_err());
}

#[test]
fn verify_accepts_good_and_rejects_tampering() {
    let s = common::signer("audit", 3);
    let mut ring = Keyring::new();
    ring.add(s.trusted_key(None)).unwrap();
    let signed = s.sign(cp(10, [1; 32], 100)).unwrap();
    assert_eq!(ring.verify(&signed).unwrap().name, "audit");

    let mut changed = signed.clone();
    changed.checkpoint.size = 11;
    assert!(matches!(
        ring.verify(&changed),
        Err(CheckpointError::BadSignature { .. })
    ));
    let mut changed = signed.clone();
    changed.checkpoint.root[0] ^= 1;
    assert!(matches!(
        ring.verify(&changed),
        Err(CheckpointError::BadSignature { .. })
    ));
    let mut changed = signed.clone();
    changed.signatures[0].signature[10] ^= 1;
    assert!(matches!(
        ring.verify(&changed),
        Err(CheckpointError::BadSignature { .. })
    ));
    let mut changed = signed.clone();
    changed.signatures[0].signature.pop();
    assert!(matches!(
        ring.verify(&changed),
        Err(CheckpointError::BadSignature { .. })
    ));

    // Unknown key only: no trusted signature.
    let other = common::signer("audit", 4)
        .sign(cp(10, [1; 32], 100))
        .unwrap();
    assert!(matches!(
        ring.verify(&other),
        Err(CheckpointError::NoTrustedSignature)
    ));
    // Unknown co-signature next to a good one is ignored.
    let mut cosigned = signed.clone();
    common::signer("witness", 5).cosign(&mut cosigned).unwrap();
    assert!(ring.verify(&cosigned).is_ok());
    // Empty keyring trusts nothing.
    assert!(Keyring::new().verify(&signed).is_err());
}

#[test]
fn key_rotation_keeps_old_checkpoints_verifiable() {
    let old = common::signer("audit", 10);
    let new = common::signer("audit", 11);
    assert_ne!(old.key_id(), new.key_id());
    let before = old.sign(cp(100, [2; 32], 1_000)).unwrap();
    let after = new.sign(cp(200, [3; 32], 2_000)).unwrap();

    let mut ring = Keyring::new();
    ring.add(old.trusted_key(Some(0))).unwrap();
    ring.add(new.trusted_key(Some(1_500))).unwrap();
    assert!(ring.retire("audit", old.key_id(), 1_500));
    assert!(ring.verify(&before).is_ok());
    assert!(ring.verify(&after).is_ok());

    // The retired key cannot sign new checkpoints, nor the new key old ones.
    let late = old.sign(cp(300, [4; 32], 2_500)).unwrap();
    assert!(matches!(
        ring.verify(&late),
        Err(CheckpointError::KeyNotValid { .. })
    ));
    let early = new.sign(cp(50, [5; 32], 1_000)).unwrap();
    assert!(matches!(
        ring.verify(&early),
        Err(CheckpointError::KeyNotValid { .. })
    ));

    // keys.json round trip keeps validity windows.
    let json = ring.to_json().unwrap();
    let back = Keyring::from_json(&json).unwrap();
    assert_eq!(back, ring);
    assert!(back.verify(&before).is_ok());

    // Removing the old key: old checkpoints stop verifying.
    assert!(ring.remove("audit", old.key_id()));
    assert!(matches!(
        ring.verify(&before),
        Err(CheckpointError::NoTrustedSignature)
    ));
    assert!(ring.verify(&after).is_ok());
}

#[test]
fn duplicate_keys_are_refused() {
    let s = common::signer("audit", 3);
    let mut ring = Keyring::new();
    ring.add(s.trusted_key(None)).unwrap();
    assert!(ring.add(s.trusted_key(None)).is_err());
}

#[test]
fn strict_parser_rejects_near_misses() {
    let s = common::signer("audit", 6);
    let good = s.sign(cp(42, [9; 32], 77)).unwrap().to_text().unwrap();
    let sig_line = good.lines().last().unwrap().to_owned();
    let variants: Vec<(String, &str)> = vec![
        (good.replacen("\n42\n", "\n042\n", 1), "leading zero size"),
        (good.replacen("\n42\n", "\n+42\n", 1), "signed size"),
        (good.replacen("\n42\n", "\n 42\n", 1), "space in size"),
        (
            good.replacen("\n42\n", "\n18446744073709551616\n", 1),
            "size overflow",
        ),
        (
            good.replacen("timestamp 77", "timestamp 077", 1),
            "leading zero timestamp",
        ),
        (
            good.replacen("timestamp 77", "timestamp: 77", 1),
            "bad timestamp key",
        ),
        (good.replacen("timestamp 77\n", "", 1), "missing timestamp"),
        (
            good.replacen("timestamp 77\n", "timestamp 77\nextra\n", 1),
            "extra body line",
        ),
        (
            good.replacen("CQk=\n", "CQl=\n", 1),
            "non-canonical base64 trailing bits",
        ),
        (
            good.replacen("CQk=\n", "CQkJCQ==\n", 1),
            "root of wrong length",
        ),
        (good.replacen("=\n", "\n", 1), "unpadded root"),
        (good.replacen(ORIGIN, "", 1), "empty origin"),
        (
            good.replacen(ORIGIN, &format!(" {ORIGIN}"), 1),
            "origin with leading space",
        ),
        (good.replacen("\n\n", "\n", 1), "no blank line"),
        (good.replacen("\n\n", "\n\n\n", 1), "two blank lines"),
        (good.trim_end().to_owned(), "no final newline"),
        (format!("{good}\n"), "trailing blank line"),
        (good.replacen('\u{2014}', "-", 1), "ascii dash"),
        (good.replacen("audit ", "au dit ", 1), "space in key name"),
        (good.replacen("audit ", "audit+x ", 1), "plus in key name"),
        (good.replacen(&sig_line, "", 1), "no signatures"),
        (good.replace('\n', "\r\n"), "CRLF"),
        (format!("{good}{sig_line}"), "unterminated extra signature"),
        (
            good.replacen(&sig_line, &format!("{sig_line} "), 1),
            "trailing space on signature",
        ),
    ];
    for (text, why) in variants {
        assert_ne!(text, good, "variant {why} did not change the text");
        assert!(
            SignedCheckpoint::parse(text.as_bytes()).is_err(),
            "accepted: {why}:\n{text}"
        );
    }
    assert!(matches!(
        SignedCheckpoint::parse(&vec![b'a'; 20_000]),
        Err(ParseError::TooLong)
    ));
    assert!(matches!(
        SignedCheckpoint::parse(b"\xff\xfe"),
        Err(ParseError::NotUtf8)
    ));
}

#[test]
fn checkpoint_consistency_uses_merkle_proofs() {
    let mut tree = MemoryTree::new();
    for i in 0..37u32 {
        tree.append_data(&i.to_be_bytes()).unwrap();
    }
    let c10 = cp(10, merkle::root(&tree, 10).unwrap(), 1);
    let c37 = cp(37, merkle::root(&tree, 37).unwrap(), 2);
    let proof = merkle::consistency_proof(&tree, 10, 37).unwrap();
    assert!(verify_checkpoint_consistency(&c10, &c37, &proof).is_ok());
    let mut forked = c37.clone();
    forked.root[3] ^= 0x40;
    assert!(verify_checkpoint_consistency(&c10, &forked, &proof).is_err());
    let empty = cp(0, EMPTY_ROOT, 0);
    assert!(verify_checkpoint_consistency(&empty, &c37, &[]).is_ok());
    let mut other = c37.clone();
    other.origin = "elsewhere".into();
    assert!(verify_checkpoint_consistency(&c10, &other, &proof).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Arbitrary input never panics the parser, and whatever it accepts is canonical.
    #[test]
    fn parser_never_panics_and_accepts_only_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(parsed) = SignedCheckpoint::parse(&bytes) {
            prop_assert_eq!(parsed.to_text().unwrap().into_bytes(), bytes);
        }
    }

    /// Mutating a valid note: never panics; if it still parses it re-encodes exactly.
    #[test]
    fn mutated_notes(pos in any::<usize>(), byte in any::<u8>(), size in any::<u64>(), ts in any::<u64>()) {
        let s = common::signer("audit", 8);
        let text = s.sign(cp(size, [size as u8; 32], ts)).unwrap().to_text().unwrap();
        let mut bytes = text.into_bytes();
        let i = pos % bytes.len();
        bytes[i] = byte;
        if let Ok(parsed) = SignedCheckpoint::parse(&bytes) {
            prop_assert_eq!(parsed.to_text().unwrap().into_bytes(), bytes);
        }
    }

    #[test]
    fn any_checkpoint_round_trips(size in any::<u64>(), ts in any::<u64>(), root in any::<[u8; 32]>(), origin in "[a-z0-9./-]{1,40}") {
        let s = common::signer("audit", 9);
        let signed = s.sign(Checkpoint { origin, size, root, timestamp: ts }).unwrap();
        let text = signed.to_text().unwrap();
        prop_assert_eq!(SignedCheckpoint::parse(text.as_bytes()).unwrap(), signed);
    }
}
