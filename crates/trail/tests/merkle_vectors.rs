//! Every RFC 6962 vector of the shared transparency-dev corpus
//! (`../shared/corpora/merkle/testdata`, read in place, never copied).
//!
//! Happy paths must verify; every `wantErr: true` vector must be rejected. A vector
//! holding a value that is not 32 bytes (garbage or truncated hashes) cannot even be
//! expressed through the typed `[u8; 32]` API: for `wantErr` vectors that counts as a
//! rejection at the decoding boundary and is reported separately. The four happy
//! vectors that use short "don't care" placeholders for roots the verifier must not
//! look at (or only compare) get each placeholder mapped to SHA-256 of its bytes,
//! which keeps equal placeholders equal and distinct ones distinct.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use cloudward_trail::merkle::{
    self, Hash, MemoryTree, verify_consistency, verify_inclusion, verify_subtree_consistency,
    verify_subtree_inclusion,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn corpus() -> PathBuf {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/merkle/testdata");
    assert!(
        root.is_dir(),
        "Merkle corpus not found at {}",
        root.display()
    );
    root
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
}

/// A decoded hash field: a real 32-byte hash, or a value of another length.
enum Field {
    Hash(Hash),
    Other(Vec<u8>),
}

impl Field {
    fn placeholder_mapped(&self) -> Hash {
        match self {
            Field::Hash(h) => *h,
            Field::Other(b) => Sha256::digest(b).into(),
        }
    }
}

fn field(v: &Value) -> Field {
    let bytes = B64
        .decode(v.as_str().expect("hash field is a string"))
        .unwrap();
    match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(h) => Field::Hash(h),
        Err(_) => Field::Other(bytes),
    }
}

fn fields(v: &Value) -> Vec<Field> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().map(field).collect(),
        other => panic!("proof is neither null nor an array: {other}"),
    }
}

#[derive(Default, Debug)]
struct Tally {
    files: usize,
    happy_verified: usize,
    rejected_by_verifier: usize,
    rejected_at_decoding: usize,
}

/// Runs one directory family; `check` returns the verifier's verdict given decoded,
/// placeholder-mapped hashes.
fn run_family(
    family: &str,
    check: impl Fn(&Value, &[Hash], &dyn Fn(&str) -> Hash) -> Result<(), merkle::VerifyError>,
    hash_keys: &[&str],
) -> Tally {
    let mut files = Vec::new();
    json_files(&corpus().join(family), &mut files);
    assert!(!files.is_empty(), "no vectors found under {family}");
    let mut tally = Tally::default();
    for path in &files {
        tally.files += 1;
        let v: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().unwrap();
        let proof = fields(&v["proof"]);
        let all_hashes = hash_keys
            .iter()
            .map(|k| field(&v[*k]))
            .chain(fields(&v["proof"]))
            .all(|f| matches!(f, Field::Hash(_)));
        if want_err && !all_hashes {
            tally.rejected_at_decoding += 1;
            continue;
        }
        let proof: Vec<Hash> = proof.iter().map(Field::placeholder_mapped).collect();
        let get = |k: &str| field(&v[k]).placeholder_mapped();
        let verdict = check(&v, &proof, &get);
        match (want_err, verdict) {
            (false, Ok(())) => tally.happy_verified += 1,
            (true, Err(_)) => tally.rejected_by_verifier += 1,
            (false, Err(e)) => panic!("{}: happy vector rejected: {e}", path.display()),
            (true, Ok(())) => panic!("{}: bad vector accepted ({})", path.display(), v["desc"]),
        }
    }
    println!("{family}: {tally:?}");
    tally
}

fn u(v: &Value, k: &str) -> u64 {
    v[k].as_u64()
        .unwrap_or_else(|| panic!("{k} is not a u64: {}", v[k]))
}

#[test]
fn inclusion_vectors() {
    let t = run_family(
        "inclusion",
        |v, proof, get| {
            verify_inclusion(
                u(v, "leafIdx"),
                u(v, "treeSize"),
                &get("leafHash"),
                proof,
                &get("root"),
            )
        },
        &["leafHash", "root"],
    );
    assert_eq!(t.files, 98, "upstream has 98 inclusion vectors");
}

#[test]
fn consistency_vectors() {
    let t = run_family(
        "consistency",
        |v, proof, get| {
            verify_consistency(
                u(v, "size1"),
                u(v, "size2"),
                proof,
                &get("root1"),
                &get("root2"),
            )
        },
        &["root1", "root2"],
    );
    assert_eq!(t.files, 98, "upstream has 98 consistency vectors");
}

#[test]
fn subtree_inclusion_vectors() {
    let t = run_family(
        "subtreeinclusion",
        |v, proof, get| {
            verify_subtree_inclusion(
                u(v, "leafIdx"),
                u(v, "start"),
                u(v, "end"),
                &get("leafHash"),
                proof,
                &get("root"),
            )
        },
        &["leafHash", "root"],
    );
    assert_eq!(t.files, 204, "upstream has 204 subtree inclusion vectors");
}

#[test]
fn subtree_consistency_vectors() {
    let t = run_family(
        "subtreeconsistency",
        |v, proof, get| {
            verify_subtree_consistency(
                u(v, "start"),
                u(v, "end"),
                u(v, "size"),
                proof,
                &get("root1"),
                &get("root2"),
            )
        },
        &["root1", "root2"],
    );
    assert_eq!(t.files, 118, "upstream has 118 subtree consistency vectors");
}

/// The corpus is built over the 8 leaves of the classic CT test tree; rebuilding that
/// tree must reproduce every happy-path root and proof exactly, which checks proof
/// *generation* against data we did not write.
fn ct_test_tree() -> MemoryTree {
    let leaves: [&[u8]; 8] = [
        b"",
        &[0x00],
        &[0x10],
        &[0x20, 0x21],
        &[0x30, 0x31],
        &[0x40, 0x41, 0x42, 0x43],
        &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        &[
            0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
            0x6e, 0x6f,
        ],
    ];
    let mut tree = MemoryTree::new();
    for l in leaves {
        tree.append_data(l).unwrap();
    }
    tree
}

#[test]
fn generated_proofs_match_happy_vectors() {
    let tree = ct_test_tree();
    let mut checked = 0;
    for family in ["inclusion", "consistency"] {
        let mut files = Vec::new();
        json_files(&corpus().join(family), &mut files);
        for path in files {
            let v: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
            if v["wantErr"].as_bool().unwrap() || v["desc"] != "happy path" {
                continue;
            }
            let want: Vec<Hash> = fields(&v["proof"])
                .iter()
                .map(Field::placeholder_mapped)
                .collect();
            if family == "inclusion" {
                let (i, n) = (u(&v, "leafIdx"), u(&v, "treeSize"));
                let Field::Hash(root) = field(&v["root"]) else {
                    continue;
                };
                assert_eq!(merkle::root(&tree, n).unwrap(), root, "{}", path.display());
                assert_eq!(
                    merkle::inclusion_proof(&tree, i, n).unwrap(),
                    want,
                    "{}",
                    path.display()
                );
            } else {
                let (m, n) = (u(&v, "size1"), u(&v, "size2"));
                assert_eq!(
                    merkle::consistency_proof(&tree, m, n).unwrap(),
                    want,
                    "{}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 8,
        "expected happy-path vectors to compare against, found {checked}"
    );
    println!("generated proofs matched {checked} happy-path vectors");
}
