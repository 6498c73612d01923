use std::fs;
use std::io::Write;
use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Names a public key: the first 8 bytes of the SHA-256 of its 32 raw bytes, in hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 8]);

impl KeyId {
    pub fn of(public: &VerifyingKey) -> Self {
        let digest = Sha256::digest(public.as_bytes());
        Self(digest[..8].try_into().expect("8 bytes"))
    }

    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }

    pub fn parse_hex(s: &str) -> Option<Self> {
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(s.as_bytes())
            .ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write the issuer key file {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the issuer key file {0} does not hold a 32-byte Ed25519 seed in hex")]
    Malformed(String),
}

/// The issuer's signing key. Every node of one deployment loads the same key file.
#[derive(Clone)]
pub struct IssuerKey {
    signing: SigningKey,
    id: KeyId,
}

impl IssuerKey {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let id = KeyId::of(&signing.verifying_key());
        Self { signing, id }
    }

    /// Reads the key file, or creates it (mode 0600) with a fresh key if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        match Self::load(path) {
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Self::create(path)
            }
            other => other,
        }
    }

    /// Reads an existing key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let seed = data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.trim().as_bytes())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| KeyError::Malformed(path.display().to_string()))?;
        Ok(Self::from_seed(seed))
    }

    /// Writes a fresh key to a new file, readable by its owner only; never overwrites a file.
    pub fn create(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the operating system's random source");
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(io)?;
        writeln!(file, "{}", data_encoding::HEXLOWER.encode(&seed)).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(Self::from_seed(seed))
    }

    pub fn id(&self) -> KeyId {
        self.id
    }

    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// A secret for another purpose (e.g. keyed hashes of sign-in ids), derived from the seed so
    /// that every node of a deployment shares it without another file, and a copy of the
    /// database alone does not hold it.
    pub fn derived_secret(&self, purpose: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"ikrar derived secret\0");
        h.update((purpose.len() as u32).to_be_bytes());
        h.update(purpose.as_bytes());
        h.update(self.signing.to_bytes());
        h.finalize().into()
    }
}

/// Strict verification (no malleable or small-order encodings) of a signature by a known key.
pub fn verify_with(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(public) = <[u8; 32]>::try_from(public) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&public) else {
        return false;
    };
    let Ok(sig) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(&sig))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_file_is_private_and_reloads_to_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issuer.key");
        let a = IssuerKey::load_or_create(&path).unwrap();
        let b = IssuerKey::load_or_create(&path).unwrap();
        assert_eq!(a.id(), b.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let sig = a.sign(b"pakta");
        assert!(verify_with(b.public().as_bytes(), b"pakta", &sig));
        assert!(!verify_with(b.public().as_bytes(), b"pakta!", &sig));
    }
}
