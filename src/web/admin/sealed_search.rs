//! A search term carried in an address without showing it. A NIP or NIK typed into an admin
//! search box must not land in the address bar, the browser history or any proxy or server log,
//! yet the list, its paging links and its export links need the term. So the term travels as
//! `cari=<sealed>`: AES-256-GCM under a key only the node holds, bound to the admin who typed it
//! (a link passed to another admin opens nothing) and expiring with a session.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::web::WebError;

/// The query parameter that carries a sealed term.
pub const PARAM: &str = "cari";

/// As long as the session the term was typed in: a link never outlives its reason to exist.
const LIFETIME_SECS: i64 = crate::sign_in::SESSION_LIFETIME_SECS;
const NONCE_LEN: usize = 12;

/// The key of the node's sealed searches (`IssuerKey::derived_secret("admin-search")`).
pub struct SearchSeal {
    cipher: Aes256Gcm,
}

/// What the admin is told when a sealed term does not open: they only need to type it again.
fn refused() -> WebError {
    WebError::bad(
        "q",
        "tautan pencarian ini tidak sah atau sudah kedaluwarsa; ketik kembali kata pencarian Anda",
    )
}

fn associated_data(admin_id: &str) -> Vec<u8> {
    let mut aad = b"ikrar admin search\0".to_vec();
    aad.extend_from_slice(admin_id.as_bytes());
    aad
}

impl SearchSeal {
    pub fn new(secret: [u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&secret)),
        }
    }

    /// The term sealed for this admin, valid until `now` plus a session's lifetime.
    pub fn seal(&self, admin_id: &str, term: &str, now: i64) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system gives random bytes");
        let mut plain = (now + LIFETIME_SECS).to_be_bytes().to_vec();
        plain.extend_from_slice(term.as_bytes());
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &associated_data(admin_id),
                },
            )
            .expect("AES-GCM seals any message this short");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The term, if the token was sealed by this node for this admin and has not expired.
    pub fn open(&self, admin_id: &str, token: &str, now: i64) -> Result<String, WebError> {
        let raw = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| refused())?;
        if raw.len() < NONCE_LEN {
            return Err(refused());
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &associated_data(admin_id),
                },
            )
            .map_err(|_| refused())?;
        let (expiry, term) = plain.split_at_checked(8).ok_or_else(refused)?;
        let expiry = i64::from_be_bytes(expiry.try_into().map_err(|_| refused())?);
        if now > expiry {
            return Err(refused());
        }
        String::from_utf8(term.to_vec()).map_err(|_| refused())
    }
}

/// A term that may be a NIP or NIK (any digit) never stays in an address as typed.
pub fn must_be_sealed(term: &str) -> bool {
    term.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn seal() -> SearchSeal {
        SearchSeal::new([7; 32])
    }

    #[test]
    fn sealed_term_opens_for_the_admin_who_typed_it() {
        let s = seal();
        let token = s.seal("admin-a", "198503302010011001", NOW);
        assert!(!token.contains("198503302010011001"));
        assert!(!token.contains('+') && !token.contains('/') && !token.contains('='));
        assert_eq!(
            s.open("admin-a", &token, NOW + 60).unwrap(),
            "198503302010011001"
        );
        assert_ne!(token, s.seal("admin-a", "198503302010011001", NOW));
    }

    #[test]
    fn sealed_term_is_refused_to_another_admin() {
        let s = seal();
        let token = s.seal("admin-a", "7371010101900001", NOW);
        assert!(matches!(
            s.open("admin-b", &token, NOW),
            Err(WebError::BadRequest {
                field: Some("q"),
                ..
            })
        ));
    }

    #[test]
    fn sealed_term_is_refused_tampered_expired_or_from_another_key() {
        let s = seal();
        let token = s.seal("admin-a", "andi", NOW);
        let mut raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(raw);
        assert!(s.open("admin-a", &tampered, NOW).is_err());
        assert!(s.open("admin-a", "bukan token", NOW).is_err());
        assert!(s.open("admin-a", "", NOW).is_err());
        assert!(s.open("admin-a", &token, NOW + LIFETIME_SECS + 1).is_err());
        assert!(SearchSeal::new([8; 32])
            .open("admin-a", &token, NOW)
            .is_err());
        let message = s.open("admin-b", &token, NOW).unwrap_err().to_string();
        assert!(message.contains("kedaluwarsa"), "{message}");
    }

    #[test]
    fn sealed_only_when_the_term_has_digits() {
        assert!(must_be_sealed("1985"));
        assert!(must_be_sealed("andi 7"));
        assert!(!must_be_sealed("andi nurul"));
    }
}
