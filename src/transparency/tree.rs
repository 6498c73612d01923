//! Reading the stored tree for proofs without a database read per proof node.
//!
//! An inclusion proof needs about log₂(n) subtree hashes. The high ones are shared: every proof
//! in one half of the tree needs the same hash of the other half, and each node from level 5 up
//! is needed by the proofs of at least 32 certificates. Those are remembered once a proof over
//! them held. The low ones belong to few certificates; they all lie among the 32 leaves around
//! the certificate, so one range read of those leaves and 31 hashes rebuild them, instead of a
//! statement with a dozen terms that SQLite would parse afresh every time.

use std::collections::HashMap;

use super::merkle::{node_hash, Hash, NodeId};
use crate::db::{log, DbConnection};
use crate::memo::Memo;

/// Nodes at this level and above are shared by the proofs of 2^level or more leaves.
const SHARED_LEVEL: u32 = 5;
const BLOCK_LEAVES: u64 = 1 << SHARED_LEVEL;

/// Shared nodes that took part in a proof that held. A log of 3 million entries has about
/// 190,000 of them; at about 80 bytes an entry the memo stays under 20 MB.
static SHARED: Memo<NodeId, Hash> = Memo::new(250_000);

/// The hashes of the requested complete subtrees of the tree of `size` leaves; a node that is
/// not stored is left out, and the proof built from them fails.
pub struct Nodes {
    pub hashes: HashMap<NodeId, Hash>,
    /// Shared nodes read from the database, to be remembered once a proof over them holds.
    read_shared: Vec<NodeId>,
}

impl Nodes {
    pub fn read(conn: &mut DbConnection, ids: &[NodeId], size: u64) -> diesel::QueryResult<Self> {
        let mut hashes = HashMap::with_capacity(ids.len());
        let mut read_shared = Vec::new();
        let mut blocks: Vec<u64> = Vec::new();
        for &(level, index) in ids {
            if level >= SHARED_LEVEL {
                match SHARED.get(&(level, index)) {
                    Some(hash) => {
                        hashes.insert((level, index), hash);
                    }
                    None => read_shared.push((level, index)),
                }
            } else {
                let block = (index << level) / BLOCK_LEAVES;
                if !blocks.contains(&block) {
                    blocks.push(block);
                }
            }
        }
        for block in blocks {
            let start = block * BLOCK_LEAVES;
            let end = (start + BLOCK_LEAVES).min(size);
            let leaves = log::leaves(conn, start, end)?;
            if leaves.len() as u64 == end - start {
                rebuild_block(start, leaves, ids, &mut hashes);
            }
        }
        if !read_shared.is_empty() {
            hashes.extend(log::nodes(conn, &read_shared)?);
        }
        Ok(Self {
            hashes,
            read_shared,
        })
    }

    /// Call once a proof over these nodes verified against a signed root: the shared nodes
    /// read are then known to be the log's own.
    pub fn remember_shared(&self) {
        for id in &self.read_shared {
            if let Some(hash) = self.hashes.get(id) {
                SHARED.remember(*id, *hash);
            }
        }
    }
}

/// Hashes the leaves `start..` of one block up to the shared level and keeps the requested
/// nodes. At the right edge of the tree the block is short; an odd last node at a level is not
/// a complete subtree and is dropped.
fn rebuild_block(
    start: u64,
    mut level_hashes: Vec<Hash>,
    wanted: &[NodeId],
    out: &mut HashMap<NodeId, Hash>,
) {
    for level in 0..SHARED_LEVEL {
        let first = start >> level;
        for (offset, hash) in level_hashes.iter().enumerate() {
            let id = (level, first + offset as u64);
            if wanted.contains(&id) {
                out.insert(id, *hash);
            }
        }
        level_hashes = level_hashes
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transparency::merkle::leaf_hash;

    /// The node (level, index) computed straight from the leaves.
    fn subtree(leaves: &[Hash], level: u32, index: u64) -> Hash {
        let width = 1usize << level;
        let mut row: Vec<Hash> = leaves[index as usize * width..][..width].to_vec();
        while row.len() > 1 {
            row = row
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
        }
        row[0]
    }

    #[test]
    fn a_short_block_at_the_edge_yields_only_its_complete_subtrees() {
        let leaves: Vec<Hash> = (0..64u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        // A tree of 59 leaves: the second block holds 27 (32..59).
        let wanted = [(0, 58), (1, 28), (3, 6), (4, 2), (3, 7), (0, 59)];
        let mut out = HashMap::new();
        rebuild_block(32, leaves[32..59].to_vec(), &wanted, &mut out);
        assert_eq!(out.get(&(0, 58)), Some(&leaves[58]));
        assert_eq!(out.get(&(1, 28)), Some(&subtree(&leaves, 1, 28)));
        assert_eq!(out.get(&(3, 6)), Some(&subtree(&leaves, 3, 6)));
        assert_eq!(out.get(&(4, 2)), Some(&subtree(&leaves, 4, 2)));
        // Leaves 56..64 are not all in the tree, nor is leaf 59.
        assert_eq!(out.get(&(3, 7)), None);
        assert_eq!(out.get(&(0, 59)), None);
        assert_eq!(out.len(), 4);
    }
}
