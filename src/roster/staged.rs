//! Writing a checked roster file into a roster that is in use, without stopping the signing.
//!
//! SQLite has one writer. A file written in one transaction held it for as long as the whole file
//! took (a 62 MB upload: 21 s), and every signing waited behind it. So the rows go in chunks,
//! each in a short transaction of its own that takes the write lock at its start (`BEGIN
//! IMMEDIATE`, so a node serving from the same file waits its turn instead of being told "database
//! is locked"), and between chunks the writer is left free for as long as the chunk held it.
//!
//! What the one transaction gave, a file that lands whole or not at all, holds for every refusal
//! that can be known beforehand: the file's own problems (the check pass) and its clashes with the
//! roster as it stands (checked here, read-only, before the first chunk). Only a change to the
//! roster made by someone else between that check and the chunks, or a crash, can stop a file
//! midway. Each chunk's transaction also moves the import's record on (`journal`), so the roster,
//! the record and the audit trail never disagree: a refusal met midway ends the import as failed
//! (importing the file again finishes it: importing an employee again updates them), and after a
//! crash a node continues the import from the record (`kept`).

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use super::journal::Journal;
use super::{for_each_row, outside, ImportError, RowError};
use crate::db::coverage::{CountDeltas, Placement};
use crate::db::employees::{self, BatchRefusal, Employee, EmployeeRecord, UpsertCount};
use crate::db::schema::employees as employee_rows;
use crate::db::{Db, DbConnection};
use crate::domain::AdminScope;
use std::collections::HashSet;

/// Rows in the first chunk, and the most in any. How long a chunk holds the writer depends on
/// the disk and on the roster's size (its indexes grow): a release build writing into a roster of
/// a million took about 290 ms per thousand rows, and signings waited up to that long. So the
/// chunks after the first are sized by how long the last one held the writer (`next_chunk`).
pub const CHUNK: usize = 1_000;

/// How long one chunk should hold the writer: a signing queued behind it waits about this long.
const CHUNK_HOLD: Duration = Duration::from_millis(25);

/// The fewest rows in a chunk: below this, each chunk's own commit would dominate.
const SMALLEST_CHUNK: usize = 25;

/// The shortest pause between chunks: long enough for a waiting writer in another process, whose
/// SQLite busy handler looks again after 1, 2, 5, 10… ms, to find the lock free.
const LEAST_PAUSE: Duration = Duration::from_millis(5);

/// Employees on the roster now whom one of these rows names by NIK or by NIP.
fn known(conn: &mut DbConnection, batch: &[EmployeeRecord]) -> QueryResult<Vec<Employee>> {
    let niks: Vec<&str> = batch.iter().map(|r| r.nik.as_str()).collect();
    let nips: Vec<&str> = batch.iter().filter_map(|r| r.nip.as_deref()).collect();
    employee_rows::table
        .filter(
            employee_rows::nik
                .eq_any(&niks)
                .or(employee_rows::nip.eq_any(&nips)),
        )
        .select(Employee::as_select())
        .load(conn)
}

/// The refusal a chunk would meet, as a row error: the same words whether it is found by the
/// read-only check or by the write itself.
fn refusal_error(
    refusal: BatchRefusal,
    batch: &[EmployeeRecord],
    lines: &[u64],
    scope: Option<&AdminScope>,
) -> RowError {
    match refusal {
        BatchRefusal::IdentityClash { index } => RowError {
            line: lines[index],
            column: "nik".into(),
            value: batch[index].nik.to_string(),
            reason: "NIK dan NIP pada baris ini milik dua pegawai yang berbeda dalam daftar".into(),
        },
        BatchRefusal::NotYours { index, current } => {
            let (_, why) = scope
                .and_then(|s| outside(s, &current.village_code, &current.agency))
                .unwrap_or_default();
            RowError {
                line: lines[index],
                column: "nik".into(),
                value: batch[index].nik.to_string(),
                reason: format!(
                    "pegawai ini sudah terdaftar di luar kewenangan Anda ({why}); \
                     pemindahannya dilakukan oleh admin yang membawahi kedua tempat"
                ),
            }
        }
    }
}

/// Every refusal of the rows against the roster as it stands, found with reads only.
fn clashes(
    conn: &mut DbConnection,
    batch: &[EmployeeRecord],
    lines: &[u64],
    scope: Option<&AdminScope>,
) -> QueryResult<Vec<RowError>> {
    let on_roster = known(conn, batch)?;
    let by_nik: HashMap<&str, &Employee> = on_roster.iter().map(|e| (e.nik.as_str(), e)).collect();
    let by_nip: HashMap<&str, &Employee> = on_roster
        .iter()
        .filter_map(|e| e.nip.as_deref().map(|n| (n, e)))
        .collect();
    let mut found = Vec::new();
    for (index, record) in batch.iter().enumerate() {
        let via_nik = by_nik.get(record.nik.as_str()).copied();
        let via_nip = record.nip.as_deref().and_then(|n| by_nip.get(n).copied());
        let refusal = match (via_nik, via_nip) {
            (Some(a), Some(b)) if a.id != b.id => Some(BatchRefusal::IdentityClash { index }),
            (Some(old), _) | (None, Some(old)) => {
                let current = old.placement();
                scope
                    .and_then(|s| outside(s, &current.village_code, &current.agency))
                    .map(|_| BatchRefusal::NotYours { index, current })
            }
            (None, None) => None,
        };
        found.extend(refusal.map(|r| refusal_error(r, batch, lines, scope)));
    }
    Ok(found)
}

/// Pass 2 of an import: a read-only check against the roster, then the rows in chunks, each
/// with the import's record (`journal`). An import continued after a crash skips the rows its
/// record says are written, and the check: its file passed it before the first chunk.
pub(super) fn write(
    db: &Db,
    path: &Path,
    villages: &HashSet<String>,
    scope: Option<&AdminScope>,
    journal: &mut Journal<'_>,
) -> Result<UpsertCount, ImportError> {
    let skip = usize::try_from(journal.done).unwrap_or(usize::MAX);
    if skip == 0 {
        let mut problems = Vec::new();
        in_chunks(path, villages, 0, |batch, lines| {
            problems.extend(clashes(&mut *db.read()?, batch, lines, scope)?);
            Ok(CHUNK)
        })?;
        if !problems.is_empty() {
            return Err(ImportError::Rows(problems));
        }
    }

    let written = in_chunks(path, villages, skip, |batch, lines| {
        let started = Instant::now();
        write_chunk(db, batch, lines, scope, journal)?;
        let held = started.elapsed();
        // The writer stays free at least as long as the chunk held it: whatever queued meanwhile
        // (signings above all) goes first.
        std::thread::sleep(held.max(LEAST_PAUSE));
        Ok(next_chunk(batch.len(), held))
    });
    let written = written.and_then(|()| {
        if journal.finished() {
            Ok(())
        } else {
            // Only a file of no rows gets here without its record: any other ends in its last chunk.
            journal.record_empty(db).map_err(ImportError::from)
        }
    });
    if let Some(e) = written
        .as_ref()
        .err()
        .filter(|e| !matches!(e, ImportError::Overtaken))
    {
        // Stopped midway by a refusal found only now (someone changed the roster since the
        // check) or a fault: the record and the trail say where, and the rows written stay.
        if let Err(failed) = journal.fail(db, &e.to_string()) {
            tracing::warn!(error = %failed, import = %journal.id, "cannot record the failed import");
        }
    }
    written.map(|()| journal.total)
}

/// The size of the next chunk: halved while a chunk holds the writer longer than `CHUNK_HOLD`,
/// doubled (up to `CHUNK`) while it holds it for less than half that.
fn next_chunk(rows: usize, held: Duration) -> usize {
    if held > CHUNK_HOLD {
        (rows / 2).max(SMALLEST_CHUNK)
    } else if held < CHUNK_HOLD / 2 {
        (rows * 2).min(CHUNK)
    } else {
        rows
    }
}

/// Streams the checked rows of the file after the first `skip` in chunks, with their row
/// numbers: the first of `CHUNK` rows, each later one as large as `each` asked after the last.
fn in_chunks(
    path: &Path,
    villages: &HashSet<String>,
    skip: usize,
    mut each: impl FnMut(&[EmployeeRecord], &[u64]) -> Result<usize, ImportError>,
) -> Result<(), ImportError> {
    let mut size = CHUNK;
    let mut batch: Vec<EmployeeRecord> = Vec::with_capacity(CHUNK);
    let mut lines: Vec<u64> = Vec::with_capacity(CHUNK);
    let mut seen = 0usize;
    for_each_row(path, villages, |line, row| {
        let row = row.map_err(ImportError::Rows)?;
        seen += 1;
        if seen <= skip {
            return Ok(());
        }
        batch.push(row);
        lines.push(line);
        if batch.len() >= size {
            size = each(&batch, &lines)?.clamp(1, CHUNK);
            batch.clear();
            lines.clear();
        }
        Ok::<_, ImportError>(())
    })?;
    if !batch.is_empty() {
        each(&batch, &lines)?;
    }
    Ok(())
}

/// One chunk, its coverage counters and the import's record in one short write transaction.
fn write_chunk(
    db: &Db,
    batch: &[EmployeeRecord],
    lines: &[u64],
    scope: Option<&AdminScope>,
    journal: &mut Journal<'_>,
) -> Result<(), ImportError> {
    let mut conn = db.write()?;
    let mut refused = None;
    let mut written = UpsertCount::default();
    let outcome = crate::db::in_write_transaction(&mut conn, |conn| {
        let mut counts = CountDeltas::default();
        let may_change =
            |p: &Placement| scope.is_none_or(|s| outside(s, &p.village_code, &p.agency).is_none());
        let result =
            employees::upsert_batch(conn, batch, &mut counts, may_change).map_err(|e| match e {
                crate::db::DbError::Query(e) => e,
                e => {
                    refused = Some(ImportError::Db(e));
                    diesel::result::Error::RollbackTransaction
                }
            })?;
        match result {
            Ok(n) => {
                counts.write(conn)?;
                written = n;
                if !journal.record_chunk(conn, batch.len(), n)? {
                    refused = Some(ImportError::Overtaken);
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                Ok(())
            }
            Err(refusal) => {
                refused = Some(ImportError::Rows(vec![refusal_error(
                    refusal, batch, lines, scope,
                )]));
                Err(diesel::result::Error::RollbackTransaction)
            }
        }
    });
    match (outcome, refused) {
        (Ok(()), _) => {
            journal.committed(batch.len(), written);
            Ok(())
        }
        (Err(_), Some(refused)) => Err(refused),
        (Err(e), None) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_shrink_while_they_hold_the_writer_too_long_and_grow_back() {
        let slow = CHUNK_HOLD * 4;
        let quick = CHUNK_HOLD / 4;
        assert_eq!(next_chunk(CHUNK, slow), CHUNK / 2);
        assert_eq!(next_chunk(SMALLEST_CHUNK, slow), SMALLEST_CHUNK);
        assert_eq!(next_chunk(100, quick), 200);
        assert_eq!(next_chunk(CHUNK, quick), CHUNK);
        assert_eq!(next_chunk(300, CHUNK_HOLD * 3 / 4), 300);
    }
}
