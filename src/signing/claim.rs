//! The canonical bytes a certificate's signature covers. `docs/certificate-format.md` specifies
//! them for independent verifiers; any change here is a new format version.

use sha2::{Digest, Sha256};

use super::KeyId;
use crate::domain::{CertificateId, LoginId};

/// Prefixed to the claim bytes before signing, so that the signature cannot be replayed as a
/// signature over anything else the key might ever sign.
pub const CLAIM_CONTEXT: &[u8] = b"ikrar/claim/v1\n";

const VERSION: u8 = 1;
const FIXED_LEN: usize = 1 + 8 + CertificateId::BYTES + 8 + 32 + 16;
pub const SIGNATURE_LEN: usize = 64;

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

/// The compact signed statement carried in the QR link: enough for an offline verdict
/// (who, which document, when, which key) without the full NIP or NIK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub key_id: KeyId,
    pub certificate_id: CertificateId,
    pub signed_at: i64,
    pub document_sha256: [u8; 32],
    pub record_digest: [u8; 16],
    pub campaign_id: String,
    pub signer_name: String,
    pub masked_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("the claim is not valid base32")]
    Encoding,
    #[error("the claim is truncated or has trailing bytes")]
    Length,
    #[error("unknown claim format version {0}")]
    Version(u8),
    #[error("a text field of the claim is not UTF-8")]
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
            key_id: self.key_id,
            certificate_id: self.certificate_id.clone(),
            signed_at: self.signed_at,
            document_sha256: self.document_sha256,
            record_digest: self.record_digest(),
            campaign_id: self.campaign_id.clone(),
            signer_name: self.signer_name.clone(),
            masked_id: self.masked_id(),
        }
    }
}

impl Claim {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_LEN + 96);
        out.push(VERSION);
        out.extend_from_slice(self.key_id.as_bytes());
        out.extend_from_slice(&self.certificate_id.to_bytes());
        out.extend_from_slice(&self.signed_at.to_be_bytes());
        out.extend_from_slice(&self.document_sha256);
        out.extend_from_slice(&self.record_digest);
        for text in [&self.campaign_id, &self.signer_name, &self.masked_id] {
            // Texts longer than 255 bytes are cut at a character boundary; the record digest
            // still covers the full value.
            let mut end = text.len().min(255);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            out.push(end as u8);
            out.extend_from_slice(&text.as_bytes()[..end]);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ClaimError> {
        if bytes.len() < FIXED_LEN + 3 {
            return Err(ClaimError::Length);
        }
        if bytes[0] != VERSION {
            return Err(ClaimError::Version(bytes[0]));
        }
        let mut at = 1;
        let mut take = |n: usize| {
            let s = &bytes[at..at + n];
            at += n;
            s
        };
        let key_id = KeyId::from_bytes(take(8).try_into().expect("8"));
        let certificate_id =
            CertificateId::from_bytes(take(CertificateId::BYTES).try_into().expect("10"));
        let signed_at = i64::from_be_bytes(take(8).try_into().expect("8"));
        let document_sha256 = take(32).try_into().expect("32");
        let record_digest = take(16).try_into().expect("16");
        let mut texts = Vec::with_capacity(3);
        for _ in 0..3 {
            let len = *bytes.get(at).ok_or(ClaimError::Length)? as usize;
            let text = bytes.get(at + 1..at + 1 + len).ok_or(ClaimError::Length)?;
            texts.push(String::from_utf8(text.to_vec()).map_err(|_| ClaimError::Text)?);
            at += 1 + len;
        }
        if at != bytes.len() {
            return Err(ClaimError::Length);
        }
        let masked_id = texts.pop().expect("3");
        let signer_name = texts.pop().expect("3");
        let campaign_id = texts.pop().expect("3");
        Ok(Self {
            key_id,
            certificate_id,
            signed_at,
            document_sha256,
            record_digest,
            campaign_id,
            signer_name,
            masked_id,
        })
    }

    /// The exact message the issuer key signs.
    pub fn signing_message(&self) -> Vec<u8> {
        [CLAIM_CONTEXT, &self.to_bytes()].concat()
    }

    /// Claim and signature as they travel in a link: RFC 4648 base32, upper case, no padding.
    pub fn encode_signed(&self, signature: &[u8; SIGNATURE_LEN]) -> String {
        data_encoding::BASE32_NOPAD.encode(&[self.to_bytes().as_slice(), signature].concat())
    }

    pub fn decode_signed(text: &str) -> Result<(Self, [u8; SIGNATURE_LEN]), ClaimError> {
        let bytes = data_encoding::BASE32_NOPAD
            .decode(text.trim().to_ascii_uppercase().as_bytes())
            .map_err(|_| ClaimError::Encoding)?;
        if bytes.len() < SIGNATURE_LEN {
            return Err(ClaimError::Length);
        }
        let (claim, sig) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
        Ok((Self::from_bytes(claim)?, sig.try_into().expect("64")))
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
        let claim = sample().claim();
        let text = claim.encode_signed(&[5; 64]);
        assert!(text
            .chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
        let (back, sig) = Claim::decode_signed(&text).unwrap();
        assert_eq!(back, claim);
        assert_eq!(sig, [5; 64]);
        assert_eq!(back.masked_id, "1985**********2004");
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
        let text = sample().claim().encode_signed(&[5; 64]);
        assert_eq!(Claim::decode_signed("!!"), Err(ClaimError::Encoding));
        assert!(Claim::decode_signed(&text[..40]).is_err());
    }
}
