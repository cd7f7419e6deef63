//! Proof generation (RFC 9162 §2.1.3.1 PATH and §2.1.4.1 SUBPROOF) over any source of
//! leaf hashes, such as the audit store.

use std::convert::Infallible;

use super::{EMPTY_ROOT, Hash, node_hash, split_point};

/// A random-access source of leaf hashes, implemented by the store (and by
/// `Vec<Hash>` / [`super::MemoryTree`] in memory).
///
/// Generation is correct with [`LeafHashes::leaf_hash`] alone but then costs O(n)
/// leaf reads per proof; a source that keeps hashes of perfect subtrees should
/// return them from [`LeafHashes::subtree_hash`] to bring proofs down to
/// O(log² n) reads or better.
pub trait LeafHashes {
    /// Error reading from the source.
    type Error: std::error::Error + 'static;

    /// Number of leaves available.
    fn len(&self) -> u64;

    /// True when the source holds no leaves.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Leaf hash at `index` (`index < len()`).
    fn leaf_hash(&self, index: u64) -> Result<Hash, Self::Error>;

    /// Cached hash of the perfect subtree at height `level >= 1` and position `index`,
    /// covering leaves `[index << level, (index + 1) << level)`, or `None` if not cached.
    fn subtree_hash(&self, level: u32, index: u64) -> Result<Option<Hash>, Self::Error> {
        let _ = (level, index);
        Ok(None)
    }
}

impl LeafHashes for [Hash] {
    type Error = Infallible;
    fn len(&self) -> u64 {
        <[Hash]>::len(self) as u64
    }
    fn leaf_hash(&self, index: u64) -> Result<Hash, Infallible> {
        // Callers check bounds against len(); a miss yields the empty-tree hash rather
        // than a panic, and would show up as a proof that fails to verify.
        Ok(usize::try_from(index)
            .ok()
            .and_then(|i| self.get(i))
            .copied()
            .unwrap_or(EMPTY_ROOT))
    }
}

impl LeafHashes for Vec<Hash> {
    type Error = Infallible;
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn leaf_hash(&self, index: u64) -> Result<Hash, Infallible> {
        self.as_slice().leaf_hash(index)
    }
}

/// Errors generating a proof.
#[derive(Debug, thiserror::Error)]
pub enum ProofError<E: std::error::Error + 'static> {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// Requested leaf.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// The requested tree is bigger than the source.
    #[error("tree size {size} exceeds the {len} leaves available")]
    SizeBeyondSource {
        /// Requested tree size.
        size: u64,
        /// Leaves in the source.
        len: u64,
    },
    /// A consistency proof needs `size1 <= size2`.
    #[error("consistency proof needs size1 <= size2, got {size1} > {size2}")]
    SizesReversed {
        /// Older size.
        size1: u64,
        /// Newer size.
        size2: u64,
    },
    /// The leaf source failed.
    #[error("reading leaf hashes: {0}")]
    Source(#[source] E),
}

fn check_size<S: LeafHashes + ?Sized>(src: &S, size: u64) -> Result<(), ProofError<S::Error>> {
    if size > src.len() {
        return Err(ProofError::SizeBeyondSource {
            size,
            len: src.len(),
        });
    }
    Ok(())
}

/// Root hash of the tree made of the first `size` leaves of `src`.
pub fn root<S: LeafHashes + ?Sized>(src: &S, size: u64) -> Result<Hash, ProofError<S::Error>> {
    check_size(src, size)?;
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    range_hash(src, 0, size)
}

/// MTH of leaves `[start, end)`, where the range is a node of the tree structure
/// (`start` a multiple of the largest power of two below `end - start`, as every range
/// met while walking down from a root is). Uses cached subtree hashes when offered.
pub fn range_hash<S: LeafHashes + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
) -> Result<Hash, ProofError<S::Error>> {
    check_size(src, end)?;
    if start >= end {
        return Ok(EMPTY_ROOT);
    }
    range_hash_unchecked(src, start, end)
}

fn range_hash_unchecked<S: LeafHashes + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
) -> Result<Hash, ProofError<S::Error>> {
    let n = end - start;
    if n == 1 {
        return src.leaf_hash(start).map_err(ProofError::Source);
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let level = n.trailing_zeros();
        if let Some(h) = src
            .subtree_hash(level, start >> level)
            .map_err(ProofError::Source)?
        {
            return Ok(h);
        }
    }
    let k = split_point(n);
    let left = range_hash_unchecked(src, start, start + k)?;
    let right = range_hash_unchecked(src, start + k, end)?;
    Ok(node_hash(&left, &right))
}

/// Inclusion proof (audit path) for leaf `index` in the tree of the first `size` leaves,
/// ordered from the leaf's sibling up to the root's child.
pub fn inclusion_proof<S: LeafHashes + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    check_size(src, size)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::with_capacity(64);
    // Walk down from the root, remembering the sibling subtree at each split;
    // the proof lists them bottom-up, so reverse at the end.
    let (mut m, mut start, mut n) = (index, 0u64, size);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            proof.push(range_hash_unchecked(src, start + k, start + n)?);
            n = k;
        } else {
            proof.push(range_hash_unchecked(src, start, start + k)?);
            m -= k;
            start += k;
            n -= k;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// Consistency proof between the trees of the first `size1` and `size2` leaves.
/// Empty when `size1 == 0` or `size1 == size2` (nothing to prove).
pub fn consistency_proof<S: LeafHashes + ?Sized>(
    src: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    check_size(src, size2)?;
    if size1 > size2 {
        return Err(ProofError::SizesReversed { size1, size2 });
    }
    let mut proof = Vec::with_capacity(64);
    if size1 == 0 || size1 == size2 {
        return Ok(proof);
    }
    // SUBPROOF(m, D[start:start+n], b), unrolled; `whole` is b: true while the old
    // tree is still a prefix of the current range's left edge.
    let (mut m, mut start, mut n, mut whole) = (size1, 0u64, size2, true);
    loop {
        if m == n {
            if !whole {
                proof.push(range_hash_unchecked(src, start, start + n)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            proof.push(range_hash_unchecked(src, start + k, start + n)?);
            n = k;
        } else {
            proof.push(range_hash_unchecked(src, start, start + k)?);
            m -= k;
            start += k;
            n -= k;
            whole = false;
        }
    }
    proof.reverse();
    Ok(proof)
}
