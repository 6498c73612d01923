//! `ikrar bench-import`: signing latency while a large roster import runs, side by side with the
//! same signing load on an idle writer. The import runs as the operator would run it, as a
//! separate `ikrar roster import` process on the same database; the signings go through the
//! signing workflow itself (`issue_certificate`: checks, group commit, counters, log), at a fixed
//! rate from several threads, so that the latency measured is waiting, not a saturated writer.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::StorageArgs;
use crate::db::campaigns::{self, Campaign};
use crate::db::{employees, now};
use crate::domain::{AreaScope, PactDocument};
use crate::signing::{issue_certificate, SigningRequest};
use crate::synth::load::{write_roster_file, Options};

pub struct BenchImport {
    /// Rows of the file imported during the second run.
    pub import_rows: u64,
    /// Employees on the roster before (the signers come from them).
    pub roster: u64,
    /// Signings per second offered in both runs.
    pub rate: u32,
    /// Length of the run without an import.
    pub baseline: Duration,
}

/// Latencies of one run, in milliseconds, sorted.
struct Run {
    latencies: Vec<f64>,
    failures: usize,
    seconds: f64,
}

impl Run {
    fn quantile(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let at = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies[at]
    }

    fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
            self.latencies.len(),
            self.seconds,
            self.quantile(0.5),
            self.quantile(0.99),
            self.latencies.last().copied().unwrap_or(f64::NAN),
            self.failures
        )
    }
}

pub fn run(bench: &BenchImport, storage: &StorageArgs) -> anyhow::Result<i32> {
    let settings = storage.settings()?;
    if settings.data_dir.join("ikrar.sqlite3").exists() || storage.database_url.is_some() {
        eprintln!(
            "ditolak: bench-import membuat basis datanya sendiri; beri --data-dir folder baru \
             (SQLite) tanpa --database-url"
        );
        return Ok(1);
    }
    let (db, key) = crate::startup::open_storage(&settings)?;
    let dir = &settings.data_dir;
    let base = dir.join("roster-awal.csv");
    let big = dir.join("roster-impor.csv");
    let options = |employees, seed| Options {
        employees,
        signed_share: 0.0,
        seed,
    };
    eprintln!(
        "menyiapkan {} pegawai dan berkas {} baris…",
        bench.roster, bench.import_rows
    );
    write_roster_file(&base, &options(bench.roster, 101), |_| {})?;
    write_roster_file(&big, &options(bench.import_rows, 202), |_| {})?;
    crate::roster::import(&db, &base)?;
    let at = now();
    let campaign = Campaign {
        id: Campaign::new_id(),
        title: "Uji kecepatan".into(),
        scope_code: AreaScope::National,
        opens_at: at - 86_400,
        closes_at: at + 86_400,
        created_at: at,
    };
    let document = PactDocument::default_pact();
    campaigns::create(&mut *db.write()?, &campaign, &document)?;
    let signers = Arc::new(employees::in_area(&mut *db.read()?, "")?);
    let next = Arc::new(AtomicUsize::new(0));
    let sha = document.sha256_hex();
    let (db, key) = (Arc::new(db), Arc::new(key));

    // Signs at `rate` per second from several threads until `stop` is set.
    let sign_until = |stop: Arc<AtomicBool>| -> Run {
        let threads = 8usize;
        let every = Duration::from_secs_f64(threads as f64 / f64::from(bench.rate));
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (db, key, signers, next, stop) = (
                    db.clone(),
                    key.clone(),
                    signers.clone(),
                    next.clone(),
                    stop.clone(),
                );
                let (latencies, failures, campaign_id, sha) = (
                    latencies.clone(),
                    failures.clone(),
                    campaign.id.clone(),
                    sha.clone(),
                );
                scope.spawn(move || {
                    let mut due = Instant::now() + every.mul_f64(t as f64 / threads as f64);
                    while !stop.load(Ordering::SeqCst) {
                        std::thread::sleep(due.saturating_duration_since(Instant::now()));
                        let Some(employee) = signers.get(next.fetch_add(1, Ordering::SeqCst))
                        else {
                            return;
                        };
                        // Measured from when the signing was due: a late start is waiting too.
                        let request = SigningRequest {
                            employee,
                            campaign_id: &campaign_id,
                            typed_name: &employee.full_name,
                            document_sha256: &sha,
                        };
                        let outcome = issue_certificate(&db, &key, &request, now());
                        let took = due.elapsed().as_secs_f64() * 1000.0;
                        match outcome {
                            Ok(_) => latencies.lock().expect("latency list").push(took),
                            Err(e) => {
                                tracing::warn!(error = %e, "a benchmark signing failed");
                                failures.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        due += every;
                    }
                });
            }
        });
        let mut latencies = std::mem::take(&mut *latencies.lock().expect("latency list"));
        latencies.sort_by(f64::total_cmp);
        Run {
            latencies,
            failures: failures.load(Ordering::SeqCst),
            seconds: started.elapsed().as_secs_f64(),
        }
    };

    eprintln!("tanpa impor: {:?} penandatanganan…", bench.baseline);
    let stop = Arc::new(AtomicBool::new(false));
    let idle = std::thread::scope(|scope| {
        let signing = scope.spawn(|| sign_until(stop.clone()));
        std::thread::sleep(bench.baseline);
        stop.store(true, Ordering::SeqCst);
        signing.join().expect("the signing threads do not panic")
    });

    eprintln!("dengan impor {} baris…", bench.import_rows);
    let stop = Arc::new(AtomicBool::new(false));
    let import_started = Instant::now();
    let mut import = import_process(&big, dir)?;
    let (busy, status) = std::thread::scope(|scope| {
        let signing = scope.spawn(|| sign_until(stop.clone()));
        let status = import.wait();
        stop.store(true, Ordering::SeqCst);
        (
            signing.join().expect("the signing threads do not panic"),
            status,
        )
    });
    let import_secs = import_started.elapsed().as_secs_f64();
    let status = status?;

    println!(
        "| kondisi | penandatanganan | detik | p50 | p99 | terlama | gagal |\n| --- | --- | --- | --- | --- | --- | --- |"
    );
    println!("{}", idle.row("tanpa impor"));
    println!(
        "{}",
        busy.row(&format!(
            "selama impor {} baris ({import_secs:.0} s, {})",
            bench.import_rows,
            if status.success() {
                "berhasil"
            } else {
                "GAGAL"
            }
        ))
    );
    println!(
        "roster awal {} pegawai; {} penandatanganan per detik dari 8 utas",
        bench.roster, bench.rate
    );
    Ok(if status.success() { 0 } else { 2 })
}

/// `ikrar roster import FILE` as its own process, as an operator runs it beside a serving node.
fn import_process(file: &Path, data_dir: &Path) -> anyhow::Result<std::process::Child> {
    let exe: PathBuf = std::env::current_exe()?;
    Ok(Command::new(exe)
        .arg("roster")
        .arg("import")
        .arg(file)
        .arg("--data-dir")
        .arg(data_dir)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()?)
}
