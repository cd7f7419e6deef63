//! Proof verification on arbitrary input: sizes, indices, hashes and proofs all come
//! from the fuzzer. Never panics; and a proof the verifier accepts for a tree we built
//! ourselves must be the one we generated (no second valid proof).
#![no_main]

use cloudward_trail::merkle::{self, Hash, MemoryTree};
use libfuzzer_sys::fuzz_target;

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    for (i, slot) in b.iter_mut().enumerate() {
        *slot = data.get(at + i).copied().unwrap_or(0);
    }
    u64::from_le_bytes(b)
}

fn hashes(data: &[u8]) -> Vec<Hash> {
    data.chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let (a, b, c) = (u64_at(data, 0), u64_at(data, 8), u64_at(data, 16));
    let rest = data.get(24..).unwrap_or(&[]);
    let hs = hashes(rest);
    let x = hs.first().copied().unwrap_or([0; 32]);
    let y = hs.get(1).copied().unwrap_or([1; 32]);
    let proof = hs.get(2..).unwrap_or(&[]);

    // Raw, unconstrained values.
    let _ = merkle::verify_inclusion(a, b, &x, proof, &y);
    let _ = merkle::verify_consistency(a, b, proof, &x, &y);
    let _ = merkle::verify_subtree_inclusion(a, b, c, &x, proof, &y);
    let _ = merkle::verify_subtree_consistency(a, b, c, proof, &x, &y);

    // Against a real small tree: a fuzzer-made proof verifies only if it equals ours.
    let n = (b % 70) + 1;
    let mut tree = MemoryTree::new();
    for i in 0..n {
        let _ = tree.append_data(&i.to_le_bytes());
    }
    let root = tree.root();
    let i = a % n;
    if let (Ok(leaf), Ok(real)) = (
        merkle::range_hash(&tree, i, i + 1),
        merkle::inclusion_proof(&tree, i, n),
    ) {
        if merkle::verify_inclusion(i, n, &leaf, proof, &root).is_ok() {
            assert_eq!(proof, real.as_slice(), "a second inclusion proof verified");
        }
    }
    let m = (c % n) + 1;
    if let (Ok(r1), Ok(real)) = (merkle::root(&tree, m), merkle::consistency_proof(&tree, m, n)) {
        if merkle::verify_consistency(m, n, proof, &r1, &root).is_ok() {
            assert_eq!(proof, real.as_slice(), "a second consistency proof verified");
        }
    }
});
