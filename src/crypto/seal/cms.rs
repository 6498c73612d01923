//! The CMS inside a sealed PDF: a detached `SignedData` (RFC 5652) over the SHA-256 of the
//! signed byte ranges, shaped as PAdES baseline B-B asks (ETSI EN 319 142-1): signed attributes
//! content-type, message-digest, signing-time and ESS signing-certificate-v2 (RFC 5035), which
//! binds the signature to the sealing certificate; the whole chain in `certificates`.
//!
//! Encoding and parsing are RustCrypto's `cms` and `x509-cert`. [`SealSignature::parse`] reads
//! any such `SignedData` from an untrusted upload and checks its signature against the
//! certificate it names; whether that certificate is one of ours is the caller's question.

use std::time::Duration;

use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerIdentifier};
use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Any, DateTime, Decode, Encode, Reader, Sequence, SliceReader};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, DecodePublicKey};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;
use x509_cert::Certificate;

use super::{Seal, SealKey};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// ESS `SigningCertificateV2` (RFC 5035 section 3), without policies.
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// ESS `ESSCertIDv2` with the default hash algorithm (SHA-256), which DER leaves out.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// Why a seal could not be made (only on a broken certificate: the inputs are ours).
#[derive(Debug, thiserror::Error)]
#[error("the seal's CMS cannot be encoded: {0}")]
pub struct SealEncodingError(String);

fn encoding(e: impl std::fmt::Display) -> SealEncodingError {
    SealEncodingError(e.to_string())
}

fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, SealEncodingError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(encoding)?,
    })
}

/// RFC 5652's `Time`: UTCTime before 2050, GeneralizedTime from then on.
fn cms_time(unix_seconds: i64) -> Result<Time, SealEncodingError> {
    let at = DateTime::from_unix_duration(Duration::from_secs(unix_seconds.max(0) as u64))
        .map_err(encoding)?;
    Ok(if at.year() < 2050 {
        Time::UtcTime(UtcTime::from_date_time(at).map_err(encoding)?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_date_time(at))
    })
}

/// The DER of a detached `ContentInfo` sealing content whose SHA-256 is `content_sha256`,
/// claiming `signing_time` (Unix seconds). Deterministic for a given seal and inputs.
pub fn sign_detached(
    seal: &Seal,
    content_sha256: &[u8; 32],
    signing_time: i64,
) -> Result<Vec<u8>, SealEncodingError> {
    let leaf = seal.leaf();
    let issuer = leaf.tbs_certificate.issuer.clone();
    let serial = leaf.tbs_certificate.serial_number.clone();
    let content = EncapsulatedContentInfo {
        econtent_type: ID_DATA,
        econtent: None,
    };
    let signing_certificate = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(seal.leaf_der()).to_vec())
                .map_err(encoding)?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(issuer.clone())],
                serial_number: serial.clone(),
            },
        }],
    };
    // content-type and message-digest are added by the builder (cms 0.2.3 refuses a
    // content-type attribute given to it: it compares the attribute's type, not its value).
    let attributes = [
        attribute(
            ID_SIGNING_TIME,
            Any::encode_from(&cms_time(signing_time)?).map_err(encoding)?,
        )?,
        attribute(
            ID_SIGNING_CERTIFICATE_V2,
            Any::encode_from(&signing_certificate).map_err(encoding)?,
        )?,
    ];
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer,
        serial_number: serial,
    });
    let mut builder = SignedDataBuilder::new(&content);
    builder
        .add_digest_algorithm(sha256_algorithm())
        .map_err(encoding)?;
    for certificate in seal.chain() {
        builder
            .add_certificate(CertificateChoices::Certificate(certificate.clone()))
            .map_err(encoding)?;
    }
    match seal.key() {
        SealKey::EcdsaP256(key) => add_signer::<_, p256::ecdsa::DerSignature>(
            &mut builder,
            key,
            sid,
            &content,
            content_sha256,
            attributes,
        )?,
        SealKey::Rsa(key) => add_signer::<_, rsa::pkcs1v15::Signature>(
            &mut builder,
            key.as_ref(),
            sid,
            &content,
            content_sha256,
            attributes,
        )?,
    }
    builder
        .build()
        .map_err(encoding)?
        .to_der()
        .map_err(encoding)
}

/// One SignerInfo over the signed attributes, the same for every kind of seal key; only the
/// signature's encoding (`S`) differs between ECDSA and RSA.
fn add_signer<K, S>(
    builder: &mut SignedDataBuilder<'_>,
    key: &K,
    sid: SignerIdentifier,
    content: &EncapsulatedContentInfo,
    content_sha256: &[u8],
    attributes: [Attribute; 2],
) -> Result<(), SealEncodingError>
where
    K: ecdsa::signature::Keypair
        + spki::DynSignatureAlgorithmIdentifier
        + ecdsa::signature::Signer<S>,
    K::VerifyingKey: spki::EncodePublicKey,
    S: spki::SignatureBitStringEncoding,
{
    let mut signer =
        SignerInfoBuilder::new(key, sid, sha256_algorithm(), content, Some(content_sha256))
            .map_err(encoding)?;
    for a in attributes {
        signer.add_signed_attribute(a).map_err(encoding)?;
    }
    builder.add_signer_info::<_, S>(signer).map_err(encoding)?;
    Ok(())
}

/// Why an embedded CMS is not a valid seal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealSignatureError {
    #[error("the CMS is not DER SignedData: {0}")]
    Syntax(String),
    #[error("the CMS must carry exactly one signer")]
    SignerCount,
    #[error("the signer's certificate is not in the CMS")]
    SignerCertificate,
    #[error("the CMS lacks signed attributes or their message digest")]
    Attributes,
    #[error("unsupported digest or signature algorithm {0}")]
    Algorithm(String),
    #[error("the CMS signature does not verify under its certificate")]
    Signature,
}

fn syntax(e: impl std::fmt::Display) -> SealSignatureError {
    SealSignatureError::Syntax(e.to_string())
}

/// A CMS whose signature verified under the certificate it names.
#[derive(Debug, Clone)]
pub struct SealSignature {
    /// The SHA-256 the signer claims for the signed byte ranges.
    pub message_digest: Vec<u8>,
    /// The signer's certificate, DER.
    pub signer_der: Vec<u8>,
    /// SHA-256 of `signer_der`: matched against the seals a deployment has used.
    pub signer_fingerprint: [u8; 32],
    /// The signing-time attribute (Unix seconds), if present.
    pub signing_time: Option<i64>,
}

impl SealSignature {
    /// Parses a `ContentInfo` (trailing zero padding, as PDF `/Contents` carries, allowed) and
    /// verifies its one signer's signature over the signed attributes.
    pub fn parse(bytes: &[u8]) -> Result<Self, SealSignatureError> {
        let mut reader = SliceReader::new(bytes).map_err(syntax)?;
        let info = ContentInfo::decode(&mut reader).map_err(syntax)?;
        let rest = reader.read_slice(reader.remaining_len()).map_err(syntax)?;
        if rest.iter().any(|b| *b != 0) {
            return Err(syntax("bytes after the CMS"));
        }
        if info.content_type != ID_SIGNED_DATA {
            return Err(syntax("not SignedData"));
        }
        let signed: SignedData = info.content.decode_as().map_err(syntax)?;
        // A detached signature over data, digested with SHA-256 only: the one shape we make.
        if signed.encap_content_info.econtent_type != ID_DATA
            || signed.encap_content_info.econtent.is_some()
        {
            return Err(syntax("not a detached signature over data"));
        }
        if let Some(other) = signed.digest_algorithms.iter().find(|a| a.oid != ID_SHA256) {
            return Err(SealSignatureError::Algorithm(other.oid.to_string()));
        }
        let signers: Vec<_> = signed.signer_infos.0.iter().collect();
        let [signer] = signers[..] else {
            return Err(SealSignatureError::SignerCount);
        };
        let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer.sid else {
            return Err(SealSignatureError::SignerCertificate);
        };
        let certificate: &Certificate = signed
            .certificates
            .as_ref()
            .into_iter()
            .flat_map(|set| set.0.iter())
            .find_map(|choice| match choice {
                CertificateChoices::Certificate(c)
                    if c.tbs_certificate.issuer == sid.issuer
                        && c.tbs_certificate.serial_number == sid.serial_number =>
                {
                    Some(c)
                }
                _ => None,
            })
            .ok_or(SealSignatureError::SignerCertificate)?;
        if signer.digest_alg.oid != ID_SHA256 {
            return Err(SealSignatureError::Algorithm(
                signer.digest_alg.oid.to_string(),
            ));
        }
        let attributes = signer
            .signed_attrs
            .as_ref()
            .ok_or(SealSignatureError::Attributes)?;
        let value_of = |oid: ObjectIdentifier| {
            attributes
                .iter()
                .find(|a| a.oid == oid)
                .and_then(|a| a.values.iter().next())
        };
        if value_of(ID_CONTENT_TYPE).and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
            != Some(ID_DATA)
        {
            return Err(SealSignatureError::Attributes);
        }
        let message_digest = value_of(ID_MESSAGE_DIGEST)
            .and_then(|v| v.decode_as::<OctetString>().ok())
            .ok_or(SealSignatureError::Attributes)?
            .as_bytes()
            .to_vec();
        let signing_time = value_of(ID_SIGNING_TIME)
            .and_then(|v| Time::from_der(&v.to_der().ok()?).ok())
            .map(|t| t.to_unix_duration().as_secs() as i64);
        // The signature covers the attributes' DER with the SET OF tag (RFC 5652 section 5.4).
        let signed_bytes = attributes.to_der().map_err(syntax)?;
        let spki = certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(syntax)?;
        let signature = signer.signature.as_bytes();
        let verified = match signer.signature_algorithm.oid {
            ECDSA_WITH_SHA256 => {
                use p256::ecdsa::signature::Verifier;
                let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki)
                    .map_err(|_| SealSignatureError::Signature)?;
                let signature = p256::ecdsa::DerSignature::from_bytes(signature)
                    .map_err(|_| SealSignatureError::Signature)?;
                key.verify(&signed_bytes, &signature).is_ok()
            }
            RSA_ENCRYPTION | SHA256_WITH_RSA => {
                use rsa::signature::Verifier;
                let key = rsa::RsaPublicKey::from_public_key_der(&spki)
                    .map_err(|_| SealSignatureError::Signature)?;
                let signature = rsa::pkcs1v15::Signature::try_from(signature)
                    .map_err(|_| SealSignatureError::Signature)?;
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key)
                    .verify(&signed_bytes, &signature)
                    .is_ok()
            }
            other => return Err(SealSignatureError::Algorithm(other.to_string())),
        };
        if !verified {
            return Err(SealSignatureError::Signature);
        }
        let signer_der = certificate.to_der().map_err(syntax)?;
        Ok(Self {
            message_digest,
            signer_fingerprint: Sha256::digest(&signer_der).into(),
            signer_der,
            signing_time,
        })
    }

    pub fn signer_fingerprint_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.signer_fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_verifies_is_deterministic_and_refuses_a_changed_byte() {
        let seal = Seal::self_made("Pemerintah Kota Makassar", 1_700_000_000).unwrap();
        let digest = [7u8; 32];
        let cms = sign_detached(&seal, &digest, 1_700_000_500).unwrap();
        assert_eq!(cms, sign_detached(&seal, &digest, 1_700_000_500).unwrap());
        let mut padded = cms.clone();
        padded.resize(cms.len() + 100, 0);
        let read = SealSignature::parse(&padded).unwrap();
        assert_eq!(read.message_digest, digest);
        assert_eq!(read.signer_fingerprint, seal.fingerprint());
        assert_eq!(read.signing_time, Some(1_700_000_500));
        let mut refused = 0;
        for at in 0..cms.len() {
            let mut altered = cms.clone();
            altered[at] ^= 0x01;
            let accepted = SealSignature::parse(&altered).is_ok_and(|s| {
                s.message_digest == digest && s.signer_fingerprint == seal.fingerprint()
            });
            if !accepted {
                refused += 1;
            }
        }
        // Every byte counts except a few in unsigned places (e.g. the version's tag parsing
        // to the same value); at least all but a few must be refused.
        assert!(refused + 8 >= cms.len(), "{refused} of {}", cms.len());
    }
}
