//! Moving a whole deployment from one database to another (a SQLite pilot to PostgreSQL), page by
//! page so that a national roster never has to fit in memory.

use diesel::prelude::*;

use super::admins::AdminRow;
use super::areas::Area;
use super::audit::AuditEntry;
use super::campaigns::{AuthorityRow, Campaign, StoredDocument};
use super::certificates::CertificateRow;
use super::coverage::{DailySigning, RosterCount, SignedCount};
use super::employees::Employee;
use super::invitations::Invitation;
use super::keys::IssuerKeyRow;
use super::log::{CheckpointRow, LogEntryRow, LogNodeRow};
use super::roster_imports::RosterImport;
use super::schema::{
    admins, areas, audit_log, campaign_authorities, campaigns, certificate_mail, certificates,
    counters, daily_signings, documents, employees, invitations, issuer_keys, log_blocks,
    log_checkpoints, log_entries, log_nodes, roster_counts, roster_imports, seal_certificates,
    signed_counts,
};
use super::seals::SealCertificateRow;
use super::{on_backend, Db, DbConnection, DbError};

/// Rows per page: 2,000 rows of the widest table (20 columns) stay under PostgreSQL's limit of
/// 65,535 parameters in one statement.
const PAGE: i64 = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "the target database is not empty (table {0} has rows); copy only into a new database"
    )]
    TargetNotEmpty(&'static str),
    #[error("row counts differ after the copy: {table} has {source_rows} rows in the source, {target_rows} in the target")]
    CountMismatch {
        table: &'static str,
        source_rows: i64,
        target_rows: i64,
    },
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CopyError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

/// A letter to a signer as the outbox stores it, every column: letters still queued must reach
/// their signers from the new database, and sent ones stay on record.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certificate_mail)]
struct StoredLetter {
    id: String,
    certificate_id: String,
    kind: String,
    created_at: i64,
    attempts: i32,
    next_attempt_at: i64,
    sent_at: Option<i64>,
    last_error: Option<String>,
}

/// Rows copied per table, in the order they were copied.
pub type CopyReport = Vec<(&'static str, i64)>;

fn counts(conn: &mut DbConnection) -> QueryResult<Vec<(&'static str, i64)>> {
    Ok(vec![
        ("areas", areas::table.count().get_result(conn)?),
        ("employees", employees::table.count().get_result(conn)?),
        ("campaigns", campaigns::table.count().get_result(conn)?),
        ("documents", documents::table.count().get_result(conn)?),
        (
            "campaign_authorities",
            campaign_authorities::table.count().get_result(conn)?,
        ),
        ("issuer_keys", issuer_keys::table.count().get_result(conn)?),
        (
            "seal_certificates",
            seal_certificates::table.count().get_result(conn)?,
        ),
        (
            "certificates",
            certificates::table.count().get_result(conn)?,
        ),
        (
            "roster_counts",
            roster_counts::table.count().get_result(conn)?,
        ),
        (
            "signed_counts",
            signed_counts::table.count().get_result(conn)?,
        ),
        (
            "daily_signings",
            daily_signings::table.count().get_result(conn)?,
        ),
        ("admins", admins::table.count().get_result(conn)?),
        ("audit_log", audit_log::table.count().get_result(conn)?),
        (
            "roster_imports",
            roster_imports::table.count().get_result(conn)?,
        ),
        ("log_entries", log_entries::table.count().get_result(conn)?),
        ("log_nodes", log_nodes::table.count().get_result(conn)?),
        (
            "log_checkpoints",
            log_checkpoints::table.count().get_result(conn)?,
        ),
        ("log_blocks", log_blocks::table.count().get_result(conn)?),
        ("invitations", invitations::table.count().get_result(conn)?),
        (
            "certificate_mail",
            certificate_mail::table.count().get_result(conn)?,
        ),
    ])
}

/// Copies a table that is small enough to hold in memory (campaigns, keys, counters, admins),
/// inserting it in pages under PostgreSQL's limit on bound parameters.
macro_rules! copy_whole {
    ($source:expr, $target:expr, $table:ident, $row:ty) => {{
        let rows: Vec<$row> = $table::table
            .select(<$row>::as_select())
            .load(&mut *$source)?;
        for chunk in rows.chunks(PAGE as usize) {
            on_backend!($target, |c| diesel::insert_into($table::table)
                .values(chunk)
                .execute(c))?;
        }
    }};
}

/// Copies pages ordered by key until the source runs out.
fn pages<T, K>(
    source: &mut DbConnection,
    target: &mut DbConnection,
    mut load: impl FnMut(&mut DbConnection, Option<&K>) -> QueryResult<Vec<T>>,
    key: impl Fn(&T) -> K,
    mut insert: impl FnMut(&mut DbConnection, &[T]) -> QueryResult<usize>,
) -> QueryResult<()> {
    let mut after: Option<K> = None;
    loop {
        let page = load(source, after.as_ref())?;
        if page.is_empty() {
            return Ok(());
        }
        insert(target, &page)?;
        after = page.last().map(&key);
    }
}

/// Copies every table into an empty target, in one transaction, then compares row counts.
/// Not copied, because they live minutes and nobody loses anything by them: sign-in codes, code
/// requests waiting for the mailer, sessions and SSO attempts (users sign in again). Printed
/// invitation slips and queued letters are copied: they stand for paper already handed out and
/// for mail a signer is owed.
pub fn copy_all(from: &Db, to: &Db) -> Result<CopyReport, CopyError> {
    let mut source = from.read()?;
    let mut target = to.write()?;
    for (table, n) in counts(&mut target)? {
        if n > 0 {
            return Err(CopyError::TargetNotEmpty(table));
        }
    }
    target.transaction(|target| {
        pages(
            &mut source,
            target,
            |c, after: Option<&(i32, String)>| {
                let mut q = areas::table
                    .select(Area::as_select())
                    .order((areas::level, areas::code))
                    .limit(PAGE)
                    .into_boxed();
                if let Some((level, code)) = after {
                    q = q.filter(
                        areas::level
                            .gt(*level)
                            .or(areas::level.eq(*level).and(areas::code.gt(code.clone()))),
                    );
                }
                q.load(c)
            },
            |a| (a.level, a.code.clone()),
            |c, rows| {
                on_backend!(c, |c| diesel::insert_into(areas::table)
                    .values(rows)
                    .execute(c))
            },
        )?;
        pages(
            &mut source,
            target,
            |c, after: Option<&i64>| {
                let mut q = employees::table
                    .select(Employee::as_select())
                    .order(employees::id)
                    .limit(PAGE)
                    .into_boxed();
                if let Some(id) = after {
                    q = q.filter(employees::id.gt(*id));
                }
                q.load(c)
            },
            |e| e.id,
            |c, rows| {
                on_backend!(c, |c| diesel::insert_into(employees::table)
                    .values(rows)
                    .execute(c))
            },
        )?;
        copy_whole!(source, target, campaigns, Campaign);
        copy_whole!(source, target, documents, StoredDocument);
        // The authority a certificate names is the version in force when it was signed.
        copy_whole!(source, target, campaign_authorities, AuthorityRow);
        copy_whole!(source, target, issuer_keys, IssuerKeyRow);
        // Every seal ever used, so an uploaded PDF sealed before a rotation still checks.
        copy_whole!(source, target, seal_certificates, SealCertificateRow);
        pages(
            &mut source,
            target,
            |c, after: Option<&String>| {
                // With its place in the log: without it every scan of the copy would search
                // the log's entries for the certificate first.
                let mut q = certificates::table
                    .select((CertificateRow::as_select(), certificates::log_index))
                    .order(certificates::id)
                    .limit(PAGE)
                    .into_boxed();
                if let Some(id) = after {
                    q = q.filter(certificates::id.gt(id.clone()));
                }
                q.load(c)
            },
            |(r, _)| r.id.to_string(),
            |c, rows: &[(CertificateRow, Option<i64>)]| {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|(row, index)| (row, certificates::log_index.eq(*index)))
                    .collect();
                on_backend!(c, |c| diesel::insert_into(certificates::table)
                    .values(rows.clone())
                    .execute(c))
            },
        )?;
        // The coverage counters are small (areas × agencies × types) and copied whole.
        copy_whole!(source, target, roster_counts, RosterCount);
        copy_whole!(source, target, signed_counts, SignedCount);
        copy_whole!(source, target, daily_signings, DailySigning);
        copy_whole!(source, target, admins, AdminRow);
        copy_whole!(source, target, roster_imports, RosterImport);
        // The audit trail keeps its numbers and hashes, so its chain still verifies after the move.
        pages(
            &mut source,
            target,
            |c, after: Option<&i64>| {
                let mut q = audit_log::table
                    .select(AuditEntry::as_select())
                    .order(audit_log::seq)
                    .limit(PAGE)
                    .into_boxed();
                if let Some(seq) = after {
                    q = q.filter(audit_log::seq.gt(*seq));
                }
                q.load(c)
            },
            |e| e.seq,
            |c, rows| {
                on_backend!(c, |c| diesel::insert_into(audit_log::table)
                    .values(rows)
                    .execute(c))
            },
        )?;
        // The public log, entry by entry and node by node: its proofs and checkpoints must
        // stay valid in the new database.
        pages(
            &mut source,
            target,
            |c, after: Option<&i64>| super::log::entries_page(c, after.copied(), PAGE),
            |e: &LogEntryRow| e.idx,
            |c, rows| {
                on_backend!(c, |c| diesel::insert_into(log_entries::table)
                    .values(rows)
                    .execute(c))
            },
        )?;
        pages(
            &mut source,
            target,
            |c, after: Option<&(i32, i64)>| super::log::nodes_page(c, after.copied(), PAGE),
            |n: &LogNodeRow| (n.level, n.idx),
            |c, rows| {
                on_backend!(c, |c| diesel::insert_into(log_nodes::table)
                    .values(rows)
                    .execute(c))
            },
        )?;
        pages(
            &mut source,
            target,
            |c, after: Option<&i64>| super::log::checkpoints_page(c, after.copied(), PAGE),
            |cp: &CheckpointRow| cp.tree_size,
            |c, rows| {
                on_backend!(c, |c| diesel::insert_into(log_checkpoints::table)
                    .values(rows)
                    .execute(c))
            },
        )?;
        pages(
            &mut source,
            target,
            |c, after: Option<&i64>| super::log::blocks_page(c, after.copied(), PAGE),
            |(block, _)| *block,
            |c, rows| {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|(block, leaves)| {
                        (log_blocks::block.eq(*block), log_blocks::leaves.eq(leaves))
                    })
                    .collect();
                on_backend!(c, |c| diesel::insert_into(log_blocks::table)
                    .values(&rows)
                    .execute(c))
            },
        )?;
        pages(
            &mut source,
            target,
            |c, after: Option<&String>| {
                let mut q = invitations::table
                    .select(Invitation::as_select())
                    .order(invitations::id)
                    .limit(PAGE)
                    .into_boxed();
                if let Some(id) = after {
                    q = q.filter(invitations::id.gt(id.clone()));
                }
                q.load(c)
            },
            |slip| slip.id.clone(),
            |c, rows| {
                on_backend!(c, |c| diesel::insert_into(invitations::table)
                    .values(rows)
                    .execute(c))
            },
        )?;
        pages(
            &mut source,
            target,
            |c, after: Option<&String>| {
                let mut q = certificate_mail::table
                    .select(StoredLetter::as_select())
                    .order(certificate_mail::id)
                    .limit(PAGE)
                    .into_boxed();
                if let Some(id) = after {
                    q = q.filter(certificate_mail::id.gt(id.clone()));
                }
                q.load(c)
            },
            |letter| letter.id.clone(),
            |c, rows| {
                on_backend!(c, |c| diesel::insert_into(certificate_mail::table)
                    .values(rows)
                    .execute(c))
            },
        )?;
        let counters: Vec<(String, i64)> = counters::table
            .select((counters::name, counters::value))
            .load(&mut *source)?;
        for (name, value) in counters {
            diesel::update(counters::table.find(&name))
                .set(counters::value.eq(value))
                .execute(target)?;
        }
        Ok::<_, CopyError>(())
    })?;
    let (before, after) = (counts(&mut source)?, counts(&mut target)?);
    for ((table, source_rows), (_, target_rows)) in before.iter().zip(&after) {
        if source_rows != target_rows {
            return Err(CopyError::CountMismatch {
                table,
                source_rows: *source_rows,
                target_rows: *target_rows,
            });
        }
    }
    Ok(after)
}

/// Every certificate id, for checking after a copy that each still verifies.
pub fn certificate_ids(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    Ok(certificates::table
        .select(certificates::id)
        .order(certificates::id)
        .load(conn)?)
}
