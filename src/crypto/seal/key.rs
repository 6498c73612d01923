//! The seal's private key: ECDSA P-256 (the default, which the service makes itself) or RSA of at
//! least 2048 bits (what a CA-issued e-seal often carries). Both are algorithms Adobe Acrobat
//! and poppler check; both sign deterministically (RFC 6979 nonces for ECDSA, PKCS #1 v1.5 for
//! RSA), so the same record and key give the same PDF bytes.

use der::asn1::ObjectIdentifier;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use sha2::Sha256;
use spki::EncodePublicKey;
use zeroize::Zeroizing;

use super::SealError;

/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// secp256r1, the curve P-256 (RFC 5480).
const P256_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// rsaEncryption (RFC 8017).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The smallest RSA modulus a seal may have: 2048 bits, the floor of NIST SP 800-131A and of
/// the ETSI/BSrE e-seal profiles.
pub const MIN_RSA_BITS: usize = 2048;

pub enum SealKey {
    EcdsaP256(p256::ecdsa::SigningKey),
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
}

impl SealKey {
    /// A fresh P-256 key from the operating system's random source.
    pub fn generate_p256() -> Self {
        loop {
            let mut scalar = Zeroizing::new([0u8; 32]);
            getrandom::fill(scalar.as_mut()).expect("the operating system's random source");
            // A random 256-bit string is a valid scalar except with probability about 2^-32.
            if let Ok(key) = p256::ecdsa::SigningKey::from_slice(scalar.as_ref()) {
                return Self::EcdsaP256(key);
            }
        }
    }

    /// Reads an unencrypted private key in PEM: PKCS #8 (`PRIVATE KEY`), SEC 1
    /// (`EC PRIVATE KEY`) or PKCS #1 (`RSA PRIVATE KEY`).
    pub fn from_pem(text: &str) -> Result<Self, SealError> {
        let (label, der) = der::pem::decode_vec(text.trim().as_bytes())
            .map_err(|e| SealError::KeyFormat(format!("bukan PEM yang terbaca ({e})")))?;
        let der = Zeroizing::new(der);
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "EC PRIVATE KEY" => {
                let secret = p256::SecretKey::from_sec1_der(&der).map_err(|_| {
                    SealError::UnsupportedKey("kunci EC yang bukan kurva P-256".into())
                })?;
                Ok(Self::EcdsaP256(secret.into()))
            }
            "RSA PRIVATE KEY" => {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                let key = rsa::RsaPrivateKey::from_pkcs1_der(&der)
                    .map_err(|e| SealError::KeyFormat(format!("kunci RSA PKCS #1 rusak ({e})")))?;
                Self::rsa(key)
            }
            "ENCRYPTED PRIVATE KEY" => Err(SealError::KeyFormat(
                "kunci PKCS #8 terenkripsi; buka dahulu dengan `openssl pkcs8`, atau impor berkas PKCS #12".into(),
            )),
            other => Err(SealError::KeyFormat(format!(
                "blok PEM \"{other}\", bukan kunci privat"
            ))),
        }
    }

    /// Reads a PKCS #8 `PrivateKeyInfo` holding a P-256 or RSA key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SealError> {
        let info = pkcs8::PrivateKeyInfo::try_from(der)
            .map_err(|e| SealError::KeyFormat(format!("PKCS #8 rusak ({e})")))?;
        match info.algorithm.oid {
            EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map(|oid| oid.to_string())
                    .unwrap_or_default();
                if info.algorithm.parameters_oid().ok() != Some(P256_CURVE) {
                    return Err(SealError::UnsupportedKey(format!(
                        "ECDSA pada kurva {curve}; hanya P-256 (prime256v1) yang diterima"
                    )));
                }
                let secret = p256::SecretKey::from_pkcs8_der(der)
                    .map_err(|e| SealError::KeyFormat(format!("kunci P-256 rusak ({e})")))?;
                Ok(Self::EcdsaP256(secret.into()))
            }
            RSA_ENCRYPTION => {
                let key = rsa::RsaPrivateKey::from_pkcs8_der(der)
                    .map_err(|e| SealError::KeyFormat(format!("kunci RSA rusak ({e})")))?;
                Self::rsa(key)
            }
            other => Err(SealError::UnsupportedKey(format!(
                "algoritme {other}; hanya ECDSA P-256 dan RSA yang diterima"
            ))),
        }
    }

    fn rsa(key: rsa::RsaPrivateKey) -> Result<Self, SealError> {
        use rsa::traits::PublicKeyParts;
        let bits = key.size() * 8;
        if bits < MIN_RSA_BITS {
            return Err(SealError::RsaTooShort(bits));
        }
        Ok(Self::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(key))))
    }

    /// The key as unencrypted PKCS #8 PEM, for the key file (mode 0600).
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        match self {
            Self::EcdsaP256(key) => key.to_pkcs8_pem(LineEnding::LF),
            Self::Rsa(key) => {
                let private = rsa_private(key);
                private.to_pkcs8_pem(LineEnding::LF)
            }
        }
        .expect("a valid key encodes")
    }

    /// The DER `SubjectPublicKeyInfo` of the public half, compared with a certificate's.
    pub fn public_key_info_der(&self) -> Vec<u8> {
        match self {
            Self::EcdsaP256(key) => key.verifying_key().to_public_key_der(),
            Self::Rsa(key) => {
                let private = rsa_private(key);
                private.to_public_key().to_public_key_der()
            }
        }
        .expect("a valid key encodes")
        .to_vec()
    }

    /// "ECDSA P-256" or "RSA 3072", for messages and the key list.
    pub fn describe(&self) -> String {
        match self {
            Self::EcdsaP256(_) => "ECDSA P-256".into(),
            Self::Rsa(key) => {
                use rsa::traits::PublicKeyParts;
                let private = rsa_private(key);
                format!("RSA {}", private.size() * 8)
            }
        }
    }
}

fn rsa_private(key: &rsa::pkcs1v15::SigningKey<Sha256>) -> &rsa::RsaPrivateKey {
    key.as_ref()
}
