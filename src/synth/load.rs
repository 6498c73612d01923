//! A synthetic nation written to the database (or to a roster file): employees spread over the
//! provinces, their coverage counters, and optionally a share already signed with the issuer key
//! and stored by the same code that issues a real request's certificate (`signing::issue::Batch`).
//!
//! Built for millions of rows: one thread makes employees and signs their certificates while the
//! other writes the previous chunk, and counters are summed per chunk before they are written.
//! The whole nation lands in one transaction as a bulk load (`BulkLoad`: secondary indexes built
//! after the rows, a large page cache), so a failed run leaves the roster empty and can simply be
//! run again. Employees are made village by village in code order with ascending ids, so their
//! indexes and their certificates' grow at the end instead of at random pages.

use std::path::Path;
use std::sync::mpsc;

use diesel::Connection;

use super::nation::{Nation, NationError};
use super::RosterGenerator;
use crate::db::campaigns::{self, Campaign};
use crate::db::certificates;
use crate::db::coverage::CountDeltas;
use crate::db::employees::bulk::{self, BulkLoad};
use crate::db::employees::{self, AscendingIds, Employee};
use crate::db::{areas, now, Db, DbConnection, DbError};
use crate::domain::{AreaScope, PactDocument};
use crate::roster::COLUMNS;
use crate::signing::issue::Batch;
use crate::signing::IssuerKey;

/// Employees handed from the generating thread to the writing one at a time: a chunk of
/// employees and certificates stays a few tens of megabytes.
const CHUNK: usize = 20_000;

/// Secondary indexes built after the load rather than during it. The certificate id, which the
/// log index is keyed by, is random; the others would grow at their end anyway, and one sort per
/// index at the end costs less than millions of B-tree inserts.
const SUSPENDED_INDEXES: [&str; 4] = [
    "employees_village_code",
    "certificates_one_standing",
    "certificates_employee",
    "log_entries_certificate",
];

pub const CAMPAIGN_TITLE: &str = "Pemilu dan Pilkada Serentak 2024 (data sintetis)";

#[derive(Debug, Clone)]
pub struct Options {
    pub employees: u64,
    /// Share of employees (0.0 to 1.0) who have already signed the national campaign.
    pub signed_share: f64,
    pub seed: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub employees: u64,
    pub signed: u64,
    /// The national campaign the signed share signed, if any.
    pub campaign_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("daftar pegawai sudah berisi {0} pegawai; ikrar synth hanya mengisi basis data yang daftar pegawainya kosong")]
    RosterNotEmpty(i64),
    #[error("--campaign-signed-share harus antara 0 dan 1, bukan {0}")]
    Share(f64),
    #[error(transparent)]
    Nation(#[from] NationError),
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("berkas daftar pegawai tidak dapat ditulis: {0}")]
    Csv(#[from] csv::Error),
}

impl From<diesel::result::Error> for SynthError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

/// One chunk as made by the generating thread, ready to write.
struct Chunk {
    employees: Vec<Employee>,
    certificates: Batch,
}

fn check_share(share: f64) -> Result<(), SynthError> {
    if (0.0..=1.0).contains(&share) {
        Ok(())
    } else {
        Err(SynthError::Share(share))
    }
}

/// Fills an empty roster with `options.employees` synthetic employees; `progress` is told how
/// many employees and certificates are written after each chunk.
pub fn populate(
    db: &Db,
    key: &IssuerKey,
    options: &Options,
    mut progress: impl FnMut(u64, u64),
) -> Result<Loaded, SynthError> {
    check_share(options.signed_share)?;
    let mut conn = db.write()?;
    bulk::with_settings(&mut conn, bulk::Settings::RANDOM_INSERTS, |conn| {
        conn.transaction(|conn| {
            let Some(load) = BulkLoad::begin(conn, &SUSPENDED_INDEXES)? else {
                return Err(SynthError::RosterNotEmpty(employees::count(conn)?));
            };
            let loaded = pour(conn, key, options, &mut progress)?;
            load.finish(conn)?;
            Ok(loaded)
        })
    })
}

/// Makes and writes the nation in the caller's transaction.
fn pour(
    conn: &mut DbConnection,
    key: &IssuerKey,
    options: &Options,
    progress: &mut impl FnMut(u64, u64),
) -> Result<Loaded, SynthError> {
    let nation = Nation::of_villages(areas::villages(conn)?)?;
    let campaign = if options.signed_share > 0.0 {
        let at = now();
        let campaign = Campaign {
            id: Campaign::new_id(),
            title: CAMPAIGN_TITLE.into(),
            scope_code: AreaScope::National,
            opens_at: at - 7 * 86_400,
            closes_at: at + 90 * 86_400,
            created_at: at - 7 * 86_400,
        };
        campaigns::create(conn, &campaign, &PactDocument::default_pact())?;
        Some(campaign)
    } else {
        None
    };
    let first_serial = certificates::reserve_serials(conn, 0)?;

    let mut loaded = Loaded {
        campaign_id: campaign.as_ref().map(|c| c.id.clone()),
        ..Loaded::default()
    };
    let (sender, chunks) = mpsc::sync_channel::<Chunk>(2);
    std::thread::scope(|scope| {
        let maker = scope.spawn(|| {
            make_chunks(
                &nation,
                key,
                options,
                campaign.as_ref(),
                first_serial,
                sender,
            )
        });
        let written = (|| {
            for chunk in chunks.iter() {
                loaded.employees += chunk.employees.len() as u64;
                loaded.signed += chunk.certificates.len() as u64;
                write_chunk(conn, chunk)?;
                progress(loaded.employees, loaded.signed);
            }
            Ok::<_, SynthError>(())
        })();
        // Dropping the receiver stops the maker if writing failed.
        drop(chunks);
        maker.join().expect("the generating thread does not panic");
        written
    })?;
    Ok(loaded)
}

fn make_chunks(
    nation: &Nation,
    key: &IssuerKey,
    options: &Options,
    campaign: Option<&Campaign>,
    first_serial: i64,
    sender: mpsc::SyncSender<Chunk>,
) {
    let document_sha256 = PactDocument::default_pact().sha256_hex();
    let mut generator = RosterGenerator::new(options.seed);
    let mut rng = fastrand::Rng::with_seed(options.seed ^ 0x5eed);
    let mut ids = AscendingIds::new();
    let at = now();
    let mut chunk = Chunk {
        employees: Vec::with_capacity(CHUNK),
        certificates: Batch::numbered_from(first_serial),
    };
    for (village, count) in nation.allot(options.employees, &mut rng) {
        for _ in 0..count {
            let employee = generator.employee(village, at).with_id(ids.next_id());
            if let Some(c) = campaign.filter(|_| rng.f64() < options.signed_share) {
                // Spread over the week the campaign has been open, as a real campaign would be.
                let signed_at = c.opens_at + rng.i64(0..(at - c.opens_at).max(1));
                chunk
                    .certificates
                    .sign(key, &employee, &c.id, &document_sha256, signed_at);
            }
            chunk.employees.push(employee);
            if chunk.employees.len() == CHUNK {
                let next = Batch::numbered_from(chunk.certificates.next_serial());
                let full = std::mem::replace(
                    &mut chunk,
                    Chunk {
                        employees: Vec::with_capacity(CHUNK),
                        certificates: next,
                    },
                );
                if sender.send(full).is_err() {
                    return;
                }
            }
        }
    }
    if !chunk.employees.is_empty() {
        let _ = sender.send(chunk);
    }
}

fn write_chunk(conn: &mut DbConnection, chunk: Chunk) -> Result<(), SynthError> {
    employees::insert_new(conn, &chunk.employees)?;
    let mut counts = CountDeltas::default();
    for e in &chunk.employees {
        counts.roster_in(&e.village_code, &e.agency, &e.employee_type, 1);
    }
    // Serials were handed out by the generating thread from the first one `pour` read in this
    // transaction; storing takes them from the counter.
    chunk.certificates.store(conn, &mut counts)?;
    counts.write(conn)?;
    Ok(())
}

/// Writes a synthetic roster file in the import format instead (for the import benchmark).
pub fn write_roster_file(
    path: &Path,
    options: &Options,
    mut progress: impl FnMut(u64),
) -> Result<u64, SynthError> {
    let nation = Nation::new(areas::reference_village_codes())?;
    let mut generator = RosterGenerator::new(options.seed);
    let mut rng = fastrand::Rng::with_seed(options.seed ^ 0x5eed);
    let mut out = csv::Writer::from_writer(std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).map_err(csv::Error::from)?,
    ));
    out.write_record(COLUMNS)?;
    let at = now();
    for i in 1..=options.employees {
        let r = generator.employee(nation.village(&mut rng), at);
        out.write_record([
            r.nip.as_deref().unwrap_or(""),
            r.nik.as_str(),
            &r.full_name,
            &r.position,
            &r.agency,
            &r.unit,
            r.employee_type.as_str(),
            r.village_code.as_str(),
            r.email.as_deref().unwrap_or(""),
        ])?;
        if i % CHUNK as u64 == 0 {
            progress(i);
        }
    }
    out.flush().map_err(csv::Error::from)?;
    progress(options.employees);
    Ok(options.employees)
}
