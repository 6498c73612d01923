//! Where a certificate is drawn: the PDF a signer downloads and the QR link printed on it.

pub mod pdf;
pub mod pdf_signature;
mod qr;

pub use qr::{verify_link, QrError, QrMatrix};

use crate::db::campaigns::{Campaign, StoredDocument};
use crate::db::certificates::CertificateRow;
use crate::domain::{Block, IndonesianZone, PactDocument};
use crate::signing::Claim;
use pdf::{CertificateSheet, DocumentBlock};
pub use pdf_signature::{PdfSignatureError, PdfSigner};

/// Everything a certificate shows besides the stored record itself.
pub struct CertificateContext<'a> {
    pub certificate: &'a CertificateRow,
    pub campaign: &'a Campaign,
    pub document: &'a StoredDocument,
    /// "Kelurahan …, Kecamatan …, Kota …, Provinsi …"
    pub work_area: &'a str,
    pub base_url: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("the stored certificate record is damaged")]
    Record,
    #[error(transparent)]
    Qr(#[from] QrError),
    #[error(transparent)]
    Pdf(#[from] pdf::PdfError),
    #[error(transparent)]
    Signature(#[from] PdfSignatureError),
}

/// "Rabu, 15 November 2023 pukul 10.30 WITA" in the zone of the signer's work area.
pub fn signing_time(certificate: &CertificateRow) -> String {
    let at = chrono::DateTime::from_timestamp(certificate.signed_at, 0).unwrap_or_default();
    IndonesianZone::of_province(&certificate.village_code).format_long(at)
}

/// The printed identifier line: NIP in its grouped form, or the NIK for staff without a NIP.
pub fn identity_row(certificate: &CertificateRow) -> (&'static str, String) {
    certificate
        .signer_id()
        .map(|id| (id.label(), id.printed()))
        .unwrap_or(("NIK", String::new()))
}

/// The link in the QR: the public page, with the signed claim in the fragment, which browsers
/// never send to a server.
pub fn link_for(base_url: &str, certificate: &CertificateRow) -> Result<String, CertificateError> {
    let signature: [u8; 64] = certificate
        .signature
        .clone()
        .try_into()
        .map_err(|_| CertificateError::Record)?;
    let claim = Claim::from_bytes(&certificate.claim).map_err(|_| CertificateError::Record)?;
    Ok(verify_link(
        base_url,
        &certificate.id,
        &claim.encode_signed(&signature),
    ))
}

/// Renders the certificate PDF and seals it with a standard PDF signature by `signer`.
/// Deterministic: the same record and seal give the same bytes.
pub fn render_pdf(
    ctx: &CertificateContext<'_>,
    signer: PdfSigner<'_>,
) -> Result<Vec<u8>, CertificateError> {
    let unsigned = render_unsigned_pdf(ctx)?;
    Ok(pdf_signature::sign(
        unsigned.bytes,
        signer,
        ctx.certificate.signed_at,
    )?)
}

/// The certificate PDF before its PDF signature (the benchmark times the two apart).
pub fn render_unsigned_pdf(
    ctx: &CertificateContext<'_>,
) -> Result<pdf::RenderedPdf, CertificateError> {
    let c = ctx.certificate;
    let document = PactDocument::parse(&ctx.document.body).map_err(|_| CertificateError::Record)?;
    let link = link_for(ctx.base_url, c)?;
    let qr = QrMatrix::encode(&link)?;
    let (id_label, id_value) = identity_row(c);
    let time = signing_time(c);
    let jenis = match c.employee_type.as_str() {
        "PNS" => "Pegawai Negeri Sipil (PNS)",
        "PPPK" => "Pegawai Pemerintah dengan Perjanjian Kerja (PPPK)",
        _ => "Pegawai Pemerintah Non-Pegawai Negeri (PPNPN)",
    };
    let signer_rows: Vec<(&str, &str)> = vec![
        ("Nama", c.signer_name.as_str()),
        (id_label, id_value.as_str()),
        ("Jenis Pegawai", jenis),
        ("Jabatan", c.position.as_str()),
        ("Instansi", c.agency.as_str()),
        (
            "Unit Kerja",
            if c.unit.is_empty() {
                "-"
            } else {
                c.unit.as_str()
            },
        ),
        ("Wilayah Kerja", ctx.work_area),
        ("Waktu Penandatanganan", time.as_str()),
    ];
    let blocks: Vec<DocumentBlock<'_>> = document
        .blocks()
        .iter()
        .map(|b| match b {
            Block::Heading(t) => DocumentBlock::Heading(t),
            Block::Paragraph(t) => DocumentBlock::Paragraph(t),
            Block::Commitment(t) => DocumentBlock::Commitment(t),
        })
        .collect();
    let serial = format!("{:08}", c.serial);
    let version = format!(
        "versi {} — SHA-256 {}",
        ctx.document.version, c.document_sha256
    );
    let footer_rows: Vec<(&str, &str)> = vec![
        ("Nomor Sertifikat", serial.as_str()),
        ("ID Sertifikat", c.id.as_str()),
        ("Dokumen", version.as_str()),
        ("ID Kunci Penerbit", c.key_id.as_str()),
        ("Periksa keaslian", link.split('#').next().unwrap_or(&link)),
    ];
    let subject = format!("ikrar-certificate:{}", c.id);
    let sheet = CertificateSheet {
        heading: "SERTIFIKAT PENANDATANGANAN ELEKTRONIK",
        document_title: document.title(),
        campaign_title: &ctx.campaign.title,
        signer_rows: &signer_rows,
        document_blocks: &blocks,
        footer_rows: &footer_rows,
        qr_modules: qr.modules(),
        qr_width: qr.width(),
        qr_caption: "Pindai untuk memeriksa keaslian",
        attribution: "Ditandatangani secara elektronik dengan kunci Ed25519 penerbit. Data wilayah: idn-area-data (ODbL 1.0).",
        subject: &subject,
    };
    Ok(pdf::render_for_signing(&sheet)?)
}

/// Finds the certificate id a PDF of ours names in its document information.
pub fn id_in_pdf(bytes: &[u8]) -> Option<String> {
    let marker = b"ikrar-certificate:";
    let at = bytes.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let id = bytes.get(at..at + 16)?;
    std::str::from_utf8(id).ok().map(str::to_string)
}
