use std::path::Path;

use super::StorageArgs;
use crate::roster::{self, ImportError};

pub fn import(file: &Path, storage: &StorageArgs) -> anyhow::Result<i32> {
    let settings = storage.settings()?;
    let (db, _) = crate::startup::open_storage(&settings)?;
    let started = std::time::Instant::now();
    // A copy in the data folder, so that a node finishes the import if this process is stopped.
    let kept = match roster::KeptFile::copy_of(&settings.data_dir, file) {
        Ok(kept) => kept,
        Err(e) => {
            eprintln!("{}: berkas tidak dapat dibaca: {e}", file.display());
            return Ok(1);
        }
    };
    match roster::import_kept(&db, kept, &roster::Importer::command_line()) {
        Ok(report) => {
            println!(
                "{} baris diimpor: {} pegawai baru, {} diperbarui ({:.1} s)",
                report.rows,
                report.inserted,
                report.updated,
                started.elapsed().as_secs_f64()
            );
            Ok(0)
        }
        Err(ImportError::Rows(errors)) => {
            for e in &errors {
                eprintln!("{}: {e}", file.display());
            }
            eprintln!(
                "{} baris bermasalah; tidak ada data yang diimpor.",
                errors.len()
            );
            Ok(1)
        }
        Err(e @ ImportError::Header { .. }) => {
            eprintln!("{}: {e}", file.display());
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}
