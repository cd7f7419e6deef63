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

use cloudward_trail::{
    CheckpointSigner, ExportOptions, ExportWriter, Keyring, VerifyOptions, verify_export,
};
use ed25519_dalek::SigningKey;

#[path = "../benches/support/synthetic.rs"]
mod synthetic;
use synthetic::canonical;

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
