//! The self-issued certificate of a seal the service makes itself, and the checks every seal
//! certificate (self-issued or from a CA) must pass.

use std::str::FromStr;
use std::time::Duration;

use der::asn1::{GeneralizedTime, UtcTime};
use der::referenced::OwnedToRef;
use der::{DateTime, Decode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use super::{SealError, SealKey};

/// 9999-12-31T23:59:59Z: RFC 5280's "no well-defined expiration date". A self-made seal is
/// replaced by `ikrar keys rotate-seal`, not by expiry, and old PDFs must stay checkable.
const NO_EXPIRY: u64 = 253_402_300_799;

/// Makes a self-signed certificate for `key`: subject
/// `CN=ikrar segel elektronik, O=<organisation>, C=ID`, key usage digitalSignature and
/// nonRepudiation (what PDF validators ask of a document signer) plus keyCertSign, valid from
/// `now`.
pub fn self_issued(key: &SealKey, organisation: &str, now: i64) -> Result<Certificate, SealError> {
    let build = |e: &dyn std::fmt::Display| SealError::Build(e.to_string());
    let subject = Name::from_str(&format!(
        "CN=ikrar segel elektronik,O={},C=ID",
        escape_rfc4514(organisation)
    ))
    .map_err(|e| build(&e))?;
    let not_before = DateTime::from_unix_duration(Duration::from_secs(now.max(0) as u64))
        .map_err(|e| build(&e))?;
    let not_after =
        DateTime::from_unix_duration(Duration::from_secs(NO_EXPIRY)).map_err(|e| build(&e))?;
    let validity = Validity {
        not_before: Time::UtcTime(UtcTime::from_date_time(not_before).map_err(|e| build(&e))?),
        not_after: Time::GeneralTime(GeneralizedTime::from_date_time(not_after)),
    };
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).expect("the operating system's random source");
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let serial = SerialNumber::new(&serial).map_err(|e| build(&e))?;
    let public =
        SubjectPublicKeyInfoOwned::from_der(&key.public_key_info_der()).map_err(|e| build(&e))?;
    // Its own trust anchor: NSS (poppler's `pdfsig`) only accepts a self-signed certificate as
    // the root of a chain when it is marked a CA, so it is one that may sign nothing but
    // itself (path length 0), and whose key seals documents.
    let key_identifier =
        SubjectKeyIdentifier::try_from(public.owned_to_ref()).map_err(|e| build(&e))?;
    let usage =
        KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation | KeyUsages::KeyCertSign);
    let constraints = BasicConstraints {
        ca: true,
        path_len_constraint: Some(0),
    };
    let profile = Profile::Manual { issuer: None };
    macro_rules! issue {
        ($signer:expr, $signature:ty) => {{
            let mut builder =
                CertificateBuilder::new(profile, serial, validity, subject, public, $signer)
                    .map_err(|e| build(&e))?;
            builder.add_extension(&constraints).map_err(|e| build(&e))?;
            builder.add_extension(&usage).map_err(|e| build(&e))?;
            builder
                .add_extension(&key_identifier)
                .map_err(|e| build(&e))?;
            builder.build::<$signature>()
        }};
    }
    match key {
        SealKey::EcdsaP256(signer) => issue!(signer, p256::ecdsa::DerSignature),
        SealKey::Rsa(signer) => issue!(signer.as_ref(), rsa::pkcs1v15::Signature),
    }
    .map_err(|e| build(&e))
}

/// Refuses a leaf whose key usage extension (when present) allows neither digitalSignature
/// nor nonRepudiation: validators would reject every seal it made.
pub fn check_usage(leaf: &Certificate) -> Result<(), SealError> {
    let Some(extensions) = &leaf.tbs_certificate.extensions else {
        return Ok(());
    };
    for extension in extensions {
        if extension.extn_id == const_key_usage() {
            let usage = KeyUsage::from_der(extension.extn_value.as_bytes())
                .map_err(|e| SealError::CertificateFormat(format!("keyUsage rusak ({e})")))?;
            if !usage.0.contains(KeyUsages::DigitalSignature)
                && !usage.0.contains(KeyUsages::NonRepudiation)
            {
                return Err(SealError::KeyUsage {
                    subject: leaf.tbs_certificate.subject.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Refuses a leaf whose validity has ended before `now`.
pub fn check_not_expired(leaf: &Certificate, now: i64) -> Result<(), SealError> {
    let not_after = leaf.tbs_certificate.validity.not_after;
    if (not_after.to_unix_duration().as_secs() as i64) < now {
        return Err(SealError::Expired {
            subject: leaf.tbs_certificate.subject.to_string(),
            not_after: not_after.to_string(),
        });
    }
    Ok(())
}

/// The first common name in the certificate's subject.
pub fn common_name(certificate: &Certificate) -> Option<String> {
    subject_attribute(certificate, "2.5.4.3")
}

/// The first organisation name in the certificate's subject.
pub fn organisation(certificate: &Certificate) -> Option<String> {
    subject_attribute(certificate, "2.5.4.10")
}

fn subject_attribute(certificate: &Certificate, oid: &str) -> Option<String> {
    let oid = der::asn1::ObjectIdentifier::new(oid).ok()?;
    certificate
        .tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| {
            der::asn1::Utf8StringRef::try_from(&atv.value)
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    der::asn1::PrintableStringRef::try_from(&atv.value)
                        .map(|s| s.as_str().to_string())
                })
                .ok()
        })
}

fn const_key_usage() -> der::asn1::ObjectIdentifier {
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.15")
}

/// Escapes a value for an RFC 4514 string, so an organisation name with a comma stays one
/// attribute.
fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.trim().chars().enumerate() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') || (i == 0 && c == '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
