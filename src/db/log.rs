//! Storage of the public log: entries, the hashes of complete subtrees and the signed
//! checkpoints, as rows. What the rows mean (the Merkle tree, the entry bytes, the checkpoints'
//! signatures) belongs to the transparency module; this module only reads and writes them, so that storage
//! depends on nothing above the domain.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::{counters, log_blocks, log_checkpoints, log_entries, log_nodes};
use super::DbConnection;

/// A SHA-256 hash of the tree (`transparency::merkle::Hash`).
pub type Hash = [u8; 32];
/// A stored subtree: (level, index) (`transparency::merkle::NodeId`).
pub type NodeId = (u32, u64);

/// How each kind of entry is spelled in `log_entries.kind`.
pub const ISSUED: &str = "issued";
pub const REVOKED: &str = "revoked";
/// Every key event (published, retired, revoked) has this kind; its subject is unique per event
/// and the entry bytes say which event it is (docs/log.md). One kind keeps them under one partial
/// index, `log_entries_keys`.
pub const KEY: &str = "key";

const SIZE_COUNTER: &str = "log_size";

/// Log entries per stored block of leaf hashes (`log_blocks`).
pub const LEAVES_PER_BLOCK: u64 = 32;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = log_entries)]
pub struct LogEntryRow {
    pub idx: i64,
    pub kind: String,
    pub certificate_id: String,
    pub entry: Vec<u8>,
    pub appended_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = log_nodes)]
pub struct LogNodeRow {
    pub level: i32,
    pub idx: i64,
    pub hash: Vec<u8>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = log_checkpoints)]
pub struct CheckpointRow {
    pub tree_size: i64,
    pub root: Vec<u8>,
    pub key_id: String,
    pub created_at: i64,
    pub note: String,
}

/// Locks the log's size counter until the caller's transaction ends, as its first statement:
/// the transaction then holds the write lock from the start (on SQLite it waits its turn instead
/// of failing with "database is locked" when it would upgrade a read at its first write), and
/// appends from other nodes wait for it.
pub fn lock_size(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::update(counters::table.find(SIZE_COUNTER))
        .set(counters::value.eq(counters::value))
        .execute(conn)
        .map(drop)
}

/// Takes the next index of the log in the caller's transaction. The size counter row stays
/// locked until that transaction ends, so indices are dense and ordered across every node.
pub fn next_index(conn: &mut DbConnection) -> QueryResult<u64> {
    Ok((super::advance_counter(conn, SIZE_COUNTER, 1)? - 1) as u64)
}

/// Takes the next `n` indices of the log at once and returns the first (see `next_index`).
pub fn take_indices(conn: &mut DbConnection, n: u64) -> QueryResult<u64> {
    Ok((super::advance_counter(conn, SIZE_COUNTER, n as i64)? as u64) - n)
}

/// Stores many entries' rows; one statement per 1,000 rows on PostgreSQL. SQLite keeps one
/// prepared insert per row: there a statement is a function call, and a multi-row insert would
/// be parsed anew for each batch size.
pub fn insert_entries(conn: &mut DbConnection, rows: &[LogEntryRow]) -> QueryResult<()> {
    match conn {
        DbConnection::Postgres(c) => {
            for chunk in rows.chunks(1_000) {
                diesel::insert_into(log_entries::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        DbConnection::Sqlite(_) => {
            for row in rows {
                insert_entry(conn, row)?;
            }
        }
    }
    Ok(())
}

/// Stores many subtree hashes, as `insert_entries` stores entries.
pub fn insert_nodes(conn: &mut DbConnection, nodes: &[(NodeId, Hash)]) -> QueryResult<()> {
    match conn {
        DbConnection::Postgres(c) => {
            for chunk in nodes.chunks(1_000) {
                let rows: Vec<LogNodeRow> = chunk
                    .iter()
                    .map(|&((level, index), hash)| LogNodeRow {
                        level: level as i32,
                        idx: index as i64,
                        hash: hash.to_vec(),
                    })
                    .collect();
                diesel::insert_into(log_nodes::table)
                    .values(&rows)
                    .execute(c)?;
            }
        }
        DbConnection::Sqlite(_) => {
            for &((level, index), hash) in nodes {
                insert_node(conn, level, index, &hash)?;
            }
        }
    }
    Ok(())
}

/// Stores an entry's row at the index `next_index` gave.
pub fn insert_entry(conn: &mut DbConnection, row: &LogEntryRow) -> QueryResult<()> {
    super::on_backend!(conn, |c| diesel::insert_into(log_entries::table)
        .values(row)
        .execute(c))
    .map(drop)
}

/// After the leaf at `index` is stored: stores its block of leaves once the block is full.
pub fn leaf_stored(conn: &mut DbConnection, index: u64) -> QueryResult<()> {
    if (index + 1).is_multiple_of(LEAVES_PER_BLOCK) {
        store_block(conn, index / LEAVES_PER_BLOCK)?;
    }
    Ok(())
}

/// Stores the leaves of a full block as one row; a block whose leaves are not all stored is
/// left to the range read.
fn store_block(conn: &mut DbConnection, block: u64) -> QueryResult<()> {
    let start = block * LEAVES_PER_BLOCK;
    let leaves = leaves(conn, start, start + LEAVES_PER_BLOCK)?;
    if leaves.len() as u64 == LEAVES_PER_BLOCK {
        insert_block(conn, block, &leaves)?;
    }
    Ok(())
}

/// Another node (on PostgreSQL) may have stored the same block a moment earlier.
fn insert_block(conn: &mut DbConnection, block: u64, leaves: &[Hash]) -> QueryResult<()> {
    super::on_backend!(conn, |c| diesel::insert_into(log_blocks::table)
        .values((
            log_blocks::block.eq(block as i64),
            log_blocks::leaves.eq(leaves.concat()),
        ))
        .on_conflict_do_nothing()
        .execute(c))
    .map(drop)
}

/// The 32 leaf hashes of a full block, if its row is stored and well formed.
pub fn block(conn: &mut DbConnection, block: u64) -> QueryResult<Option<Vec<Hash>>> {
    let bytes: Option<Vec<u8>> = super::on_backend!(conn, |c| log_blocks::table
        .find(block as i64)
        .select(log_blocks::leaves)
        .first(c)
        .optional())?;
    Ok(bytes.and_then(|b| split_block(&b)))
}

/// The 32 hashes of a stored block; `None` for a damaged one.
pub fn split_block(bytes: &[u8]) -> Option<Vec<Hash>> {
    (bytes.len() as u64 == 32 * LEAVES_PER_BLOCK).then(|| {
        bytes
            .chunks_exact(32)
            .map(|h| h.try_into().expect("32 bytes"))
            .collect()
    })
}

/// Stored blocks in order, a page after `after`: what an audit compares with the leaves.
pub fn blocks_page(
    conn: &mut DbConnection,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<(i64, Vec<u8>)>> {
    let mut q = log_blocks::table
        .select((log_blocks::block, log_blocks::leaves))
        .order(log_blocks::block)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(log_blocks::block.gt(after));
    }
    q.load(conn)
}

/// Stores the full blocks among `from..from + count` that have no row yet (a log from before
/// `log_blocks` existed), in the caller's transaction. Returns how many it stored and where to
/// go on, or `None` once every full block has been looked at.
pub fn fill_blocks(
    conn: &mut DbConnection,
    from: u64,
    count: u64,
) -> QueryResult<(u64, Option<u64>)> {
    let full = size(conn)? / LEAVES_PER_BLOCK;
    let stored: i64 = log_blocks::table.count().get_result(conn)?;
    if stored as u64 >= full || from >= full {
        return Ok((0, None));
    }
    let end = (from + count).min(full);
    let present: std::collections::HashSet<i64> = log_blocks::table
        .filter(log_blocks::block.ge(from as i64))
        .filter(log_blocks::block.lt(end as i64))
        .select(log_blocks::block)
        .load(conn)?
        .into_iter()
        .collect();
    let mut stored = 0;
    if (present.len() as u64) < end - from {
        // Up to the first missing leaf, if any: the audit names that one.
        let leaves = leaves(conn, from * LEAVES_PER_BLOCK, end * LEAVES_PER_BLOCK)?;
        for (offset, chunk) in leaves.chunks_exact(LEAVES_PER_BLOCK as usize).enumerate() {
            let block = from + offset as u64;
            if !present.contains(&(block as i64)) {
                insert_block(conn, block, chunk)?;
                stored += 1;
            }
        }
    }
    Ok((stored, (end < full).then_some(end)))
}

/// Stores the hash of one complete subtree.
pub fn insert_node(
    conn: &mut DbConnection,
    level: u32,
    index: u64,
    hash: &Hash,
) -> QueryResult<()> {
    let row = LogNodeRow {
        level: level as i32,
        idx: index as i64,
        hash: hash.to_vec(),
    };
    super::on_backend!(conn, |c| diesel::insert_into(log_nodes::table)
        .values(&row)
        .execute(c))
    .map(drop)
}

/// One stored subtree hash; an error if it is absent.
pub fn node(conn: &mut DbConnection, (level, index): NodeId) -> QueryResult<Hash> {
    let bytes: Vec<u8> = super::on_backend!(conn, |c| log_nodes::table
        .find((level as i32, index as i64))
        .select(log_nodes::hash)
        .first(c))?;
    bytes
        .try_into()
        .map_err(|_| diesel::result::Error::DeserializationError("log node is not 32 bytes".into()))
}

/// The number of entries in the log.
pub fn size(conn: &mut DbConnection) -> QueryResult<u64> {
    counters::table
        .find(SIZE_COUNTER)
        .select(counters::value)
        .first::<i64>(conn)
        .map(|v| v as u64)
}

/// Reads the given stored nodes in one statement; absent ones are left out of the map.
pub fn nodes(conn: &mut DbConnection, ids: &[NodeId]) -> QueryResult<HashMap<NodeId, Hash>> {
    let mut found = HashMap::with_capacity(ids.len());
    // A proof needs at most 2·64 nodes; chunks keep one statement's parameters few anyway.
    for chunk in ids.chunks(128) {
        let mut query = log_nodes::table
            .select(LogNodeRow::as_select())
            .filter(log_nodes::level.eq(-1))
            .into_boxed();
        for &(level, index) in chunk {
            query = query.or_filter(
                log_nodes::level
                    .eq(level as i32)
                    .and(log_nodes::idx.eq(index as i64)),
            );
        }
        for row in query.load(conn)? {
            if let Ok(hash) = row.hash.try_into() {
                found.insert((row.level as u32, row.idx as u64), hash);
            }
        }
    }
    Ok(found)
}

/// The stored nodes of one level with index below `end`, in index order; malformed ones are
/// left out.
pub fn level_nodes(conn: &mut DbConnection, level: u32, end: u64) -> QueryResult<Vec<(u64, Hash)>> {
    let rows: Vec<(i64, Vec<u8>)> = log_nodes::table
        .filter(log_nodes::level.eq(level as i32))
        .filter(log_nodes::idx.lt(end as i64))
        .order(log_nodes::idx)
        .select((log_nodes::idx, log_nodes::hash))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(idx, hash)| Some((idx as u64, hash.try_into().ok()?)))
        .collect())
}

/// The leaf hashes of entries `start..end` in index order, up to the first one missing or
/// malformed: one range read of the stored tree.
pub fn leaves(conn: &mut DbConnection, start: u64, end: u64) -> QueryResult<Vec<Hash>> {
    let rows: Vec<(i64, Vec<u8>)> = super::on_backend!(conn, |c| log_nodes::table
        .filter(log_nodes::level.eq(0))
        .filter(log_nodes::idx.ge(start as i64))
        .filter(log_nodes::idx.lt(end as i64))
        .order(log_nodes::idx)
        .select((log_nodes::idx, log_nodes::hash))
        .load(c))?;
    Ok(rows
        .into_iter()
        .zip(start..)
        .map_while(|((idx, hash), expected)| {
            (idx as u64 == expected).then_some(())?;
            hash.try_into().ok()
        })
        .collect())
}

/// Stored nodes in (level, index) order, a page after `after`: what an audit compares.
pub fn nodes_page(
    conn: &mut DbConnection,
    after: Option<(i32, i64)>,
    limit: i64,
) -> QueryResult<Vec<LogNodeRow>> {
    let mut q = log_nodes::table
        .select(LogNodeRow::as_select())
        .order((log_nodes::level, log_nodes::idx))
        .limit(limit)
        .into_boxed();
    if let Some((level, idx)) = after {
        q = q.filter(
            log_nodes::level
                .gt(level)
                .or(log_nodes::level.eq(level).and(log_nodes::idx.gt(idx))),
        );
    }
    q.load(conn)
}

/// The entry of `kind` (`ISSUED`, `REVOKED`, `KEY`, or a `transparency::EntryKind`) about a
/// subject.
pub fn entry_of(
    conn: &mut DbConnection,
    certificate_id: &str,
    kind: impl AsRef<str>,
) -> QueryResult<Option<LogEntryRow>> {
    let kind = kind.as_ref();
    super::on_backend!(conn, |c| log_entries::table
        .filter(log_entries::certificate_id.eq(certificate_id))
        .filter(log_entries::kind.eq(kind))
        .select(LogEntryRow::as_select())
        .first(c)
        .optional())
}

pub fn entry_at(conn: &mut DbConnection, index: u64) -> QueryResult<Option<LogEntryRow>> {
    log_entries::table
        .find(index as i64)
        .select(LogEntryRow::as_select())
        .first(conn)
        .optional()
}

/// Entries in index order, a page after `after`.
pub fn entries_page(
    conn: &mut DbConnection,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<LogEntryRow>> {
    let mut q = log_entries::table
        .select(LogEntryRow::as_select())
        .order(log_entries::idx)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(log_entries::idx.gt(after));
    }
    q.load(conn)
}

pub fn latest_checkpoint(conn: &mut DbConnection) -> QueryResult<Option<CheckpointRow>> {
    super::on_backend!(conn, |c| log_checkpoints::table
        .order(log_checkpoints::tree_size.desc())
        .select(CheckpointRow::as_select())
        .first(c)
        .optional())
}

/// Checkpoints in size order, a page after `after`: one is signed per second while the log grows,
/// so there are too many to load at once.
pub fn checkpoints_page(
    conn: &mut DbConnection,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<CheckpointRow>> {
    let mut q = log_checkpoints::table
        .order(log_checkpoints::tree_size)
        .select(CheckpointRow::as_select())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(log_checkpoints::tree_size.gt(after));
    }
    q.load(conn)
}

pub fn checkpoint_of_size(
    conn: &mut DbConnection,
    size: u64,
) -> QueryResult<Option<CheckpointRow>> {
    log_checkpoints::table
        .find(size as i64)
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()
}

/// Stores a checkpoint; another node may have stored the same size first, which is fine.
pub fn insert_checkpoint(conn: &mut DbConnection, row: &CheckpointRow) -> QueryResult<bool> {
    match diesel::insert_into(log_checkpoints::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The revocation entries from index `from` on, in log order (partial index
/// `log_entries_revocations`: cheap however long the log is).
pub fn revocations_from(conn: &mut DbConnection, from: u64) -> QueryResult<Vec<LogEntryRow>> {
    super::on_backend!(conn, |c| log_entries::table
        .filter(log_entries::kind.eq(REVOKED))
        .filter(log_entries::idx.ge(from as i64))
        .order(log_entries::idx)
        .select(LogEntryRow::as_select())
        .load(c))
}

/// Revocations in the log whose certificate row does not say revoked: rows that contradict the
/// log (altered in the database after the fact). Index and certificate id.
pub fn revocations_contradicted(conn: &mut DbConnection) -> QueryResult<Vec<(i64, String)>> {
    use super::schema::certificates;
    let standing = certificates::table
        .filter(certificates::revoked_at.is_null())
        .select(certificates::id);
    super::on_backend!(conn, |c| log_entries::table
        .filter(log_entries::kind.eq(REVOKED))
        .filter(log_entries::certificate_id.eq_any(standing))
        .order(log_entries::idx)
        .select((log_entries::idx, log_entries::certificate_id))
        .load(c))
}

/// The key events below index `below`, in log order (partial index `log_entries_keys`: cheap
/// however long the log is).
pub fn key_events_below(conn: &mut DbConnection, below: u64) -> QueryResult<Vec<LogEntryRow>> {
    super::on_backend!(conn, |c| log_entries::table
        .filter(log_entries::kind.eq(KEY))
        .filter(log_entries::idx.lt(below as i64))
        .order(log_entries::idx)
        .select(LogEntryRow::as_select())
        .load(c))
}

/// How many key events the log holds (through `log_entries_keys`).
pub fn key_event_count(conn: &mut DbConnection) -> QueryResult<i64> {
    super::on_backend!(conn, |c| log_entries::table
        .filter(log_entries::kind.eq(KEY))
        .count()
        .get_result(c))
}
