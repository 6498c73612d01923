//! Reading an operator's CA-issued e-seal: a PKCS #12 file, or a PEM private key with a PEM
//! certificate chain. OpenSSL only opens the PKCS #12 container (its ciphers and MACs are many
//! and old); the key and certificates inside go on as DER into the same RustCrypto checks as
//! PEM files: P-256 or RSA of at least 2048 bits, the key matching the leaf, a leaf that may
//! sign documents and has not expired.

use der::Decode;
use x509_cert::Certificate;

use super::{certificate, Seal, SealError, SealKey};

/// Opens a PKCS #12 file with its password.
pub fn read_pkcs12(bytes: &[u8], password: &str, now: i64) -> Result<Seal, SealError> {
    let pkcs12 = openssl::pkcs12::Pkcs12::from_der(bytes)
        .map_err(|e| SealError::Pkcs12(format!("bukan berkas PKCS #12 ({e})")))?;
    let parsed = pkcs12
        .parse2(password)
        .map_err(|_| SealError::Pkcs12("kata sandi salah, atau isi berkas rusak".into()))?;
    let private = parsed
        .pkey
        .ok_or_else(|| SealError::Pkcs12("berkas tidak memuat kunci privat".into()))?;
    let pkcs8 = zeroize::Zeroizing::new(
        private
            .private_key_to_pkcs8()
            .map_err(|e| SealError::Pkcs12(format!("kunci privat tidak terbaca ({e})")))?,
    );
    let key = SealKey::from_pkcs8_der(&pkcs8)?;
    let mut certificates = Vec::new();
    for x509 in parsed
        .cert
        .into_iter()
        .chain(parsed.ca.into_iter().flatten())
    {
        let der = x509
            .to_der()
            .map_err(|e| SealError::CertificateFormat(e.to_string()))?;
        certificates.push(
            Certificate::from_der(&der).map_err(|e| SealError::CertificateFormat(e.to_string()))?,
        );
    }
    checked(key, certificates, now)
}

/// Reads a PEM private key and a PEM chain (leaf and its CAs, in any order).
pub fn read_pem_files(key_pem: &str, chain_pem: &str, now: i64) -> Result<Seal, SealError> {
    let key = SealKey::from_pem(key_pem)?;
    let certificates = Certificate::load_pem_chain(chain_pem.as_bytes())
        .map_err(|e| SealError::CertificateFormat(e.to_string()))?;
    checked(key, certificates, now)
}

fn checked(key: SealKey, certificates: Vec<Certificate>, now: i64) -> Result<Seal, SealError> {
    let seal = Seal::from_parts(key, certificates)?;
    certificate::check_not_expired(seal.leaf(), now)?;
    Ok(seal)
}
