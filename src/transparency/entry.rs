//! The bytes of one log entry (docs/log.md). They hold hashes and instants only: the log is public,
//! the signer's personal data is not.

use sha2::{Digest, Sha256};

use crate::db::certificates::CertificateRow;
use crate::domain::{CertificateId, RevocationReason};

const VERSION: u8 = 1;
/// version, kind, id, instant, claim hash and the reason's category.
const REVOKED_LEN: usize = 1 + 1 + 10 + 8 + 32 + 1;

/// What happened to a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Issued,
    Revoked,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "issued" => Some(Self::Issued),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }

    fn tag(self) -> u8 {
        match self {
            Self::Issued => 1,
            Self::Revoked => 2,
        }
    }
}

/// SHA-256 of the claim bytes followed by the signature: exactly what the QR link carries, so a
/// verifier holding only the link can recompute an issuance entry.
pub fn signed_claim_hash(claim: &[u8], signature: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(claim);
    h.update(signature);
    h.finalize().into()
}

fn encode(
    kind: EntryKind,
    id: &CertificateId,
    at: i64,
    claim_hash: &[u8; 32],
    reason: Option<RevocationReason>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(53);
    out.push(VERSION);
    out.push(kind.tag());
    out.extend_from_slice(&id.to_bytes());
    out.extend_from_slice(&at.to_be_bytes());
    out.extend_from_slice(claim_hash);
    if let Some(reason) = reason {
        out.push(reason.code());
    }
    out
}

/// The entry for a certificate's issuance, from the stored claim and signature. `None` if the id
/// could not have been made by us.
pub fn issued(row: &CertificateRow) -> Option<Vec<u8>> {
    let id = CertificateId::parse(&row.id).ok()?;
    Some(encode(
        EntryKind::Issued,
        &id,
        row.signed_at,
        &signed_claim_hash(&row.claim, &row.signature),
        None,
    ))
}

/// The entry for a certificate's revocation at `at`. Only the public category of the stored reason
/// (`category: note`) goes in, as one byte: the admin's note may name people, and a hash of it
/// would let anyone confirm a guess. A stored reason without a known category counts as "other".
pub fn revoked(row: &CertificateRow, at: i64, reason: &str) -> Option<Vec<u8>> {
    let reason = RevocationReason::of_stored(reason).unwrap_or(RevocationReason::Other);
    let id = CertificateId::parse(&row.id).ok()?;
    Some(encode(
        EntryKind::Revoked,
        &id,
        at,
        &signed_claim_hash(&row.claim, &row.signature),
        Some(reason),
    ))
}

/// A revocation as the log states it: when, and the public category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoggedRevocation {
    pub at: i64,
    pub reason: RevocationReason,
}

/// Reads a revocation entry's own bytes; `None` for anything else.
pub fn parse_revocation(entry: &[u8]) -> Option<LoggedRevocation> {
    if entry.len() != REVOKED_LEN || entry[0] != VERSION || entry[1] != EntryKind::Revoked.tag() {
        return None;
    }
    Some(LoggedRevocation {
        at: i64::from_be_bytes(entry[12..20].try_into().ok()?),
        reason: RevocationReason::of_code(entry[52])?,
    })
}
