use crate::db::copy::{self, CopyError};
use crate::db::{DatabaseUrl, Db};
use crate::verification::{self, Evidence, LogRevocations, Verdict};

pub fn copy(from: &str, to: &str) -> anyhow::Result<i32> {
    let (from_url, to_url) = (DatabaseUrl::parse(from)?, DatabaseUrl::parse(to)?);
    if from_url == to_url {
        eprintln!("--from dan --to menunjuk basis data yang sama");
        return Ok(1);
    }
    let started = std::time::Instant::now();
    let (source, target) = (Db::connect(&from_url)?, Db::connect(&to_url)?);
    let report = match copy::copy_all(&source, &target) {
        Ok(report) => report,
        Err(e @ CopyError::TargetNotEmpty(_)) => {
            eprintln!("ditolak: {e}");
            return Ok(1);
        }
        Err(e) => return Err(e.into()),
    };
    for (table, rows) in &report {
        println!("{table:>14}: {rows} baris");
    }
    let mut conn = target.read()?;
    let ids = copy::certificate_ids(&mut conn)?;
    let mut failed = 0;
    // The copied log's revocations count, as on a serving node.
    let revocations = LogRevocations::new();
    // The target's own: nothing remembered of the source may vouch for the copy.
    let caches = crate::caches::Caches::new();
    for id in &ids {
        let verdict = verification::verify_in(
            &mut conn,
            &revocations,
            &caches,
            id,
            Evidence::Id,
            &mut |_| {},
        )?
        .verdict;
        if !matches!(verdict, Verdict::Genuine | Verdict::Revoked) {
            eprintln!(
                "sertifikat {id} tidak lolos pemeriksaan di basis data tujuan: {}",
                verdict.as_str()
            );
            failed += 1;
        }
    }
    if failed > 0 {
        eprintln!("{failed} sertifikat gagal diperiksa");
        return Ok(2);
    }
    println!(
        "selesai dalam {:.1} detik; jumlah baris sama dan {} sertifikat terverifikasi di basis data tujuan",
        started.elapsed().as_secs_f64(),
        ids.len()
    );
    Ok(0)
}
