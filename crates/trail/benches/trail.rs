//! Benchmarks: append (leaf hash + frontier), proofs, and offline export verification.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-trail cargo bench -p cloudward-trail --bench trail`
//! Results are recorded in docs/audit.md ("Benchmarks").
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::path::Path;

use cloudward_trail::merkle::{self, Frontier, MemoryTree, leaf_hash};
use cloudward_trail::{
    CheckpointSigner, ExportOptions, ExportWriter, Keyring, VerifyOptions, verify_export,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;

#[path = "support/synthetic.rs"]
mod synthetic;
use synthetic::{canonical, event};

fn bench_append(c: &mut Criterion) {
    let bytes = canonical(42);
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(1));
    g.bench_function(
        format!("leaf_hash_plus_frontier_append/{}B_event", bytes.len()),
        |b| {
            let mut f = Frontier::new();
            b.iter(|| f.append(leaf_hash(black_box(&bytes))).unwrap());
        },
    );
    g.bench_function("frontier_root/size_1e6", |b| {
        let mut f = Frontier::new();
        for i in 0..1_000_000u64 {
            f.append(leaf_hash(&i.to_le_bytes())).unwrap();
        }
        b.iter(|| black_box(f.root()));
    });
    g.bench_function("canonical_bytes_plus_redaction", |b| {
        b.iter_batched(
            || event(7),
            |e| e.redact().unwrap().canonical_bytes().unwrap(),
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

fn bench_proofs(c: &mut Criterion) {
    let n = 1u64 << 20;
    let mut tree = MemoryTree::new();
    let mut leaves = Vec::with_capacity(n as usize);
    for i in 0..n {
        let h = leaf_hash(&i.to_le_bytes());
        tree.append(h).unwrap();
        leaves.push(h);
    }
    let root = tree.root();
    let idx = 777_777u64;
    let proof = merkle::inclusion_proof(&tree, idx, n).unwrap();
    let cproof = merkle::consistency_proof(&tree, 500_000, n).unwrap();
    let root1 = merkle::root(&tree, 500_000).unwrap();
    let mut g = c.benchmark_group("proofs");
    g.bench_function("inclusion_generate/cached_subtrees/n=2^20", |b| {
        b.iter(|| merkle::inclusion_proof(&tree, black_box(idx), n).unwrap());
    });
    let small = 1u64 << 16;
    g.bench_function("inclusion_generate/leaves_only/n=2^16", |b| {
        b.iter(|| merkle::inclusion_proof(&leaves, black_box(idx % small), small).unwrap());
    });
    g.bench_function("inclusion_verify/n=2^20", |b| {
        b.iter(|| {
            merkle::verify_inclusion(idx, n, &leaves[idx as usize], black_box(&proof), &root)
                .unwrap()
        });
    });
    g.bench_function("consistency_generate/cached_subtrees/n=2^20", |b| {
        b.iter(|| merkle::consistency_proof(&tree, black_box(500_000), n).unwrap());
    });
    g.bench_function("consistency_verify/n=2^20", |b| {
        b.iter(|| {
            merkle::verify_consistency(500_000, n, black_box(&cproof), &root1, &root).unwrap()
        });
    });
    g.finish();
}

fn write_export(dir: &Path, events: u64, gzip: bool) -> Keyring {
    let signer = CheckpointSigner::new("bench-audit", SigningKey::from_bytes(&[5; 32])).unwrap();
    let mut ring = Keyring::new();
    ring.add(signer.trusted_key(None)).unwrap();
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
            w.write_checkpoint(&signer.sign(cp).unwrap()).unwrap();
        }
    }
    w.finish().unwrap();
    ring
}

fn bench_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify_export");
    g.sample_size(10);
    for (events, gzip) in [(1_000_000u64, false), (200_000, true)] {
        let dir = tempfile::tempdir().unwrap();
        let ring = write_export(dir.path(), events, gzip);
        let bytes: u64 = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        eprintln!("export: {events} events, gzip={gzip}, {bytes} bytes of event files");
        g.throughput(Throughput::Elements(events));
        let name = if gzip { "jsonl_gz" } else { "jsonl" };
        g.bench_function(format!("{name}/{events}_events"), |b| {
            b.iter(|| {
                let r = verify_export(dir.path(), &ring, &VerifyOptions::default()).unwrap();
                assert!(r.is_ok(), "{:?}", r.failure);
                assert_eq!(r.events, events);
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench_append, bench_proofs, bench_verify);
criterion_main!(benches);
