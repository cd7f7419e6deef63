//! An in-memory tree that keeps every perfect subtree hash, so proofs cost
//! O(log n) hash look-ups. Useful for tests, tools and small logs; the store keeps
//! the same data on disk.

use std::convert::Infallible;

use super::{Frontier, FrontierError, Hash, LeafHashes, leaf_hash, node_hash};

/// All leaf hashes plus every completed perfect subtree hash (about 2n hashes).
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[h][i]` = hash of leaves `[i << h, (i + 1) << h)`, for completed subtrees.
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryTree {
    /// An empty tree.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends leaf data; returns its index.
    pub fn append_data(&mut self, data: &[u8]) -> Result<u64, FrontierError> {
        self.append(leaf_hash(data))
    }

    /// Appends a leaf hash; returns its index.
    pub fn append(&mut self, leaf: Hash) -> Result<u64, FrontierError> {
        let index = self.frontier.append(leaf)?;
        let mut carry = leaf;
        let mut level = 0usize;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                break;
            };
            row.push(carry);
            // A row of even length has just completed a pair: its parent is ready.
            if row.len() % 2 != 0 {
                break;
            }
            match row.get(row.len() - 2..) {
                Some([l, r]) => carry = node_hash(l, r),
                _ => break,
            }
            level += 1;
        }
        Ok(index)
    }

    /// Root of the whole tree.
    #[must_use]
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The append frontier of the whole tree.
    #[must_use]
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }
}

impl LeafHashes for MemoryTree {
    type Error = Infallible;

    fn len(&self) -> u64 {
        self.frontier.size()
    }

    fn leaf_hash(&self, index: u64) -> Result<Hash, Infallible> {
        Ok(self.subtree(0, index).unwrap_or(super::EMPTY_ROOT))
    }

    fn subtree_hash(&self, level: u32, index: u64) -> Result<Option<Hash>, Infallible> {
        Ok(self.subtree(level, index))
    }
}

impl MemoryTree {
    fn subtree(&self, level: u32, index: u64) -> Option<Hash> {
        let row = self.levels.get(usize::try_from(level).ok()?)?;
        row.get(usize::try_from(index).ok()?).copied()
    }
}
