//! Roster files kept in the data folder while their import runs, so that an import a crash
//! stopped can be finished: a node, when it starts, continues every import still running whose
//! file it holds, from where the import's record stands.
//!
//! A kept file is locked (an advisory lock, `flock`) by the process importing it for as long as
//! it does. The operating system drops the lock when that process ends, however it ends, so a
//! lock that can be taken is an import nobody is writing; a command-line import running beside
//! the node keeps its file locked and is left alone.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::journal::Importer;
use super::{ImportError, ImportReport};
use crate::db::roster_imports::{self, RosterImport};
use crate::db::Db;

/// The folder under the data folder that holds the files of imports under way.
pub const FOLDER: &str = "impor-daftar-pegawai";

/// A roster file in the data folder, locked by this process until it is dropped.
pub struct KeptFile {
    id: String,
    path: PathBuf,
    file: File,
}

fn lock_error(e: std::fs::TryLockError) -> io::Error {
    match e {
        std::fs::TryLockError::Error(e) => e,
        std::fs::TryLockError::WouldBlock => {
            io::Error::new(io::ErrorKind::WouldBlock, "the file is locked")
        }
    }
}

impl KeptFile {
    /// A new empty file, to be filled through `sink`. It is locked before it gets the name a
    /// starting node looks for, so no node ever takes it for a forgotten one.
    pub fn create(data_dir: &Path) -> io::Result<Self> {
        let folder = data_dir.join(FOLDER);
        std::fs::create_dir_all(&folder)?;
        let id = super::new_import_id();
        let filling = folder.join(format!("{id}.baru"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&filling)?;
        file.try_lock().map_err(lock_error)?;
        let path = folder.join(format!("{id}.csv"));
        std::fs::rename(&filling, &path)?;
        Ok(Self { id, path, file })
    }

    /// A copy of the file an operator named on the command line: their file may change or go
    /// before a node continues the import.
    pub fn copy_of(data_dir: &Path, source: &Path) -> io::Result<Self> {
        let mut kept = Self::create(data_dir)?;
        let copied = io::copy(&mut File::open(source)?, kept.sink());
        if let Err(e) = copied.and_then(|_| kept.file.sync_all()) {
            kept.discard();
            return Err(e);
        }
        Ok(kept)
    }

    /// The file of an import that nobody is writing: `None` if it is missing or locked.
    fn claim(id: &str, path: &Path) -> io::Result<Option<Self>> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match file.try_lock() {
            Ok(()) => Ok(Some(Self {
                id: id.to_string(),
                path: path.to_path_buf(),
                file,
            })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(e) => Err(lock_error(e)),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn sink(&mut self) -> &mut File {
        &mut self.file
    }

    /// On disk before the first chunk refers to it.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_all()
    }

    /// Removes the file; the lock goes with the handle.
    pub fn discard(self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(error = %e, path = %self.path.display(), "cannot remove a kept roster file");
            }
        }
    }
}

/// Whether the import of this id still needs its file: its record says it is running. When the
/// database cannot say, the file stays.
fn still_needed(db: &Db, id: &str) -> bool {
    let record = db
        .read()
        .map_err(ImportError::from)
        .and_then(|mut c| Ok(roster_imports::find(&mut c, id)?));
    !matches!(record, Ok(r) if r.as_ref().is_none_or(|r| r.state != roster_imports::RUNNING))
}

/// Imports a kept file (`super::import_as`) and removes it once the import has ended, finished
/// or failed. An import still running after an error (the failure could not be recorded either)
/// keeps its file for a node to continue.
pub fn import_kept(
    db: &Db,
    kept: KeptFile,
    importer: &Importer,
) -> Result<ImportReport, ImportError> {
    kept.sync()?;
    let outcome = super::import_as(db, kept.path(), importer, kept.id());
    if outcome.is_ok() || !still_needed(db, kept.id()) {
        kept.discard();
    }
    outcome
}

/// Continues, to its end, every import still running whose file this data folder holds and that
/// no process is writing; returns how many. Then removes the files nothing refers to any more:
/// imports that ended (and whose process stopped before removing the file) or that stopped
/// before their first chunk, which left nothing in the database.
pub fn resume_unfinished(db: &Db, data_dir: &Path) -> Result<usize, ImportError> {
    let folder = data_dir.join(FOLDER);
    if !folder.is_dir() {
        return Ok(0);
    }
    let running = roster_imports::running(&mut *db.read()?)?;
    let mut resumed = 0;
    for record in running {
        let path = folder.join(format!("{}.csv", record.id));
        let Some(kept) = KeptFile::claim(&record.id, &path)? else {
            continue;
        };
        // Read again under the lock: the import may have ended between the two reads.
        let Some(record) = roster_imports::find(&mut *db.read()?, &record.id)?
            .filter(|r| r.state == roster_imports::RUNNING)
        else {
            kept.discard();
            continue;
        };
        tracing::info!(
            import = %record.id,
            done = record.rows_done,
            rows = record.rows_total,
            "continuing a roster import that stopped midway"
        );
        match continue_import(db, &kept, &record) {
            Ok(report) => {
                tracing::info!(import = %record.id, ?report, "roster import finished");
                resumed += 1;
            }
            Err(e) => tracing::warn!(import = %record.id, error = %e, "roster import failed"),
        }
        if !still_needed(db, kept.id()) {
            kept.discard();
        }
    }
    for entry in std::fs::read_dir(&folder)? {
        let path = entry?.path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".csv"))
        else {
            continue;
        };
        if !still_needed(db, id) {
            if let Some(kept) = KeptFile::claim(id, &path)? {
                kept.discard();
            }
        }
    }
    Ok(resumed)
}

fn continue_import(
    db: &Db,
    kept: &KeptFile,
    record: &RosterImport,
) -> Result<ImportReport, ImportError> {
    let importer = Importer::of_record(record).map_err(|e| {
        ImportError::Io(io::Error::other(format!(
            "cakupan pengimpor tidak terbaca: {e}"
        )))
    })?;
    if super::sha256_of(kept.path())? != record.file_sha256 {
        let journal = super::journal::Journal::resumed(record, &importer);
        journal.fail(
            db,
            "berkas yang disimpan tidak sama dengan berkas yang diimpor",
        )?;
        return Err(ImportError::Io(io::Error::other(
            "the kept file's SHA-256 differs from the import's record",
        )));
    }
    super::resume(db, kept.path(), record, &importer)
}
