//! The standard PDF signature inside every certificate: an incremental update appended to the
//! rendered file, so `pdf.rs` stays as it is and signing costs a few small byte copies, one
//! SHA-512 over the file and one Ed25519 signature.
//!
//! When the file comes from the renderer with its prepared fonts, the hash starts from the state
//! the renderer computed once over those first 70 KB ([`sign_rendered`]).
//!
//! The update adds a new revision of the catalog (with an `/AcroForm`, `/SigFlags 3`), a new
//! revision of page 1 (its `/Annots` naming the field), an invisible signature field widget and
//! the `/Sig` dictionary: `/SubFilter /ETSI.CAdES.detached`, `/ByteRange` over the whole file but
//! the `/Contents` hex string, which holds a detached CMS `SignedData` (see
//! [`crate::signing::cms`]). Everything is deterministic: the signing time is the certificate's own
//! `signed_at`, and Ed25519 signatures do not use randomness.
//!
//! The reader here understands what `pdf.rs` writes (a classic cross-reference table, plain
//! indirect objects) and nothing more exotic; [`read_signature`] checks an uploaded file.

use std::collections::HashMap;
use std::ops::Range;

use sha2::{Digest, Sha512};

use super::pdf::RenderedPdf;
use crate::signing::cms::{self, CmsError, SignedData};
use crate::signing::{IssuerCertificate, IssuerKey};

/// Bytes reserved for the CMS. Ours take about 1 KB (certificate, four signed attributes, one
/// signature); the rest is zero padding, as PDF signatures usually carry.
const CONTENTS_BYTES: usize = 2048;

/// Width of each number in the `/ByteRange` placeholder: enough for a 9 GB file.
const RANGE_DIGITS: usize = 10;

/// Who signs a certificate PDF: the issuer key and its X.509 certificate.
#[derive(Clone, Copy)]
pub struct PdfSigner<'a> {
    pub key: &'a IssuerKey,
    pub certificate: &'a IssuerCertificate,
}

/// Why a PDF could not be signed or its signature could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfSignatureError {
    /// The rendered file does not have the structure we append to (a renderer change).
    #[error("the rendered PDF cannot take an incremental update: {0}")]
    Structure(&'static str),
    #[error("the PDF carries no signature dictionary")]
    NotSigned,
    #[error("the signature's /ByteRange does not cover the whole file except /Contents")]
    ByteRange,
    #[error("the signature's /Contents is not a hex string")]
    Contents,
    #[error(transparent)]
    Cms(#[from] CmsError),
    #[error("the signed bytes do not have the SHA-512 the signature names")]
    Digest,
}

/// Appends the issuer's signature to a rendered certificate, claiming `signed_at` (Unix seconds).
pub fn sign(
    pdf: Vec<u8>,
    signer: PdfSigner<'_>,
    signed_at: i64,
) -> Result<Vec<u8>, PdfSignatureError> {
    sign_after(pdf, None, signer, signed_at)
}

/// [`sign`] for a file fresh from the renderer: the hash over its prepared fonts, the bulk of
/// the file, was computed once per process.
pub fn sign_rendered(
    rendered: RenderedPdf,
    signer: PdfSigner<'_>,
    signed_at: i64,
) -> Result<Vec<u8>, PdfSignatureError> {
    let prefix = rendered
        .known_prefix
        .and_then(|prefix| prefix.sha512_state(&rendered.bytes));
    sign_after(rendered.bytes, prefix, signer, signed_at)
}

/// Signs `pdf`; `prefix` is the SHA-512 state over its first bytes and their count, if known.
fn sign_after(
    mut pdf: Vec<u8>,
    prefix: Option<(usize, Sha512)>,
    signer: PdfSigner<'_>,
    signed_at: i64,
) -> Result<Vec<u8>, PdfSignatureError> {
    let structure = Structure::read(&pdf)?;
    let catalog = structure.object_dict(&pdf, structure.root)?;
    let page = structure.first_page(&pdf, catalog.clone())?;
    let field = Ref::new(structure.size, 0);
    let signature = Ref::new(structure.size + 1, 0);

    let mut new_catalog = without_close(&pdf, &catalog.dict, b"AcroForm")?;
    new_catalog
        .extend_from_slice(format!("/AcroForm <</Fields [{field}] /SigFlags 3>> >>").as_bytes());
    let new_page = with_annotation(&pdf, &page.dict, field)?;

    if !pdf.ends_with(b"\n") {
        pdf.push(b'\n');
    }
    let mut offsets = Vec::new();
    let mut begin = |pdf: &mut Vec<u8>, object: Ref| {
        offsets.push((object, pdf.len()));
        pdf.extend_from_slice(format!("{} {} obj\n", object.number, object.generation).as_bytes());
    };
    begin(&mut pdf, catalog.id);
    pdf.extend_from_slice(&new_catalog);
    pdf.extend_from_slice(b"\nendobj\n");
    begin(&mut pdf, page.id);
    pdf.extend_from_slice(&new_page);
    pdf.extend_from_slice(b"\nendobj\n");
    begin(&mut pdf, field);
    // An invisible widget (zero rectangle, Print and Locked flags) merged with its field.
    pdf.extend_from_slice(
        format!(
            "<</Type /Annot /Subtype /Widget /FT /Sig /T (Tanda Tangan Penerbit) /F 132 \
             /Rect [0 0 0 0] /P {page} /V {signature}>>\nendobj\n",
            page = page.id
        )
        .as_bytes(),
    );
    begin(&mut pdf, signature);
    pdf.extend_from_slice(
        format!(
            "<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached \
             /Name (ikrar issuer {key}) /Reason (Sertifikat penandatanganan elektronik ikrar) \
             /M ({time}) /ByteRange [",
            key = signer.certificate.key_id().to_hex(),
            time = pdf_date(signed_at),
        )
        .as_bytes(),
    );
    let range_at = pdf.len();
    let placeholder = format!("0 {0} {0} {0}", " ".repeat(RANGE_DIGITS));
    pdf.extend_from_slice(placeholder.as_bytes());
    pdf.extend_from_slice(b"] /Contents ");
    let gap_start = pdf.len();
    pdf.push(b'<');
    pdf.resize(pdf.len() + 2 * CONTENTS_BYTES, b'0');
    pdf.push(b'>');
    let gap_end = pdf.len();
    pdf.extend_from_slice(b">>\nendobj\n");

    let xref_at = pdf.len();
    pdf.extend_from_slice(b"xref\n");
    offsets.sort_by_key(|(object, _)| object.number);
    for (object, offset) in &offsets {
        pdf.extend_from_slice(
            format!(
                "{} 1\n{offset:010} {:05} n \n",
                object.number, object.generation
            )
            .as_bytes(),
        );
    }
    let trailer = format!(
        "trailer\n<</Size {size} /Root {root}{info}{id} /Prev {prev}>>\nstartxref\n{xref_at}\n%%EOF\n",
        size = structure.size + 2,
        root = structure.root,
        info = structure
            .info
            .map(|info| format!(" /Info {info}"))
            .unwrap_or_default(),
        id = structure
            .id
            .as_ref()
            .map(|range| format!(" /ID {}", String::from_utf8_lossy(&pdf[range.clone()])))
            .unwrap_or_default(),
        prev = structure.xref_at,
    );
    pdf.extend_from_slice(trailer.as_bytes());

    let ranges = format!(
        "0 {gap_start:<w$} {gap_end:<w$} {rest:<w$}",
        rest = pdf.len() - gap_end,
        w = RANGE_DIGITS
    );
    if ranges.len() != placeholder.len() {
        return Err(PdfSignatureError::Structure(
            "file too large for /ByteRange",
        ));
    }
    pdf[range_at..range_at + ranges.len()].copy_from_slice(ranges.as_bytes());

    let (hashed, state) = prefix
        .filter(|(length, _)| *length <= gap_start)
        .unwrap_or_else(|| (0, Sha512::new()));
    let digest: [u8; 64] = state
        .chain_update(&pdf[hashed..gap_start])
        .chain_update(&pdf[gap_end..])
        .finalize()
        .into();
    let cms = cms::sign_detached(signer.key, signer.certificate, &digest, signed_at);
    if cms.len() > CONTENTS_BYTES {
        return Err(PdfSignatureError::Structure(
            "CMS larger than its placeholder",
        ));
    }
    let hex = data_encoding::HEXUPPER.encode(&cms);
    pdf[gap_start + 1..gap_start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(pdf)
}

/// Checks that an uploaded PDF's last signature covers the whole file but its `/Contents`,
/// and that the signed bytes have the digest the CMS names. Returns the CMS, whose signature
/// the caller checks under the issuer key it names.
pub fn read_signature(pdf: &[u8]) -> Result<SignedData, PdfSignatureError> {
    const MARKER: &[u8] = b"/ByteRange";
    // The last signature dictionary is the one that must cover the whole file; anything before
    // it is inside its signed bytes. It sits a few kilobytes from the end: search from there.
    let at = find_last(pdf, MARKER).ok_or(PdfSignatureError::NotSigned)?;
    let mut lexer = Lexer::at(pdf, at + MARKER.len());
    let array = lexer.value().map_err(|_| PdfSignatureError::ByteRange)?;
    if pdf[array.start] != b'[' {
        return Err(PdfSignatureError::ByteRange);
    }
    let numbers: Vec<usize> = pdf[array.start + 1..array.end.saturating_sub(1)]
        .split(|b| is_whitespace(*b))
        .filter(|t| !t.is_empty())
        .map(|t| {
            std::str::from_utf8(t)
                .ok()
                .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|t| t.parse().ok())
        })
        .collect::<Option<_>>()
        .ok_or(PdfSignatureError::ByteRange)?;
    let [0, gap_start, gap_end, rest] = numbers[..] else {
        return Err(PdfSignatureError::ByteRange);
    };
    if gap_start == 0 || gap_end <= gap_start + 1 || gap_end.checked_add(rest) != Some(pdf.len()) {
        return Err(PdfSignatureError::ByteRange);
    }
    // The gap must be exactly the hex string that is the value of /Contents.
    let before = trim_end(&pdf[..gap_start]);
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
    let signed = SignedData::parse(&contents)?;
    let digest: [u8; 64] = Sha512::new()
        .chain_update(&pdf[..gap_start])
        .chain_update(&pdf[gap_end..])
        .finalize()
        .into();
    if digest != signed.message_digest {
        return Err(PdfSignatureError::Digest);
    }
    Ok(signed)
}

/// `D:YYYYMMDDHHmmSS+00'00'` in UTC.
fn pdf_date(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .format("D:%Y%m%d%H%M%S+00'00'")
        .to_string()
}

/// An indirect reference `n g R`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Ref {
    number: u32,
    generation: u16,
}

impl Ref {
    fn new(number: u32, generation: u16) -> Self {
        Self { number, generation }
    }

    /// Reads `n g R` from a value's bytes.
    fn parse(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut parts = text.split_ascii_whitespace();
        let number = parts.next()?.parse().ok()?;
        let generation = parts.next()?.parse().ok()?;
        (parts.next()? == "R" && parts.next().is_none()).then_some(Self { number, generation })
    }
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} R", self.number, self.generation)
    }
}

/// An indirect object whose value is a dictionary.
#[derive(Clone)]
struct DictObject {
    id: Ref,
    dict: Range<usize>,
}

/// What the update needs from the last revision: where objects are and what the trailer says.
struct Structure {
    offsets: HashMap<u32, usize>,
    xref_at: usize,
    size: u32,
    root: Ref,
    info: Option<Ref>,
    id: Option<Range<usize>>,
}

const STRUCTURE: fn(&'static str) -> PdfSignatureError = PdfSignatureError::Structure;

impl Structure {
    fn read(pdf: &[u8]) -> Result<Self, PdfSignatureError> {
        let tail_from = pdf.len().saturating_sub(1024);
        let startxref = find_last(&pdf[tail_from..], b"startxref")
            .ok_or(STRUCTURE("startxref missing"))?
            + tail_from;
        let mut lexer = Lexer::at(pdf, startxref + b"startxref".len());
        let xref_at = lexer.integer().ok_or(STRUCTURE("startxref offset"))?;

        let mut offsets = HashMap::new();
        let mut section = Some(xref_at);
        let mut newest = None;
        let mut sections = 0;
        // Newer sections come first and win; /Prev leads to older ones.
        while let Some(at) = section {
            let (trailer, entries) = xref_section(pdf, at)?;
            for (number, offset) in entries {
                offsets.entry(number).or_insert(offset);
            }
            let entries = dict_entries(pdf, trailer.clone())?;
            section = entries
                .get(b"Prev".as_slice())
                .and_then(|r| Lexer::at(pdf, r.start).integer());
            if newest.is_none() {
                newest = Some(entries);
            }
            sections += 1;
            if sections > 64 {
                return Err(STRUCTURE("cross-reference chain too long"));
            }
        }
        let trailer = newest.ok_or(STRUCTURE("trailer missing"))?;
        let reference = |key: &[u8]| trailer.get(key).and_then(|r| Ref::parse(&pdf[r.clone()]));
        let size = trailer
            .get(b"Size".as_slice())
            .and_then(|r| Lexer::at(pdf, r.start).integer())
            .and_then(|n| u32::try_from(n).ok())
            .ok_or(STRUCTURE("trailer /Size"))?;
        Ok(Self {
            offsets,
            xref_at,
            size,
            root: reference(b"Root").ok_or(STRUCTURE("trailer /Root"))?,
            info: reference(b"Info"),
            id: trailer.get(b"ID".as_slice()).cloned(),
        })
    }

    fn object_dict(&self, pdf: &[u8], id: Ref) -> Result<DictObject, PdfSignatureError> {
        let &at = self
            .offsets
            .get(&id.number)
            .ok_or(STRUCTURE("object not in a cross-reference table"))?;
        let mut lexer = Lexer::at(pdf, at);
        let header = (lexer.integer(), lexer.integer(), lexer.token());
        if header
            != (
                Some(id.number as usize),
                Some(usize::from(id.generation)),
                Some(b"obj".as_slice()),
            )
        {
            return Err(STRUCTURE("object header"));
        }
        let dict = lexer.value().map_err(|_| STRUCTURE("object syntax"))?;
        if !pdf[dict.clone()].starts_with(b"<<") {
            return Err(STRUCTURE("object is not a dictionary"));
        }
        Ok(DictObject { id, dict })
    }

    /// Page 1: the first leaf under the catalog's page tree.
    fn first_page(&self, pdf: &[u8], catalog: DictObject) -> Result<DictObject, PdfSignatureError> {
        let mut node = catalog;
        let mut key: &[u8] = b"Pages";
        for _ in 0..32 {
            let entries = dict_entries(pdf, node.dict.clone())?;
            let next = match key {
                b"Pages" => entries.get(key).and_then(|r| Ref::parse(&pdf[r.clone()])),
                _ => entries.get(key).and_then(|kids| {
                    let mut lexer = Lexer::at(pdf, kids.start + 1);
                    let first = lexer.value().ok()?;
                    Ref::parse(&pdf[first])
                }),
            }
            .ok_or(STRUCTURE("page tree"))?;
            node = self.object_dict(pdf, next)?;
            let entries = dict_entries(pdf, node.dict.clone())?;
            match entries.get(b"Type".as_slice()).map(|r| &pdf[r.clone()]) {
                Some(b"/Page") => return Ok(node),
                Some(b"/Pages") => key = b"Kids",
                _ => return Err(STRUCTURE("page tree node without /Type")),
            }
        }
        Err(STRUCTURE("page tree too deep"))
    }
}

/// Reads one classic cross-reference section: its in-use entries and the trailer dictionary.
#[allow(clippy::type_complexity)]
fn xref_section(
    pdf: &[u8],
    at: usize,
) -> Result<(Range<usize>, Vec<(u32, usize)>), PdfSignatureError> {
    let mut lexer = Lexer::at(pdf, at);
    if lexer.token() != Some(b"xref".as_slice()) {
        return Err(STRUCTURE(
            "only classic cross-reference tables are supported",
        ));
    }
    let mut entries = Vec::new();
    loop {
        let checkpoint = lexer.pos;
        if lexer.token() == Some(b"trailer".as_slice()) {
            break;
        }
        lexer.pos = checkpoint;
        let first = lexer.integer().ok_or(STRUCTURE("xref subsection"))?;
        let count = lexer.integer().ok_or(STRUCTURE("xref subsection"))?;
        for number in first..first.saturating_add(count) {
            let offset = lexer.integer().ok_or(STRUCTURE("xref entry"))?;
            lexer.integer().ok_or(STRUCTURE("xref entry"))?;
            match lexer.token() {
                Some(b"n") => entries.push((
                    u32::try_from(number).map_err(|_| STRUCTURE("xref entry"))?,
                    offset,
                )),
                Some(b"f") => {}
                _ => return Err(STRUCTURE("xref entry")),
            }
        }
    }
    let trailer = lexer.value().map_err(|_| STRUCTURE("trailer syntax"))?;
    Ok((trailer, entries))
}

/// The top-level entries of the dictionary at `dict`: name (without `/`) to value bytes.
fn dict_entries(
    pdf: &[u8],
    dict: Range<usize>,
) -> Result<HashMap<&[u8], Range<usize>>, PdfSignatureError> {
    let mut lexer = Lexer::at(pdf, dict.start + 2);
    let mut entries = HashMap::new();
    loop {
        lexer.skip_whitespace();
        if pdf[lexer.pos..].starts_with(b">>") {
            return Ok(entries);
        }
        let key = lexer.value().map_err(|_| STRUCTURE("dictionary syntax"))?;
        if pdf[key.start] != b'/' || key.end > dict.end {
            return Err(STRUCTURE("dictionary key"));
        }
        let value = lexer.value().map_err(|_| STRUCTURE("dictionary syntax"))?;
        entries.insert(&pdf[key.start + 1..key.end], value);
    }
}

/// The dictionary's bytes without its closing `>>`, refusing one that already has `key`.
fn without_close(
    pdf: &[u8],
    dict: &Range<usize>,
    key: &[u8],
) -> Result<Vec<u8>, PdfSignatureError> {
    if dict_entries(pdf, dict.clone())?.contains_key(key) {
        return Err(STRUCTURE("dictionary already has the key the update adds"));
    }
    let mut out = pdf[dict.start..dict.end - 2].to_vec();
    out.push(b' ');
    Ok(out)
}

/// Page 1's dictionary with the signature widget added to its `/Annots`.
fn with_annotation(
    pdf: &[u8],
    dict: &Range<usize>,
    field: Ref,
) -> Result<Vec<u8>, PdfSignatureError> {
    let entries = dict_entries(pdf, dict.clone())?;
    match entries.get(b"Annots".as_slice()) {
        None => {
            let mut out = without_close(pdf, dict, b"Annots")?;
            out.extend_from_slice(format!("/Annots [{field}] >>").as_bytes());
            Ok(out)
        }
        Some(annots) if pdf[annots.start] == b'[' => {
            let mut out = pdf[dict.start..annots.end - 1].to_vec();
            out.extend_from_slice(format!(" {field}").as_bytes());
            out.extend_from_slice(&pdf[annots.end - 1..dict.end]);
            Ok(out)
        }
        Some(_) => Err(STRUCTURE("page /Annots is an indirect object")),
    }
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let keep = bytes.len()
        - bytes
            .iter()
            .rev()
            .take_while(|b| is_whitespace(**b))
            .count();
    &bytes[..keep]
}

/// A PDF tokenizer that only measures: it returns where values start and end.
struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

#[derive(Debug)]
struct Syntax;

impl<'a> Lexer<'a> {
    fn at(bytes: &'a [u8], pos: usize) -> Self {
        Self {
            bytes,
            pos: pos.min(bytes.len()),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while self.peek().is_some_and(|b| b != b'\n' && b != b'\r') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// A run of regular characters (a number or a keyword).
    fn token(&mut self) -> Option<&'a [u8]> {
        self.skip_whitespace();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| !is_whitespace(b) && !is_delimiter(b))
        {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.bytes[start..self.pos])
    }

    fn integer(&mut self) -> Option<usize> {
        let token = self.token()?;
        if !token.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(token).ok()?.parse().ok()
    }

    /// Skips one value (a reference `n g R` counts as one) and returns its extent.
    fn value(&mut self) -> Result<Range<usize>, Syntax> {
        self.skip_whitespace();
        let start = self.pos;
        match self.peek().ok_or(Syntax)? {
            b'<' if self.bytes.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                loop {
                    self.skip_whitespace();
                    if self.bytes[self.pos..].starts_with(b">>") {
                        self.pos += 2;
                        break;
                    }
                    self.value()?;
                }
            }
            b'<' => {
                let end = self.bytes[self.pos..]
                    .iter()
                    .position(|&b| b == b'>')
                    .ok_or(Syntax)?;
                self.pos += end + 1;
            }
            b'(' => {
                let mut depth = 0usize;
                loop {
                    let b = self.peek().ok_or(Syntax)?;
                    self.pos += 1;
                    match b {
                        b'\\' => self.pos += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                loop {
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        break;
                    }
                    self.value()?;
                }
            }
            b'/' => {
                self.pos += 1;
                while self
                    .peek()
                    .is_some_and(|b| !is_whitespace(b) && !is_delimiter(b))
                {
                    self.pos += 1;
                }
            }
            b if is_delimiter(b) => return Err(Syntax),
            _ => {
                let first = self.token().ok_or(Syntax)?;
                if first.iter().all(u8::is_ascii_digit) {
                    // Perhaps `n g R`.
                    let after_first = self.pos;
                    let is_reference = self
                        .token()
                        .is_some_and(|g| g.iter().all(u8::is_ascii_digit))
                        && self.token() == Some(b"R".as_slice());
                    if !is_reference {
                        self.pos = after_first;
                    }
                }
            }
        }
        if self.pos > self.bytes.len() {
            return Err(Syntax);
        }
        Ok(start..self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal one-page PDF in the shape `pdf.rs` writes.
    fn tiny_pdf() -> Vec<u8> {
        let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let objects: [&[u8]; 4] = [
            b"<</Type/Catalog/Pages 2 0 R/Lang(id-ID)>>",
            b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
            b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
            b"<</Subject(ikrar-certificate:AAAAAAAAAAAAAAAA)>>",
        ];
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            pdf.extend_from_slice(body);
            pdf.extend_from_slice(b"\nendobj\n");
        }
        let xref = pdf.len();
        pdf.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
        for offset in offsets {
            pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!(
                "trailer\n<</Size 5/Root 1 0 R/Info 4 0 R/ID[<00><00>]>>\nstartxref\n{xref}\n%%EOF"
            )
            .as_bytes(),
        );
        pdf
    }

    #[test]
    fn a_signed_pdf_reads_back_and_any_changed_byte_is_refused() {
        let key = IssuerKey::from_seed([9; 32]);
        let certificate = IssuerCertificate::issue(&key, 1_700_000_000);
        let signer = PdfSigner {
            key: &key,
            certificate: &certificate,
        };
        let original = tiny_pdf();
        let signed = sign(original.clone(), signer, 1_700_000_500).unwrap();
        assert_eq!(
            signed,
            sign(original.clone(), signer, 1_700_000_500).unwrap()
        );
        assert!(signed.starts_with(&original));
        let text = String::from_utf8_lossy(&signed);
        assert!(text.contains("/AcroForm <</Fields [5 0 R] /SigFlags 3>>"));
        assert!(text.contains("/Annots [5 0 R]"));
        assert!(text.contains("/M (D:20231114222140+00'00')"));
        assert!(text.ends_with("%%EOF\n"));

        let read = read_signature(&signed).unwrap();
        assert_eq!(read.key_id, key.id());
        assert!(read.verifies_with(key.public().as_bytes()));

        // Every byte outside /Contents is covered; inside it, the CMS refuses changes.
        for at in (0..signed.len()).step_by(7) {
            let mut altered = signed.clone();
            altered[at] ^= 0x01;
            let verdict = read_signature(&altered);
            assert!(
                !verdict.is_ok_and(|s| s.verifies_with(key.public().as_bytes())),
                "byte {at} changed unnoticed"
            );
        }
        let mut appended = signed.clone();
        appended.extend_from_slice(b"% more\n");
        assert_eq!(
            read_signature(&appended).unwrap_err(),
            PdfSignatureError::ByteRange
        );
        assert_eq!(
            read_signature(&original).unwrap_err(),
            PdfSignatureError::NotSigned
        );
    }

    #[test]
    fn a_page_with_annotations_keeps_them() {
        let page = b"<</Type/Page/Annots[9 0 R]/MediaBox[0 0 595 842]>>";
        let updated = with_annotation(page, &(0..page.len()), Ref::new(12, 0)).unwrap();
        assert_eq!(
            updated,
            b"<</Type/Page/Annots[9 0 R 12 0 R]/MediaBox[0 0 595 842]>>"
        );
        let page = b"<</Type/Page/MediaBox[0 0 595 842]>>";
        let updated = with_annotation(page, &(0..page.len()), Ref::new(12, 0)).unwrap();
        assert_eq!(
            updated,
            b"<</Type/Page/MediaBox[0 0 595 842] /Annots [12 0 R] >>"
        );
    }
}
