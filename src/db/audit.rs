//! The audit trail: every admin action and every sign-in, in order. Rows are only ever inserted
//! (the database refuses updates and deletes by trigger); each carries the hash of the row before
//! it, so a row changed behind the triggers' back breaks the chain at that row.

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::{audit_log, counters};
use super::{DbConnection, DbError};
use crate::domain::AdminScope;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is recorded about one event, before it is numbered and chained.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// `admin:<id>`, `pegawai:<id>`, or what was typed when no one was recognised.
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    /// The area the event concerns (`""` = national); admins read the events inside their scope.
    pub scope_code: &'a str,
    /// The agency the event concerns (`""` = none): agency admins read only their agency's.
    pub agency: &'a str,
    pub client_addr: &'a str,
    pub detail: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub scope_code: String,
    pub agency: String,
    pub client_addr: String,
    pub detail: String,
    pub prev_hash: String,
    pub entry_hash: String,
}

impl AuditEntry {
    /// SHA-256 over the previous hash and every field, each length-prefixed so that no two
    /// different entries encode alike.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"ikrar/audit/v1\n");
        let seq = self.seq.to_string();
        let at = self.at.to_string();
        for part in [
            self.prev_hash.as_str(),
            &seq,
            &at,
            &self.actor,
            &self.action,
            &self.target,
            &self.scope_code,
            &self.agency,
            &self.client_addr,
            &self.detail,
        ] {
            h.update((part.len() as u32).to_be_bytes());
            h.update(part.as_bytes());
        }
        data_encoding::HEXLOWER.encode(&h.finalize())
    }
}

/// Appends one entry inside the caller's transaction (or its own statement group). Taking the
/// next number from the counter row serialises writers, also across nodes on one PostgreSQL.
pub fn append(conn: &mut DbConnection, event: &AuditEvent<'_>, at: i64) -> QueryResult<i64> {
    conn.transaction(|conn| {
        let seq = super::advance_counter(conn, "audit_seq", 1)?;
        let prev_hash = if seq == 1 {
            GENESIS.to_string()
        } else {
            audit_log::table
                .find(seq - 1)
                .select(audit_log::entry_hash)
                .first(conn)?
        };
        let mut entry = AuditEntry {
            seq,
            at,
            actor: event.actor.to_string(),
            action: event.action.to_string(),
            target: event.target.to_string(),
            scope_code: event.scope_code.to_string(),
            agency: event.agency.to_string(),
            client_addr: event.client_addr.to_string(),
            detail: event.detail.to_string(),
            prev_hash,
            entry_hash: String::new(),
        };
        entry.entry_hash = entry.compute_hash();
        diesel::insert_into(audit_log::table)
            .values(&entry)
            .execute(conn)?;
        Ok(seq)
    })
}

/// What an admin asks of the audit trail, besides their scope.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Keyset paging: only entries numbered below this one (the last one of the previous page).
    pub before: Option<i64>,
    /// One action exactly, as stored (refused attempts are stored as `<action>_ditolak`).
    pub action: Option<String>,
    /// One actor exactly, as stored (`admin:<id>`, `pegawai:<id>`).
    pub actor: Option<String>,
    /// Entries at or after this instant (Unix seconds).
    pub since: Option<i64>,
    /// Entries before this instant (Unix seconds).
    pub until: Option<i64>,
}

/// Up to `limit` entries inside the admin's scope that match the query, newest first. Paged by
/// number, not by offset: a page costs the same at the millionth entry as at the first.
pub fn page_within(
    conn: &mut DbConnection,
    scope: &AdminScope,
    query: &AuditQuery,
    limit: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    let mut rows =
        audit_log::table
            .filter(scope.sql_filter::<_, super::MultiBackend, _, _>(
                audit_log::scope_code,
                audit_log::agency,
            ))
            .order(audit_log::seq.desc())
            .limit(limit)
            .select(AuditEntry::as_select())
            .into_boxed();
    if let Some(before) = query.before {
        rows = rows.filter(audit_log::seq.lt(before));
    }
    if let Some(action) = &query.action {
        rows = rows.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(actor) = &query.actor {
        rows = rows.filter(audit_log::actor.eq(actor.clone()));
    }
    if let Some(since) = query.since {
        rows = rows.filter(audit_log::at.ge(since));
    }
    if let Some(until) = query.until {
        rows = rows.filter(audit_log::at.lt(until));
    }
    Ok(rows.load(conn)?)
}

/// How often this client address did `action` since `since`, for the per-address rate limits.
pub fn count_from_address(
    conn: &mut DbConnection,
    client_addr: &str,
    action: &str,
    since: i64,
) -> Result<i64, DbError> {
    Ok(audit_log::table
        .filter(audit_log::client_addr.eq(client_addr))
        .filter(audit_log::action.eq(action))
        .filter(audit_log::at.ge(since))
        .count()
        .get_result(conn)?)
}

/// Where the chain first breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

/// Walks the whole trail in order, a page at a time, and returns the number of entries checked
/// or the first entry that is missing, altered, or does not follow its predecessor.
pub fn verify_chain(conn: &mut DbConnection) -> Result<Result<i64, BrokenLink>, DbError> {
    const PAGE: i64 = 5_000;
    let mut expected_seq = 1;
    let mut prev = GENESIS.to_string();
    loop {
        let page: Vec<AuditEntry> = audit_log::table
            .filter(audit_log::seq.ge(expected_seq))
            .order(audit_log::seq)
            .limit(PAGE)
            .select(AuditEntry::as_select())
            .load(conn)?;
        if page.is_empty() {
            break;
        }
        for entry in page {
            let broken = |reason: String| {
                Ok(Err(BrokenLink {
                    seq: entry.seq,
                    reason,
                }))
            };
            if entry.seq != expected_seq {
                return Ok(Err(BrokenLink {
                    seq: expected_seq,
                    reason: format!(
                        "entri #{expected_seq} hilang (berikutnya yang ada #{})",
                        entry.seq
                    ),
                }));
            }
            if entry.prev_hash != prev {
                return broken(format!(
                    "entri #{} tidak menyambung ke entri sebelumnya (prev_hash berbeda)",
                    entry.seq
                ));
            }
            if entry.compute_hash() != entry.entry_hash {
                return broken(format!(
                    "isi entri #{} telah diubah (hash tidak cocok)",
                    entry.seq
                ));
            }
            prev = entry.entry_hash;
            expected_seq += 1;
        }
    }
    let last: i64 = counters::table
        .find("audit_seq")
        .select(counters::value)
        .first(conn)?;
    if last >= expected_seq {
        return Ok(Err(BrokenLink {
            seq: expected_seq,
            reason: format!("entri #{expected_seq} sampai #{last} hilang dari ujung jejak audit"),
        }));
    }
    Ok(Ok(expected_seq - 1))
}
