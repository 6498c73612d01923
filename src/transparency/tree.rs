//! Reading the stored tree for proofs without a database read per proof node.
//!
//! An inclusion proof needs about log₂(n) subtree hashes. The high ones are shared: every proof
//! in one half of the tree needs the same hash of the other half, and each node from level 5 up
//! is needed by the proofs of at least 32 certificates. Those are remembered once a proof over
//! them held. The low ones belong to few certificates; they all lie among the 32 leaves around
//! the certificate, so one read of those leaves (one row of `log_blocks`, or a range of leaf rows
//! for the last, partial block) and 31 hashes rebuild them.

use std::collections::HashMap;

use std::sync::Mutex;

use super::merkle::{self, node_hash, Hash, NodeId};
use crate::db::log::CheckpointRow;
use crate::db::{log, DbConnection};
use crate::memo::Memo;

/// Nodes at this level and above are shared by the proofs of 2^level or more leaves.
const SHARED_LEVEL: u32 = 5;
const BLOCK_LEAVES: u64 = 1 << SHARED_LEVEL;
const _: () = assert!(BLOCK_LEAVES == log::LEAVES_PER_BLOCK);

/// What a node remembers of the log between scans, owned by the application's
/// `Caches` (src/caches.rs) (one per node, a fresh one per test server).
pub struct LogMemory {
    /// Shared nodes known to be the log's own: they took part in a proof that held, or were
    /// checked against a signed root by `remember_all_shared`. A log of 3 million entries has
    /// about 190,000 of them, one of 9 million about 560,000; at about 60 bytes an entry the memo
    /// stays under 40 MB.
    shared: Memo<NodeId, Hash>,
    /// The pieces of the last, partial block, below the shared level: a few for each size of the
    /// tree, useless once the block is full, so kept apart where their turnover cannot empty
    /// `shared`.
    edge: Memo<NodeId, Hash>,
    /// Inclusion proofs that held, by (index, size, leaf, root): about 100 bytes an entry, 10 MB
    /// when full.
    pub(super) proven: Memo<(u64, u64, Hash, Hash), ()>,
    /// The checkpoint whose signature last verified, and the public key it opened with.
    pub(super) last_opened: Mutex<Option<(CheckpointRow, Vec<u8>)>>,
}

const SHARED_CAPACITY: usize = 600_000;

impl LogMemory {
    pub const fn new() -> Self {
        Self {
            shared: Memo::new(SHARED_CAPACITY),
            edge: Memo::new(1_000),
            proven: Memo::new(100_000),
            last_opened: Mutex::new(None),
        }
    }

    fn memo_of(&self, (level, _): NodeId) -> &Memo<NodeId, Hash> {
        if level >= SHARED_LEVEL {
            &self.shared
        } else {
            &self.edge
        }
    }
}

impl Default for LogMemory {
    fn default() -> Self {
        Self::new()
    }
}

/// The hashes of the requested complete subtrees of the tree of `size` leaves; a node that is
/// not stored is left out, and the proof built from them fails.
pub struct Nodes {
    pub hashes: HashMap<NodeId, Hash>,
    /// Shared nodes not found in the memo, to be remembered once a proof over them holds.
    not_remembered: Vec<NodeId>,
    /// Some node came from the memo.
    pub used_memo: bool,
}

/// Where the shared nodes of a read come from.
#[derive(Clone, Copy)]
pub enum SharedFrom<'a> {
    /// The node's memory where it knows them: for proofs checked against a signed root before
    /// use.
    Memo(&'a LogMemory),
    /// The database only: for proofs handed out as they are, and for a second try of a proof
    /// that failed with remembered nodes (a memory shared by two databases, such as a command
    /// that copies one into the other, may hold the other one's).
    Database,
}

impl Nodes {
    /// `read_ahead` is a stored block already read with the certificate (block number, bytes).
    pub fn read(
        conn: &mut DbConnection,
        ids: &[NodeId],
        size: u64,
        from: SharedFrom<'_>,
        read_ahead: Option<&(u64, Vec<u8>)>,
    ) -> diesel::QueryResult<Self> {
        let mut hashes = HashMap::with_capacity(ids.len());
        let mut not_remembered = Vec::new();
        let mut used_memo = false;
        let mut read_shared = Vec::new();
        let mut blocks: Vec<u64> = Vec::new();
        for &(level, index) in ids {
            let block = (index << level) / BLOCK_LEAVES;
            // The pieces of the last, partial block are in the proof of every certificate to
            // their left: shared too, for as long as the tree keeps this size.
            let at_edge = (block + 1) * BLOCK_LEAVES > size;
            if level >= SHARED_LEVEL || at_edge {
                let remembered = match from {
                    SharedFrom::Memo(memory) => memory.memo_of((level, index)).get(&(level, index)),
                    SharedFrom::Database => None,
                };
                if let Some(hash) = remembered {
                    hashes.insert((level, index), hash);
                    used_memo = true;
                    continue;
                }
                not_remembered.push((level, index));
            }
            if level >= SHARED_LEVEL {
                read_shared.push((level, index));
            } else if !blocks.contains(&block) {
                blocks.push(block);
            }
        }
        for block in blocks {
            let start = block * BLOCK_LEAVES;
            let end = (start + BLOCK_LEAVES).min(size);
            let stored = match (end - start, read_ahead) {
                (BLOCK_LEAVES, Some((read, bytes))) if *read == block => log::split_block(bytes),
                (BLOCK_LEAVES, _) => log::block(conn, block)?,
                _ => None,
            };
            let leaves = match stored {
                Some(leaves) => leaves,
                None => log::leaves(conn, start, end)?,
            };
            if leaves.len() as u64 == end - start {
                rebuild_block(start, leaves, ids, &mut hashes);
            }
        }
        if !read_shared.is_empty() {
            hashes.extend(log::nodes(conn, &read_shared)?);
        }
        Ok(Self {
            hashes,
            not_remembered,
            used_memo,
        })
    }

    /// Call once a proof over these nodes verified against a signed root: the shared nodes
    /// used are then known to be the log's own.
    pub fn remember_shared(&self, memory: &LogMemory) {
        for memo in [&memory.shared, &memory.edge] {
            memo.remember_all(
                self.not_remembered
                    .iter()
                    .filter(|id| std::ptr::eq(memory.memo_of(**id), memo))
                    .filter_map(|id| Some((*id, *self.hashes.get(id)?))),
            );
        }
    }
}

/// Remembers every stored shared node of the tree of `size` leaves whose signed root is `root`,
/// so that the first scans after a start do not each read the shared part of their proof.
/// Nothing is remembered unless all of them check: each parent is the hash of its two children,
/// and the complete subtrees that make up the tree hash to `root`. An altered node breaks that
/// chain. Returns how many were remembered.
pub fn remember_all_shared(
    conn: &mut DbConnection,
    memory: &LogMemory,
    size: u64,
    root: &Hash,
) -> diesel::QueryResult<usize> {
    let mut nodes: HashMap<NodeId, Hash> = HashMap::new();
    let mut level = SHARED_LEVEL;
    // Only complete subtrees inside the tree: nodes completed after its checkpoint are left to
    // the proofs that will use them.
    while size >> level > 0 {
        for (index, hash) in log::level_nodes(conn, level, size >> level)? {
            nodes.insert((level, index), hash);
        }
        level += 1;
    }
    if nodes.len() > SHARED_CAPACITY * 3 / 4 {
        return Ok(0);
    }
    let parents_hold = nodes.iter().all(|(&(level, index), hash)| {
        level == SHARED_LEVEL
            || matches!(
                (nodes.get(&(level - 1, 2 * index)), nodes.get(&(level - 1, 2 * index + 1))),
                (Some(l), Some(r)) if node_hash(l, r) == *hash
            )
    });
    // The pieces of the tree below the shared level, at its right edge, come from the database.
    let pieces = merkle::nodes_for(&[merkle::root_range(size)]);
    let low: Vec<NodeId> = pieces
        .iter()
        .copied()
        .filter(|&(level, _)| level < SHARED_LEVEL)
        .collect();
    let mut with_low = log::nodes(conn, &low)?;
    for id in pieces.iter().filter(|(level, _)| *level >= SHARED_LEVEL) {
        if let Some(hash) = nodes.get(id) {
            with_low.insert(*id, *hash);
        }
    }
    let every_node_has_its_parent = nodes.keys().all(|&(level, index)| {
        pieces.contains(&(level, index)) || nodes.contains_key(&(level + 1, index / 2))
    });
    if !parents_hold
        || !every_node_has_its_parent
        || merkle::root_of(size, &with_low).as_ref() != Some(root)
    {
        return Ok(0);
    }
    let count = nodes.len();
    memory.shared.remember_all(nodes);
    Ok(count)
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
        // Picked by position: a proof wants one or two nodes per level, of 32 at most.
        for &(l, index) in wanted {
            if l == level {
                if let Some(hash) = index
                    .checked_sub(first)
                    .and_then(|offset| level_hashes.get(offset as usize))
                {
                    out.insert((level, index), *hash);
                }
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
    use crate::db::{DatabaseUrl, Db};
    use crate::transparency::merkle::{leaf_hash, FullTree};
    use crate::transparency::EntryKind;

    /// A database whose log holds `n` entries, and their leaf hashes.
    fn log_of(n: u64) -> (tempfile::TempDir, Db, Vec<Hash>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ikrar.sqlite3");
        let db = Db::connect(&DatabaseUrl::Sqlite(path.to_string_lossy().into())).unwrap();
        let conn = &mut *db.write().unwrap();
        // Entries unlike any other test's, so that no memory could help.
        let mut salt = [0u8; 8];
        getrandom::fill(&mut salt).unwrap();
        let entries: Vec<Vec<u8>> = (0..n)
            .map(|i| [&salt[..], &i.to_be_bytes()].concat())
            .collect();
        for (i, entry) in entries.iter().enumerate() {
            crate::transparency::store::append(conn, EntryKind::Issued, &format!("c{i}"), entry, 0)
                .unwrap();
        }
        let leaves = entries.iter().map(|e| leaf_hash(e)).collect();
        (dir, db, leaves)
    }

    fn root(leaves: &[Hash]) -> Hash {
        let size = leaves.len() as u64;
        let tree = FullTree::new(leaves.to_vec());
        let pieces = merkle::nodes_for(&[merkle::root_range(size)]);
        merkle::root_of(size, &tree.nodes(&pieces)).unwrap()
    }

    fn proves(conn: &mut DbConnection, index: u64, leaves: &[Hash], from: SharedFrom<'_>) -> bool {
        let size = leaves.len() as u64;
        let ranges = merkle::inclusion_ranges(index, size);
        let nodes = Nodes::read(conn, &merkle::nodes_for(&ranges), size, from, None).unwrap();
        merkle::hashes_of(&ranges, &nodes.hashes).is_some_and(|proof| {
            merkle::verify_inclusion(index, size, &leaves[index as usize], &proof, &root(leaves))
        })
    }

    #[test]
    fn a_proof_reads_its_full_block_as_one_row_and_a_damaged_row_fails_it() {
        use crate::db::schema::log_blocks;
        use diesel::prelude::*;

        let (_dir, db, leaves) = log_of(70);
        let conn = &mut *db.write().unwrap();
        assert_eq!(log::block(conn, 1).unwrap(), Some(leaves[32..64].to_vec()));
        assert_eq!(
            log::block(conn, 2).unwrap(),
            None,
            "the last block is partial"
        );
        assert!(proves(conn, 40, &leaves, SharedFrom::Database));
        assert!(proves(conn, 66, &leaves, SharedFrom::Database));

        diesel::update(log_blocks::table.find(1))
            .set(log_blocks::leaves.eq(vec![0u8; 1024]))
            .execute(conn)
            .unwrap();
        assert!(!proves(conn, 40, &leaves, SharedFrom::Database));
        let audit = crate::transparency::audit::audit(conn).unwrap();
        assert!(audit
            .inconsistencies
            .iter()
            .any(|i| i.problem.contains("blok hash daun nomor 1")));

        // A log from before the blocks: its proofs read the leaves until the blocks are filled.
        diesel::delete(log_blocks::table).execute(conn).unwrap();
        assert!(proves(conn, 40, &leaves, SharedFrom::Database));
        assert_eq!(log::fill_blocks(conn, 0, 1).unwrap(), (1, Some(1)));
        assert_eq!(log::fill_blocks(conn, 1, 1).unwrap(), (1, None));
        assert_eq!(log::fill_blocks(conn, 0, 8).unwrap(), (0, None));
        assert_eq!(log::block(conn, 1).unwrap(), Some(leaves[32..64].to_vec()));
    }

    #[test]
    fn the_shared_nodes_are_remembered_only_when_they_lead_to_the_signed_root() {
        let memory = LogMemory::new();
        let (_dir, db, leaves) = log_of(200);
        let conn = &mut *db.write().unwrap();
        assert_eq!(
            remember_all_shared(conn, &memory, 200, &[7; 32]).unwrap(),
            0
        );
        // Levels 5, 6 and 7 of a 200-leaf tree: 6 + 3 + 1 complete subtrees.
        assert_eq!(
            remember_all_shared(conn, &memory, 200, &root(&leaves)).unwrap(),
            10
        );
        assert!(proves(conn, 17, &leaves, SharedFrom::Memo(&memory)));

        // Another log's nodes in the same memory (two databases behind one memory) make a proof
        // fail on the first try only.
        let (_other_dir, other, other_leaves) = log_of(200);
        let other = &mut *other.write().unwrap();
        remember_all_shared(other, &memory, 200, &root(&other_leaves)).unwrap();
        assert!(!proves(conn, 17, &leaves, SharedFrom::Memo(&memory)));
        assert!(crate::transparency::proven_included(
            conn,
            &memory,
            17,
            200,
            (leaves[17], root(&leaves)),
            None
        )
        .unwrap());
        assert!(
            proves(conn, 17, &leaves, SharedFrom::Memo(&memory)),
            "remembered again"
        );
    }

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
