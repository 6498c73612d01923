//! The cryptographic half of a verification: whether a stored record is the one its issuer key
//! signed, and whether the claim a QR link carries is that record's. What the public is told
//! (genuine, revoked, …) is decided by `crate::verification`, which also weighs the log.

use sha2::{Digest, Sha256};

use super::key::verify_with;
use super::Claim;
use crate::db::certificates::CertificateRow;
use crate::db::keys::IssuerKeyRow;
use crate::memo::Memo;

/// Ed25519 verifications that held, by the SHA-256 of key, message and signature; owned by the
/// application's `Caches` (src/caches.rs).
pub struct AcceptedSignatures(Memo<[u8; 32], ()>);

impl AcceptedSignatures {
    /// 200,000 digests: about 10 MB when full.
    pub const fn new() -> Self {
        Self(Memo::new(200_000))
    }
}

impl Default for AcceptedSignatures {
    fn default() -> Self {
        Self::new()
    }
}

/// `verify_with`, remembering what it accepted: a certificate scanned again (a poster on a
/// notice board, a journalist re-checking) costs a SHA-256 instead of an Ed25519 verification
/// (about 1 µs instead of 40 µs). The memo is keyed by the exact key, message and signature
/// bytes, so a record changed in the database is verified afresh; rejections are not remembered.
fn verify_remembered(
    accepted: &AcceptedSignatures,
    public: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    let mut h = Sha256::new();
    for part in [public, message, signature] {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part);
    }
    let digest: [u8; 32] = h.finalize().into();
    if accepted.0.get(&digest).is_some() {
        return true;
    }
    let ok = verify_with(public, message, signature);
    if ok {
        accepted.0.remember(digest, ());
    }
    ok
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

/// Checks a stored record against the issuer key it names (`None` if that key is not one of
/// ours) and, when the link carried one, the signed claim from the QR. `Err` says, in words for
/// the verification page, why the record cannot be trusted. `accepted` remembers the
/// verifications that held.
pub fn check_record(
    row: &CertificateRow,
    key: Option<&IssuerKeyRow>,
    link_claim: Option<&str>,
    signature: SignatureCheck,
    accepted: &AcceptedSignatures,
) -> Result<(), &'static str> {
    // A log key never signs claims: a claim "signed" by one is not ours.
    let Some(key) = key.filter(|k| k.key_id == row.key_id && k.does("claim")) else {
        return Err("kunci penerbit yang disebut sertifikat tidak dikenal");
    };
    let Some(record) = super::SignedRecord::of_row(row) else {
        return Err("catatan sertifikat rusak");
    };
    let claim = record.claim();
    let signature_holds = signature == SignatureCheck::VouchedByLog
        || verify_remembered(
            accepted,
            &key.public_key,
            &claim.signing_message(),
            &row.signature,
        );
    if claim.to_bytes() != row.claim || !signature_holds {
        return Err("catatan sertifikat tidak cocok dengan tanda tangan penerbit");
    }
    if key.valid_until.is_some_and(|until| row.signed_at >= until) {
        // A revoked key may be in a forger's hands: what it signed at or after the instant the
        // compromise began proves nothing, however well the signature checks.
        return Err(if key.revoked_at.is_some() {
            "sertifikat ditandatangani pada atau sesudah saat kunci penerbitnya dinyatakan bocor dan dicabut"
        } else {
            "sertifikat ditandatangani dengan kunci yang sudah tidak berlaku"
        });
    }
    if let Some(text) = link_claim.filter(|t| !t.trim().is_empty()) {
        let matches = match Claim::decode_signed(text, &record.certificate_id) {
            Ok((carried, sig)) => {
                carried == claim
                    && verify_remembered(
                        accepted,
                        &key.public_key,
                        &carried.signing_message(),
                        &sig,
                    )
            }
            Err(_) => false,
        };
        if !matches {
            return Err(
                "data pada tautan QR tidak cocok dengan catatan sertifikat atau tanda tangannya",
            );
        }
    }
    Ok(())
}
