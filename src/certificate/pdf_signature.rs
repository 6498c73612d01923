//! The seal on every certificate PDF: an incremental update, written with lopdf, appended to
//! whatever well-formed PDF the renderer produced, and the reading of that seal from uploads.
//!
//! The update adds a new revision of the catalog (its `/AcroForm` with `/SigFlags 3` naming
//! the field), a new revision of page 1 (its `/Annots` naming the field), an invisible
//! signature widget merged with its field, and the `/Sig` dictionary: `/SubFilter
//! /ETSI.CAdES.detached`, a `/ByteRange` over the whole file but the `/Contents` hex string,
//! which holds the detached CMS of [`crate::crypto::seal::cms`]. `/ByteRange` and `/Contents`
//! are written as placeholders of fixed width and patched in place once the file is hashed.
//! Deterministic: the claimed time is derived from the certificate's own `signed_at`, and ECDSA
//! uses RFC 6979 nonces.

use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, StringFormat};
use sha2::{Digest, Sha256};

use crate::crypto::seal::cms::{self, SealEncodingError};
use crate::crypto::{Seal, SealSignature, SealSignatureError};

/// Width of each number in the `/ByteRange` placeholder: enough for a 9 GB file.
const RANGE_DIGITS: usize = 10;
const RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// Who seals a certificate PDF.
#[derive(Clone, Copy)]
pub struct PdfSigner<'a> {
    pub seal: &'a Seal,
}

/// Why a PDF could not be sealed or its seal could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfSignatureError {
    /// The file to seal, or an uploaded file, is not a PDF lopdf can read.
    #[error("the file is not a readable PDF: {0}")]
    Unreadable(String),
    /// The rendered file lacks what the update appends to (a renderer change).
    #[error("the PDF cannot take the seal's incremental update: {0}")]
    Structure(String),
    #[error("the PDF carries no signature dictionary")]
    NotSigned,
    #[error("the signature's /ByteRange does not cover the whole file except /Contents")]
    ByteRange,
    #[error("the signature's /Contents is not a hex string")]
    Contents,
    #[error(transparent)]
    Cms(#[from] SealSignatureError),
    #[error("the signed bytes do not have the SHA-256 the signature names")]
    Digest,
}

impl From<SealEncodingError> for PdfSignatureError {
    fn from(e: SealEncodingError) -> Self {
        Self::Structure(e.to_string())
    }
}

fn structure(e: impl std::fmt::Display) -> PdfSignatureError {
    PdfSignatureError::Structure(e.to_string())
}

/// Seals `pdf` for a certificate signed at `signed_at` (Unix seconds). The claimed time is
/// [`Seal::signing_time_for`] it: never before the seal's certificate became valid.
pub fn sign(
    pdf: Vec<u8>,
    signer: PdfSigner<'_>,
    signed_at: i64,
) -> Result<Vec<u8>, PdfSignatureError> {
    let seal = signer.seal;
    let time = seal.signing_time_for(signed_at);
    let document = load(&pdf)?;
    if document.is_encrypted() {
        return Err(structure("encrypted PDF"));
    }
    let root = document
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| structure("trailer without /Root"))?;
    let first_page = *document
        .get_pages()
        .get(&1)
        .ok_or_else(|| structure("no page 1"))?;
    let prev_length = pdf.len();
    let mut update = IncrementalDocument::create_from(pdf, document);
    let field = update.new_document.new_object_id();
    let signature = update.new_document.new_object_id();

    // The catalog's new revision names the field in its (new or extended) /AcroForm.
    let mut catalog = update
        .get_prev_documents()
        .get_dictionary(root)
        .map_err(structure)?
        .clone();
    let form = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(id)) => {
            let id = *id;
            let mut form = update
                .get_prev_documents()
                .get_dictionary(id)
                .map_err(structure)?
                .clone();
            add_to_array(update.get_prev_documents(), &mut form, b"Fields", field)?;
            form.set("SigFlags", 3);
            update.new_document.set_object(id, form);
            None
        }
        Ok(Object::Dictionary(form)) => {
            let mut form = form.clone();
            add_to_array(update.get_prev_documents(), &mut form, b"Fields", field)?;
            form.set("SigFlags", 3);
            Some(form)
        }
        _ => Some(Dictionary::from_iter([
            ("Fields", Object::Array(vec![field.into()])),
            ("SigFlags", 3.into()),
        ])),
    };
    if let Some(form) = form {
        catalog.set("AcroForm", form);
    }
    update.new_document.set_object(root, catalog);

    let mut page = update
        .get_prev_documents()
        .get_dictionary(first_page)
        .map_err(structure)?
        .clone();
    match page.get(b"Annots") {
        Ok(Object::Reference(id)) => {
            let id = *id;
            let mut annots = update
                .get_prev_documents()
                .get_object(id)
                .and_then(Object::as_array)
                .map_err(structure)?
                .clone();
            annots.push(field.into());
            update.new_document.set_object(id, annots);
        }
        _ => {
            add_to_array(update.get_prev_documents(), &mut page, b"Annots", field)?;
        }
    }
    update.new_document.set_object(first_page, page);

    // An invisible widget (zero rectangle, Print and Locked flags) merged with its field.
    update.new_document.set_object(
        field,
        Dictionary::from_iter([
            ("Type", Object::Name(b"Annot".to_vec())),
            ("Subtype", Object::Name(b"Widget".to_vec())),
            ("FT", Object::Name(b"Sig".to_vec())),
            ("T", Object::string_literal("Segel Penerbit")),
            ("F", 132.into()),
            (
                "Rect",
                Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
            ),
            ("P", first_page.into()),
            ("V", signature.into()),
        ]),
    );
    let contents_bytes = contents_capacity(seal);
    update.new_document.set_object(
        signature,
        Dictionary::from_iter([
            ("Type", Object::Name(b"Sig".to_vec())),
            ("Filter", Object::Name(b"Adobe.PPKLite".to_vec())),
            ("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec())),
            (
                "Name",
                Object::String(seal.common_name().into_bytes(), StringFormat::Literal),
            ),
            (
                "Reason",
                Object::string_literal("Sertifikat penandatanganan elektronik ikrar"),
            ),
            ("M", Object::string_literal(pdf_date(time))),
            (
                "ByteRange",
                Object::Array(vec![
                    0.into(),
                    RANGE_PLACEHOLDER.into(),
                    RANGE_PLACEHOLDER.into(),
                    RANGE_PLACEHOLDER.into(),
                ]),
            ),
            (
                "Contents",
                Object::String(vec![0; contents_bytes], StringFormat::Hexadecimal),
            ),
        ]),
    );
    update.new_document.trailer.remove(b"XRefStm");

    let mut out = Vec::with_capacity(prev_length + 2 * contents_bytes + 2048);
    update.save_to(&mut out).map_err(structure)?;

    let (gap_start, gap_end) = find_contents(&out, prev_length, contents_bytes)
        .ok_or_else(|| structure("the /Contents placeholder is not where it was written"))?;
    let placeholder = format!("0 {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER}");
    let range_at = rfind(&out[prev_length..], placeholder.as_bytes())
        .ok_or_else(|| structure("the /ByteRange placeholder is not where it was written"))?
        + prev_length;
    let ranges = format!(
        "0 {gap_start:<w$} {gap_end:<w$} {rest:<w$}",
        rest = out.len() - gap_end,
        w = RANGE_DIGITS
    );
    if ranges.len() != placeholder.len() {
        return Err(structure("file too large for /ByteRange"));
    }
    out[range_at..range_at + ranges.len()].copy_from_slice(ranges.as_bytes());

    let digest: [u8; 32] = Sha256::new()
        .chain_update(&out[..gap_start])
        .chain_update(&out[gap_end..])
        .finalize()
        .into();
    let cms = cms::sign_detached(seal, &digest, time)?;
    if cms.len() > contents_bytes {
        return Err(structure("CMS larger than its placeholder"));
    }
    let hex = data_encoding::HEXUPPER.encode(&cms);
    out[gap_start + 1..gap_start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(out)
}

/// Bytes reserved for the CMS: the chain, the signed attributes (about 300 bytes plus the
/// issuer name) and a signature of up to 512 bytes (RSA 4096), rounded up; the rest is zero
/// padding, as PDF signatures usually carry.
fn contents_capacity(seal: &Seal) -> usize {
    let chain: usize = seal
        .chain()
        .iter()
        .map(|c| {
            der::Encode::encoded_len(c)
                .map(usize::try_from)
                .ok()
                .and_then(Result::ok)
                .unwrap_or(4096)
        })
        .sum();
    (chain + seal.leaf_der().len() / 2 + 1536).div_ceil(512) * 512
}

/// Adds `item` to the array under `key` (direct or indirect), creating the array if missing.
fn add_to_array(
    document: &Document,
    dict: &mut Dictionary,
    key: &[u8],
    item: ObjectId,
) -> Result<(), PdfSignatureError> {
    let mut array = match dict.get(key) {
        Ok(Object::Array(items)) => items.clone(),
        Ok(Object::Reference(id)) => document
            .get_object(*id)
            .and_then(Object::as_array)
            .map_err(structure)?
            .clone(),
        Ok(_) => return Err(structure("an array entry that is not an array")),
        Err(_) => Vec::new(),
    };
    array.push(item.into());
    dict.set(key.to_vec(), array);
    Ok(())
}

/// Where the `/Contents` hex string of `capacity` zero bytes starts (`<`) and ends (after
/// `>`), searched from `from` on.
fn find_contents(out: &[u8], from: usize, capacity: usize) -> Option<(usize, usize)> {
    let key = rfind(&out[from..], b"/Contents")? + from + b"/Contents".len();
    let start = key + out[key..].iter().position(|b| !b.is_ascii_whitespace())?;
    let end = start + 2 * capacity + 2;
    let string = out.get(start..end)?;
    (string[0] == b'<'
        && string[end - start - 1] == b'>'
        && string[1..end - start - 1].iter().all(|b| *b == b'0'))
    .then_some((start, end))
}

/// Checks that an uploaded PDF's last signature covers the whole file but its `/Contents`, that
/// its CMS verifies under the certificate it carries, and that the signed bytes have the
/// digest it names. Whether that certificate is one of our seals is the caller's question.
/// Untrusted input: every failure is an error, never a panic.
pub fn read_signature(pdf: &[u8]) -> Result<SealSignature, PdfSignatureError> {
    let document = load(pdf)?;
    let mut found_any = false;
    let mut ranges = None;
    for object in document.objects.values() {
        let Ok(dict) = object.as_dict() else {
            continue;
        };
        let Ok(Object::Array(range)) = dict.get(b"ByteRange") else {
            continue;
        };
        found_any = true;
        let numbers: Option<Vec<usize>> = range
            .iter()
            .map(|n| n.as_i64().ok().and_then(|n| usize::try_from(n).ok()))
            .collect();
        if let Some([0, gap_start, gap_end, rest]) = numbers.as_deref() {
            if gap_end.checked_add(*rest) == Some(pdf.len()) {
                ranges = Some((*gap_start, *gap_end));
            }
        }
    }
    let Some((gap_start, gap_end)) = ranges else {
        return Err(if found_any {
            PdfSignatureError::ByteRange
        } else {
            PdfSignatureError::NotSigned
        });
    };
    if gap_start == 0 || gap_end <= gap_start + 1 || gap_end > pdf.len() {
        return Err(PdfSignatureError::ByteRange);
    }
    // The gap must be exactly the hex string that is the value of /Contents.
    let before = pdf[..gap_start].trim_ascii_end();
    if !before.ends_with(b"/Contents") || pdf[gap_start] != b'<' || pdf[gap_end - 1] != b'>' {
        return Err(PdfSignatureError::ByteRange);
    }
    let hex = &pdf[gap_start + 1..gap_end - 1];
    if !hex.len().is_multiple_of(2) || !hex.iter().all(u8::is_ascii_hexdigit) {
        return Err(PdfSignatureError::Contents);
    }
    let contents = data_encoding::HEXLOWER_PERMISSIVE
        .decode(hex)
        .map_err(|_| PdfSignatureError::Contents)?;
    let signed = SealSignature::parse(&contents)?;
    let digest = Sha256::new()
        .chain_update(&pdf[..gap_start])
        .chain_update(&pdf[gap_end..])
        .finalize();
    if digest.as_slice() != signed.message_digest {
        return Err(PdfSignatureError::Digest);
    }
    Ok(signed)
}

/// Loads a PDF with lopdf. lopdf is not written for hostile input: a panic inside it becomes
/// an error too.
fn load(pdf: &[u8]) -> Result<Document, PdfSignatureError> {
    std::panic::catch_unwind(|| Document::load_mem(pdf))
        .map_err(|_| PdfSignatureError::Unreadable("the PDF parser gave up".into()))?
        .map_err(|e| PdfSignatureError::Unreadable(e.to_string()))
}

/// `D:YYYYMMDDHHmmSS+00'00'` in UTC.
fn pdf_date(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .format("D:%Y%m%d%H%M%S+00'00'")
        .to_string()
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests;
