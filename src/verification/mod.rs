//! The one verification pipeline: what a QR scan, the verify page, the API, an uploaded PDF, the
//! command line and the benchmark are told about a certificate. The verdict is decided here and
//! nowhere else: the record's signature (`signing::check_record`), its inclusion in the public log,
//! the log's revocations (which win over the row), and for an upload the PDF's own signature.

mod revocations;

pub use revocations::{Contradiction, LogRevocations, RevocationInLog};

use crate::caches::{AuthorityVersions, Caches};
use crate::certificate::PdfSignatureError;
use crate::db::certificates::{self, CertificateRow, Verifiable};
use crate::db::{areas, campaigns, Db, DbConnection, DbError};
use crate::domain::{CertificateId, RevocationReason};
use crate::signing::check_record;
use crate::signing::{SealSignature, SealSignatureError};
use crate::transparency::{self, LogCheck};

/// What a person scanning a certificate is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Genuine,
    Revoked,
    NotFound,
    Tampered,
}

impl Verdict {
    /// The API's word for it (docs/api.md).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Genuine => "genuine",
            Self::Revoked => "revoked",
            Self::NotFound => "not_found",
            Self::Tampered => "tampered",
        }
    }

    /// The page's word for it, the heading a citizen reads.
    pub fn heading(self) -> &'static str {
        match self {
            Self::Genuine => "ASLI",
            Self::Revoked => "DICABUT",
            Self::NotFound => "TIDAK DITEMUKAN",
            Self::Tampered => "TIDAK SAH",
        }
    }
}

/// What was presented for checking besides the certificate id.
pub enum Evidence<'a> {
    /// The id alone: the stored record is judged.
    Id,
    /// The signed claim a QR link carried (`?claim=`): it must be the record's.
    QrClaim(&'a str),
    /// An uploaded PDF's embedded signature, as read from the file.
    Pdf(Result<SealSignature, PdfSignatureError>),
}

/// A revocation as the public may see it: when, and the category; never the admin's note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicRevocation {
    pub at: i64,
    pub reason: Option<RevocationReason>,
}

/// A verdict with what a page or an answer needs to explain it.
#[derive(Debug, Clone)]
pub struct Verified {
    pub verdict: Verdict,
    /// Why a certificate is judged not genuine, in words for the page.
    pub problem: Option<&'static str>,
    pub certificate: Option<CertificateRow>,
    /// `None` for an unknown certificate, or one issued before the log existed.
    pub log: Option<LogCheck>,
    /// Set exactly when the verdict is `Revoked`: from the log when it holds the revocation.
    pub revocation: Option<PublicRevocation>,
    pub campaign_title: String,
    /// The authority that issued the campaign's document, once campaigns name one; until then
    /// `None`, and pages show the campaign's title alone.
    pub issuing_authority: Option<String>,
    pub work_area: String,
}

impl Verified {
    /// The answer for an id that names no certificate, or is not an id at all.
    pub fn not_found() -> Self {
        Self {
            verdict: Verdict::NotFound,
            problem: None,
            certificate: None,
            log: None,
            revocation: None,
            campaign_title: String::new(),
            issuing_authority: None,
            work_area: String::new(),
        }
    }
}

/// The steps of a verification, for `ikrar bench scans` to time each without copying them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The certificate, its key and its log index were read.
    Read,
    /// The log was consulted: inclusion and revocations.
    Log,
    /// The record's signature and the presented evidence were judged.
    Judge,
    /// The names a person reads were looked up.
    Names,
}

/// Verifies in one read snapshot of `db`.
pub fn verify(
    db: &Db,
    revocations: &LogRevocations,
    caches: &Caches,
    id: &str,
    evidence: Evidence<'_>,
) -> Result<Verified, DbError> {
    let mut conn = db.read()?;
    crate::db::in_one_snapshot(&mut conn, |conn| {
        verify_in(conn, revocations, caches, id, evidence, &mut |_| {})
    })
}

/// The pipeline, on a connection the caller keeps in one snapshot; `step` is told as each step
/// ends. `caches` remembers what never changes once known (the node's own, or a command's).
pub fn verify_in(
    conn: &mut DbConnection,
    revocations: &LogRevocations,
    caches: &Caches,
    id: &str,
    evidence: Evidence<'_>,
    step: &mut dyn FnMut(Step),
) -> Result<Verified, DbError> {
    let Ok(id) = CertificateId::parse(id) else {
        return Ok(Verified::not_found());
    };
    let found = certificates::find_verifiable(conn, &id)?;
    judge(conn, revocations, caches, found, evidence, step)
}

/// The pipeline after the certificate was read (`found`, `None` if there is no such
/// certificate): for scans read in a group (`Db::read_scan`), and for [`verify_in`].
pub fn judge(
    conn: &mut DbConnection,
    revocations: &LogRevocations,
    caches: &Caches,
    found: Option<Verifiable>,
    evidence: Evidence<'_>,
    step: &mut dyn FnMut(Step),
) -> Result<Verified, DbError> {
    let Some(found) = found else {
        return Ok(Verified::not_found());
    };
    let id = found.certificate.id.clone();
    step(Step::Read);
    // The log first: when it vouches for the record, its signature needs no second check.
    let mut log = transparency::check_certificate(conn, &caches.log, &found)?;
    let in_log = match log.as_ref().and_then(|l| l.checkpoint_size) {
        Some(size) => {
            revocations.catch_up(conn, size)?;
            revocations.of(id.as_str())
        }
        None => None,
    };
    step(Step::Log);
    let row = found.certificate;
    let link_claim = match &evidence {
        Evidence::QrClaim(text) => Some(*text),
        _ => None,
    };
    let mut problem = check_record(
        &row,
        found.issuer_key.as_ref(),
        link_claim,
        LogCheck::signature_check(log.as_ref()),
        &caches.accepted_signatures,
    )
    .err();
    if problem.is_none() && log.as_ref().and_then(|l| l.included) == Some(false) {
        // The record differs from what the log committed to, or the log was rewritten.
        problem = Some("catatan sertifikat tidak cocok dengan yang tercatat di log publik");
    }
    if let (None, Evidence::Pdf(signature)) = (problem, evidence) {
        problem = pdf_problem(conn, signature)?;
    }
    let revocation = match (row.revoked_at, in_log) {
        (_, Some(logged)) => {
            if row.revoked_at.is_none() {
                revocations.note_standing_row(&row.id, logged.index);
            }
            if let Some(l) = log.as_mut() {
                l.revocation_index = Some(logged.index);
            }
            Some(PublicRevocation {
                at: logged.revocation.at,
                reason: Some(logged.revocation.reason),
            })
        }
        (Some(at), None) => Some(PublicRevocation {
            at,
            reason: row
                .revocation_reason
                .as_deref()
                .and_then(RevocationReason::of_stored),
        }),
        (None, None) => None,
    };
    let verdict = match (problem, revocation) {
        (Some(_), _) => Verdict::Tampered,
        (None, Some(_)) => Verdict::Revoked,
        (None, None) => Verdict::Genuine,
    };
    step(Step::Judge);
    // A campaign's title never changes once it is created.
    let campaign_title = caches
        .campaign_titles
        .get_or_try(row.campaign_id.clone(), || {
            Ok::<_, DbError>(campaigns::find(conn, &row.campaign_id)?.map(|c| c.title))
        })?
        .unwrap_or_default();
    let issuing_authority = authority_of(conn, caches, &row.campaign_id, row.signed_at)?;
    let work_area = areas::describe(conn, &caches.area_names, &row.village_code)?;
    step(Step::Names);
    Ok(Verified {
        verdict,
        problem,
        certificate: Some(row),
        log,
        revocation: revocation.filter(|_| verdict == Verdict::Revoked),
        campaign_title,
        issuing_authority,
        work_area,
    })
}

/// The issuing authority in force when the certificate was signed, as "name, office".
///
/// A campaign's authority versions are remembered with the instant they were read. A revision
/// takes effect from the second after it is made, so that list is complete for certificates
/// signed before it was read; a certificate signed since is looked up afresh, which also
/// refreshes the list. Scans of older certificates thus never query.
fn authority_of(
    conn: &mut DbConnection,
    caches: &Caches,
    campaign_id: &str,
    signed_at: i64,
) -> Result<Option<String>, DbError> {
    let remembered = &caches.authority_versions;
    let versions = match remembered.get(&campaign_id.to_string()) {
        Some(known) if signed_at < known.0 => known,
        _ => {
            let read_at = crate::db::now();
            let fresh: AuthorityVersions =
                std::sync::Arc::new((read_at, campaigns::authority_names(conn, campaign_id)?));
            remembered.remember(campaign_id.to_string(), fresh.clone());
            fresh
        }
    };
    Ok(versions
        .1
        .iter()
        .rev()
        .find(|(from, _)| *from <= signed_at)
        .map(|(_, label)| label.clone()))
}

/// What a person is told when the PDF signature in an uploaded file does not hold.
fn signature_problem(error: &PdfSignatureError) -> &'static str {
    match error {
        PdfSignatureError::NotSigned => "berkas tidak memuat tanda tangan PDF penerbit",
        PdfSignatureError::ByteRange => {
            "tanda tangan PDF tidak mencakup seluruh isi berkas: berkas diubah atau ditambahi setelah ditandatangani"
        }
        PdfSignatureError::Digest => "isi berkas berubah setelah ditandatangani",
        PdfSignatureError::Cms(SealSignatureError::Signature) => {
            "tanda tangan PDF tidak sah: tidak cocok dengan sertifikat segel di dalamnya"
        }
        PdfSignatureError::Unreadable(_) => "berkas PDF rusak dan tidak dapat dibaca",
        PdfSignatureError::Structure(_)
        | PdfSignatureError::Contents
        | PdfSignatureError::Cms(_) => "tanda tangan PDF di dalam berkas rusak",
    }
}

/// An uploaded PDF is ours and unaltered exactly when its embedded PDF seal covers the whole
/// file and verifies under one of the seal certificates this deployment has used. No
/// byte-for-byte comparison with a fresh render: the seal already covers every byte, and a
/// render after a seal rotation differs.
fn pdf_problem(
    conn: &mut DbConnection,
    signature: Result<SealSignature, PdfSignatureError>,
) -> Result<Option<&'static str>, DbError> {
    let signed = match signature {
        Ok(signed) => signed,
        Err(e) => return Ok(Some(signature_problem(&e))),
    };
    let known = crate::db::seals::find(conn, &signed.signer_fingerprint_hex())?;
    Ok(known
        .is_none()
        .then_some("tanda tangan PDF dibuat dengan sertifikat yang bukan segel penerbit ini"))
}
