//! `ikrar bench`: the in-process figures of the benchmark (one certificate rendered on one core,
//! and where its time goes), and `ikrar bench-signers`, which prepares signed-in employees and
//! certificate ids for the HTTP load in `scripts/bench-http.sh`. HTTP figures come from wrk,
//! never from here.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::StorageArgs;
use crate::certificate::{self, CertificateContext, PdfSigner, QrMatrix};
use crate::db::campaigns::{Campaign, StoredDocument};
use diesel::Connection;

use crate::db::{campaigns, employees, now, DbError};
use crate::domain::PactDocument;
use crate::signing::issue::sign_row;
use crate::signing::{IssuerKey, Seal};
use crate::synth::RosterGenerator;

/// Median and 99th percentile of a set of timings.
pub struct Spread {
    pub median: Duration,
    pub p99: Duration,
}

fn spread(mut samples: Vec<Duration>) -> Spread {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Spread {
        median: at(0.5),
        p99: at(0.99),
    }
}

fn time(samples: usize, mut f: impl FnMut()) -> Spread {
    // A few rounds first, so that lazily parsed fonts and caches do not count.
    for _ in 0..samples.min(20) {
        f();
    }
    spread(
        (0..samples)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// The machine, as the table states it: CPU model and the cores this process may use.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {cores} cores")
}

pub fn run(quick: bool, samples: Option<usize>, pdf_out: Option<&Path>) -> anyhow::Result<i32> {
    let samples = samples.unwrap_or(if quick { 3 } else { 3_000 });
    let key = IssuerKey::from_seed([7; 32]);
    let at = now();
    let document = PactDocument::default_pact();
    let campaign = Campaign {
        id: Campaign::new_id(),
        title: "Pemilu dan Pilkada Serentak 2024".into(),
        scope_code: crate::domain::AreaScope::parse("73")?,
        opens_at: at - 86_400,
        closes_at: at + 86_400,
        created_at: at - 86_400,
    };
    let stored = StoredDocument {
        campaign_id: campaign.id.clone(),
        version: 1,
        sha256: document.sha256_hex(),
        body: document.text().to_string(),
        created_at: at - 86_400,
    };
    let village = crate::domain::AreaCode::parse("73.71.01.1001")?;
    let employee = RosterGenerator::new(1).employee(&village, at).with_id(1);
    let base_url = "https://ikrar.sulselprov.go.id";
    let work_area =
        "Kelurahan Bontoala, Kecamatan Bontoala, Kota Makassar, Provinsi Sulawesi Selatan";
    let row = sign_row(&key, &employee, &campaign.id, &stored.sha256, 1, at);
    // The self-made seal every fresh deployment gets: ECDSA P-256.
    let seal = Seal::self_made("Pemerintah Provinsi Sulawesi Selatan", at - 86_400)?;
    let authority = super::demo::authority();
    // The offline bundle every download attaches, here for a log of one entry.
    let bundle =
        certificate::OfflineBundle::alone_in_log(&row, &key, "ikrar.sulselprov.go.id/log", at);
    let render = |row: &crate::db::certificates::CertificateRow| {
        certificate::render_pdf(
            &CertificateContext {
                certificate: row,
                campaign: &campaign,
                document: &stored,
                work_area,
                base_url,
                authority: Some(&authority),
                bundle: bundle.as_ref(),
            },
            PdfSigner { seal: &seal },
        )
        .expect("the benchmark certificate renders")
    };
    // The first render of a process also parses the fonts: what the first download after a
    // start waits for.
    let started = Instant::now();
    let sample = render(&row);
    let first = started.elapsed();
    let pdf_bytes = sample.len();
    if let Some(path) = pdf_out {
        std::fs::write(path, &sample)?;
    }
    let link = certificate::link_for(base_url, &row)?;

    let whole = time(samples, || {
        let row = sign_row(&key, &employee, &campaign.id, &stored.sha256, 1, at);
        std::hint::black_box(render(&row));
    });
    let signing = time(samples, || {
        std::hint::black_box(sign_row(
            &key,
            &employee,
            &campaign.id,
            &stored.sha256,
            1,
            at,
        ));
    });
    let qr = time(samples, || {
        std::hint::black_box(QrMatrix::encode(&link).expect("the link fits"));
    });
    let pdf = time(samples, || {
        std::hint::black_box(render(&row));
    });
    let context = CertificateContext {
        certificate: &row,
        campaign: &campaign,
        document: &stored,
        work_area,
        base_url,
        authority: Some(&authority),
        bundle: bundle.as_ref(),
    };
    let unsigned_pdf = time(samples, || {
        std::hint::black_box(
            certificate::render_unsigned_pdf(&context).expect("the benchmark certificate renders"),
        );
    });
    let unsigned = certificate::render_unsigned_pdf(&context)?;
    let signer = PdfSigner { seal: &seal };
    // The clone (one copy of the file) is timed too; it is a few microseconds.
    let pdf_signature = time(samples, || {
        std::hint::black_box(
            certificate::pdf_signature::sign(unsigned.clone(), signer, row.signed_at)
                .expect("the benchmark certificate signs"),
        );
    });

    let mut out = std::io::stdout().lock();
    writeln!(out, "mesin: {}", machine())?;
    writeln!(out, "| figure | median | p99 |")?;
    writeln!(out, "| --- | --- | --- |")?;
    for (name, s) in [
        (
            "render one certificate (claim signed, QR, PDF bytes), one core",
            &whole,
        ),
        ("  of which: claim built and signed (Ed25519)", &signing),
        ("  of which: QR code of the link", &qr),
        (
            "  of which: QR, PDF and PDF signature of a signed record",
            &pdf,
        ),
        (
            "    of which: QR and PDF, before the PDF signature",
            &unsigned_pdf,
        ),
        (
            "    of which: PDF seal (lopdf update, SHA-256, CMS, ECDSA P-256)",
            &pdf_signature,
        ),
    ] {
        writeln!(out, "| {name} | {} | {} |", ms(s.median), ms(s.p99))?;
    }
    writeln!(
        out,
        "| first certificate of the process (fonts parsed), once | {} | |",
        ms(first)
    )?;
    writeln!(
        out,
        "({samples} samples each; PDF {pdf_bytes} bytes; QR {} modules wide)",
        QrMatrix::encode(&link)?.width()
    )?;
    Ok(0)
}

/// Signs in `count` employees who have not signed the campaign yet and writes, one a line,
/// `token<TAB>JSON body` of their signing request; optionally also ids of standing certificates.
pub fn signers(
    campaign_id: &str,
    count: usize,
    out: &Path,
    certificate_ids: Option<(&Path, usize)>,
    storage: &StorageArgs,
) -> anyhow::Result<i32> {
    let (db, _) = crate::startup::open_storage(&storage.settings()?)?;
    let mut conn = db.read()?;
    let Some(_) = campaigns::find(&mut conn, campaign_id)? else {
        eprintln!("--campaign: penandatanganan {campaign_id} tidak ditemukan");
        return Ok(1);
    };
    let sha = campaigns::current_document(&mut conn, campaign_id)?.sha256;
    let unsigned = employees::unsigned_sample(&mut conn, campaign_id, count)?;
    // One transaction for all sessions: one disk flush instead of one per employee.
    let tokens = db.write()?.transaction(|conn| {
        unsigned
            .iter()
            .map(|e| crate::sign_in::open_session(conn, e.id))
            .collect::<Result<Vec<_>, DbError>>()
    })?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    for (employee, token) in unsigned.iter().zip(tokens) {
        let body = serde_json::json!({
            "full_name": employee.full_name,
            "document_sha256": sha,
            "accept": true,
        });
        writeln!(file, "{token}\t{body}")?;
    }
    file.flush()?;
    if let Some((path, n)) = certificate_ids {
        let ids = crate::db::certificates::standing_ids(&mut conn, campaign_id, n)?;
        std::fs::write(path, ids.join("\n") + "\n")?;
    }
    println!("{} pegawai siap menandatangani", unsigned.len());
    Ok(0)
}

/// Verifies each listed certificate twice, the way a QR scan does but without HTTP, and prints
/// the median and p99 of each step per pass: the first pass meets the certificates cold, the
/// second finds what the process remembers (proofs that held, shared tree nodes).
pub fn scans(ids: &Path, storage: &StorageArgs) -> anyhow::Result<i32> {
    use crate::db::areas;
    use crate::verification::{verify_in, Evidence, LogRevocations, Step};

    let mut ids: Vec<String> = std::fs::read_to_string(ids)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    // QR scans arrive in no order; a file sorted by id would read the database's pages in order.
    let mut state = u64::from_le_bytes(rand_bytes());
    for i in (1..ids.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ids.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let (db, _) = crate::startup::open_storage(&storage.settings()?)?;
    let started = Instant::now();
    let blocks = crate::transparency::store_missing_blocks(&db)?;
    if blocks > 0 {
        eprintln!(
            "stored {blocks} blocks of leaf hashes in {}",
            ms(started.elapsed())
        );
    }
    let mut conn = db.read()?;
    let caches = crate::caches::Caches::new();
    let started = Instant::now();
    areas::preload_names(&mut conn, &caches.area_names)?;
    let nodes = crate::transparency::remember_proof_nodes(&mut conn, &caches.log)?;
    let warm_up = started.elapsed();
    let revocations = LogRevocations::new();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} certificates; {}; warm-up as at start: {nodes} tree nodes and the area names in {}",
        ids.len(),
        machine(),
        ms(warm_up)
    )?;
    writeln!(out, "| pass | step | median | p99 | mean |")?;
    writeln!(out, "| --- | --- | --- | --- | --- |")?;
    for pass in ["first", "second"] {
        let steps = [
            "read (certificate, key, log index)",
            "log check",
            "judge",
            "work area",
            "whole scan",
        ];
        let mut taken: Vec<Vec<Duration>> = vec![Vec::with_capacity(ids.len()); steps.len()];
        for id in &ids {
            let whole = Instant::now();
            let mut last = whole;
            // The pipeline itself, timed at the end of each of its steps.
            let verified = crate::db::in_one_snapshot(&mut conn, |conn| {
                verify_in(conn, &revocations, &caches, id, Evidence::Id, &mut |step| {
                    let now = Instant::now();
                    let slot = match step {
                        Step::Read => 0,
                        Step::Log => 1,
                        Step::Judge => 2,
                        Step::Names => 3,
                    };
                    taken[slot].push(now - last);
                    last = now;
                })
            })?;
            std::hint::black_box(verified);
            taken[4].push(whole.elapsed());
        }
        for (step, samples) in steps.iter().zip(taken) {
            if samples.is_empty() {
                continue;
            }
            let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
            let s = spread(samples);
            writeln!(
                out,
                "| {pass} | {step} | {} | {} | {} |",
                us(s.median),
                us(s.p99),
                us(mean)
            )?;
        }
    }
    Ok(0)
}

fn rand_bytes() -> [u8; 8] {
    let mut seed = [1u8; 8];
    // A fixed seed if the system has no randomness to give: the order only has to be unsorted.
    let _ = getrandom::fill(&mut seed);
    seed
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}
