//! Signed checkpoints in the C2SP formats: a `tlog-checkpoint` body (origin, size, root) wrapped in
//! a `signed-note` with one Ed25519 signature by the log key. Any note-aware tool (Go's
//! `golang.org/x/mod/sumdb/note`, sigsum, …) can check them with the verifier key we publish.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::merkle::Hash;
use crate::crypto::{verify_with, IssuerKey};

/// The signature type byte of Ed25519 in the signed-note key hash.
const ED25519: u8 = 0x01;

/// The four bytes that name a (key name, public key) pair in a signature line:
/// SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[..4].
pub fn key_hash(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(public);
    h.finalize()[..4].try_into().expect("4 bytes")
}

/// The verifier key string of the note spec: `name+hex(key hash)+base64(0x01 ‖ public key)`.
pub fn verifier_key(name: &str, public: &[u8; 32]) -> String {
    let mut typed = vec![ED25519];
    typed.extend_from_slice(public);
    format!(
        "{name}+{}+{}",
        data_encoding::HEXLOWER.encode(&key_hash(name, public)),
        STANDARD.encode(typed)
    )
}

/// The signed text: origin, size and root, one per line.
pub fn body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", STANDARD.encode(root))
}

/// The whole note, signed by the log key under the log's origin as key name.
pub fn sign(origin: &str, size: u64, root: &Hash, key: &IssuerKey) -> String {
    sign_text(origin, &body(origin, size, root), key)
}

/// Any text (ending in a newline) as a signed note by `key` under the key name `name`.
pub fn sign_text(name: &str, text: &str, key: &IssuerKey) -> String {
    let mut sig = key_hash(name, key.public().as_bytes()).to_vec();
    sig.extend_from_slice(&key.sign(text.as_bytes()));
    format!("{text}\n\u{2014} {name} {}\n", STANDARD.encode(sig))
}

/// The text of a signed note, if `public` signed it under the key name `name`.
pub fn open_text(note: &str, name: &str, public: &[u8; 32]) -> Result<String, NoteError> {
    let (text, signatures) = note.split_once("\n\n").ok_or(NoteError::Shape)?;
    let text = format!("{text}\n");
    let wanted = key_hash(name, public);
    let mut found = false;
    for line in signatures.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return Err(NoteError::Shape);
        };
        let (signer, sig) = rest.split_once(' ').ok_or(NoteError::Shape)?;
        let sig = STANDARD.decode(sig).map_err(|_| NoteError::Shape)?;
        if signer != name || sig.len() != 68 || sig[..4] != wanted {
            continue;
        }
        found = true;
        if verify_with(public, text.as_bytes(), &sig[4..]) {
            return Ok(text);
        }
    }
    Err(if found {
        NoteError::BadSignature
    } else {
        NoteError::NoSignature
    })
}

/// A checkpoint whose signature was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the note is not origin, size and root followed by a blank line and signatures")]
    Shape,
    #[error("no signature line by this key")]
    NoSignature,
    #[error("the signature does not verify")]
    BadSignature,
}

/// Parses a note and checks that `public` signed it under the note's origin.
pub fn open(note: &str, public: &[u8; 32]) -> Result<Checkpoint, NoteError> {
    let origin = note
        .lines()
        .next()
        .filter(|o| !o.is_empty())
        .ok_or(NoteError::Shape)?;
    let text = open_text(note, origin, public)?;
    let mut lines = text.lines().skip(1);
    let size = lines
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or(NoteError::Shape)?;
    let root: Hash = lines
        .next()
        .and_then(|r| STANDARD.decode(r).ok())
        .and_then(|r| r.try_into().ok())
        .ok_or(NoteError::Shape)?;
    Ok(Checkpoint {
        origin: origin.to_string(),
        size,
        root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_opens_with_its_key_and_not_after_a_change() {
        let key = IssuerKey::from_seed([7; 32]);
        let root = [9u8; 32];
        let note = sign("ikrar.example/log", 42, &root, &key);
        assert!(note.starts_with("ikrar.example/log\n42\n"));
        let opened = open(&note, key.public().as_bytes()).unwrap();
        assert_eq!((opened.size, opened.root), (42, root));
        let altered = note.replacen("42", "43", 1);
        assert_eq!(
            open(&altered, key.public().as_bytes()),
            Err(NoteError::BadSignature)
        );
        let other = IssuerKey::from_seed([8; 32]);
        assert_eq!(
            open(&note, other.public().as_bytes()),
            Err(NoteError::NoSignature)
        );
    }
}
