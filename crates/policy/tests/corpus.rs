//! Runs every decision corpus file under `tests/corpus/policy/` and fails on any mismatch.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity,
    missing_docs
)]

use std::path::{Path, PathBuf};

use cloudward_policy::corpus::run_corpus;

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            corpus_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[test]
fn decision_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/policy");
    let mut files = Vec::new();
    corpus_files(&root, &mut files);
    assert!(
        !files.is_empty(),
        "no corpus files under {}",
        root.display()
    );
    let (mut total, mut failures) = (0usize, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let report = run_corpus(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        total += report.cases.len();
        for case in report.cases.iter().filter(|c| !c.passed) {
            failures.push(format!(
                "{} [{}] {}: expected {}, got {} ({})",
                file.strip_prefix(&root).unwrap_or(file).display(),
                case.index,
                case.name,
                case.expected,
                case.actual,
                case.reason
            ));
        }
    }
    println!("{} corpus files, {total} requests", files.len());
    assert!(
        total >= 300,
        "the corpus should hold at least 300 requests, has {total}"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} corpus requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
