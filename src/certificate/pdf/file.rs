//! From pages of operations to the file's bytes, through printpdf's lopdf document.
//!
//! printpdf's own `save` deflates every stream at zlib level 9, which alone takes longer than the
//! rest of a render, and writes random ids and the current time into the file. So the document is
//! taken as lopdf objects and finished here: the streams deflated at a fast level, the document
//! information written without dates, the language set, and the trailer's `/ID` derived from
//! the content. The same certificate then always gives the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use lopdf::{Dictionary, Object, StringFormat};
use printpdf::{
    DictItem, ExternalStream, ExternalXObject, Mm, Op, PdfDocument, PdfFont, PdfPage,
    PdfSaveOptions, XObject, XObjectId,
};
use sha2::{Digest, Sha256};

use super::fonts::Faces;
use super::PdfError;
use crate::domain::AuthorityLogo;

/// zlib level of every stream. Measured on the certificate: level 9 (printpdf's) 4.9 ms, level 1
/// a fraction of that, for files a few percent larger.
const DEFLATE_LEVEL: u32 = 1;

/// What the document information says besides the pages.
pub struct FileInfo<'a> {
    pub title: &'a str,
    pub author: &'a str,
    /// `ikrar-certificate:<id>`: ASCII, written as a literal string so that an uploaded file can
    /// be matched to its certificate by searching its bytes.
    pub subject: &'a str,
    /// BCP 47 language of the text, `id-ID`.
    pub lang: &'a str,
    /// A file attached to the document as a whole (the offline evidence bundle).
    pub attachment: Option<Attachment<'a>>,
}

/// A document-level associated file, attached as PDF/A-3 does it (ISO 19005-3, 6.8): an
/// embedded file stream with its MIME type, size and modification date, a file specification with
/// `/F`, `/UF`, `/Desc` and `/AFRelationship`, named in the catalog's `/EmbeddedFiles` name tree
/// (so that every reader lists it) and in the catalog's `/AF` array.
pub struct Attachment<'a> {
    /// ASCII file name, e.g. `ikrar-bukti.json`.
    pub name: &'a str,
    /// What the file is, for the reader's attachment list (Indonesian).
    pub description: &'a str,
    /// MIME type, the embedded file stream's `/Subtype`.
    pub mime_type: &'a str,
    pub bytes: &'a [u8],
    /// Unix seconds, the `/ModDate` of its parameters: derived from the content, never the clock.
    pub modified_at: i64,
}

/// A logo prepared as an image XObject: pixels and alpha deflated once per logo and process.
pub type PreparedLogo = Arc<ExternalXObject>;

/// The image XObject for a logo, from a cache keyed by the PNG's hash: decoding and deflating a
/// logo costs more than a whole certificate, and a campaign has one logo for all of them.
pub fn prepared_logo(logo: &AuthorityLogo) -> Result<PreparedLogo, PdfError> {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], PreparedLogo>>> = OnceLock::new();
    let key: [u8; 32] = Sha256::digest(logo.png()).into();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().map_err(|_| PdfError::Logo)?.get(&key) {
        return Ok(found.clone());
    }
    let (width, height, rgba) = logo.rgba().map_err(|_| PdfError::Logo)?;
    let mut color = Vec::with_capacity(rgba.len() / 4 * 3);
    let mut alpha = Vec::with_capacity(rgba.len() / 4);
    for px in rgba.chunks_exact(4) {
        color.extend_from_slice(&px[..3]);
        alpha.push(px[3]);
    }
    let image_dict = |space: &str| {
        BTreeMap::from([
            ("Type".to_string(), DictItem::Name(b"XObject".to_vec())),
            ("Subtype".to_string(), DictItem::Name(b"Image".to_vec())),
            ("Width".to_string(), DictItem::Int(i64::from(width))),
            ("Height".to_string(), DictItem::Int(i64::from(height))),
            ("BitsPerComponent".to_string(), DictItem::Int(8)),
            (
                "ColorSpace".to_string(),
                DictItem::Name(space.as_bytes().to_vec()),
            ),
            (
                "Filter".to_string(),
                DictItem::Name(b"FlateDecode".to_vec()),
            ),
        ])
    };
    let mut dict = image_dict("DeviceRGB");
    if alpha.iter().any(|&a| a != 255) {
        dict.insert(
            "SMask".to_string(),
            DictItem::Stream {
                stream: ExternalStream {
                    dict: image_dict("DeviceGray"),
                    content: deflate(&alpha)?,
                    compress: false,
                },
            },
        );
    }
    let prepared = Arc::new(ExternalXObject {
        stream: ExternalStream {
            dict,
            content: deflate(&color)?,
            compress: false,
        },
        width: None,
        height: None,
        dpi: None,
    });
    let mut cache = cache.lock().map_err(|_| PdfError::Logo)?;
    if cache.len() >= 64 {
        cache.clear();
    }
    cache.insert(key, prepared.clone());
    Ok(prepared)
}

/// The resource name the logo is drawn by.
pub fn logo_id() -> XObjectId {
    XObjectId("IkrarLogo".to_string())
}

fn deflate(bytes: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 64),
        flate2::Compression::new(DEFLATE_LEVEL),
    );
    encoder.write_all(bytes).map_err(|_| PdfError::Deflate)?;
    encoder.finish().map_err(|_| PdfError::Deflate)
}

/// A PDF text string: literal when ASCII, else UTF-16BE with its byte order mark.
fn text(s: &str) -> Object {
    if s.is_ascii() {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut utf16 = vec![0xFE, 0xFF];
        utf16.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        Object::String(utf16, StringFormat::Hexadecimal)
    }
}

/// `D:YYYYMMDDHHmmSS+00'00'` in UTC.
fn pdf_date(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .format("D:%Y%m%d%H%M%S+00'00'")
        .to_string()
}

/// Adds the embedded file stream and its file specification; returns the specification's id and
/// the deflated bytes.
fn attach(
    lo: &mut lopdf::Document,
    attachment: &Attachment<'_>,
) -> Result<(lopdf::ObjectId, Vec<u8>), PdfError> {
    // printpdf fills the object table itself; new objects go after its highest number.
    lo.max_id = lo.objects.keys().map(|(n, _)| *n).max().unwrap_or(0);
    let packed = deflate(attachment.bytes)?;
    let date = Object::string_literal(pdf_date(attachment.modified_at));
    let stream = lopdf::Stream::new(
        Dictionary::from_iter(vec![
            ("Type", Object::Name(b"EmbeddedFile".to_vec())),
            (
                "Subtype",
                Object::Name(attachment.mime_type.as_bytes().to_vec()),
            ),
            ("Filter", Object::Name(b"FlateDecode".to_vec())),
            (
                "Params",
                Object::Dictionary(Dictionary::from_iter(vec![
                    ("Size", Object::Integer(attachment.bytes.len() as i64)),
                    ("CreationDate", date.clone()),
                    ("ModDate", date),
                ])),
            ),
        ]),
        packed.clone(),
    );
    let file = lo.add_object(stream);
    let name = Object::String(attachment.name.as_bytes().to_vec(), StringFormat::Literal);
    let spec = lo.add_object(Dictionary::from_iter(vec![
        ("Type", Object::Name(b"Filespec".to_vec())),
        ("F", name.clone()),
        ("UF", name),
        ("Desc", text(attachment.description)),
        ("AFRelationship", Object::Name(b"Supplement".to_vec())),
        (
            "EF",
            Object::Dictionary(Dictionary::from_iter(vec![
                ("F", Object::Reference(file)),
                ("UF", Object::Reference(file)),
            ])),
        ),
    ]));
    Ok((spec, packed))
}

/// Writes the A4 pages into a PDF file.
pub fn write(
    faces: &Faces,
    pages: Vec<Vec<Op>>,
    logo: Option<&PreparedLogo>,
    info: &FileInfo<'_>,
) -> Result<Vec<u8>, PdfError> {
    let mut doc = PdfDocument::new(info.title);
    for face in [&faces.regular, &faces.bold] {
        doc.resources
            .fonts
            .map
            .insert(face.font_id(), PdfFont::new(face.parsed.clone()));
    }
    if let Some(logo) = logo {
        doc.resources
            .xobjects
            .map
            .insert(logo_id(), XObject::External((**logo).clone()));
    }
    doc.with_pages(
        pages
            .into_iter()
            .map(|ops| PdfPage::new(Mm(210.0), Mm(297.0), ops))
            .collect(),
    );
    let mut warnings = Vec::new();
    let options = PdfSaveOptions {
        optimize: false,
        subset_fonts: true,
        secure: true,
        image_optimization: None,
    };
    let mut lo = doc.to_lopdf_document(&options, &mut warnings);

    // Every stream deflated (the logo's already are), and hashed for the /ID.
    let mut content_hash = Sha256::new();
    for object in lo.objects.values_mut() {
        if let Object::Stream(stream) = object {
            if !stream.dict.has(b"Filter") {
                let packed = deflate(&stream.content)?;
                stream
                    .dict
                    .set("Filter", Object::Name(b"FlateDecode".to_vec()));
                stream.set_content(packed);
            }
            content_hash.update(&stream.content);
        }
    }

    let attached = match &info.attachment {
        Some(attachment) => {
            let (spec, packed) = attach(&mut lo, attachment)?;
            content_hash.update(attachment.name.as_bytes());
            content_hash.update([0]);
            content_hash.update(&packed);
            Some(spec)
        }
        None => None,
    };
    let document_info = Dictionary::from_iter(vec![
        ("Title", text(info.title)),
        ("Author", text(info.author)),
        ("Subject", text(info.subject)),
        ("Creator", text("ikrar")),
        ("Producer", text("ikrar dengan printpdf 0.12")),
    ]);
    for field in [info.title, info.author, info.subject, info.lang] {
        content_hash.update(field.as_bytes());
        content_hash.update([0]);
    }
    let info_id = lo
        .trailer
        .get(b"Info")
        .and_then(Object::as_reference)
        .map_err(|_| PdfError::Structure("no /Info"))?;
    lo.objects
        .insert(info_id, Object::Dictionary(document_info));
    let root_id = lo
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| PdfError::Structure("no /Root"))?;
    let catalog = lo
        .get_object_mut(root_id)
        .and_then(Object::as_dict_mut)
        .map_err(|_| PdfError::Structure("no catalog"))?;
    catalog.set("Lang", text(info.lang));
    if let (Some(spec), Some(attachment)) = (attached, &info.attachment) {
        if catalog.has(b"Names") || catalog.has(b"AF") {
            return Err(PdfError::Structure("a catalog without /Names and /AF"));
        }
        catalog.set(
            "Names",
            Dictionary::from_iter(vec![(
                "EmbeddedFiles",
                Object::Dictionary(Dictionary::from_iter(vec![(
                    "Names",
                    Object::Array(vec![
                        Object::String(attachment.name.as_bytes().to_vec(), StringFormat::Literal),
                        spec.into(),
                    ]),
                )])),
            )]),
        );
        catalog.set("AF", Object::Array(vec![spec.into()]));
    }
    catalog.set(
        "ViewerPreferences",
        Dictionary::from_iter(vec![("DisplayDocTitle", Object::Boolean(true))]),
    );

    let id = content_hash.finalize()[..16].to_vec();
    lo.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(id.clone(), StringFormat::Hexadecimal),
            Object::String(id, StringFormat::Hexadecimal),
        ]),
    );
    let mut bytes = Vec::with_capacity(64 * 1024);
    lo.save_to(&mut bytes)
        .map_err(|_| PdfError::Structure("lopdf could not write the file"))?;
    Ok(bytes)
}
