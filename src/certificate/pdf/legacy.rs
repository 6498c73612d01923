//! What the previous PDF signature code (`pdf_signature.rs`, being rewritten to sign any PDF
//! with lopdf) still names. printpdf's files share no prefix, so there is never a known one.
//! Delete this module once `pdf_signature::sign_rendered` is gone.

/// A rendered certificate before its PDF signature.
#[derive(Clone)]
pub struct RenderedPdf {
    pub bytes: Vec<u8>,
    /// Always `None`: kept for the old signer's signature only.
    pub known_prefix: Option<&'static KnownPrefix>,
}

/// Never constructed: printpdf's files do not start with shared bytes.
pub enum KnownPrefix {}

impl KnownPrefix {
    pub fn sha512_state(&self, _pdf: &[u8]) -> Option<(usize, sha2::Sha512)> {
        match *self {}
    }
}
