// Placeholder until the renderer lands.
pub struct CertificateSheet<'a> {
    pub heading: &'a str,
    pub document_title: &'a str,
    pub campaign_title: &'a str,
    pub signer_rows: &'a [(&'a str, &'a str)],
    pub document_blocks: &'a [DocumentBlock<'a>],
    pub footer_rows: &'a [(&'a str, &'a str)],
    pub qr_modules: &'a [bool],
    pub qr_width: usize,
    pub qr_caption: &'a str,
    pub attribution: &'a str,
    pub subject: &'a str,
}
pub enum DocumentBlock<'a> {
    Heading(&'a str),
    Paragraph(&'a str),
    Commitment(&'a str),
}
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("not yet")]
    NotYet,
}
pub fn render(_sheet: &CertificateSheet) -> Result<Vec<u8>, PdfError> {
    Err(PdfError::NotYet)
}
