//! Appending to the log: the entry's row, then the hashes of the subtrees it completes. Storage
//! (`db::log`) keeps rows; the tree they form is this module's. An append touches O(log n) rows
//! (amortised two) and never recomputes the tree.

use super::merkle::{leaf_hash, node_hash};
use super::EntryKind;
use crate::db::log::{self, LogEntryRow};
use crate::db::DbConnection;

/// Appends `entry` (its bytes, as docs/log.md defines them) about `subject` in the caller's
/// transaction, and returns its index. Indices are dense and ordered across every node: the size
/// counter stays locked until the caller's transaction ends.
pub fn append(
    conn: &mut DbConnection,
    kind: EntryKind,
    subject: &str,
    entry: &[u8],
    at: i64,
) -> diesel::QueryResult<u64> {
    let index = log::next_index(conn)?;
    log::insert_entry(
        conn,
        &LogEntryRow {
            idx: index as i64,
            kind: kind.as_str().into(),
            certificate_id: subject.into(),
            entry: entry.to_vec(),
            appended_at: at,
        },
    )?;
    // Store the leaf, then every subtree this leaf completes: while the node is a right child,
    // its parent is complete too.
    let mut hash = leaf_hash(entry);
    let (mut level, mut at_index) = (0u32, index);
    log::insert_node(conn, level, at_index, &hash)?;
    while at_index & 1 == 1 {
        let left = log::node(conn, (level, at_index - 1))?;
        hash = node_hash(&left, &hash);
        level += 1;
        at_index >>= 1;
        log::insert_node(conn, level, at_index, &hash)?;
    }
    log::leaf_stored(conn, index)?;
    Ok(index)
}
