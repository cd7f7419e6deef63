//! Held-out evaluation: runs the scanner over `tests/corpus/secretscan-heldout/` (text written
//! without knowledge of the scanner's heuristics) and compares with its `manifest.json`.
//! Prints precision, recall, every false positive and every miss, and fails below 0.95 for
//! either:
//! `cargo test -p cloudward-secretscan --test heldout -- --nocapture`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cloudward_secretscan::{Finding, ScanOptions, preview, scan_text};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/secretscan-heldout")
}

/// Files that describe the corpus rather than belong to it.
const META: &[&str] = &["manifest.json", "negatives.json"];

fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, base, out);
        } else {
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if META.contains(&rel.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((rel, text));
        }
    }
}

struct Expected {
    id: String,
    secret: String,
    kind: String,
    note: String,
}

type Corpus = (
    Vec<(String, String)>,
    BTreeMap<(String, usize, String), Expected>,
    Vec<serde_json::Value>,
);

fn load() -> Corpus {
    let base = root();
    let mut files = Vec::new();
    walk(&base, &base, &mut files);
    let manifest: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(base.join("manifest.json")).unwrap())
            .unwrap();
    let negatives: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(base.join("negatives.json")).unwrap())
            .unwrap();
    let mut expected = BTreeMap::new();
    for m in &manifest {
        let s = |k: &str| m[k].as_str().unwrap_or_default().to_string();
        let key = (s("file"), m["line"].as_u64().unwrap() as usize, s("id"));
        assert!(
            files.iter().any(|(f, _)| *f == key.0),
            "manifest names a missing file {}",
            key.0
        );
        expected.insert(
            key,
            Expected {
                id: s("id"),
                secret: s("secret"),
                kind: s("kind"),
                note: s("note"),
            },
        );
    }
    (files, expected, negatives)
}

fn describe(f: &Finding) -> String {
    format!(
        "{}:{}:{} [{} {} example={}] id={} secret_line={:?} secret={:?} reason={:?}",
        f.file,
        f.line,
        f.column,
        f.kind.as_str(),
        f.confidence.as_str(),
        f.example,
        f.access_key_id,
        f.secret_line,
        f.secret_preview,
        f.reason
    )
}

fn scan_all(files: &[(String, String)], options: &ScanOptions) -> Vec<Finding> {
    files
        .iter()
        .flat_map(|(name, text)| scan_text(name, text, options))
        .collect()
}

#[test]
fn heldout_corpus() {
    let (files, expected, negatives) = load();
    assert!(files.len() >= 30, "corpus has {} files", files.len());
    assert!(!expected.is_empty());
    println!(
        "held-out corpus: {} files, {} expected pairs",
        files.len(),
        expected.len()
    );

    let findings = scan_all(&files, &ScanOptions::default());
    let mut matched = BTreeSet::new();
    let mut false_positives = Vec::new();
    let mut wrong_secret = Vec::new();
    for f in &findings {
        let key = (f.file.clone(), f.line, f.access_key_id.clone());
        if let Some(e) = expected.get(&key) {
            if !matched.insert(key) {
                false_positives.push(format!("DUPLICATE {}", describe(f)));
                continue;
            }
            if f.kind.as_str() != e.kind {
                wrong_secret.push(format!(
                    "kind {} expected {}: {}",
                    f.kind.as_str(),
                    e.kind,
                    describe(f)
                ));
            }
            if f.secret_preview.as_deref() != Some(preview(&e.secret).as_str()) {
                wrong_secret.push(format!(
                    "paired with another secret (expected {}): {}",
                    preview(&e.secret),
                    describe(f)
                ));
            }
        } else {
            false_positives.push(describe(f));
        }
    }
    let tp = matched.len();
    let precision = if findings.is_empty() {
        1.0
    } else {
        tp as f64 / findings.len() as f64
    };
    let recall = tp as f64 / expected.len() as f64;
    println!(
        "findings {}  true positives {}  false positives {}  misses {}",
        findings.len(),
        tp,
        findings.len() - tp,
        expected.len() - tp
    );
    println!("precision {:.3}  recall {:.3}", precision, recall);

    // With `examples: true`, to tell a miss the scanner saw but classed as an example from one
    // it never saw.
    let with_examples = scan_all(
        &files,
        &ScanOptions {
            examples: true,
            ..ScanOptions::default()
        },
    );
    let lone = scan_all(
        &files,
        &ScanOptions {
            lone_ids: true,
            ..ScanOptions::default()
        },
    );

    println!("\n== misses ==");
    for (key, e) in &expected {
        if matched.contains(key) {
            continue;
        }
        println!(
            "MISS {}:{} id={} kind={} note={:?}",
            key.0, key.1, e.id, e.kind, e.note
        );
        for f in with_examples
            .iter()
            .chain(lone.iter())
            .filter(|f| f.file == key.0 && f.access_key_id == e.id)
        {
            println!("    seen with examples/lone_ids: {}", describe(f));
        }
    }
    println!("\n== false positives ==");
    for fp in &false_positives {
        println!("FP {fp}");
        for n in &negatives {
            if fp.starts_with(&format!(
                "{}:{}:",
                n["file"].as_str().unwrap_or_default(),
                n["line"]
            )) {
                println!("    negatives.json: {}", n["what"]);
            }
        }
    }
    println!("\n== matched but paired with the wrong secret / kind ==");
    for w in &wrong_secret {
        println!("{w}");
    }
    println!("\n== every finding (default options) ==");
    for f in &findings {
        println!("{}", describe(f));
    }
    println!("\n== extra findings only with examples: true ==");
    for f in &with_examples {
        if !findings.iter().any(|g| g == f) {
            let key = (f.file.clone(), f.line, f.access_key_id.clone());
            let tag = if expected.contains_key(&key) {
                "expected"
            } else {
                "not expected"
            };
            println!("{tag}: {}", describe(f));
        }
    }
    // The first blind run scored precision 1.000, recall 0.917 (four misses, fixed since);
    // from then on this corpus is a regression set with the same bar as the main corpus.
    assert!(precision >= 0.95, "precision {precision:.3} below 0.95");
    assert!(recall >= 0.95, "recall {recall:.3} below 0.95");
}
