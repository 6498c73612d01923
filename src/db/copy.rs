//! Moving a whole deployment from one database to another (a SQLite pilot to PostgreSQL), page by
//! page so that a national roster never has to fit in memory.

use diesel::prelude::*;

use super::admins::AdminRow;
use super::areas::Area;
use super::audit::AuditEntry;
use super::campaigns::{Campaign, StoredDocument};
use super::certificates::CertificateRow;
use super::coverage::{DailySigning, RosterCount, SignedCount};
use super::employees::Employee;
use super::keys::IssuerKeyRow;
use super::log::{CheckpointRow, LogEntryRow, LogNodeRow};
use super::roster_imports::RosterImport;
use super::schema::{
    admins, areas, audit_log, campaigns, certificates, counters, daily_signings, documents,
    employees, issuer_keys, log_checkpoints, log_entries, log_nodes, roster_counts, roster_imports,
    signed_counts,
};
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

/// Rows copied per table, in the order they were copied.
pub type CopyReport = Vec<(&'static str, i64)>;

fn counts(conn: &mut DbConnection) -> QueryResult<Vec<(&'static str, i64)>> {
    Ok(vec![
        ("areas", areas::table.count().get_result(conn)?),
        ("employees", employees::table.count().get_result(conn)?),
        ("campaigns", campaigns::table.count().get_result(conn)?),
        ("documents", documents::table.count().get_result(conn)?),
        ("issuer_keys", issuer_keys::table.count().get_result(conn)?),
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
/// Sign-in codes and sessions are not copied: they are short-lived, and users sign in again.
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
        copy_whole!(source, target, issuer_keys, IssuerKeyRow);
        pages(
            &mut source,
            target,
            |c, after: Option<&String>| {
                let mut q = certificates::table
                    .select(CertificateRow::as_select())
                    .order(certificates::id)
                    .limit(PAGE)
                    .into_boxed();
                if let Some(id) = after {
                    q = q.filter(certificates::id.gt(id.clone()));
                }
                q.load(c)
            },
            |r| r.id.to_string(),
            |c, rows| {
                on_backend!(c, |c| diesel::insert_into(certificates::table)
                    .values(rows)
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
