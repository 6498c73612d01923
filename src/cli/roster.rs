use std::path::Path;

use super::StorageArgs;
use crate::roster::{self, ImportError};

pub fn import(file: &Path, storage: &StorageArgs) -> anyhow::Result<i32> {
    let (db, _) = crate::startup::open_storage(&storage.settings()?)?;
    let started = std::time::Instant::now();
    match roster::import(&db, file) {
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
