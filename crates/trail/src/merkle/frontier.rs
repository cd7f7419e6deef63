//! The append frontier (a compact range starting at leaf 0).
//!
//! For a tree of size n the frontier holds one hash per set bit of n: the roots of the
//! perfect subtrees that tile leaves [0, n), largest (leftmost) first. Appending a leaf
//! merges equal-sized neighbours like binary carry propagation, so both `append` and
//! `root` touch O(log n) hashes and the server never needs the old leaves to move on.

use super::{EMPTY_ROOT, Hash, leaf_hash, node_hash};

/// Errors restoring a frontier from persisted parts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontierError {
    /// The number of hashes must equal the number of set bits of the size.
    #[error("frontier of size {size} needs {expected} hashes, got {got}")]
    WrongHashCount {
        /// Claimed tree size.
        size: u64,
        /// popcount(size).
        expected: u32,
        /// Hashes supplied.
        got: usize,
    },
    /// The tree is full: one more leaf would overflow the 64-bit size.
    #[error("tree size would overflow u64")]
    Full,
}

/// Incremental Merkle tree state: append leaves, read the root, in O(log n).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Perfect-subtree roots, left to right; `nodes.len() == size.count_ones()`.
    nodes: Vec<Hash>,
}

impl Frontier {
    /// An empty tree.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a frontier from its persisted parts (see [`Frontier::nodes`]).
    ///
    /// Only the shape is checked here; bind the result to a signed checkpoint by
    /// comparing [`Frontier::root`] with the checkpoint's root before trusting it.
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Result<Self, FrontierError> {
        if nodes.len() != size.count_ones() as usize {
            return Err(FrontierError::WrongHashCount {
                size,
                expected: size.count_ones(),
                got: nodes.len(),
            });
        }
        Ok(Self { size, nodes })
    }

    /// Number of leaves appended so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree roots, largest first; persist these with [`Frontier::size`].
    #[must_use]
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// Appends a leaf given its data (hashes it with [`leaf_hash`]).
    pub fn append_data(&mut self, data: &[u8]) -> Result<u64, FrontierError> {
        self.append(leaf_hash(data))
    }

    /// Appends a leaf given its leaf hash; returns the new leaf's index.
    pub fn append(&mut self, leaf: Hash) -> Result<u64, FrontierError> {
        let index = self.size;
        let new_size = index.checked_add(1).ok_or(FrontierError::Full)?;
        let mut carry = leaf;
        // Each trailing 1-bit of the old size is a perfect subtree of the same size as
        // `carry` waiting on its left: merge them, as a binary increment would.
        let mut bits = index;
        while bits & 1 == 1 {
            match self.nodes.pop() {
                Some(left) => carry = node_hash(&left, &carry),
                // Unreachable while the popcount invariant holds; stop rather than panic.
                None => break,
            }
            bits >>= 1;
        }
        self.nodes.push(carry);
        self.size = new_size;
        Ok(index)
    }

    /// Root hash of the current tree (RFC 6962 MTH), [`EMPTY_ROOT`] when empty.
    #[must_use]
    pub fn root(&self) -> Hash {
        // MTH splits at the largest power of two, so the root folds the subtree
        // roots from the right: H(n0, H(n1, H(n2, ...))).
        let mut iter = self.nodes.iter().rev();
        let Some(last) = iter.next() else {
            return EMPTY_ROOT;
        };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_is_checked_on_restore() {
        assert!(Frontier::from_parts(3, vec![[0; 32]]).is_err());
        assert!(Frontier::from_parts(3, vec![[0; 32], [1; 32]]).is_ok());
        assert!(Frontier::from_parts(0, vec![]).is_ok());
    }

    #[test]
    fn restore_then_append_matches_uninterrupted() {
        let mut a = Frontier::new();
        for i in 0..13u8 {
            a.append_data(&[i]).unwrap();
        }
        let mut b = Frontier::from_parts(a.size(), a.nodes().to_vec()).unwrap();
        for i in 13..40u8 {
            a.append_data(&[i]).unwrap();
            b.append_data(&[i]).unwrap();
        }
        assert_eq!(a.root(), b.root());
    }

    #[test]
    fn one_leaf_root_is_leaf_hash() {
        let mut f = Frontier::new();
        assert_eq!(f.root(), EMPTY_ROOT);
        f.append_data(b"x").unwrap();
        assert_eq!(f.root(), leaf_hash(b"x"));
    }
}
