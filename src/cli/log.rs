//! `ikrar log verify`: the audit of the public log against the database.

use super::StorageArgs;
use crate::db::Db;
use crate::transparency::audit;

/// Exit code 0 when every entry, subtree and checkpoint adds up; 1 naming the first inconsistency.
pub fn verify(storage: &StorageArgs) -> anyhow::Result<i32> {
    let settings = storage.settings()?;
    let db = Db::connect(&settings.database_url)?;
    let started = std::time::Instant::now();
    let report = audit::audit(&mut *db.read()?)?;
    let Some(first) = report.inconsistencies.first() else {
        println!(
            "log konsisten: {} entri dan {} checkpoint diperiksa terhadap basis data ({:.1} s)",
            report.size,
            report.checkpoints,
            started.elapsed().as_secs_f64()
        );
        return Ok(0);
    };
    eprintln!("LOG TIDAK KONSISTEN. Ketidakcocokan pertama: {first}");
    for other in report.inconsistencies.iter().skip(1).take(20) {
        eprintln!("  juga: {other}");
    }
    if report.inconsistencies.len() > 21 {
        eprintln!("  … dan {} lainnya", report.inconsistencies.len() - 21);
    }
    Ok(1)
}
