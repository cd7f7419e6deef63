//! RFC 6962 / RFC 9162 Merkle tree: hashing, an O(log n) append frontier,
//! proof generation over any leaf-hash source, and proof verification.
//!
//! Leaf hash = SHA-256(0x00 ‖ data), interior node = SHA-256(0x01 ‖ left ‖ right),
//! the empty tree hashes to SHA-256(""). Those domain-separation prefixes are what
//! stop a leaf from being passed off as an interior node (second-preimage attacks).

mod frontier;
mod generate;
mod memory;
mod verify;

pub use frontier::{Frontier, FrontierError};
pub use generate::{LeafHashes, ProofError, consistency_proof, inclusion_proof, range_hash, root};
pub use memory::MemoryTree;
pub use verify::{
    VerifyError, root_from_inclusion_proof, valid_subtree, verify_consistency, verify_inclusion,
    verify_subtree_consistency, verify_subtree_inclusion,
};

use sha2::{Digest, Sha256};

/// A SHA-256 digest: leaf hash, node hash or tree root.
pub type Hash = [u8; 32];

/// Root hash of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1).
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Leaf hash of `data`: SHA-256(0x00 ‖ data).
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// Interior node hash: SHA-256(0x01 ‖ left ‖ right).
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Largest power of two strictly smaller than `n` (the RFC 6962 split point `k`).
/// Only meaningful for `n >= 2`; returns 0 otherwise.
pub(crate) fn split_point(n: u64) -> u64 {
    if n < 2 {
        return 0;
    }
    // 1 << (bit length of n-1) - 1, i.e. the highest set bit of n-1.
    1u64 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
    }

    #[test]
    fn split_point_is_largest_power_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }
}
