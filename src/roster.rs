//! Roster files: the CSV an agency exports from its personnel system. A file is checked whole
//! before anything is written, against itself and against the roster; then it is written in short
//! chunks (`staged`), so that an import never stops the signing. Every pass streams the file, so a
//! million rows need little memory. Row numbers are those a spreadsheet shows (the header is
//! row 1).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::mpsc;

use diesel::Connection;

use crate::db::coverage::{CountDeltas, CountRows};
use crate::db::employees::bulk::{self, BulkLoad};
use crate::db::employees::{self, AscendingIds, Employee, EmployeeRecord};
use crate::db::{areas, now, Db, DbConnection, DbError};
use crate::domain::{
    AdminScope, AreaCode, AreaLevel, EmailAddress, EmployeeType, FullName, Nik, Nip,
};

mod journal;
mod kept;
mod staged;

pub use journal::{Importer, AUDIT_ACTIONS};
pub use kept::{import_kept, resume_unfinished, KeptFile};
pub use staged::CHUNK;

pub const COLUMNS: [&str; 9] = [
    "nip",
    "nik",
    "full_name",
    "position",
    "agency",
    "unit",
    "employee_type",
    "village_code",
    "email",
];
/// Counter rows held in memory before they are written (about 150 bytes each).
const MAX_PENDING_COUNTS: usize = 2_000_000;

/// One problem in one cell (or row) of the file, located as a spreadsheet user would look for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "baris {}, kolom {} ({:?}): {}",
            self.line, self.column, self.value, self.reason
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("berkas tidak dapat dibaca: {0}")]
    Io(#[from] std::io::Error),
    #[error("baris judul harus memuat kolom {expected}; yang ditemukan: {found}")]
    Header { expected: String, found: String },
    #[error("{} baris bermasalah; tidak ada data yang diimpor", .0.len())]
    Rows(Vec<RowError>),
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
    /// Another process writes the same import (it was continued elsewhere meanwhile).
    #[error("impor ini sedang ditulis oleh proses lain")]
    Overtaken,
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub inserted: usize,
    pub updated: usize,
}

/// Column positions, found by name so that a spreadsheet's column order does not matter.
struct Layout([usize; 9]);

impl Layout {
    fn from_header(header: &csv::StringRecord) -> Result<Self, ImportError> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let mut positions = [0; 9];
        for (slot, column) in positions.iter_mut().zip(COLUMNS) {
            *slot = names
                .iter()
                .position(|n| n == column)
                .ok_or_else(|| ImportError::Header {
                    expected: COLUMNS.join(","),
                    found: names.join(","),
                })?;
        }
        Ok(Self(positions))
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, column: usize) -> &'r str {
        record.get(self.0[column]).unwrap_or("").trim()
    }
}

/// Checks one data row; every problem in it is reported, not only the first.
fn parse_row(
    layout: &Layout,
    record: &csv::StringRecord,
    line: u64,
    villages: &HashSet<String>,
    errors: &mut Vec<RowError>,
) -> Option<EmployeeRecord> {
    let before = errors.len();
    let mut fail = |column: &str, value: &str, reason: String| {
        errors.push(RowError {
            line,
            column: column.into(),
            value: value.into(),
            reason,
        })
    };
    let text = |c| layout.get(record, c);

    let employee_type = EmployeeType::parse(text(6))
        .map_err(|e| fail("employee_type", text(6), e.to_string()))
        .ok();
    let nip = match text(0) {
        "" if employee_type.is_some_and(|t| t.requires_nip()) => {
            fail("nip", "", "NIP wajib diisi untuk PNS dan PPPK".into());
            None
        }
        "" => None,
        raw => Nip::parse(raw)
            .map_err(|e| fail("nip", raw, e.to_string()))
            .ok(),
    };
    let nik = Nik::parse(text(1))
        .map_err(|e| fail("nik", text(1), e.to_string()))
        .ok();
    let name = FullName::parse(text(2))
        .map_err(|e| fail("full_name", text(2), e.to_string()))
        .ok();
    for (column, index) in [("position", 3), ("agency", 4)] {
        if text(index).is_empty() {
            fail(column, "", "wajib diisi".into());
        }
    }
    // Every text the certificate prints must be drawable in its font: refused here, not after
    // a signature (certificate::glyphs).
    for (column, index) in [
        ("full_name", 2),
        ("position", 3),
        ("agency", 4),
        ("unit", 5),
    ] {
        // A name the name rules refused already has its message.
        let checked = index != 2 || name.is_some();
        if let Some(c) = crate::certificate::glyphs::unprintable(text(index)).filter(|_| checked) {
            fail(column, text(index), crate::certificate::glyphs::refusal(c));
        }
    }
    for (column, index) in [("position", 3), ("agency", 4), ("unit", 5)] {
        if text(index).chars().count() > 200 {
            fail(
                column,
                text(index),
                "terlalu panjang (paling banyak 200 karakter)".into(),
            );
        }
    }
    let village = match AreaCode::parse(text(7)) {
        Ok(code) if code.level() != AreaLevel::Village => {
            fail(
                "village_code",
                text(7),
                "harus kode desa/kelurahan (pola 73.72.01.1001)".into(),
            );
            None
        }
        Ok(code) if !villages.contains(code.as_str()) => {
            fail(
                "village_code",
                text(7),
                "kode desa/kelurahan tidak ada dalam data wilayah Kemendagri".into(),
            );
            None
        }
        Ok(code) => Some(code),
        Err(e) => {
            fail("village_code", text(7), e.to_string());
            None
        }
    };
    let email = match text(8) {
        "" => Some(None),
        raw => EmailAddress::parse(raw)
            .map(Some)
            .map_err(|e| fail("email", raw, e.to_string()))
            .ok(),
    };
    if errors.len() > before {
        return None;
    }
    Some(EmployeeRecord {
        nip,
        nik: nik?,
        full_name: name?.into_string(),
        position: text(3).to_string(),
        agency: text(4).to_string(),
        unit: text(5).to_string(),
        employee_type: employee_type?,
        village_code: village?,
        email: email?.map(EmailAddress::into_string),
        active: true,
        updated_at: now(),
    })
}

/// Checks one row of a roster file against its header row, as an import does, without a
/// database: `villages` stands in for the area reference. Every problem of the row is returned.
/// Public for the fuzzer (fuzz/fuzz_targets/roster_row.rs).
pub fn check_row(
    header: &csv::StringRecord,
    record: &csv::StringRecord,
    villages: &HashSet<String>,
) -> Result<EmployeeRecord, Vec<RowError>> {
    let layout = Layout::from_header(header).map_err(|e| {
        vec![RowError {
            line: 1,
            column: String::new(),
            value: String::new(),
            reason: e.to_string(),
        }]
    })?;
    let mut errors = Vec::new();
    parse_row(&layout, record, 2, villages, &mut errors).ok_or(errors)
}

/// A file read with its CRLF line ends as LF. The csv reader counts lines by LF and places a record
/// of a CRLF file at the LF that ended the row before, so in a file saved by a spreadsheet on
/// Windows every row number came out one too small ("baris 2" for the spreadsheet's row 3).
struct LfLines<R> {
    inner: R,
    buffer: Box<[u8]>,
    start: usize,
    end: usize,
    ended: bool,
}

impl<R: Read> LfLines<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            buffer: vec![0; 1 << 16].into_boxed_slice(),
            start: 0,
            end: 0,
            ended: false,
        }
    }
}

impl<R: Read> Read for LfLines<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        // Two bytes at hand (or the end of the file), so that a CR can see what follows it.
        while !self.ended && self.end - self.start < 2 {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            match self.inner.read(&mut self.buffer[self.end..])? {
                0 => self.ended = true,
                n => self.end += n,
            }
        }
        let mut written = 0;
        while written < out.len() && self.start < self.end {
            let byte = self.buffer[self.start];
            if byte == b'\r' {
                match self
                    .buffer
                    .get(self.start + 1)
                    .filter(|_| self.start + 1 < self.end)
                {
                    Some(b'\n') => {
                        self.start += 1;
                        continue;
                    }
                    // The byte after it is not read yet: next time.
                    None if !self.ended && written > 0 => break,
                    _ => {}
                }
            }
            out[written] = byte;
            written += 1;
            self.start += 1;
        }
        Ok(written)
    }
}

fn reader(path: &Path) -> Result<csv::Reader<BufReader<LfLines<File>>>, ImportError> {
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(BufReader::with_capacity(
            1 << 16,
            LfLines::new(File::open(path)?),
        )))
}

/// Line breaks inside the quoted cells of a record: a spreadsheet shows such a record as one row.
fn breaks_inside(record: &csv::StringRecord) -> u64 {
    record
        .iter()
        .map(|cell| cell.bytes().filter(|b| *b == b'\n').count() as u64)
        .sum()
}

/// Streams the rows of a roster file that passed the check, each with its row number as a
/// spreadsheet shows the file: the header is row 1, the first employee row 2. A blank line is a
/// row there too; a cell with a line break in it is not a second one, so those breaks are
/// subtracted from the file's line number.
fn for_each_row<E: From<ImportError>>(
    path: &Path,
    villages: &HashSet<String>,
    mut each: impl FnMut(u64, Result<EmployeeRecord, Vec<RowError>>) -> Result<(), E>,
) -> Result<(), E> {
    let mut rdr = reader(path)?;
    let header = rdr
        .headers()
        .map_err(|e| ImportError::Io(std::io::Error::other(e.to_string())))?
        .clone();
    let layout = Layout::from_header(&header)?;
    let mut folded = breaks_inside(&header);
    let mut record = csv::StringRecord::new();
    loop {
        let line = rdr.position().line() + 1;
        match rdr.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line()) - folded;
                folded += breaks_inside(&record);
                let mut errors = Vec::new();
                match parse_row(&layout, &record, line, villages, &mut errors) {
                    Some(row) => each(line, Ok(row))?,
                    None => each(line, Err(errors))?,
                }
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line()) - folded;
                let reason = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("baris ini memiliki {len} kolom, seharusnya {expected_len}")
                    }
                    csv::ErrorKind::Utf8 { .. } => "baris ini bukan teks UTF-8".to_string(),
                    _ => e.to_string(),
                };
                each(
                    line,
                    Err(vec![RowError {
                        line,
                        column: "(baris)".into(),
                        value: String::new(),
                        reason,
                    }]),
                )?;
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }
                ) {
                    return Ok(());
                }
            }
        }
    }
}

/// Checks every row of the file, then writes all of it or nothing, as the command line.
pub fn import(db: &Db, path: &Path) -> Result<ImportReport, ImportError> {
    import_as(db, path, &Importer::command_line(), &new_import_id())
}

/// A fresh id for an import's record and kept file.
pub fn new_import_id() -> String {
    format!("{:016x}", crate::db::random_id())
}

/// The SHA-256 of a file, in hex: which file an import record is about.
fn sha256_of(path: &Path) -> Result<String, ImportError> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    std::io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok(data_encoding::HEXLOWER.encode(&hasher.finalize()))
}

/// Which column places an employee outside this administrator's scope, and why, if one does.
fn outside(scope: &AdminScope, village_code: &str, agency: &str) -> Option<(&'static str, String)> {
    if !scope.covers_area(village_code) {
        return Some((
            "village_code",
            format!("desa/kelurahan ini berada di luar wilayah Anda ({scope})"),
        ));
    }
    if !scope.covers(village_code, agency) {
        return Some((
            "agency",
            format!("instansi ini berada di luar kewenangan Anda ({scope})"),
        ));
    }
    None
}

/// The row's problem if it places the employee outside the administrator's scope.
fn scope_error(scope: Option<&AdminScope>, r: &EmployeeRecord, line: u64) -> Option<RowError> {
    let (column, reason) = outside(scope?, &r.village_code, &r.agency)?;
    let value: &str = if column == "agency" {
        &r.agency
    } else {
        &r.village_code
    };
    Some(RowError {
        line,
        column: column.into(),
        value: value.to_string(),
        reason,
    })
}

/// Like `import`, by `importer` under the import id `id`. An administrator's rows must place
/// the employee inside their scope, and an employee already on the roster may only be changed if
/// they are inside it now, so an upload can neither add people elsewhere nor pull someone out of
/// another admin's area. The import's record and its audit rows are written with its rows
/// (`journal`).
pub fn import_as(
    db: &Db,
    path: &Path,
    importer: &Importer,
    id: &str,
) -> Result<ImportReport, ImportError> {
    let scope = importer.scope.as_ref();
    let sha256 = sha256_of(path)?;
    let mut journal = journal::Journal::new(id, &sha256, importer, 0);
    if let Some(report) = first_load(db, path, scope, &mut journal)? {
        return Ok(report);
    }
    let villages = areas::village_codes(&mut *db.read()?)?;

    // Pass 1: check. Ids are kept as integers (both are all digits) to find duplicates cheaply.
    let mut errors = Vec::new();
    let mut seen_nik: HashMap<u64, u64> = HashMap::new();
    let mut seen_nip: HashMap<u64, u64> = HashMap::new();
    let mut rows = 0usize;
    for_each_row(path, &villages, |line, row| {
        rows += 1;
        match row {
            Err(mut e) => errors.append(&mut e),
            Ok(r) => {
                errors.extend(scope_error(scope, &r, line));
                let nik: u64 = r.nik.parse().expect("digits");
                if let Some(first) = seen_nik.insert(nik, line) {
                    errors.push(RowError {
                        line,
                        column: "nik".into(),
                        value: r.nik.to_string(),
                        reason: format!("NIK ini sudah muncul pada baris {first}"),
                    });
                }
                if let Some(nip) = &r.nip {
                    if let Some(first) = seen_nip.insert(nip.parse().expect("digits"), line) {
                        errors.push(RowError {
                            line,
                            column: "nip".into(),
                            value: nip.to_string(),
                            reason: format!("NIP ini sudah muncul pada baris {first}"),
                        });
                    }
                }
            }
        }
        Ok::<_, ImportError>(())
    })?;
    drop((seen_nik, seen_nip));
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ImportError::Rows(errors));
    }

    // Pass 2: against the roster as it stands, then in short chunks (`staged`), each with the
    // import's record.
    journal.rows_total = rows as i64;
    let total = staged::write(db, path, &villages, scope, &mut journal)?;
    Ok(ImportReport {
        rows,
        inserted: total.inserted,
        updated: total.updated,
    })
}

/// Continues an import a crash stopped, from where its record stands, by its importer.
fn resume(
    db: &Db,
    path: &Path,
    record: &crate::db::roster_imports::RosterImport,
    importer: &Importer,
) -> Result<ImportReport, ImportError> {
    let villages = areas::village_codes(&mut *db.read()?)?;
    let mut journal = journal::Journal::resumed(record, importer);
    let total = staged::write(db, path, &villages, importer.scope.as_ref(), &mut journal)?;
    Ok(ImportReport {
        rows: record.rows_total as usize,
        inserted: total.inserted,
        updated: total.updated,
    })
}

/// Indexes a first load drops and builds again once their table is complete: each would take the
/// rows of a file, in whatever order it comes, at random pages. Built again, the unique ones are
/// the check that no NIK or NIP came twice.
const FIRST_LOAD_SUSPENDS: [&str; 5] = [
    "employees_nik",
    "employees_nip",
    "employees_village_code",
    "employees_folded_name",
    "roster_counts_parent",
];

/// The indexes of the employees table, built while the reading thread sums the counters.
const FIRST_LOAD_EMPLOYEE_INDEXES: [&str; 4] = [
    "employees_nik",
    "employees_nip",
    "employees_village_code",
    "employees_folded_name",
];

/// Rows handed from the reading thread to the writing one at a time.
const FIRST_LOAD_BATCH: usize = 4_096;

/// A first load's SQLite connection. Nothing is inserted at random places (the ids ascend and the
/// indexes are built afterwards), so a small page cache serves the inserts; it also makes each
/// index build sort runs that fit the processor's caches before merging them, which at 4.7
/// million rows is faster than one sort in a large cache, and a helper thread sorts on the core
/// the reader no longer needs. Foreign keys: every row's village is checked against the villages
/// read in the load's own transaction.
const FIRST_LOAD_SETTINGS: bulk::Settings = bulk::Settings {
    page_cache_kib: 16 << 10,
    foreign_keys: false,
    sort_threads: 1,
};

/// Why a first load did not finish.
enum FirstLoad {
    /// The roster is not empty, or the file has a problem (a bad row, a NIK or NIP twice): the
    /// two-pass import takes over and, for a problem, reports each one with its row.
    Declined,
    Failed(ImportError),
}

impl From<diesel::result::Error> for FirstLoad {
    fn from(e: diesel::result::Error) -> Self {
        // The roster was empty when the load began, so a duplicate can only come from the file.
        if crate::db::is_unique_violation(&e) {
            Self::Declined
        } else {
            Self::Failed(e.into())
        }
    }
}

impl From<ImportError> for FirstLoad {
    fn from(e: ImportError) -> Self {
        Self::Failed(e)
    }
}

impl From<DbError> for FirstLoad {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query(e) => e.into(),
            e => Self::Failed(e.into()),
        }
    }
}

/// What the reading thread hands to the writing one.
enum Loaded {
    Rows(Vec<Employee>),
    /// Counters of the rows sent so far, once enough have piled up to be written.
    Counts(CountRows),
    /// Every row of the file is sent and passed the check.
    End,
}

/// A file into an empty roster (a first national load) in one pass: one thread reads and checks
/// rows while the other writes them, all in one transaction, as a bulk load (`BulkLoad`). Whether
/// a file is clean is known only at its last row (a NIK or NIP twice shows when the unique index is
/// built), so at the first problem the transaction rolls back and `None` is returned: the two-pass
/// import then reports every problem precisely. A bad file costs a second read; a clean one, the
/// common case for a national load, is read once.
fn first_load(
    db: &Db,
    path: &Path,
    scope: Option<&AdminScope>,
    journal: &mut journal::Journal<'_>,
) -> Result<Option<ImportReport>, ImportError> {
    let mut conn = db.write()?;
    let outcome = bulk::with_settings(&mut conn, FIRST_LOAD_SETTINGS, |conn| {
        conn.transaction(|conn| {
            let Some(load) = BulkLoad::begin(conn, &FIRST_LOAD_SUSPENDS)? else {
                return Err(FirstLoad::Declined);
            };
            // Read inside the writing transaction, so that no village can go between the check
            // of a row and the commit: this is the foreign key check SQLite is spared.
            let villages = areas::village_codes(conn)?;
            let rows = write_first_load(conn, load, path, &villages, scope)?;
            // The import's record and audit rows, in the load's one transaction.
            journal.rows_total = rows as i64;
            let written = employees::UpsertCount {
                inserted: rows,
                updated: 0,
            };
            journal.record_chunk(conn, rows, written)?;
            Ok(rows)
        })
    });
    match outcome {
        Ok(rows) => {
            let written = employees::UpsertCount {
                inserted: rows,
                updated: 0,
            };
            journal.committed(rows, written);
            Ok(Some(ImportReport {
                rows,
                inserted: rows,
                updated: 0,
            }))
        }
        Err(FirstLoad::Declined) => Ok(None),
        Err(FirstLoad::Failed(e)) => Err(e),
    }
}

fn write_first_load(
    conn: &mut DbConnection,
    load: BulkLoad,
    path: &Path,
    villages: &HashSet<String>,
    scope: Option<&AdminScope>,
) -> Result<usize, FirstLoad> {
    let (sender, loaded) = mpsc::sync_channel::<Loaded>(4);
    std::thread::scope(|threads| {
        // The reader also makes the ids and sums the counters: it has time to spare, the writer
        // has none.
        let reader = threads.spawn(move || {
            // A closed channel: the writer stopped, and says why.
            let send = |message| sender.send(message).map_err(|_| FirstLoad::Declined);
            let mut ids = AscendingIds::new();
            let mut counts = CountDeltas::default();
            let mut batch = Vec::with_capacity(FIRST_LOAD_BATCH);
            for_each_row(path, villages, |line, row| match row {
                Ok(r) if scope_error(scope, &r, line).is_none() => {
                    if r.active {
                        counts.roster_in(&r.village_code, &r.agency, &r.employee_type, 1);
                    }
                    batch.push(r.with_id(ids.next_id()));
                    if batch.len() == FIRST_LOAD_BATCH {
                        let full =
                            std::mem::replace(&mut batch, Vec::with_capacity(FIRST_LOAD_BATCH));
                        send(Loaded::Rows(full))?;
                    }
                    if counts.len() > MAX_PENDING_COUNTS {
                        send(Loaded::Counts(std::mem::take(&mut counts).summed()))?;
                    }
                    Ok(())
                }
                _ => Err(FirstLoad::Declined),
            })?;
            send(Loaded::Rows(batch))?;
            send(Loaded::End)?;
            // Summed while the writer builds the indexes.
            Ok(counts.summed())
        });
        let mut load = load;
        let written = (|| {
            let mut written = 0;
            for message in loaded.iter() {
                match message {
                    Loaded::Rows(rows) => {
                        employees::insert_new(conn, &rows)?;
                        written += rows.len();
                    }
                    Loaded::Counts(rows) => rows.write(conn)?,
                    Loaded::End => {
                        load.restore(conn, &FIRST_LOAD_EMPLOYEE_INDEXES)?;
                        return Ok(Some(written));
                    }
                }
            }
            // The reader stopped before the end of the file, and says why.
            Ok::<_, FirstLoad>(None)
        })();
        // Dropping the receiver stops the reader if writing failed.
        drop(loaded);
        let read = reader.join().expect("the reading thread does not panic");
        match written? {
            Some(n) => {
                read?.write(conn)?;
                load.finish(conn)?;
                Ok(n)
            }
            None => Err(read.err().unwrap_or(FirstLoad::Declined)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::LfLines;
    use std::io::Read;

    fn through(input: &[u8], chunk: usize) -> Vec<u8> {
        let mut reader = LfLines::new(input);
        let mut out = Vec::new();
        let mut piece = vec![0; chunk];
        loop {
            let n = reader.read(&mut piece).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&piece[..n]);
        }
    }

    #[test]
    fn crlf_line_ends_are_read_as_lf_and_other_carriage_returns_stay() {
        let input = b"a,b\r\n1,\"x\r\ny\"\r\n2,\r3\r";
        for chunk in [1, 2, 3, 64] {
            assert_eq!(
                through(input, chunk),
                b"a,b\n1,\"x\ny\"\n2,\r3\r",
                "{chunk}"
            );
        }
    }
}
