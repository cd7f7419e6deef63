//! Differential property tests: proofs and roots from the crate against a deliberately
//! simple recursive reference written straight from the RFC 6962 definitions (MTH,
//! PATH, SUBPROOF), hashing with `sha2` directly rather than through the crate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cloudward_trail::merkle::{
    self, Frontier, Hash, MemoryTree, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn ref_leaf(d: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(d);
    h.finalize().into()
}

fn ref_node(l: &Hash, r: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

/// Largest power of two strictly below n (n >= 2), by counting up.
fn ref_k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]).
fn ref_mth(d: &[Vec<u8>]) -> Hash {
    match d.len() {
        0 => Sha256::digest(b"").into(),
        1 => ref_leaf(&d[0]),
        n => {
            let k = ref_k(n);
            ref_node(&ref_mth(&d[..k]), &ref_mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
fn ref_path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return vec![];
    }
    let k = ref_k(n);
    if m < k {
        let mut p = ref_path(m, &d[..k]);
        p.push(ref_mth(&d[k..]));
        p
    } else {
        let mut p = ref_path(m - k, &d[k..]);
        p.push(ref_mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b).
fn ref_subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![ref_mth(d)] };
    }
    let k = ref_k(n);
    if m <= k {
        let mut p = ref_subproof(m, &d[..k], b);
        p.push(ref_mth(&d[k..]));
        p
    } else {
        let mut p = ref_subproof(m - k, &d[k..], false);
        p.push(ref_mth(&d[..k]));
        p
    }
}

fn data(n: usize, salt: u8) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("event-{salt}-{i}").into_bytes())
        .collect()
}

#[test]
fn frontier_root_matches_reference_for_every_size_up_to_400() {
    let d = data(400, 7);
    let mut f = Frontier::new();
    let mut tree = MemoryTree::new();
    assert_eq!(f.root(), ref_mth(&[]));
    for n in 1..=d.len() {
        f.append_data(&d[n - 1]).unwrap();
        tree.append_data(&d[n - 1]).unwrap();
        let want = ref_mth(&d[..n]);
        assert_eq!(f.root(), want, "frontier root at size {n}");
        assert_eq!(tree.root(), want, "memory tree root at size {n}");
        assert_eq!(f.nodes().len(), (n as u64).count_ones() as usize);
    }
    // Every prefix root is also reachable from the source-based root().
    let leaves: Vec<Hash> = d.iter().map(|x| ref_leaf(x)).collect();
    for n in [0usize, 1, 2, 3, 64, 65, 255, 256, 257, 400] {
        assert_eq!(merkle::root(&leaves, n as u64).unwrap(), ref_mth(&d[..n]));
        assert_eq!(merkle::root(&tree, n as u64).unwrap(), ref_mth(&d[..n]));
    }
}

fn flip(h: &mut Hash, bit: usize) {
    h[(bit / 8) % 32] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn inclusion_proofs_for_every_index(n in 1usize..160, salt in any::<u8>(), bit in 0usize..256) {
        let d = data(n, salt);
        let leaves: Vec<Hash> = d.iter().map(|x| ref_leaf(x)).collect();
        let mut tree = MemoryTree::new();
        for l in &leaves { tree.append(*l).unwrap(); }
        let root = ref_mth(&d);
        for i in 0..n {
            let want = ref_path(i, &d);
            let plain = merkle::inclusion_proof(&leaves, i as u64, n as u64).unwrap();
            let cached = merkle::inclusion_proof(&tree, i as u64, n as u64).unwrap();
            prop_assert_eq!(&plain, &want);
            prop_assert_eq!(&cached, &want);
            prop_assert!(verify_inclusion(i as u64, n as u64, &leaves[i], &plain, &root).is_ok());
            // Any single-bit change to leaf, proof or root is caught.
            let mut bad_leaf = leaves[i];
            flip(&mut bad_leaf, bit);
            prop_assert!(verify_inclusion(i as u64, n as u64, &bad_leaf, &plain, &root).is_err());
            if !plain.is_empty() {
                let mut bad = plain.clone();
                let j = bit % bad.len();
                flip(&mut bad[j], bit);
                prop_assert!(verify_inclusion(i as u64, n as u64, &leaves[i], &bad, &root).is_err());
                // Dropping or adding an element is caught.
                prop_assert!(verify_inclusion(i as u64, n as u64, &leaves[i], &plain[1..], &root).is_err());
            }
            let mut longer = plain.clone();
            longer.push(root);
            prop_assert!(verify_inclusion(i as u64, n as u64, &leaves[i], &longer, &root).is_err());
            // The proof does not verify another leaf's position.
            if n > 1 {
                let other = (i + 1) % n;
                prop_assert!(verify_inclusion(other as u64, n as u64, &leaves[i], &plain, &root).is_err());
            }
        }
        prop_assert!(merkle::inclusion_proof(&leaves, n as u64, n as u64).is_err());
    }

    #[test]
    fn consistency_proofs_for_random_pairs(
        n in 1usize..300,
        picks in proptest::collection::vec((any::<u16>(), any::<u16>()), 1..24),
        salt in any::<u8>(),
        bit in 0usize..256,
    ) {
        let d = data(n, salt);
        let leaves: Vec<Hash> = d.iter().map(|x| ref_leaf(x)).collect();
        let mut tree = MemoryTree::new();
        for l in &leaves { tree.append(*l).unwrap(); }
        for (a, b) in picks {
            let (mut m, mut k) = (a as usize % (n + 1), b as usize % (n + 1));
            if m > k { std::mem::swap(&mut m, &mut k); }
            let plain = merkle::consistency_proof(&leaves, m as u64, k as u64).unwrap();
            let cached = merkle::consistency_proof(&tree, m as u64, k as u64).unwrap();
            prop_assert_eq!(&plain, &cached);
            let (r1, r2) = (ref_mth(&d[..m]), ref_mth(&d[..k]));
            if m == 0 {
                prop_assert!(plain.is_empty());
                prop_assert!(verify_consistency(m as u64, k as u64, &plain, &r1, &r2).is_err());
                continue;
            }
            if m < k {
                prop_assert_eq!(&plain, &ref_subproof(m, &d[..k], true));
            }
            prop_assert!(verify_consistency(m as u64, k as u64, &plain, &r1, &r2).is_ok());
            if m < k {
                let mut bad = plain.clone();
                let j = bit % bad.len();
                flip(&mut bad[j], bit);
                prop_assert!(verify_consistency(m as u64, k as u64, &bad, &r1, &r2).is_err());
                prop_assert!(verify_consistency(m as u64, k as u64, &plain, &r2, &r1).is_err());
                let mut bad_root = r2;
                flip(&mut bad_root, bit);
                prop_assert!(verify_consistency(m as u64, k as u64, &plain, &r1, &bad_root).is_err());
                if m + 1 < k {
                    prop_assert!(verify_consistency(m as u64 + 1, k as u64, &plain, &r1, &r2).is_err());
                }
            }
        }
    }

    /// Arbitrary input never panics the verifiers.
    #[test]
    fn verifiers_never_panic(
        index in any::<u64>(), size in any::<u64>(), start in any::<u64>(),
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..80),
        a in any::<[u8; 32]>(), b in any::<[u8; 32]>(),
    ) {
        let _ = verify_inclusion(index, size, &a, &proof, &b);
        let _ = verify_consistency(index, size, &proof, &a, &b);
        let _ = merkle::verify_subtree_inclusion(index, start, size, &a, &proof, &b);
        let _ = merkle::verify_subtree_consistency(start, index, size, &proof, &a, &b);
        let _ = merkle::verify_subtree_consistency(start, index % 1024, size % 2048, &proof, &a, &b);
        let _ = merkle::verify_inclusion(index % 300, size % 300, &a, &proof, &b);
        let _ = merkle::verify_consistency(index % 300, size % 300, &proof, &a, &b);
    }
}
