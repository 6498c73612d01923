//! The bytes of one log entry (docs/log.md). They hold hashes, public keys and instants only: the
//! log is public, the signer's personal data is not.

use sha2::{Digest, Sha256};

use crate::db::certificates::CertificateRow;
use crate::db::log;
use crate::domain::{CertificateId, RevocationReason};

const VERSION: u8 = 1;
/// version, kind, id, instant, claim hash and the reason's category.
const REVOKED_LEN: usize = 1 + 1 + 10 + 8 + 32 + 1;

/// What an entry records: a certificate's issuance or revocation, or an event in a key's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Issued,
    Revoked,
    /// A key published, retired or revoked (`KeyEvent`); the entry's bytes say which.
    Key,
}

impl EntryKind {
    /// The spelling in storage (`db::log::ISSUED`, …) and in `/log/entries`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => log::ISSUED,
            Self::Revoked => log::REVOKED,
            Self::Key => log::KEY,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            log::ISSUED => Some(Self::Issued),
            log::REVOKED => Some(Self::Revoked),
            log::KEY => Some(Self::Key),
            _ => None,
        }
    }

    /// The certificate entries' type byte; key events carry their own (`KeyEvent::tag`).
    fn tag(self) -> u8 {
        match self {
            Self::Issued => 1,
            Self::Revoked => 2,
            Self::Key => 0,
        }
    }
}

/// Storage takes kinds as their spelling, so that it needs nothing from this module.
impl AsRef<str> for EntryKind {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// The jobs a key does, as one byte in key events: a bit for each role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyRoles(u8);

impl KeyRoles {
    /// Signs the claims of certificates (the QR's signature).
    pub const CLAIM: Self = Self(1);
    /// Signs the log's checkpoints and the published key list.
    pub const LOG: Self = Self(2);
    /// Seals the certificate PDFs (its "public key" in the log is the SHA-256 of its certificate).
    pub const SEAL: Self = Self(4);
    const NAMES: [(Self, &'static str); 3] = [
        (Self::CLAIM, "claim"),
        (Self::LOG, "log"),
        (Self::SEAL, "seal"),
    ];

    pub fn bits(self) -> u8 {
        self.0
    }

    pub fn from_bits(bits: u8) -> Option<Self> {
        (bits != 0 && bits & !7 == 0).then_some(Self(bits))
    }

    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    pub fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The role names, as `ikrar-keys.json` lists them.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(r, _)| self.contains(*r))
            .map(|(_, n)| *n)
            .collect()
    }

    /// As stored in `issuer_keys.roles` and written in the signed key list: `claim,log`.
    pub fn to_stored(self) -> String {
        self.names().join(",")
    }

    /// The stored or typed form; `None` for an unknown name.
    pub fn parse(text: &str) -> Option<Self> {
        let mut roles = Self(0);
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let (role, _) = Self::NAMES.iter().find(|(_, n)| *n == name)?;
            roles = roles.with(*role);
        }
        Some(roles)
    }
}

/// An event in a key's life, as the log records it (docs/log.md, "Key events").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEvent {
    pub what: KeyEventKind,
    /// The roles the event concerns: published for, retired from, or all of the key's for a
    /// revocation.
    pub roles: KeyRoles,
    pub key_id: [u8; 8],
    pub public_key: [u8; 32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEventKind {
    /// In service for `roles` from `valid_from`.
    Published { valid_from: i64 },
    /// Gave up `roles` at `at` (rotated out): what it signed before stays genuine.
    Retired { at: i64 },
    /// Compromised: whatever it signed at or after `from` is not genuine; declared at `at`.
    Revoked { from: i64, at: i64 },
}

impl KeyEvent {
    fn tag(&self) -> u8 {
        match self.what {
            KeyEventKind::Published { .. } => 3,
            KeyEventKind::Retired { .. } => 4,
            KeyEventKind::Revoked { .. } => 5,
        }
    }

    /// The entry's bytes: version, type, roles, key id, public key, then the instants (8 bytes
    /// each, big-endian Unix seconds): `valid_from`; `at`; or `from` and `at`.
    pub fn to_entry(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(KEY_EVENT_LEN + 8);
        out.extend_from_slice(&[VERSION, self.tag(), self.roles.bits()]);
        out.extend_from_slice(&self.key_id);
        out.extend_from_slice(&self.public_key);
        match self.what {
            KeyEventKind::Published { valid_from: t } | KeyEventKind::Retired { at: t } => {
                out.extend_from_slice(&t.to_be_bytes())
            }
            KeyEventKind::Revoked { from, at } => {
                out.extend_from_slice(&from.to_be_bytes());
                out.extend_from_slice(&at.to_be_bytes());
            }
        }
        out
    }

    /// Reads a key event's own bytes; `None` for anything else.
    pub fn parse(entry: &[u8]) -> Option<Self> {
        if entry.len() < KEY_EVENT_LEN || entry[0] != VERSION {
            return None;
        }
        let instant = |at: usize| Some(i64::from_be_bytes(entry.get(at..at + 8)?.try_into().ok()?));
        let what = match (entry[1], entry.len()) {
            (3, KEY_EVENT_LEN) => KeyEventKind::Published {
                valid_from: instant(43)?,
            },
            (4, KEY_EVENT_LEN) => KeyEventKind::Retired { at: instant(43)? },
            (5, REVOKED_KEY_LEN) => KeyEventKind::Revoked {
                from: instant(43)?,
                at: instant(51)?,
            },
            _ => return None,
        };
        Some(Self {
            what,
            roles: KeyRoles::from_bits(entry[2])?,
            key_id: entry[3..11].try_into().ok()?,
            public_key: entry[11..43].try_into().ok()?,
        })
    }

    /// The entry's subject in storage (`log_entries.certificate_id`): unique per event, so that
    /// the same event is never logged twice (`log_entries_certificate` is unique).
    pub fn subject(&self) -> String {
        let id = data_encoding::HEXLOWER.encode(&self.key_id);
        match self.what {
            KeyEventKind::Published { .. } => format!("{id}/published"),
            KeyEventKind::Retired { .. } => format!("{id}/retired/{}", self.roles.to_stored()),
            KeyEventKind::Revoked { from, .. } => format!("{id}/revoked/{from}"),
        }
    }
}

/// version, type, roles, key id, public key and one instant.
const KEY_EVENT_LEN: usize = 1 + 1 + 1 + 8 + 32 + 8;
/// A revocation carries two instants.
const REVOKED_KEY_LEN: usize = KEY_EVENT_LEN + 8;

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

/// The entry for a certificate's issuance, from the stored claim and signature. Always `Some`
/// now that the row holds a parsed id (a damaged one fails as it is read); the `Option` stays for
/// the callers written when it did not.
pub fn issued(row: &CertificateRow) -> Option<Vec<u8>> {
    Some(encode(
        EntryKind::Issued,
        &row.id,
        row.signed_at,
        &signed_claim_hash(&row.claim, &row.signature),
        None,
    ))
}

/// The entry for a certificate's revocation at `at`. Only the public category of the stored reason
/// (`category: note`) goes in, as one byte: the admin's note may name people, and a hash of it
/// would let anyone confirm a guess. A stored reason without a known category counts as "other".
/// Always `Some`, as for [`issued`].
pub fn revoked(row: &CertificateRow, at: i64, reason: &str) -> Option<Vec<u8>> {
    let reason = RevocationReason::of_stored(reason).unwrap_or(RevocationReason::Other);
    Some(encode(
        EntryKind::Revoked,
        &row.id,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_events_read_back_as_written_and_nothing_else_reads_as_one() {
        let events = [
            KeyEventKind::Published { valid_from: 10 },
            KeyEventKind::Retired { at: 20 },
            KeyEventKind::Revoked { from: 15, at: 30 },
        ];
        for what in events {
            let event = KeyEvent {
                what,
                roles: KeyRoles::CLAIM.with(KeyRoles::LOG),
                key_id: [1; 8],
                public_key: [2; 32],
            };
            let bytes = event.to_entry();
            assert_eq!(KeyEvent::parse(&bytes), Some(event));
            assert_eq!(parse_revocation(&bytes), None);
            assert_eq!(KeyEvent::parse(&bytes[..bytes.len() - 1]), None);
        }
        assert_eq!(
            KeyRoles::parse("claim,log").unwrap().to_stored(),
            "claim,log"
        );
        assert_eq!(KeyRoles::parse("tanda"), None);
    }
}
