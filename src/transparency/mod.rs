//! The public, append-only log of every certificate, revocation and key event (docs/log.md): the
//! append and its RFC 6962 Merkle hashing, signed checkpoints, the signed key list, proofs for
//! anyone who does not trust our server, and the audit behind `ikrar log verify`. Storage
//! (`db::log`) only keeps the rows; entries reach the log as bytes (`store::append`).

pub mod audit;
pub mod checkpoint;
pub mod entry;
pub mod keys;
pub mod merkle;
pub mod store;
pub mod tree;

use std::time::Duration;

use crate::crypto::IssuerKey;
use crate::db::certificates::{CertificateRow, Verifiable};
use crate::db::keys::IssuerKeyRow;
use crate::db::log::{self, CheckpointRow};
use crate::db::{Db, DbConnection, DbError};
pub use entry::EntryKind;
use merkle::Hash;
pub use tree::LogMemory;
use tree::SharedFrom;

/// How often a node looks whether the log grew and, if so, signs a checkpoint: a new certificate
/// is covered by a published checkpoint within about this long.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Appends the issuance of a certificate stored before the log existed, and notes its index on
/// the certificate.
pub fn log_issuance(conn: &mut DbConnection, row: &CertificateRow) -> diesel::QueryResult<u64> {
    let entry = entry::issued(row).ok_or_else(damaged)?;
    let index = store::append(conn, EntryKind::Issued, &row.id, &entry, row.signed_at)?;
    crate::db::certificates::set_log_index(conn, &row.id, index)?;
    Ok(index)
}

/// Takes the log's next `n` places for issuances, in the caller's (issuing) transaction, before
/// their certificates are stored: a certificate's row is written once, with its place
/// (`certificates::insert`). Returns the first; the size counter stays locked until the commit.
pub fn reserve_places(conn: &mut DbConnection, n: u64) -> diesel::QueryResult<u64> {
    crate::db::log::take_indices(conn, n)
}

/// Appends issued certificates, stored with places from `first` on (`reserve_places`), at those
/// places, with a few statements for all of them (`store::append_many_at`).
pub fn log_issuances_at(
    conn: &mut DbConnection,
    first: u64,
    rows: &[CertificateRow],
) -> diesel::QueryResult<()> {
    let entries = rows
        .iter()
        .map(|row| {
            Ok((
                row.id.as_str(),
                entry::issued(row).ok_or_else(damaged)?,
                row.signed_at,
            ))
        })
        .collect::<diesel::QueryResult<Vec<_>>>()?;
    if let [(subject, entry, at)] = entries.as_slice() {
        // One entry keeps SQLite's prepared single-row statements.
        return store::append_at(conn, first, EntryKind::Issued, subject, entry, *at);
    }
    store::append_many_at(conn, first, EntryKind::Issued, &entries)
}

/// Appends a revocation, in the caller's (revoking) transaction.
pub fn log_revocation(
    conn: &mut DbConnection,
    row: &CertificateRow,
    at: i64,
    reason: &str,
) -> diesel::QueryResult<u64> {
    let entry = entry::revoked(row, at, reason).ok_or_else(damaged)?;
    store::append(conn, EntryKind::Revoked, &row.id, &entry, at)
}

fn damaged() -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError("certificate id is not one of ours".into())
}

/// Appends the certificates and revocations that predate the log (a database from before the
/// log existed), in serial order, then revocation order, then the keys that predate key events
/// (`keys::log_unlogged_keys`). Cheap when nothing is missing: a few counts. The size counter is
/// locked first, so nodes starting together do not append twice.
pub fn backfill(conn: &mut DbConnection) -> Result<u64, DbError> {
    use diesel::prelude::*;

    use crate::db::schema::counters;
    let certificates_logged = backfill_certificates(conn)?;
    let keys_logged = conn.transaction(|conn| {
        diesel::update(counters::table.find("log_size"))
            .set(counters::value.eq(counters::value))
            .execute(conn)?;
        keys::log_unlogged_keys(conn, false)
    })?;
    Ok(certificates_logged + keys_logged)
}

fn backfill_certificates(conn: &mut DbConnection) -> Result<u64, DbError> {
    use diesel::prelude::*;

    use crate::db::schema::{certificates, counters, log_entries};
    conn.transaction(|conn| {
        diesel::update(counters::table.find("log_size"))
            .set(counters::value.eq(counters::value))
            .execute(conn)?;
        let issued: i64 = certificates::table.count().get_result(conn)?;
        let revoked: i64 = certificates::table
            .filter(certificates::revoked_at.is_not_null())
            .count()
            .get_result(conn)?;
        // Key events are entries too, but not about certificates.
        let logged: i64 =
            log_entries::table.count().get_result::<i64>(conn)? - log::key_event_count(conn)?;
        if issued + revoked <= logged {
            return Ok(0);
        }
        let known: std::collections::HashSet<(String, String)> = log_entries::table
            .select((log_entries::certificate_id, log_entries::kind))
            .filter(log_entries::kind.ne(log::KEY))
            .load(conn)?
            .into_iter()
            .collect();
        let rows: Vec<CertificateRow> = certificates::table
            .order(certificates::serial)
            .select(CertificateRow::as_select())
            .load(conn)?;
        let mut appended = 0;
        for row in &rows {
            if !known.contains(&(row.id.to_string(), EntryKind::Issued.as_str().to_string())) {
                log_issuance(conn, row)?;
                appended += 1;
            }
        }
        let mut revocations: Vec<&CertificateRow> =
            rows.iter().filter(|r| r.revoked_at.is_some()).collect();
        revocations.sort_by_key(|r| r.revoked_at);
        for row in revocations {
            if !known.contains(&(row.id.to_string(), EntryKind::Revoked.as_str().to_string())) {
                let (at, reason) = (
                    row.revoked_at.unwrap_or_default(),
                    row.revocation_reason.clone(),
                );
                log_revocation(conn, row, at, reason.as_deref().unwrap_or_default())?;
                appended += 1;
            }
        }
        Ok(appended)
    })
}

/// The log's name in its checkpoints: the public address without scheme, plus `/log`. Once a
/// checkpoint is published the log keeps that origin, whatever address a node is started with.
pub fn default_origin(base_url: &str) -> String {
    let host = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .trim_end_matches('/');
    format!("{host}/log")
}

fn origin_of(note: &str) -> &str {
    note.lines().next().unwrap_or_default()
}

/// Signs and stores a checkpoint if the log grew since the latest one. Returns the new one.
pub fn make_checkpoint(
    conn: &mut DbConnection,
    key: &IssuerKey,
    default_origin: &str,
    now: i64,
) -> Result<Option<CheckpointRow>, DbError> {
    let size = log::size(conn)?;
    let latest = log::latest_checkpoint(conn)?;
    if size == 0 || latest.as_ref().is_some_and(|c| c.tree_size as u64 >= size) {
        return Ok(None);
    }
    // A node whose log key was rotated out or revoked since it started signs no more
    // checkpoints: verifiers would refuse them, and a node with the current key file signs.
    let standing = crate::db::keys::find(conn, &key.id().to_hex())?;
    if standing.is_some_and(|k| k.status() != crate::db::keys::KeyStatus::Active || !k.does("log"))
    {
        tracing::warn!(
            key = %key.id().to_hex(),
            "the log key of this node is no longer in service; restart it with the current log key file"
        );
        return Ok(None);
    }
    let origin = latest
        .as_ref()
        .map_or(default_origin, |c| origin_of(&c.note))
        .to_string();
    let ids = merkle::nodes_for(&[merkle::root_range(size)]);
    let nodes = log::nodes(conn, &ids)?;
    let root = merkle::root_of(size, &nodes).ok_or_else(|| {
        DbError::Query(diesel::result::Error::DeserializationError(
            "a complete subtree of the log is missing".into(),
        ))
    })?;
    let row = CheckpointRow {
        tree_size: size as i64,
        root: root.to_vec(),
        key_id: key.id().to_hex(),
        created_at: now,
        note: checkpoint::sign(&origin, size, &root, key),
    };
    Ok(log::insert_checkpoint(conn, &row)?.then_some(row))
}

/// Signs checkpoints for as long as the node runs. Errors are logged and retried next tick: a late
/// checkpoint delays proofs, it does not lose entries.
pub async fn checkpoint_loop(db: Db, key: std::sync::Arc<IssuerKey>, default_origin: String) {
    let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (db, key, origin) = (db.clone(), key.clone(), default_origin.clone());
        let made =
            tokio::task::spawn_blocking(move || -> Result<Option<CheckpointRow>, DbError> {
                // Read first: a write connection is taken only when there is something to sign.
                let grew = {
                    let mut conn = db.read()?;
                    let size = log::size(&mut conn)?;
                    let latest = log::latest_checkpoint(&mut conn)?;
                    size > latest.map_or(0, |c| c.tree_size as u64)
                };
                if !grew {
                    return Ok(None);
                }
                make_checkpoint(&mut *db.write()?, &key, &origin, crate::db::now())
            })
            .await;
        match made {
            Ok(Ok(Some(c))) => tracing::debug!(size = c.tree_size, "signed a log checkpoint"),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot sign a log checkpoint"),
            Err(e) => tracing::warn!(error = %e, "the checkpoint task failed"),
        }
    }
}

/// The proof hashes for leaf `index` in the tree of `size` leaves, from stored nodes.
pub fn inclusion_proof(
    conn: &mut DbConnection,
    index: u64,
    size: u64,
) -> diesel::QueryResult<Option<Vec<Hash>>> {
    stored_hashes(conn, &merkle::inclusion_ranges(index, size), size)
}

/// The hashes of `ranges` in the tree of `size` leaves, for a proof handed out as it is: read
/// from the database only, never from the process's memo.
fn stored_hashes(
    conn: &mut DbConnection,
    ranges: &[merkle::Range],
    size: u64,
) -> diesel::QueryResult<Option<Vec<Hash>>> {
    let ids = merkle::nodes_for(ranges);
    let nodes = tree::Nodes::read(conn, &ids, size, SharedFrom::Database, None)?;
    Ok(merkle::hashes_of(ranges, &nodes.hashes))
}

/// Whether the stored nodes prove `leaf` at `index` in the tree of `size` leaves with `root`.
/// A proof that held is remembered: it is a fact about these hashes, whatever the database holds
/// later, and a checkpoint stays the latest for a while, so a certificate scanned again skips the
/// node reads. A failed proof is not remembered: it may be a damaged node, repaired later.
/// `read_ahead` is the certificate's stored block of leaves if it was already read.
pub(crate) fn proven_included(
    conn: &mut DbConnection,
    memory: &LogMemory,
    index: u64,
    size: u64,
    (leaf, root): (Hash, Hash),
    read_ahead: Option<&(u64, Vec<u8>)>,
) -> diesel::QueryResult<bool> {
    let key = (index, size, leaf, root);
    if memory.proven.get(&key).is_some() {
        return Ok(true);
    }
    let ranges = merkle::inclusion_ranges(index, size);
    let ids = merkle::nodes_for(&ranges);
    let holds = |nodes: &tree::Nodes| {
        merkle::hashes_of(&ranges, &nodes.hashes)
            .is_some_and(|proof| merkle::verify_inclusion(index, size, &leaf, &proof, &root))
    };
    let mut nodes = tree::Nodes::read(conn, &ids, size, SharedFrom::Memo(memory), read_ahead)?;
    let mut held = holds(&nodes);
    if !held && nodes.used_memo {
        nodes = tree::Nodes::read(conn, &ids, size, SharedFrom::Database, read_ahead)?;
        held = holds(&nodes);
    }
    if held {
        memory.proven.remember(key, ());
        nodes.remember_shared(memory);
    }
    Ok(held)
}

/// Checks the stored tree above the shared level against the latest checkpoint, if an issuer key
/// in service signed it, and remembers it (`tree::remember_all_shared`). Run once after a start,
/// off the request path: the first scan of each certificate then reads only its own block of the
/// log. Returns how many nodes were remembered.
pub fn remember_proof_nodes(conn: &mut DbConnection, memory: &LogMemory) -> Result<usize, DbError> {
    let Some(cp) = log::latest_checkpoint(conn)? else {
        return Ok(0);
    };
    let Ok(root) = Hash::try_from(cp.root.as_slice()) else {
        return Ok(0);
    };
    if !signed_in_service(conn, memory, &cp, None)? {
        return Ok(0);
    }
    Ok(tree::remember_all_shared(
        conn,
        memory,
        cp.tree_size as u64,
        &root,
    )?)
}

/// Stores the blocks of leaf hashes that a log from before `log_blocks` lacks, a thousand blocks
/// per write transaction so that signings wait at most a moment. Returns how many it stored.
pub fn store_missing_blocks(db: &Db) -> Result<u64, DbError> {
    const BLOCKS_PER_TRANSACTION: u64 = 1_024;
    let (mut from, mut stored) = (Some(0), 0);
    while let Some(start) = from {
        let (more, next) = diesel::Connection::transaction(&mut *db.write()?, |c| {
            log::fill_blocks(c, start, BLOCKS_PER_TRANSACTION).map_err(DbError::from)
        })?;
        (stored, from) = (stored + more, next);
    }
    Ok(stored)
}

/// The proof hashes that the tree of `second` leaves extends the one of `first` leaves.
pub fn consistency_proof(
    conn: &mut DbConnection,
    first: u64,
    second: u64,
) -> diesel::QueryResult<Option<Vec<Hash>>> {
    stored_hashes(conn, &merkle::consistency_ranges(first, second), second)
}

/// Where a certificate stands in the log, as the verification page reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCheck {
    pub index: u64,
    pub revocation_index: Option<u64>,
    /// The latest checkpoint, if one was published yet.
    pub checkpoint_size: Option<u64>,
    pub checkpoint_at: Option<i64>,
    /// The certificate as stored hashes to a leaf whose inclusion proof leads to the latest
    /// checkpoint's root. `None` when the checkpoint is older than the entry.
    pub included: Option<bool>,
    /// Included, and the checkpoint is signed by an issuer key in service: the issuer has
    /// vouched for this very record, its claim and its signature bytes.
    pub vouched: bool,
}

impl LogCheck {
    /// How the record's own signature is to be established after this check: a log that
    /// vouches for the record spares a second Ed25519 verification (a fifth of a scan's CPU).
    pub fn signature_check(check: Option<&Self>) -> crate::crypto::SignatureCheck {
        match check {
            Some(c) if c.vouched => crate::crypto::SignatureCheck::VouchedByLog,
            _ => crate::crypto::SignatureCheck::Verify,
        }
    }
}

/// Checks the certificate's inclusion in the latest checkpoint, which was read with it. Read-only:
/// the revocation's index if it was revoked, one range of leaves (unless read ahead), and about
/// log₂(n) hashes; no tree recomputation.
pub fn check_certificate(
    conn: &mut DbConnection,
    memory: &LogMemory,
    found: &Verifiable,
) -> Result<Option<LogCheck>, DbError> {
    let Some(index) = found.log_index else {
        return Ok(None);
    };
    let row = &found.certificate;
    let revocation_index = match row.revoked_at {
        Some(_) => log::entry_of(conn, &row.id, EntryKind::Revoked)?.map(|e| e.idx as u64),
        None => None,
    };
    let latest = found.latest_checkpoint.as_ref();
    let mut check = LogCheck {
        index,
        revocation_index,
        checkpoint_size: latest.map(|c| c.tree_size as u64),
        checkpoint_at: latest.map(|c| c.created_at),
        included: None,
        vouched: false,
    };
    if let Some(cp) = latest.filter(|c| c.tree_size as u64 > index) {
        // The leaf comes from the certificate row, not from the stored entry: the proof then
        // says that this very record is the one the log committed to.
        let leaf = entry::issued(row).map(|e| merkle::leaf_hash(&e));
        let root: Option<Hash> = cp.root.as_slice().try_into().ok();
        let size = cp.tree_size as u64;
        check.included = Some(match (leaf, root) {
            (Some(leaf), Some(root)) => proven_included(
                conn,
                memory,
                index,
                size,
                (leaf, root),
                found.leaf_block.as_ref(),
            )?,
            _ => false,
        });
        check.vouched = check.included == Some(true)
            && signed_in_service(conn, memory, cp, found.issuer_key.as_ref())?;
    }
    Ok(Some(check))
}

/// Whether the checkpoint's note is signed, for its own size and root, by the key it names, and
/// that key still signs for the log, neither retired nor revoked. The last checkpoint that opened is
/// remembered: it stays the latest for a second or more, so this is one Ed25519 verification per
/// checkpoint instead of one per scanned certificate. The key's standing is read every time, so a
/// key revoked a moment ago vouches for nothing; `known` is a key row already read in the same
/// snapshot (usually the checkpoint's own key), which saves reading it again.
fn signed_in_service(
    conn: &mut DbConnection,
    memory: &LogMemory,
    cp: &CheckpointRow,
    known: Option<&IssuerKeyRow>,
) -> Result<bool, DbError> {
    let read;
    let key = match known.filter(|k| k.key_id == cp.key_id) {
        Some(key) => key,
        None => match crate::db::keys::find(conn, &cp.key_id)? {
            Some(key) => {
                read = key;
                &read
            }
            None => return Ok(false),
        },
    };
    if key.status() != crate::db::keys::KeyStatus::Active || !key.does("log") {
        return Ok(false);
    }
    let same = |(last, public): &(CheckpointRow, Vec<u8>)| {
        (last.tree_size, &last.root, &last.note, public)
            == (cp.tree_size, &cp.root, &cp.note, &key.public_key)
    };
    if memory
        .last_opened
        .lock()
        .is_ok_and(|last| last.as_ref().is_some_and(same))
    {
        return Ok(true);
    }
    let Ok(public) = <[u8; 32]>::try_from(key.public_key.as_slice()) else {
        return Ok(false);
    };
    let opened = checkpoint::open(&cp.note, &public)
        .is_ok_and(|c| c.size == cp.tree_size as u64 && c.root[..] == cp.root[..]);
    if opened {
        if let Ok(mut last) = memory.last_opened.lock() {
            *last = Some((cp.clone(), key.public_key.clone()));
        }
    }
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DatabaseUrl;

    #[test]
    fn only_a_checkpoint_signed_by_a_key_in_service_vouches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ikrar.sqlite3");
        let db = Db::connect(&DatabaseUrl::Sqlite(path.to_string_lossy().into())).unwrap();
        let conn = &mut *db.write().unwrap();
        let (key, next) = (IssuerKey::from_seed([3; 32]), IssuerKey::from_seed([4; 32]));
        let memory = LogMemory::new();
        let both = entry::KeyRoles::CLAIM.with(entry::KeyRoles::LOG);
        crate::signing::keyring::register(conn, &key, both, 0).unwrap();
        let root = [5u8; 32];
        let cp = CheckpointRow {
            tree_size: 7,
            root: root.to_vec(),
            key_id: key.id().to_hex(),
            created_at: 0,
            note: checkpoint::sign("ikrar.example/log", 7, &root, &key),
        };
        assert!(signed_in_service(conn, &memory, &cp, None).unwrap());

        let other_root = CheckpointRow {
            root: vec![6; 32],
            ..cp.clone()
        };
        assert!(!signed_in_service(conn, &memory, &other_root, None).unwrap());
        let forged = CheckpointRow {
            note: checkpoint::sign("ikrar.example/log", 7, &root, &next),
            ..cp.clone()
        };
        assert!(!signed_in_service(conn, &memory, &forged, None).unwrap());

        // Rotated out: its checkpoints are still genuine, but no longer vouch on their own.
        crate::signing::keyring::rotate(conn, crate::signing::Role::Claim, &key, &next, 100)
            .unwrap();
        assert!(!signed_in_service(conn, &memory, &cp, None).unwrap());
    }
}
