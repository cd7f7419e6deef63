//! Proof verification (RFC 9162 §2.1.3.2 and §2.1.4.2), plus the subtree proofs of
//! the Merkle Tree Certificates draft (draft-ietf-plants-merkle-tree-certs §4.3/§4.4),
//! which the shared transparency-dev vectors also cover.
//!
//! Every function here takes untrusted input: no panics, no unchecked indexing, and
//! the proof length is bounded by 64 hashes (a tree of at most 2^64 leaves).

use super::{EMPTY_ROOT, Hash, node_hash};

/// Longest proof a 64-bit tree can need; longer input is rejected before hashing.
const MAX_PROOF_LEN: usize = 64;

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Leaf index not below the tree size.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// Leaf index.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// The proof has more hashes than the tree shape allows.
    #[error("proof is too long")]
    ProofTooLong,
    /// The proof has fewer hashes than the tree shape needs.
    #[error("proof is too short")]
    ProofTooShort,
    /// The proof does not lead to the expected root.
    #[error("computed root does not match the expected root")]
    RootMismatch,
    /// The recomputed old root does not match (consistency proofs).
    #[error("computed old root does not match the expected old root")]
    OldRootMismatch,
    /// `size1 > size2`.
    #[error("old size {size1} is larger than new size {size2}")]
    SizesReversed {
        /// Old size.
        size1: u64,
        /// New size.
        size2: u64,
    },
    /// A consistency proof from the empty tree proves nothing.
    #[error("consistency from an empty tree is meaningless")]
    EmptyOldTree,
    /// Sizes are equal (or the subtree is empty) but the proof is not empty.
    #[error("proof must be empty here")]
    ProofNotEmpty,
    /// The proof is empty but must not be.
    #[error("proof is empty")]
    EmptyProof,
    /// `[start, end)` is not a subtree of the tree structure, or lies outside the tree.
    #[error("[{start}, {end}) is not a valid subtree here")]
    InvalidSubtree {
        /// First leaf.
        start: u64,
        /// One past the last leaf.
        end: u64,
    },
}

fn check(computed: &Hash, expected: &Hash, err: VerifyError) -> Result<(), VerifyError> {
    if computed == expected {
        Ok(())
    } else {
        Err(err)
    }
}

/// Checks that `proof` shows the leaf with hash `leaf` at `index` in the tree of
/// `size` leaves whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    let computed = root_from_inclusion_proof(index, size, leaf, proof)?;
    check(&computed, root, VerifyError::RootMismatch)
}

/// The root implied by an inclusion proof (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, VerifyError> {
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(VerifyError::ProofTooLong);
    }
    // fnode walks up from the leaf, snode from the last leaf; when they meet (or
    // fnode is a right child) the proof hash is a left sibling.
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            // On the right border, levels without a sibling are skipped.
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    Ok(r)
}

/// Checks that `proof` shows the tree (`size1`, `root1`) is a prefix of the tree
/// (`size2`, `root2`). Following the reference vectors, `size1 == 0` is an error
/// (there is nothing to prove) and equal sizes need an empty proof and equal roots.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), VerifyError> {
    if size1 > size2 {
        return Err(VerifyError::SizesReversed { size1, size2 });
    }
    if size1 == 0 {
        return Err(VerifyError::EmptyOldTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(VerifyError::ProofNotEmpty);
        }
        return check(root1, root2, VerifyError::RootMismatch);
    }
    if proof.is_empty() {
        return Err(VerifyError::EmptyProof);
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(VerifyError::ProofTooLong);
    }
    // When the old tree is a perfect subtree its root is the starting node itself and
    // the proof omits it; otherwise the proof starts with that node.
    let (seed, rest) = if size1.is_power_of_two() {
        (root1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (first, rest),
            None => return Err(VerifyError::EmptyProof),
        }
    };
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if snode == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    check(&fr, root1, VerifyError::OldRootMismatch)?;
    check(&sr, root2, VerifyError::RootMismatch)
}

/// True when `[start, end)` is a non-empty subtree in the sense of the MTC draft:
/// `start` is a multiple of the smallest power of two `>= end - start`.
#[must_use]
pub fn valid_subtree(start: u64, end: u64) -> bool {
    if start >= end {
        return false;
    }
    match (end - start).checked_next_power_of_two() {
        Some(width) => start.is_multiple_of(width),
        None => false,
    }
}

/// Checks that `proof` shows the leaf `leaf` at `index` inside the subtree
/// `[start, end)` whose hash is `subtree_root`. Such a subtree hashes exactly like a
/// standalone tree of `end - start` leaves, so this is an inclusion proof of
/// `index - start` in that tree.
pub fn verify_subtree_inclusion(
    index: u64,
    start: u64,
    end: u64,
    leaf: &Hash,
    proof: &[Hash],
    subtree_root: &Hash,
) -> Result<(), VerifyError> {
    if !valid_subtree(start, end) {
        return Err(VerifyError::InvalidSubtree { start, end });
    }
    if index < start || index >= end {
        return Err(VerifyError::IndexOutOfRange { index, size: end });
    }
    verify_inclusion(index - start, end - start, leaf, proof, subtree_root)
}

/// Checks that `proof` shows the subtree `[start, end)` with hash `subtree_root` sits
/// at those positions in the tree of `size` leaves with root `root` (MTC draft §4.4.3).
/// An empty subtree (`start == end <= size`) needs an empty proof and hashes to
/// [`EMPTY_ROOT`].
pub fn verify_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree_root: &Hash,
    root: &Hash,
) -> Result<(), VerifyError> {
    if start == end && end <= size {
        if !proof.is_empty() {
            return Err(VerifyError::ProofNotEmpty);
        }
        return check(subtree_root, &EMPTY_ROOT, VerifyError::OldRootMismatch);
    }
    if !valid_subtree(start, end) || end > size {
        return Err(VerifyError::InvalidSubtree { start, end });
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(VerifyError::ProofTooLong);
    }
    // fnode/snode: first and last leaf of the subtree; tnode: last leaf of the tree.
    let (mut fnode, mut snode, mut tnode) = (start, end - 1, size - 1);
    let shift = |f: &mut u64, s: &mut u64, t: &mut u64| {
        *f >>= 1;
        *s >>= 1;
        *t >>= 1;
    };
    if snode == tnode {
        // Subtree flush with the tree's right edge: no sibling inside it is needed.
        while fnode != snode {
            shift(&mut fnode, &mut snode, &mut tnode);
        }
    } else {
        // Climb while the subtree's last leaf is a right child: the left siblings
        // there are inside the subtree and will come from the proof's first hash.
        while fnode != snode && snode & 1 == 1 {
            shift(&mut fnode, &mut snode, &mut tnode);
        }
    }
    let (seed, rest) = if fnode == snode {
        (subtree_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (first, rest),
            None => return Err(VerifyError::EmptyProof),
        }
    };
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if tnode == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        if snode & 1 == 1 || snode == tnode {
            // Left sibling: part of the subtree only while the subtree's nodes differ.
            if fnode < snode {
                fr = node_hash(c, &fr);
            }
            sr = node_hash(c, &sr);
            while snode & 1 == 0 && snode != 0 {
                shift(&mut fnode, &mut snode, &mut tnode);
            }
        } else {
            sr = node_hash(&sr, c);
        }
        shift(&mut fnode, &mut snode, &mut tnode);
    }
    if tnode != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    check(&fr, subtree_root, VerifyError::OldRootMismatch)?;
    check(&sr, root, VerifyError::RootMismatch)
}
