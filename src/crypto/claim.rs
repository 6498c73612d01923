//! The canonical bytes a certificate's signature covers. `docs/certificate-format.md` specifies
//! them for independent verifiers; any change here is a new format version.

use crate::db::certificates::CertificateRow;
use sha2::{Digest, Sha256};

use super::KeyId;
use crate::domain::{CertificateId, LoginId};

mod digits;
mod name_code;

/// Prefixed to the signed message, so that the signature cannot be replayed as a signature over
/// anything else the key might ever sign.
pub const CLAIM_CONTEXT: &[u8] = b"ikrar/claim/v2\n";

const VERSION: u8 = 2;
/// version, key hint, signed_at, masked id, record digest, campaign id length.
const FIXED_LEN: usize = 1 + KEY_HINT_LEN + 4 + 4 + RECORD_DIGEST_LEN + 1;
pub const SIGNATURE_LEN: usize = 64;
/// The first bytes of the issuer's key id: a hint which published key to try, not a security
/// element (docs/certificate-format.md, "Why these lengths").
pub const KEY_HINT_LEN: usize = 2;
/// SHA-256 truncated to 128 bits: second preimages stay out of reach even against all
/// certificates at once (docs/certificate-format.md, "Why these lengths").
pub const RECORD_DIGEST_LEN: usize = 16;

/// Everything a certificate attests, as stored. The salt keeps the record digest in the QR from
/// being used to guess the hidden digits of a NIK or NIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord {
    pub certificate_id: CertificateId,
    pub serial: i64,
    pub key_id: KeyId,
    pub campaign_id: String,
    pub document_sha256: [u8; 32],
    pub signed_at: i64,
    pub signer_name: String,
    pub signer_nip: Option<String>,
    pub signer_nik: String,
    pub position: String,
    pub agency: String,
    pub unit: String,
    pub employee_type: String,
    pub village_code: String,
    pub record_salt: [u8; 16],
}

/// The compact signed statement carried in the QR link: enough for an offline verdict (who,
/// which campaign, when, which key) without the full NIP or NIK. The certificate id travels in
/// the link's path, not in the claim; the signature covers it all the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub certificate_id: CertificateId,
    pub key_hint: [u8; KEY_HINT_LEN],
    /// Unix seconds; the claim holds them as an unsigned 32-bit number (good until 2106).
    pub signed_at: i64,
    pub masked_id: String,
    pub record_digest: [u8; RECORD_DIGEST_LEN],
    pub campaign_id: String,
    pub signer_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("the claim is not the decimal digits of a claim")]
    Encoding,
    #[error("the claim is truncated or has trailing bytes")]
    Length,
    #[error("unknown claim format version {0}")]
    Version(u8),
    #[error("a text field of the claim is damaged")]
    Text,
}

impl SignedRecord {
    /// The identifier shown publicly: the masked NIP, or the masked NIK for staff without one.
    pub fn masked_id(&self) -> String {
        LoginId::of_signer(self.signer_nip.as_deref(), &self.signer_nik)
            .map(|id| id.masked())
            .unwrap_or_default()
    }

    /// SHA-256 over every stored field, length-prefixed, truncated to 128 bits.
    pub fn record_digest(&self) -> [u8; 16] {
        let mut h = Sha256::new();
        h.update(b"ikrar/record/v1\n");
        let serial = self.serial.to_string();
        let signed_at = self.signed_at.to_string();
        let doc = data_encoding::HEXLOWER.encode(&self.document_sha256);
        let key = self.key_id.to_hex();
        let fields: [&[u8]; 15] = [
            &self.record_salt,
            self.certificate_id.as_str().as_bytes(),
            serial.as_bytes(),
            self.campaign_id.as_bytes(),
            doc.as_bytes(),
            signed_at.as_bytes(),
            self.signer_name.as_bytes(),
            self.signer_nip.as_deref().unwrap_or("").as_bytes(),
            self.signer_nik.as_bytes(),
            self.position.as_bytes(),
            self.agency.as_bytes(),
            self.unit.as_bytes(),
            self.employee_type.as_bytes(),
            self.village_code.as_bytes(),
            key.as_bytes(),
        ];
        for field in fields {
            h.update((field.len() as u32).to_be_bytes());
            h.update(field);
        }
        h.finalize()[..16].try_into().expect("16 bytes")
    }

    pub fn claim(&self) -> Claim {
        Claim {
            certificate_id: self.certificate_id.clone(),
            key_hint: key_hint(&self.key_id),
            signed_at: self.signed_at,
            masked_id: self.masked_id(),
            record_digest: self.record_digest(),
            campaign_id: self.campaign_id.clone(),
            signer_name: self.signer_name.clone(),
        }
    }
}

/// The leading bytes of a key id that a claim carries.
pub fn key_hint(key_id: &KeyId) -> [u8; KEY_HINT_LEN] {
    key_id.as_bytes()[..KEY_HINT_LEN]
        .try_into()
        .expect("a key id is longer than its hint")
}

/// `1985**********2004` (NIP), `7371********0003` (NIK) or nothing, as one number:
/// kind × 10⁸ + first four digits × 10⁴ + last four, kind 1 for a NIP, 2 for a NIK, 0 for none.
fn pack_masked(masked: &str) -> u32 {
    let digits = |s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
    };
    let kind = match masked.len() {
        18 => 1,
        16 => 2,
        _ => return 0,
    };
    let last = masked.len() - 4;
    match (
        masked.get(..4).and_then(digits),
        masked.get(last..).and_then(digits),
    ) {
        (Some(first), Some(last)) => kind * 100_000_000 + first * 10_000 + last,
        _ => 0,
    }
}

fn unpack_masked(packed: u32) -> Result<String, ClaimError> {
    let (kind, first, last) = (
        packed / 100_000_000,
        packed / 10_000 % 10_000,
        packed % 10_000,
    );
    match kind {
        0 if packed == 0 => Ok(String::new()),
        1 => Ok(format!("{first:04}**********{last:04}")),
        2 => Ok(format!("{first:04}********{last:04}")),
        _ => Err(ClaimError::Text),
    }
}

impl Claim {
    /// The claim's bytes as docs/certificate-format.md lays them out (format version 2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_LEN + 8 + self.signer_name.len());
        out.push(VERSION);
        out.extend_from_slice(&self.key_hint);
        // Saturating: every record's time is the clock's at signing, far inside the range.
        let signed_at = u32::try_from(self.signed_at.max(0)).unwrap_or(u32::MAX);
        out.extend_from_slice(&signed_at.to_be_bytes());
        out.extend_from_slice(&pack_masked(&self.masked_id).to_be_bytes());
        out.extend_from_slice(&self.record_digest);
        // Campaign ids are 8 characters of base32; a longer one is cut at a character
        // boundary, which the record digest still covers in full.
        let mut end = self.campaign_id.len().min(255);
        while !self.campaign_id.is_char_boundary(end) {
            end -= 1;
        }
        out.push(end as u8);
        out.extend_from_slice(&self.campaign_id.as_bytes()[..end]);
        out.extend_from_slice(&name_code::encode(&self.signer_name));
        out
    }

    /// Reads claim bytes; the certificate id comes from the link's path or the stored record.
    pub fn from_bytes(bytes: &[u8], certificate_id: &CertificateId) -> Result<Self, ClaimError> {
        if bytes.is_empty() {
            return Err(ClaimError::Length);
        }
        if bytes[0] != VERSION {
            return Err(ClaimError::Version(bytes[0]));
        }
        if bytes.len() < FIXED_LEN {
            return Err(ClaimError::Length);
        }
        let mut at = 1;
        let mut take = |n: usize| {
            let s = &bytes[at..at + n];
            at += n;
            s
        };
        let key_hint = take(KEY_HINT_LEN).try_into().expect("hint");
        let signed_at = u32::from_be_bytes(take(4).try_into().expect("4"));
        let masked_id = unpack_masked(u32::from_be_bytes(take(4).try_into().expect("4")))?;
        let record_digest = take(RECORD_DIGEST_LEN).try_into().expect("digest");
        let campaign_len = take(1)[0] as usize;
        let campaign = bytes.get(at..at + campaign_len).ok_or(ClaimError::Length)?;
        let campaign_id = String::from_utf8(campaign.to_vec()).map_err(|_| ClaimError::Text)?;
        let signer_name = name_code::decode(&bytes[at + campaign_len..]).ok_or(ClaimError::Text)?;
        Ok(Self {
            certificate_id: certificate_id.clone(),
            key_hint,
            signed_at: i64::from(signed_at),
            masked_id,
            record_digest,
            campaign_id,
            signer_name,
        })
    }

    /// The exact message the issuer key signs: the context, the certificate id's 10 bytes (so
    /// that a claim cannot be moved to another certificate's link), then the claim bytes.
    pub fn signing_message(&self) -> Vec<u8> {
        [
            CLAIM_CONTEXT,
            &self.certificate_id.to_bytes(),
            &self.to_bytes(),
        ]
        .concat()
    }

    /// Claim and signature as they travel in a link's fragment: the decimal digits of
    /// `claim_bytes ‖ signature`, which a QR code holds in its compact numeric mode.
    pub fn encode_signed(&self, signature: &[u8; SIGNATURE_LEN]) -> String {
        encode_signed_bytes(&self.to_bytes(), signature)
    }

    /// Reads a link's fragment for the certificate its path names.
    pub fn decode_signed(
        text: &str,
        certificate_id: &CertificateId,
    ) -> Result<(Self, [u8; SIGNATURE_LEN]), ClaimError> {
        let bytes = digits::decode(text.trim()).ok_or(ClaimError::Encoding)?;
        if bytes.len() < SIGNATURE_LEN {
            return Err(ClaimError::Length);
        }
        let (claim, sig) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
        Ok((
            Self::from_bytes(claim, certificate_id)?,
            sig.try_into().expect("64"),
        ))
    }
}

/// [`Claim::encode_signed`] for claim bytes as stored.
pub fn encode_signed_bytes(claim: &[u8], signature: &[u8; SIGNATURE_LEN]) -> String {
    digits::encode(&[claim, signature].concat())
}

impl SignedRecord {
    /// The record as the signature saw it, or `None` if a stored field could not have been
    /// written by us (a sign of tampering).
    pub fn of_row(row: &CertificateRow) -> Option<Self> {
        Some(SignedRecord {
            certificate_id: row.id.clone(),
            serial: row.serial,
            key_id: KeyId::parse_hex(&row.key_id)?,
            campaign_id: row.campaign_id.clone(),
            document_sha256: data_encoding::HEXLOWER
                .decode(row.document_sha256.as_bytes())
                .ok()?
                .try_into()
                .ok()?,
            signed_at: row.signed_at,
            signer_name: row.signer_name.clone(),
            signer_nip: row.signer_nip.as_ref().map(|n| n.as_str().to_string()),
            signer_nik: row.signer_nik.as_str().to_string(),
            position: row.position.clone(),
            agency: row.agency.clone(),
            unit: row.unit.clone(),
            employee_type: row.employee_type.as_str().to_string(),
            village_code: row.village_code.as_str().to_string(),
            record_salt: row.record_salt.clone().try_into().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> SignedRecord {
        SignedRecord {
            certificate_id: CertificateId::parse("ABCDEFGHIJKLMNOP").unwrap(),
            serial: 42,
            key_id: KeyId::from_bytes([7; 8]),
            campaign_id: "pemilu24".into(),
            document_sha256: [9; 32],
            signed_at: 1_700_015_400,
            signer_name: "Andi Nurul Hidayah, S.Pd.".into(),
            signer_nip: Some("198503302010012004".into()),
            signer_nik: "7371015503850001".into(),
            position: "Guru Ahli Muda".into(),
            agency: "Dinas Pendidikan".into(),
            unit: "SMP Negeri 1".into(),
            employee_type: "PNS".into(),
            village_code: "73.71.01.1001".into(),
            record_salt: [3; 16],
        }
    }

    #[test]
    fn a_claim_round_trips_through_its_link_form() {
        let record = sample();
        let claim = record.claim();
        let text = claim.encode_signed(&[5; 64]);
        assert!(text.bytes().all(|b| b.is_ascii_digit()));
        let (back, sig) = Claim::decode_signed(&text, &record.certificate_id).unwrap();
        assert_eq!(back, claim);
        assert_eq!(sig, [5; 64]);
        assert_eq!(back.masked_id, "1985**********2004");
        assert_eq!(back.key_hint, [7, 7]);
    }

    #[test]
    fn nik_only_and_unmasked_signers_round_trip() {
        let mut record = sample();
        record.signer_nip = None;
        let claim = record.claim();
        assert_eq!(claim.masked_id, "7371********0001");
        let back = Claim::from_bytes(&claim.to_bytes(), &record.certificate_id).unwrap();
        assert_eq!(back, claim);
        record.signer_nik = "bukan NIK".into();
        let claim = record.claim();
        assert_eq!(claim.masked_id, "");
        let back = Claim::from_bytes(&claim.to_bytes(), &record.certificate_id).unwrap();
        assert_eq!(back, claim);
    }

    #[test]
    fn the_signature_binds_the_certificate_id_of_the_link() {
        let record = sample();
        let other = CertificateId::parse("QRSTUVWXYZ234567").unwrap();
        let mut moved = record.claim();
        moved.certificate_id = other;
        assert_ne!(moved.signing_message(), record.claim().signing_message());
    }

    #[test]
    fn a_sixty_character_name_keeps_the_claim_within_85_bytes() {
        let mut record = sample();
        record.signer_name = "Prof. Dr. Ir. H. Andi Muhammad Yusuf Baso, S.H., M.Si., M.H.".into();
        record.signer_name.truncate(60);
        // 149 bytes of claim and signature is what a version-10 QR holds after a 40-character
        // base URL, the path and the id (see certificate::qr's tests).
        assert!(record.claim().to_bytes().len() <= 85);
    }

    #[test]
    fn every_field_changes_the_record_digest() {
        let base = sample().record_digest();
        let mut other = sample();
        other.position = "Guru Ahli Madya".into();
        assert_ne!(base, other.record_digest());
        let mut salted = sample();
        salted.record_salt = [4; 16];
        assert_ne!(base, salted.record_digest());
    }

    #[test]
    fn damaged_claims_are_refused() {
        let record = sample();
        let id = &record.certificate_id;
        let text = record.claim().encode_signed(&[5; 64]);
        assert_eq!(Claim::decode_signed("!!", id), Err(ClaimError::Encoding));
        assert!(Claim::decode_signed(&text[..40], id).is_err());
    }
}
