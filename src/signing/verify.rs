use sha2::{Digest, Sha256};

use super::key::verify_with;
use super::Claim;
use crate::db::certificates::{self, CertificateRow, Verifiable};
use crate::db::keys::IssuerKeyRow;
use crate::db::{DbConnection, DbError};
use crate::domain::CertificateId;
use crate::memo::Memo;

/// `verify_with`, remembering what it accepted: a certificate scanned again (a poster on a
/// notice board, a journalist re-checking) costs a SHA-256 instead of an Ed25519 verification
/// (about 1 µs instead of 40 µs). The memo is keyed by the exact key, message and signature
/// bytes, so a record changed in the database is verified afresh; rejections are not remembered.
fn verify_remembered(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    // 200,000 digests: about 10 MB when full.
    static ACCEPTED: Memo<[u8; 32], ()> = Memo::new(200_000);
    let mut h = Sha256::new();
    for part in [public, message, signature] {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part);
    }
    let digest: [u8; 32] = h.finalize().into();
    if ACCEPTED.get(&digest).is_some() {
        return true;
    }
    let ok = verify_with(public, message, signature);
    if ok {
        ACCEPTED.remember(digest, ());
    }
    ok
}

/// What a person scanning a certificate is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Genuine,
    Revoked,
    NotFound,
    Tampered,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Genuine => "genuine",
            Self::Revoked => "revoked",
            Self::NotFound => "not_found",
            Self::Tampered => "tampered",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Verification {
    pub verdict: Verdict,
    pub certificate: Option<CertificateRow>,
    /// Why a certificate is judged tampered, for the page to explain.
    pub problem: Option<&'static str>,
}

impl Verification {
    pub fn not_found() -> Self {
        Self {
            verdict: Verdict::NotFound,
            certificate: None,
            problem: None,
        }
    }
}

/// The stored record of the certificate a link or a person names, with its issuer key and log
/// index; `None` for an id that is not one of ours.
pub fn find_certificate(conn: &mut DbConnection, id: &str) -> Result<Option<Verifiable>, DbError> {
    match CertificateId::parse(id) {
        Ok(id) => certificates::find_verifiable(conn, &id),
        Err(_) => Ok(None),
    }
}

/// Judges a certificate by its stored record, and, when the link carried one, by the signed claim
/// from the QR. A record whose own signature fails is reported as tampered, not as genuine.
pub fn verify_certificate(
    conn: &mut DbConnection,
    id: &str,
    link_claim: Option<&str>,
) -> Result<Verification, DbError> {
    Ok(match find_certificate(conn, id)? {
        Some(found) => judge(
            found.certificate,
            found.issuer_key.as_ref(),
            link_claim,
            SignatureCheck::Verify,
        ),
        None => Verification::not_found(),
    })
}

/// How the record's own Ed25519 signature is established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Verified here (or remembered from an earlier verification of the same bytes).
    Verify,
    /// The record, its claim and signature bytes included, is in the public log under a
    /// checkpoint that an issuer key in service signed (`transparency::LogCheck::vouched`): the
    /// issuer logs a record only after signing it, so the checkpoint's signature covers this one.
    VouchedByLog,
}

/// `verify_certificate` for a record already read, with the issuer key it names (`None` if that
/// key is not one of ours).
pub fn judge(
    row: CertificateRow,
    key: Option<&IssuerKeyRow>,
    link_claim: Option<&str>,
    signature: SignatureCheck,
) -> Verification {
    let tampered = |row: CertificateRow, problem| Verification {
        verdict: Verdict::Tampered,
        certificate: Some(row),
        problem: Some(problem),
    };
    let Some(key) = key.filter(|k| k.key_id == row.key_id) else {
        return tampered(row, "kunci penerbit yang disebut sertifikat tidak dikenal");
    };
    let Some(record) = row.signed_record() else {
        return tampered(row, "catatan sertifikat rusak");
    };
    let claim = record.claim();
    let signature_holds = signature == SignatureCheck::VouchedByLog
        || verify_remembered(&key.public_key, &claim.signing_message(), &row.signature);
    if claim.to_bytes() != row.claim || !signature_holds {
        return tampered(
            row,
            "catatan sertifikat tidak cocok dengan tanda tangan penerbit",
        );
    }
    if key.valid_until.is_some_and(|until| row.signed_at > until) {
        // A revoked key may be in a forger's hands: what it signed after the compromise began
        // proves nothing, however well the signature checks.
        return tampered(
            row,
            if key.revoked_at.is_some() {
                "sertifikat ditandatangani sesudah kunci penerbitnya dinyatakan bocor dan dicabut"
            } else {
                "sertifikat ditandatangani dengan kunci yang sudah tidak berlaku"
            },
        );
    }
    if let Some(text) = link_claim.filter(|t| !t.trim().is_empty()) {
        let matches = match Claim::decode_signed(text, &record.certificate_id) {
            Ok((carried, sig)) => {
                carried == claim
                    && verify_remembered(&key.public_key, &carried.signing_message(), &sig)
            }
            Err(_) => false,
        };
        if !matches {
            return tampered(
                row,
                "data pada tautan QR tidak cocok dengan catatan sertifikat atau tanda tangannya",
            );
        }
    }
    let verdict = if row.revoked_at.is_some() {
        Verdict::Revoked
    } else {
        Verdict::Genuine
    };
    Verification {
        verdict,
        certificate: Some(row),
        problem: None,
    }
}
