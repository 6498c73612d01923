use std::sync::{Arc, Mutex};

use diesel::Connection;

use super::{IssuerKey, SignedRecord};
use crate::db::campaigns::{self, Campaign};
use crate::db::certificates::{self, CertificateRow};
use crate::db::coverage::{CountDeltas, Placement};
use crate::db::employees::Employee;
use crate::db::{is_unique_violation, Db, DbConnection, DbError, Tail};
use crate::domain::{CertificateId, FullName};

/// An employee's consent, as received: the name they typed and the document version they read.
#[derive(Debug, Clone)]
pub struct SigningRequest<'a> {
    pub employee: &'a Employee,
    pub campaign_id: &'a str,
    pub typed_name: &'a str,
    pub document_sha256: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("penandatanganan tidak ditemukan")]
    CampaignNotFound,
    #[error("penandatanganan ini tidak berlaku untuk wilayah kerja Anda")]
    OutOfScope,
    #[error("penandatanganan dokumen ini sedang tidak dibuka")]
    NotOpen,
    #[error("Nama yang Anda ketik tidak sama dengan nama pada daftar pegawai. Ketik nama lengkap beserta gelarnya.")]
    NameMismatch,
    #[error("versi dokumen yang Anda baca sudah tidak berlaku; muat ulang halaman dan baca dokumen terbaru")]
    DocumentOutdated,
    #[error("{label} Anda pada daftar pegawai memuat karakter {character:?} (U+{:04X}) yang tidak dapat dicetak pada sertifikat. Mintalah admin kepegawaian memperbaiki data tersebut, lalu tanda tangani kembali.", *.character as u32)]
    Unprintable {
        field: &'static str,
        label: &'static str,
        character: char,
    },
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for IssueError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

/// The certificate the employee holds after the request; `created` is false for a repeat.
#[derive(Debug, Clone)]
pub struct Issued {
    pub certificate: CertificateRow,
    pub created: bool,
}

/// Waits before each new attempt of a signing refused for a passing reason (`db::fault`): a
/// busy writer or a cut connection. Trying again is safe: an attempt whose commit did happen
/// although its answer was lost is found by the next one, which returns that certificate.
const RETRY_DELAYS_MS: [u64; 3] = [50, 250, 1000];

/// Signs the employee's consent and stores the certificate, or returns the one they already hold.
/// Exactly one standing certificate per employee and campaign, also under concurrent submits:
/// the unique index decides, and the loser reads the winner's certificate. A passing database
/// fault is retried here a few times before it is handed up (and answered 503).
pub fn issue_certificate(
    db: &Db,
    key: &IssuerKey,
    request: &SigningRequest<'_>,
    now: i64,
) -> Result<Issued, IssueError> {
    let mut delays = RETRY_DELAYS_MS.iter();
    loop {
        let attempt = issue_once(db, key, request, now);
        let passing = match &attempt {
            Err(IssueError::Db(e)) => e.unavailable().is_some_and(|u| u.passes_quickly()),
            _ => false,
        };
        match delays.next() {
            Some(ms) if passing => {
                tracing::info!(error = ?attempt.as_ref().err(), "signing retried after a passing database fault");
                std::thread::sleep(std::time::Duration::from_millis(*ms));
            }
            _ => return attempt,
        }
    }
}

fn issue_once(
    db: &Db,
    key: &IssuerKey,
    request: &SigningRequest<'_>,
    now: i64,
) -> Result<Issued, IssueError> {
    // Owned copies: the signing may be committed by whichever request holds the writer.
    let (key, employee) = (key.clone(), request.employee.clone());
    let (campaign_id, typed_name, document_sha256) = (
        request.campaign_id.to_string(),
        request.typed_name.to_string(),
        request.document_sha256.to_string(),
    );
    let attempt = db
        .write_grouped(move |conn, group| {
            let request = SigningRequest {
                employee: &employee,
                campaign_id: &campaign_id,
                typed_name: &typed_name,
                document_sha256: &document_sha256,
            };
            Ok(match check_request(conn, &request, now)? {
                Checked::Standing(certificate) => Signing::Held(certificate),
                Checked::Fresh { document_sha256 } => {
                    let stored = StoredSlot::default();
                    group.tail::<Signings>().0.push(Pending {
                        key,
                        employee,
                        campaign_id,
                        document_sha256,
                        signed_at: now,
                        stored: stored.clone(),
                    });
                    Signing::Stored(stored)
                }
            })
        })
        .and_then(Signing::issued);
    match attempt {
        Err(IssueError::Db(DbError::Query(e))) if is_unique_violation(&e) => {
            // A concurrent request for the same employee won the race, on another connection
            // or earlier in the same batch.
            let existing = certificates::standing(
                &mut *db.write()?,
                request.campaign_id,
                request.employee.id,
            )?
            .ok_or(IssueError::Db(DbError::Query(e)))?;
            Ok(Issued {
                certificate: existing,
                created: false,
            })
        }
        other => other,
    }
}

/// What the checks of a signing request found.
enum Checked {
    /// The employee already holds a standing certificate for the campaign.
    Standing(Box<CertificateRow>),
    /// A certificate is to be signed, for this version of the document.
    Fresh { document_sha256: String },
}

/// Everything a signing request must pass before anything is signed or stored.
fn check_request(
    conn: &mut DbConnection,
    request: &SigningRequest<'_>,
    now: i64,
) -> Result<Checked, IssueError> {
    let (campaign, document_sha256, standing) =
        campaigns::for_signing(conn, request.campaign_id, request.employee.id)?
            .ok_or(IssueError::CampaignNotFound)?;
    check_eligibility(&campaign, request.employee, now)?;
    if !document_sha256.eq_ignore_ascii_case(request.document_sha256.trim()) {
        return Err(IssueError::DocumentOutdated);
    }
    let roster_name =
        FullName::parse(&request.employee.full_name).map_err(|_| IssueError::NameMismatch)?;
    if !roster_name.matches_typed(request.typed_name) {
        return Err(IssueError::NameMismatch);
    }
    check_printable(request.employee)?;
    Ok(match standing {
        Some(existing) => Checked::Standing(Box::new(existing)),
        None => Checked::Fresh { document_sha256 },
    })
}

/// Where the end of a batch leaves a certificate it stored for a request (or why it did not).
type StoredSlot = Arc<Mutex<Option<Result<CertificateRow, diesel::result::Error>>>>;

/// A request's share of a group commit.
enum Signing {
    Held(Box<CertificateRow>),
    /// Checked; signed and stored at the end of the batch (`Signings`).
    Stored(StoredSlot),
}

impl Signing {
    /// Once the batch is committed.
    fn issued(self) -> Result<Issued, IssueError> {
        match self {
            Self::Held(certificate) => Ok(Issued {
                certificate: *certificate,
                created: false,
            }),
            Self::Stored(slot) => {
                let stored = slot.lock().ok().and_then(|mut s| s.take());
                match stored {
                    Some(Ok(certificate)) => Ok(Issued {
                        certificate,
                        created: true,
                    }),
                    Some(Err(e)) => Err(IssueError::Db(DbError::Query(e))),
                    None => Err(IssueError::Db(DbError::GroupCommit(None))),
                }
            }
        }
    }
}

/// A checked request waiting for the end of its batch.
struct Pending {
    key: IssuerKey,
    employee: Employee,
    campaign_id: String,
    document_sha256: String,
    signed_at: i64,
    stored: StoredSlot,
}

/// The checked requests of one group commit, signed and stored together at its end: their
/// numbers taken at once, the certificates, their log entries and letters stored with a few
/// statements (on PostgreSQL, round trips made while the batch holds the counter rows).
#[derive(Default)]
struct Signings(Vec<Pending>);

impl Tail for Signings {
    fn finish(
        self: Box<Self>,
        conn: &mut DbConnection,
        counts: &mut CountDeltas,
    ) -> diesel::QueryResult<()> {
        let mut together = CountDeltas::default();
        match conn.transaction(|conn| store(conn, &self.0, &mut together)) {
            Ok(rows) => {
                counts.absorb(together);
                for (pending, row) in self.0.iter().zip(rows) {
                    pending.deliver(Ok(row));
                }
                Ok(())
            }
            // Two requests of one employee in the batch, or one racing another node's batch:
            // each alone, so that only the later of a pair is refused (and finds the other's).
            Err(e) if is_unique_violation(&e) => {
                for pending in &self.0 {
                    let mut alone = CountDeltas::default();
                    match conn
                        .transaction(|conn| store(conn, std::slice::from_ref(pending), &mut alone))
                    {
                        Ok(mut rows) => {
                            counts.absorb(alone);
                            pending.deliver(rows.pop().ok_or(diesel::result::Error::NotFound));
                        }
                        Err(e) if is_unique_violation(&e) => pending.deliver(Err(e)),
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

impl Pending {
    fn deliver(&self, stored: Result<CertificateRow, diesel::result::Error>) {
        if let Ok(mut slot) = self.stored.lock() {
            *slot = Some(stored);
        }
    }
}

/// Signs and stores the checked requests in order, and queues the letters of those with an
/// email address: sent by the node's letter queue after the commit, so that mail never slows
/// or fails a signing.
fn store(
    conn: &mut DbConnection,
    pending: &[Pending],
    counts: &mut CountDeltas,
) -> diesel::QueryResult<Vec<CertificateRow>> {
    let mut batch = Batch::reserve(conn, pending.len() as i64)?;
    for p in pending {
        batch.sign(
            &p.key,
            &p.employee,
            &p.campaign_id,
            &p.document_sha256,
            p.signed_at,
        );
    }
    let rows = batch.store(conn, counts)?;
    let letters: Vec<(&CertificateId, i64)> = rows
        .iter()
        .zip(pending)
        .filter(|(_, p)| p.employee.email.is_some())
        .map(|(row, p)| (&row.id, p.signed_at))
        .collect();
    crate::outbox::enqueue_many(conn, &letters, crate::outbox::Letter::Issued)?;
    Ok(rows)
}

/// Certificates signed and then stored together: the one way a certificate is issued. The signing
/// requests of one group commit are one batch (`Signings`); the demo and the synthetic nation
/// store thousands at once. Each is signed by `sign_row` and stored by `store`, so every
/// certificate, whoever made it, has the same record, the same log entry and the same count.
pub struct Batch {
    first_serial: i64,
    /// How many serials from `first_serial` on were taken from the counter when the batch opened.
    reserved: i64,
    signed: Vec<(CertificateRow, Placement)>,
}

impl Batch {
    /// Takes `n` serials now, in the caller's transaction, which stores the batch.
    pub fn reserve(conn: &mut DbConnection, n: i64) -> Result<Self, diesel::result::Error> {
        Ok(Self {
            first_serial: certificates::reserve_serials(conn, n)?,
            reserved: n,
            signed: Vec::new(),
        })
    }

    /// A batch numbered from `first_serial`, whose serials are taken when it is stored. For a bulk
    /// load that signs on another thread: the caller read `first_serial` in the transaction that
    /// stores the batch, so no other writer can take those numbers meanwhile.
    pub fn numbered_from(first_serial: i64) -> Self {
        Self {
            first_serial,
            reserved: 0,
            signed: Vec::new(),
        }
    }

    /// Signs the employee's certificate with the batch's next serial.
    pub fn sign(
        &mut self,
        key: &IssuerKey,
        employee: &Employee,
        campaign_id: &str,
        document_sha256: &str,
        signed_at: i64,
    ) {
        let serial = self.next_serial();
        let row = sign_row(
            key,
            employee,
            campaign_id,
            document_sha256,
            serial,
            signed_at,
        );
        self.signed.push((row, employee.placement()));
    }

    /// The serial the next signing gets, here or in a batch that follows this one.
    pub fn next_serial(&self) -> i64 {
        self.first_serial + self.signed.len() as i64
    }

    pub fn len(&self) -> usize {
        self.signed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.signed.is_empty()
    }

    /// Stores the certificates and appends them to the public log in serial order, in the
    /// caller's transaction, and counts them for the signers' areas in `counts`, which the caller
    /// writes before it commits. Returns the stored certificates.
    pub fn store(
        self,
        conn: &mut DbConnection,
        counts: &mut CountDeltas,
    ) -> Result<Vec<CertificateRow>, diesel::result::Error> {
        let more = self.signed.len() as i64 - self.reserved;
        if more > 0 {
            let first = certificates::reserve_serials(conn, more)?;
            if first != self.first_serial + self.reserved {
                // Only a caller outside the transaction that read `first_serial` can get here.
                return Err(diesel::result::Error::QueryBuilderError(
                    "another writer took the serials this batch was signed with".into(),
                ));
            }
        }
        let (rows, placements): (Vec<CertificateRow>, Vec<Placement>) =
            self.signed.into_iter().unzip();
        let first_index = crate::transparency::reserve_places(conn, rows.len() as u64)?;
        if rows.len() > 1 && !matches!(conn, DbConnection::Sqlite(_)) {
            // A few multi-row statements for the whole batch: on PostgreSQL each statement is a
            // round trip made while the batch holds the counter rows.
            certificates::insert_many(conn, &rows, first_index)?;
            crate::transparency::log_issuances_at(conn, first_index, &rows)?;
        } else {
            // One row per statement on SQLite: a multi-row insert keeps a statement journal
            // (see `employees::insert_new`). A single signing keeps its one prepared insert.
            for (row, index) in rows.iter().zip(first_index..) {
                certificates::insert(conn, row, index)?;
                crate::transparency::log_issuances_at(conn, index, std::slice::from_ref(row))?;
            }
        }
        for (row, placement) in rows.iter().zip(&placements) {
            counts.signed(&row.campaign_id, placement, row.signed_at);
        }
        Ok(rows)
    }
}

/// Refuses, before anything is signed, a roster value the certificate font cannot draw (a roster
/// imported before the import checked glyphs, or written by another path): the certificate must
/// render every time once it exists.
fn check_printable(employee: &Employee) -> Result<(), IssueError> {
    let e = employee;
    for (field, label, text) in [
        ("full_name", "Nama", &e.full_name),
        ("position", "Jabatan", &e.position),
        ("agency", "Instansi", &e.agency),
        ("unit", "Unit kerja", &e.unit),
    ] {
        if let Some(character) = crate::certificate::glyphs::unprintable(text) {
            return Err(IssueError::Unprintable {
                field,
                label,
                character,
            });
        }
    }
    Ok(())
}

fn check_eligibility(campaign: &Campaign, employee: &Employee, now: i64) -> Result<(), IssueError> {
    if !campaign.covers(&employee.village_code) || !employee.active {
        return Err(IssueError::OutOfScope);
    }
    if !campaign.is_open_at(now) {
        return Err(IssueError::NotOpen);
    }
    Ok(())
}

/// Builds the signed certificate record for an employee; pure apart from the random id and salt.
pub fn sign_row(
    key: &IssuerKey,
    employee: &Employee,
    campaign_id: &str,
    document_sha256: &str,
    serial: i64,
    signed_at: i64,
) -> CertificateRow {
    let mut record_salt = [0u8; 16];
    getrandom::fill(&mut record_salt).expect("the operating system's random source");
    let record = SignedRecord {
        certificate_id: CertificateId::random(),
        serial,
        key_id: key.id(),
        campaign_id: campaign_id.to_string(),
        document_sha256: data_encoding::HEXLOWER_PERMISSIVE
            .decode(document_sha256.as_bytes())
            .ok()
            .and_then(|b| b.try_into().ok())
            .expect("stored document hashes are 64 hex digits"),
        signed_at,
        signer_name: employee.full_name.clone(),
        signer_nip: employee.nip.as_deref().map(str::to_string),
        signer_nik: employee.nik.to_string(),
        position: employee.position.clone(),
        agency: employee.agency.clone(),
        unit: employee.unit.clone(),
        employee_type: employee.employee_type.to_string(),
        village_code: employee.village_code.to_string(),
        record_salt,
    };
    let claim = record.claim();
    let signature = key.sign(&claim.signing_message());
    CertificateRow {
        id: record.certificate_id,
        serial,
        campaign_id: record.campaign_id,
        employee_id: employee.id,
        document_sha256: document_sha256.to_ascii_lowercase(),
        signed_at,
        signer_name: record.signer_name,
        signer_nip: employee.nip.clone(),
        signer_nik: employee.nik.clone(),
        position: record.position,
        agency: record.agency,
        unit: record.unit,
        employee_type: employee.employee_type,
        village_code: employee.village_code.clone(),
        key_id: key.id().to_hex(),
        record_salt: record_salt.to_vec(),
        claim: claim.to_bytes(),
        signature: signature.to_vec(),
        revoked_at: None,
        revocation_reason: None,
    }
}
