//! The CMS signature embedded in a certificate PDF: a detached CAdES-BES `SignedData` with
//! Ed25519 as RFC 8419 specifies (SHA-512 message digest, pure Ed25519 over the DER of the
//! signed attributes).
//!
//! [`sign_detached`] writes exactly one shape; [`SignedData::parse`] reads that shape back for
//! upload verification and refuses anything else.

use sha2::{Digest, Sha256};

use super::der::{self, context, DerError, Reader, INTEGER, OCTET_STRING, OID, SEQUENCE, SET};
use super::x509::{ed25519_algorithm, subject_name, IssuerCertificate};
use super::{verify_with, IssuerKey, KeyId};

const SIGNED_DATA: &[u64] = &[1, 2, 840, 113_549, 1, 7, 2];
const DATA: &[u64] = &[1, 2, 840, 113_549, 1, 7, 1];
const SHA512: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 3];
const CONTENT_TYPE: &[u64] = &[1, 2, 840, 113_549, 1, 9, 3];
const MESSAGE_DIGEST: &[u64] = &[1, 2, 840, 113_549, 1, 9, 4];
const SIGNING_TIME: &[u64] = &[1, 2, 840, 113_549, 1, 9, 5];
const SIGNING_CERTIFICATE_V2: &[u64] = &[1, 2, 840, 113_549, 1, 9, 16, 2, 47];

/// AlgorithmIdentifier for SHA-512 with absent parameters (RFC 5754 section 2).
fn sha512_algorithm() -> Vec<u8> {
    der::seq(SEQUENCE, &[&der::oid(SHA512)])
}

fn attribute(kind: &[u64], value: &[u8]) -> Vec<u8> {
    der::seq(SEQUENCE, &[&der::oid(kind), &der::seq(SET, &[value])])
}

/// The DER of a detached `ContentInfo` holding one signer: `key`, named by `certificate`, over
/// content whose SHA-512 is `content_sha512`, claiming `signed_at` (Unix seconds) as its time.
pub fn sign_detached(
    key: &IssuerKey,
    certificate: &IssuerCertificate,
    content_sha512: &[u8; 64],
    signed_at: i64,
) -> Vec<u8> {
    let name = certificate.name();
    let serial = certificate.serial();
    // ESS signing-certificate-v2 (RFC 5035): binds the signature to this certificate. The hash
    // algorithm is the default, SHA-256, and so is omitted.
    let issuer_serial = der::seq(
        SEQUENCE,
        &[
            &der::seq(SEQUENCE, &[&der::tlv(context(4), &name)]),
            &serial,
        ],
    );
    let cert_id = der::seq(
        SEQUENCE,
        &[
            &der::tlv(OCTET_STRING, &Sha256::digest(certificate.der())),
            &issuer_serial,
        ],
    );
    let signing_certificate = der::seq(SEQUENCE, &[&der::seq(SEQUENCE, &[&cert_id])]);
    let attributes = vec![
        attribute(CONTENT_TYPE, &der::oid(DATA)),
        attribute(
            MESSAGE_DIGEST,
            &der::tlv(OCTET_STRING, content_sha512.as_slice()),
        ),
        attribute(SIGNING_TIME, &der::time(signed_at)),
        attribute(SIGNING_CERTIFICATE_V2, &signing_certificate),
    ];
    // Signed as a SET OF (tag 0x31), stored as [0] IMPLICIT (RFC 5652 section 5.4).
    let signed_attributes = der::set_of(attributes);
    let signature = key.sign(&signed_attributes);
    let mut stored_attributes = signed_attributes;
    stored_attributes[0] = context(0);
    assemble(
        &name,
        &serial,
        certificate.der(),
        &stored_attributes,
        &signature,
    )
}

/// The one shape of `ContentInfo` we write, around its variable parts.
fn assemble(
    name: &[u8],
    serial: &[u8],
    certificate: &[u8],
    stored_attributes: &[u8],
    signature: &[u8],
) -> Vec<u8> {
    let signer_info = der::seq(
        SEQUENCE,
        &[
            &der::unsigned_integer(&[1]),
            &der::seq(SEQUENCE, &[name, serial]),
            &sha512_algorithm(),
            stored_attributes,
            &ed25519_algorithm(),
            &der::tlv(OCTET_STRING, signature),
        ],
    );
    let signed_data = der::seq(
        SEQUENCE,
        &[
            &der::unsigned_integer(&[1]),
            &der::seq(SET, &[&sha512_algorithm()]),
            &der::seq(SEQUENCE, &[&der::oid(DATA)]),
            &der::tlv(context(0), certificate),
            &der::seq(SET, &[&signer_info]),
        ],
    );
    der::seq(
        SEQUENCE,
        &[&der::oid(SIGNED_DATA), &der::tlv(context(0), &signed_data)],
    )
}

/// Why an embedded CMS signature is not one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CmsError {
    #[error(transparent)]
    Der(#[from] DerError),
    #[error("not a detached CMS SignedData with one Ed25519/SHA-512 signer")]
    Shape,
    #[error("the signed attributes lack a content type of id-data, a SHA-512 message digest or the hash of the embedded certificate")]
    Attributes,
}

/// The fields of one of our CMS signatures that upload verification checks.
#[derive(Debug, Clone)]
pub struct SignedData {
    /// The signer, from the serial number of its certificate.
    pub key_id: KeyId,
    /// The SHA-512 the signer claims for the signed byte ranges.
    pub message_digest: [u8; 64],
    /// The signed attributes re-tagged as the SET OF that was signed.
    signed_attributes: Vec<u8>,
    signature: Vec<u8>,
}

impl SignedData {
    /// Reads a `ContentInfo` of exactly the shape [`sign_detached`] writes; trailing zero bytes
    /// (the rest of a fixed-size placeholder) are allowed after it, nothing else. The embedded
    /// certificate must be the one the signed ESS signing-certificate-v2 attribute names, so no
    /// byte of the CMS can change unnoticed.
    pub fn parse(bytes: &[u8]) -> Result<Self, CmsError> {
        let mut outer = Reader::new(bytes);
        let content_info = outer.expect(SEQUENCE)?;
        if bytes[content_info.encoded.len()..].iter().any(|&b| b != 0) {
            return Err(CmsError::Shape);
        }
        let mut info = content_info.children();
        info.expect(OID)?;
        let mut explicit = info.expect(context(0))?.children();
        let mut signed_data = explicit.expect(SEQUENCE)?.children();
        signed_data.expect(INTEGER)?;
        signed_data.expect(SET)?;
        signed_data.expect(SEQUENCE)?;
        let certificate = signed_data.expect(context(0))?.content;
        let mut signers = signed_data.expect(SET)?.children();
        let mut signer = signers.expect(SEQUENCE)?.children();
        signer.expect(INTEGER)?;
        let mut sid = signer.expect(SEQUENCE)?.children();
        sid.expect(SEQUENCE)?;
        // The serial is the key id as an unsigned INTEGER: leading zeros dropped, or one added.
        let serial = sid.expect(INTEGER)?.content;
        let skip = serial.iter().take_while(|&&b| b == 0).count();
        let magnitude = &serial[skip..];
        if magnitude.len() > 8 {
            return Err(CmsError::Shape);
        }
        let mut key_id = [0u8; 8];
        key_id[8 - magnitude.len()..].copy_from_slice(magnitude);
        let key_id = KeyId::from_bytes(key_id);
        signer.expect(SEQUENCE)?;
        let attributes = signer.expect(context(0))?;
        signer.expect(SEQUENCE)?;
        let signature = signer.expect(OCTET_STRING)?.content;
        // The signer is named as we name it, from its key id.
        let canonical = assemble(
            &subject_name(&key_id),
            &der::unsigned_integer(key_id.as_bytes()),
            certificate,
            attributes.encoded,
            signature,
        );
        if canonical != content_info.encoded {
            return Err(CmsError::Shape);
        }

        let (mut content_type, mut message_digest, mut certificate_hash) = (false, None, None);
        let mut list = attributes.children();
        while !list.is_empty() {
            let mut attribute = list.expect(SEQUENCE)?.children();
            let kind = attribute.expect(OID)?.encoded;
            let mut values = attribute.expect(SET)?.children();
            let value = values.any()?;
            if !values.is_empty() {
                return Err(CmsError::Attributes);
            }
            if kind == der::oid(CONTENT_TYPE) {
                content_type = value.encoded == der::oid(DATA);
            } else if kind == der::oid(MESSAGE_DIGEST) {
                if message_digest.is_some() || value.tag != OCTET_STRING {
                    return Err(CmsError::Attributes);
                }
                message_digest = Some(value.content);
            } else if kind == der::oid(SIGNING_CERTIFICATE_V2) {
                // SigningCertificateV2 { certs [ESSCertIDv2 { certHash, ... }] }: the first.
                let hash = value
                    .children()
                    .expect(SEQUENCE)
                    .and_then(|certs| certs.children().expect(SEQUENCE))
                    .and_then(|cert_id| cert_id.children().expect(OCTET_STRING))?;
                certificate_hash = Some(hash.content);
            }
        }
        if certificate_hash != Some(Sha256::digest(certificate).as_slice()) {
            return Err(CmsError::Attributes);
        }
        let message_digest: [u8; 64] = message_digest
            .filter(|_| content_type)
            .and_then(|d| d.try_into().ok())
            .ok_or(CmsError::Attributes)?;
        let mut signed_attributes = attributes.encoded.to_vec();
        signed_attributes[0] = SET;
        Ok(Self {
            key_id,
            message_digest,
            signed_attributes,
            signature: signature.to_vec(),
        })
    }

    /// Whether the signature over the signed attributes verifies under this public key.
    pub fn verifies_with(&self, public_key: &[u8]) -> bool {
        verify_with(public_key, &self.signed_attributes, &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_id_with_leading_zero_bytes_survives_the_integer_encoding() {
        let seed = (0u16..=u16::MAX)
            .map(|n| {
                let mut seed = [0u8; 32];
                seed[..2].copy_from_slice(&n.to_be_bytes());
                seed
            })
            .find(|seed| IssuerKey::from_seed(*seed).id().as_bytes()[0] == 0)
            .expect("about one key in 256 has an id starting with a zero byte");
        let key = IssuerKey::from_seed(seed);
        let certificate = IssuerCertificate::issue(&key, 1_700_000_000);
        let cms = sign_detached(&key, &certificate, &[1; 64], 1_700_000_100);
        assert_eq!(SignedData::parse(&cms).unwrap().key_id, key.id());
    }

    #[test]
    fn a_signature_reads_back_and_verifies_only_under_its_key() {
        let key = IssuerKey::from_seed([3; 32]);
        let certificate = IssuerCertificate::issue(&key, 1_700_000_000);
        let digest = [0x5a; 64];
        let cms = sign_detached(&key, &certificate, &digest, 1_700_000_100);
        assert_eq!(
            cms,
            sign_detached(&key, &certificate, &digest, 1_700_000_100)
        );

        let mut padded = cms.clone();
        padded.extend_from_slice(&[0; 100]);
        let parsed = SignedData::parse(&padded).unwrap();
        assert_eq!(parsed.key_id, key.id());
        assert_eq!(parsed.message_digest, digest);
        assert!(parsed.verifies_with(key.public().as_bytes()));
        let other = IssuerKey::from_seed([4; 32]);
        assert!(!parsed.verifies_with(other.public().as_bytes()));

        for at in 0..cms.len() {
            let mut altered = cms.clone();
            altered[at] ^= 0x01;
            let verdict = SignedData::parse(&altered);
            assert!(
                !verdict.is_ok_and(|s| s.message_digest == digest
                    && s.key_id == key.id()
                    && s.verifies_with(key.public().as_bytes())),
                "CMS byte {at} changed unnoticed"
            );
        }
        padded[cms.len() + 5] = 1;
        assert_eq!(SignedData::parse(&padded).unwrap_err(), CmsError::Shape);
        assert!(SignedData::parse(&cms[..cms.len() - 1]).is_err());
    }
}
