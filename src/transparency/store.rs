//! Appending to the log: the entry's row, then the hashes of the subtrees it completes. Storage
//! (`db::log`) keeps rows; the tree they form is this module's. An append touches O(log n) rows
//! (amortised two) and never recomputes the tree.

use std::collections::HashMap;

use super::merkle::{leaf_hash, node_hash, Hash, NodeId};
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
    append_at(conn, index, kind, subject, entry, at)?;
    Ok(index)
}

/// Appends `entry` at `index`, a place the caller took in its transaction (`log::next_index`).
pub fn append_at(
    conn: &mut DbConnection,
    index: u64,
    kind: EntryKind,
    subject: &str,
    entry: &[u8],
    at: i64,
) -> diesel::QueryResult<()> {
    log::insert_entry(conn, &entry_row(index, kind, subject, entry, at))?;
    let mut stored = Vec::new();
    completed_nodes(index, leaf_hash(entry), &mut stored, |left| {
        log::node(conn, left)
    })?;
    for ((level, at_index), hash) in stored {
        log::insert_node(conn, level, at_index, &hash)?;
    }
    log::leaf_stored(conn, index)
}

/// Appends many entries of one kind in order, as `append_at` appends one, at the places from
/// `first` on, which the caller took in its transaction (`log::take_indices`). The subtrees to
/// their left are read in one statement, and the rows are stored with a few multi-row statements
/// (on PostgreSQL), whatever the number of entries: while the size counter is locked, every
/// statement is a round trip that every other writer waits for.
pub fn append_many_at(
    conn: &mut DbConnection,
    first: u64,
    kind: EntryKind,
    entries: &[(&str, Vec<u8>, i64)],
) -> diesel::QueryResult<()> {
    let n = entries.len() as u64;
    let rows: Vec<LogEntryRow> = entries
        .iter()
        .zip(first..)
        .map(|((subject, entry, at), index)| entry_row(index, kind, subject, entry, *at))
        .collect();
    log::insert_entries(conn, &rows)?;
    // The left neighbours that complete a subtree and end before `first` were stored earlier.
    let mut earlier = Vec::new();
    for index in first..first + n {
        let (mut level, mut at_index) = (0u32, index);
        while at_index & 1 == 1 {
            if at_index << level <= first && !earlier.contains(&(level, at_index - 1)) {
                earlier.push((level, at_index - 1));
            }
            level += 1;
            at_index >>= 1;
        }
    }
    let mut known: HashMap<NodeId, Hash> = log::nodes(conn, &earlier)?;
    let mut stored = Vec::new();
    for ((_, entry, _), index) in entries.iter().zip(first..) {
        let from = stored.len();
        completed_nodes(index, leaf_hash(entry), &mut stored, |left| {
            known.get(&left).copied().ok_or_else(|| missing(left))
        })?;
        known.extend(stored[from..].iter().copied());
    }
    log::insert_nodes(conn, &stored)?;
    for index in first..first + n {
        log::leaf_stored(conn, index)?;
    }
    Ok(())
}

fn entry_row(index: u64, kind: EntryKind, subject: &str, entry: &[u8], at: i64) -> LogEntryRow {
    LogEntryRow {
        idx: index as i64,
        kind: kind.as_str().into(),
        certificate_id: subject.into(),
        entry: entry.to_vec(),
        appended_at: at,
    }
}

/// The leaf at `index` and every subtree it completes, pushed onto `stored`: while a node is a
/// right child, its parent is complete too. `left` gives a stored left neighbour.
fn completed_nodes(
    index: u64,
    leaf: Hash,
    stored: &mut Vec<(NodeId, Hash)>,
    mut left: impl FnMut(NodeId) -> diesel::QueryResult<Hash>,
) -> diesel::QueryResult<()> {
    let (mut hash, mut level, mut at_index) = (leaf, 0u32, index);
    stored.push(((level, at_index), hash));
    while at_index & 1 == 1 {
        hash = node_hash(&left((level, at_index - 1))?, &hash);
        level += 1;
        at_index >>= 1;
        stored.push(((level, at_index), hash));
    }
    Ok(())
}

fn missing((level, index): NodeId) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(
        format!("log node ({level}, {index}) is not stored").into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DatabaseUrl, Db};

    fn fresh_log() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ikrar.sqlite3");
        let db = Db::connect(&DatabaseUrl::Sqlite(path.to_string_lossy().into())).unwrap();
        (dir, db)
    }

    /// Every stored node as (level, index, hash), and the first four blocks of leaf hashes.
    type Stored = (Vec<(i32, i64, Vec<u8>)>, Vec<Option<Vec<Hash>>>);

    fn stored(conn: &mut DbConnection) -> Stored {
        let nodes = log::nodes_page(conn, None, 10_000)
            .unwrap()
            .into_iter()
            .map(|n| (n.level, n.idx, n.hash))
            .collect();
        let blocks = (0..4).map(|b| log::block(conn, b).unwrap()).collect();
        (nodes, blocks)
    }

    /// Batches that start and end inside subtrees and blocks store exactly the entries, nodes
    /// and blocks that appending one entry at a time stores.
    #[test]
    fn a_batch_append_stores_what_appending_one_by_one_stores() {
        let entries: Vec<(String, Vec<u8>)> = (0..100u64)
            .map(|i| (format!("c{i}"), i.to_be_bytes().to_vec()))
            .collect();
        let (_one_dir, one) = fresh_log();
        let one = &mut *one.write().unwrap();
        for (subject, entry) in &entries {
            append(one, EntryKind::Issued, subject, entry, 9).unwrap();
        }
        let (_many_dir, many) = fresh_log();
        let many = &mut *many.write().unwrap();
        for (subject, entry) in &entries[..7] {
            append(many, EntryKind::Issued, subject, entry, 9).unwrap();
        }
        for (from, to) in [(7, 57), (57, 100)] {
            let batch: Vec<(&str, Vec<u8>, i64)> = entries[from..to]
                .iter()
                .map(|(subject, entry)| (subject.as_str(), entry.clone(), 9))
                .collect();
            let first = log::take_indices(many, batch.len() as u64).unwrap();
            assert_eq!(first, from as u64);
            append_many_at(many, first, EntryKind::Issued, &batch).unwrap();
        }
        let expected = stored(one);
        assert_eq!(expected.0.len(), 100 + 50 + 25 + 12 + 6 + 3 + 1);
        assert_eq!(expected.1.iter().filter(|b| b.is_some()).count(), 3);
        assert_eq!(stored(many), expected);
        for index in 0..100 {
            let (a, b) = (
                log::entry_at(one, index).unwrap().unwrap(),
                log::entry_at(many, index).unwrap().unwrap(),
            );
            assert_eq!((a.certificate_id, a.entry), (b.certificate_id, b.entry));
        }
    }
}
