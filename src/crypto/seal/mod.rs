//! The seal on every certificate PDF: a standard PDF signature that Adobe Acrobat, poppler's
//! `pdfsig` and pyHanko check, made with a key kept for this job alone (the Ed25519 issuer key
//! signs the QR claim and the log, which PDF readers cannot check).
//!
//! A deployment either lets the service make its own seal (an ECDSA P-256 key and a
//! self-issued X.509 certificate naming the operator, created on first start), or imports the
//! e-seal a CA issued to the operating office (`ikrar keys import-seal`), whose chain then rides
//! in every signature. Both live in two files in the data folder that every node shares:
//! `seal-key.pem` (PKCS #8, mode 0600) and `seal-certificate.pem` (the chain, leaf first).

mod certificate;
pub mod cms;
mod import;
mod key;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use der::{Decode, Encode, EncodePem};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

pub use cms::{SealSignature, SealSignatureError};
pub use import::{read_pem_files, read_pkcs12};
pub use key::{SealKey, MIN_RSA_BITS};

/// The organisation named by a self-made seal when the operator names none.
pub const DEFAULT_ORGANISATION: &str = "ikrar";

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("berkas segel {path} tidak dapat dibaca atau ditulis: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("kunci privat segel tidak terbaca: {0}")]
    KeyFormat(String),
    #[error("kunci segel tidak didukung: {0}")]
    UnsupportedKey(String),
    #[error("kunci RSA segel hanya {0} bit; minimal 2048 bit")]
    RsaTooShort(usize),
    #[error("rantai sertifikat segel tidak terbaca: {0}")]
    CertificateFormat(String),
    #[error("berkas rantai sertifikat segel tidak memuat satu sertifikat pun")]
    NoCertificate,
    #[error("kunci privat segel bukan pasangan sertifikat mana pun dalam rantai (kunci publik sertifikat berbeda)")]
    KeyDoesNotMatch,
    #[error("sertifikat segel {subject} tidak mengizinkan tanda tangan dokumen (keyUsage tanpa digitalSignature maupun nonRepudiation)")]
    KeyUsage { subject: String },
    #[error("sertifikat segel {subject} sudah kedaluwarsa ({not_after})")]
    Expired { subject: String, not_after: String },
    #[error("berkas PKCS #12 tidak terbuka: {0}")]
    Pkcs12(String),
    #[error("sertifikat segel tidak dapat dibuat: {0}")]
    Build(String),
}

/// The seal: its key and the certificate chain that names it, leaf first.
pub struct Seal {
    key: SealKey,
    chain: Vec<Certificate>,
    leaf_der: Vec<u8>,
    fingerprint: [u8; 32],
    not_before: i64,
}

impl Seal {
    /// Pairs a key with its chain: the certificate whose public key is the key's becomes the
    /// leaf, the others follow in their given order. Refuses a chain without the key's
    /// certificate, and a leaf whose key usage forbids signing documents.
    pub fn from_parts(key: SealKey, certificates: Vec<Certificate>) -> Result<Self, SealError> {
        if certificates.is_empty() {
            return Err(SealError::NoCertificate);
        }
        let public = key.public_key_info_der();
        let leaf_at = certificates
            .iter()
            .position(|c| {
                c.tbs_certificate.subject_public_key_info.to_der().ok() == Some(public.clone())
            })
            .ok_or(SealError::KeyDoesNotMatch)?;
        let mut chain = certificates;
        let leaf = chain.remove(leaf_at);
        chain.insert(0, leaf);
        certificate::check_usage(&chain[0])?;
        let leaf_der = chain[0]
            .to_der()
            .map_err(|e| SealError::CertificateFormat(e.to_string()))?;
        let not_before = chain[0]
            .tbs_certificate
            .validity
            .not_before
            .to_unix_duration()
            .as_secs() as i64;
        Ok(Self {
            key,
            fingerprint: Sha256::digest(&leaf_der).into(),
            leaf_der,
            chain,
            not_before,
        })
    }

    /// A fresh ECDSA P-256 key with a self-issued certificate naming `organisation`, valid
    /// from `now` (Unix seconds).
    pub fn self_made(organisation: &str, now: i64) -> Result<Self, SealError> {
        let key = SealKey::generate_p256();
        let certificate = certificate::self_issued(&key, organisation, now)?;
        Self::from_parts(key, vec![certificate])
    }

    /// Reads the two seal files, or makes a self-issued seal into them if neither exists.
    pub fn load_or_create(
        key_path: &Path,
        certificate_path: &Path,
        organisation: &str,
    ) -> Result<Self, SealError> {
        if !key_path.exists() && !certificate_path.exists() {
            let seal = Self::self_made(organisation, chrono::Utc::now().timestamp())?;
            seal.write(key_path, certificate_path)?;
            return Ok(seal);
        }
        Self::load(key_path, certificate_path)
    }

    /// Reads an existing key file and chain file.
    pub fn load(key_path: &Path, certificate_path: &Path) -> Result<Self, SealError> {
        let key_text = zeroize::Zeroizing::new(read_text(key_path)?);
        let key = SealKey::from_pem(&key_text)?;
        let chain_text = read_text(certificate_path)?;
        let chain = Certificate::load_pem_chain(chain_text.as_bytes()).map_err(|e| {
            SealError::CertificateFormat(format!("{} ({e})", certificate_path.display()))
        })?;
        Self::from_parts(key, chain)
    }

    /// Writes the key (mode 0600) and the chain to new files; never overwrites a file.
    pub fn write(&self, key_path: &Path, certificate_path: &Path) -> Result<(), SealError> {
        write_new(key_path, self.key.to_pkcs8_pem().as_bytes(), 0o600)?;
        write_new(certificate_path, self.chain_pem().as_bytes(), 0o644)
    }

    pub fn key(&self) -> &SealKey {
        &self.key
    }

    /// The chain, leaf first, as embedded in every signature.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    pub fn leaf(&self) -> &Certificate {
        &self.chain[0]
    }

    pub fn leaf_der(&self) -> &[u8] {
        &self.leaf_der
    }

    /// SHA-256 of the leaf certificate's DER: how the seal is named and recognised on uploads.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// The row that records this seal's certificate in the database, so that every node accepts
    /// uploads sealed with it.
    pub fn certificate_row(&self, registered_at: i64) -> crate::db::seals::SealCertificateRow {
        crate::db::seals::SealCertificateRow {
            fingerprint: self.fingerprint_hex(),
            subject: self.subject(),
            certificate: self.leaf_der().to_vec(),
            registered_at,
        }
    }

    pub fn fingerprint_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.fingerprint)
    }

    /// The leaf's subject, e.g. "CN=ikrar segel elektronik,O=Pemerintah Provinsi Sulawesi Selatan".
    pub fn subject(&self) -> String {
        self.leaf().tbs_certificate.subject.to_string()
    }

    /// The leaf's common name, or its whole subject when it has none.
    pub fn common_name(&self) -> String {
        certificate::common_name(self.leaf()).unwrap_or_else(|| self.subject())
    }

    /// The leaf's organisation (O=…), if it names one.
    pub fn organisation(&self) -> Option<String> {
        certificate::organisation(self.leaf())
    }

    /// Whether the leaf certificate signed itself (a self-made seal) rather than being issued
    /// by a CA.
    pub fn is_self_issued(&self) -> bool {
        let tbs = &self.leaf().tbs_certificate;
        tbs.issuer == tbs.subject && self.chain.len() == 1
    }

    /// Start of the leaf certificate's validity (Unix seconds).
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// The time a seal made now claims for a certificate signed at `signed_at`: the signing
    /// instant itself, so the PDF stays the same on every download, but never before the seal
    /// certificate existed. A certificate re-sealed after a seal rotation would otherwise claim
    /// a time its sealing certificate was not yet valid at.
    pub fn signing_time_for(&self, signed_at: i64) -> i64 {
        signed_at.max(self.not_before)
    }

    /// The chain as PEM, leaf first: the content of `seal-certificate.pem`.
    pub fn chain_pem(&self) -> String {
        self.chain
            .iter()
            .map(|c| {
                c.to_pem(der::pem::LineEnding::LF)
                    .expect("a parsed certificate encodes")
            })
            .collect()
    }

    /// `[organisation of the leaf, key algorithm]`-style summary for the command line.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}, sidik SHA-256 {})",
            self.subject(),
            self.key.describe(),
            self.fingerprint_hex()
        )
    }
}

/// Where a replaced seal file is kept: beside it, tagged (e.g. with the replacement instant).
pub fn retired_path(path: &Path, tag: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".retired-{tag}"));
    path.with_file_name(name)
}

/// Parses one DER certificate (what the database stores).
pub fn certificate_from_der(der: &[u8]) -> Option<Certificate> {
    Certificate::from_der(der).ok()
}

fn read_text(path: &Path) -> Result<String, SealError> {
    fs::read_to_string(path).map_err(|source| SealError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SealError> {
    let io = |source| SealError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_seal_reloads_from_its_files_and_its_key_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let (key, chain) = (
            dir.path().join("seal-key.pem"),
            dir.path().join("seal-certificate.pem"),
        );
        let made =
            Seal::load_or_create(&key, &chain, "Pemerintah Provinsi Sulawesi Selatan").unwrap();
        let loaded = Seal::load_or_create(&key, &chain, "lain").unwrap();
        assert_eq!(made.fingerprint(), loaded.fingerprint());
        assert_eq!(
            loaded.subject(),
            "CN=ikrar segel elektronik,O=Pemerintah Provinsi Sulawesi Selatan,C=ID"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(
            made.signing_time_for(made.not_before() - 10),
            made.not_before()
        );
        assert_eq!(
            made.signing_time_for(made.not_before() + 10),
            made.not_before() + 10
        );
    }

    #[test]
    fn a_key_without_its_certificate_is_refused() {
        let a = Seal::self_made("a", 1_700_000_000).unwrap();
        let b = Seal::self_made("b", 1_700_000_000).unwrap();
        let err = Seal::from_parts(SealKey::generate_p256(), vec![a.leaf().clone()]);
        assert!(matches!(err, Err(SealError::KeyDoesNotMatch)));
        drop(b);
    }
}
