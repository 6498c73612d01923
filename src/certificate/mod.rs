//! Where a certificate is drawn: the PDF a signer downloads and the QR link printed on it.

pub mod bundle;
pub mod glyphs;
pub mod pdf;
pub mod pdf_signature;
mod qr;
pub mod slips;
mod stored;

pub use bundle::OfflineBundle;
pub use qr::{verify_link, QrError, QrMatrix};
pub use stored::render_stored;

use crate::crypto::{encode_signed_bytes, Claim};
use crate::db::campaigns::{Campaign, StoredDocument};
use crate::db::certificates::CertificateRow;
use crate::domain::{Block, IndonesianZone, IssuingAuthority, PactDocument};
use pdf::{Attachment, CertificateSheet, DocumentBlock, FileInfo, Letterhead};
pub use pdf_signature::{PdfSignatureError, PdfSigner};

/// Everything a certificate shows besides the stored record itself.
pub struct CertificateContext<'a> {
    pub certificate: &'a CertificateRow,
    pub campaign: &'a Campaign,
    pub document: &'a StoredDocument,
    /// "Kelurahan …, Kecamatan …, Kota …, Provinsi …"
    pub work_area: &'a str,
    pub base_url: &'a str,
    /// The campaign's issuing authority in force when the certificate was signed
    /// ([`crate::db::campaigns::authority_at`]); `None` prints no letterhead.
    pub authority: Option<&'a IssuingAuthority>,
    /// The offline evidence, attached to the PDF as `ikrar-bukti.json` before the seal, which
    /// then covers it; `None` attaches nothing (no checkpoint covers the certificate yet).
    pub bundle: Option<&'a OfflineBundle>,
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
    Claim::from_bytes(&certificate.claim, &certificate.id).map_err(|_| CertificateError::Record)?;
    Ok(verify_link(
        base_url,
        &certificate.id,
        &encode_signed_bytes(&certificate.claim, &signature),
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
        unsigned,
        signer,
        ctx.certificate.signed_at,
    )?)
}

/// The statement as an employee type names it in full.
fn employee_type_long(code: &str) -> &'static str {
    match code {
        "PNS" => "Pegawai Negeri Sipil (PNS)",
        "PPPK" => "Pegawai Pemerintah dengan Perjanjian Kerja (PPPK)",
        _ => "Pegawai Pemerintah Non-Pegawai Negeri (PPNPN)",
    }
}

/// The certificate PDF before its PDF signature (the benchmark times the two apart).
pub fn render_unsigned_pdf(ctx: &CertificateContext<'_>) -> Result<Vec<u8>, CertificateError> {
    let c = ctx.certificate;
    let document = PactDocument::parse(&ctx.document.body).map_err(|_| CertificateError::Record)?;
    let link = link_for(ctx.base_url, c)?;
    let qr = QrMatrix::encode(&link)?;
    let (id_label, id_value) = identity_row(c);
    let at = chrono::DateTime::from_timestamp(c.signed_at, 0).unwrap_or_default();
    let zone = IndonesianZone::of_province(&c.village_code);
    let date = zone.format_date(at);
    let place_and_date = match ctx.authority {
        Some(authority) => format!("{}, {date}", authority.place()),
        None => date,
    };
    let time = zone.format_long(at);
    let unit = if c.unit.is_empty() {
        "-"
    } else {
        c.unit.as_str()
    };
    let identity_rows: Vec<(&str, &str)> = vec![
        ("Nama", c.signer_name.as_str()),
        (id_label, id_value.as_str()),
        ("Jenis pegawai", employee_type_long(&c.employee_type)),
        ("Jabatan", c.position.as_str()),
        ("Unit kerja", unit),
        ("Instansi", c.agency.as_str()),
        ("Wilayah kerja", ctx.work_area),
    ];
    // The legal basis ("Dasar Hukum") closes the page under the signature, as in a letter.
    let blocks: Vec<DocumentBlock<'_>> = document
        .blocks()
        .iter()
        .map(|b| match b {
            Block::Heading(t) => DocumentBlock::Heading(t),
            Block::Paragraph(t) => DocumentBlock::Paragraph(t),
            Block::Commitment(t) => DocumentBlock::Commitment(t),
        })
        .collect();
    let split = document
        .blocks()
        .iter()
        .position(|b| matches!(b, Block::Heading(t) if t.to_lowercase().starts_with("dasar hukum")))
        .unwrap_or(blocks.len());
    let (statement, legal_basis) = blocks.split_at(split);
    let serial = format!("{:08}", c.serial);
    let number = format!("Nomor: {serial}");
    let version = format!(
        "versi {} — SHA-256 {}",
        ctx.document.version, c.document_sha256
    );
    let check_url = link.split('#').next().unwrap_or(&link);
    let footer_rows: Vec<(&str, &str)> = vec![
        ("Nomor sertifikat", serial.as_str()),
        ("ID sertifikat", c.id.as_str()),
        ("Dokumen", version.as_str()),
        ("ID kunci penerbit", c.key_id.as_str()),
        ("Periksa keaslian", check_url),
    ];
    let signer_id = format!("{id_label} {id_value}");
    let subject = format!("ikrar-certificate:{}", c.id);
    let author = match ctx.authority {
        Some(a) => format!("{}, {}", a.office(), a.name()),
        None => "ikrar".to_string(),
    };
    let bundle_json = ctx.bundle.map(OfflineBundle::to_json);
    let sheet = CertificateSheet {
        letterhead: ctx.authority.map(|a| Letterhead {
            name: a.name(),
            office: a.office(),
            address: a.address(),
            logo: a.logo(),
        }),
        title: document.title(),
        subtitle: &[number.as_str(), ctx.campaign.title.as_str()],
        identity_rows: &identity_rows,
        statement,
        place_and_date: &place_and_date,
        signer_name: &c.signer_name,
        signer_id: &signer_id,
        signature_note: &["Ditandatangani secara elektronik", time.as_str()],
        qr_modules: qr.modules(),
        qr_width: qr.width(),
        qr_caption: &["Pindai untuk memeriksa keaslian"],
        legal_basis,
        footer_rows: &footer_rows,
        attribution:
            "Ditandatangani secara elektronik melalui ikrar. Data wilayah: idn-area-data (ODbL 1.0).",
        file: FileInfo {
            title: document.title(),
            author: &author,
            subject: &subject,
            lang: "id-ID",
            attachment: ctx
                .bundle
                .zip(bundle_json.as_deref())
                .map(|(bundle, bytes)| Attachment {
                    name: bundle::FILE_NAME,
                    description: "Bukti pemeriksaan luring: klaim bertanda tangan, entri log publik, bukti inklusi, dan ringkasan log bertanda tangan",
                    mime_type: "application/json",
                    bytes,
                    modified_at: bundle.checkpoint_at,
                }),
        },
    };
    Ok(pdf::render(&sheet)?)
}

/// Finds the certificate id a PDF of ours names in its document information.
pub fn id_in_pdf(bytes: &[u8]) -> Option<String> {
    let marker = b"ikrar-certificate:";
    let at = bytes.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let id = bytes.get(at..at + 16)?;
    std::str::from_utf8(id).ok().map(str::to_string)
}
