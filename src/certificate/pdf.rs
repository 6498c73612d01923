//! A4 certificate renderer.
//!
//! Turns a [`CertificateSheet`] (display strings that are already formatted) into the
//! PDF a signer downloads. The layout engine is deliberately small: word wrapping uses
//! the advance widths of the embedded DejaVu fonts, body paragraphs are justified, and
//! the text flows onto continuation pages when it does not fit on the first.
//!
//! Three properties matter more than looks:
//!
//! * **Self-contained.** Only embedded DejaVu Sans is used (never a standard-14 font), so
//!   Indonesian text with `é`, curly quotes or dashes renders the same everywhere.
//! * **Small.** printpdf 0.12 only subsets fonts with its `text_layout` feature, which pulls
//!   in the azul layout stack. Without it the full 760 KB font would be embedded for every
//!   face. Instead [`strip_unused_glyphs`] empties the outlines of every glyph the
//!   document does not use. Glyph ids do not change, so printpdf's widths, `/ToUnicode`
//!   map and content stream stay valid.
//! * **Deterministic.** The same sheet always gives the same bytes. printpdf picks random
//!   font resource ids and a random trailer `/ID`, and writes 1970 placeholder dates.
//!   Here the font ids are fixed, the `/ID` is a hash of the sheet, and the dates are
//!   removed.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use printpdf::{
    Color, CurTransMat, DictItem, FontId, Line as PathLine, LineCapStyle, LineJoinStyle, LinePoint,
    Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage,
    PdfParseErrorSeverity, PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Rect, Rgb, TextItem,
    TextMatrix, WindingOrder,
};

/// Everything printed on a certificate, already formatted as display strings (Indonesian).
pub struct CertificateSheet<'a> {
    /// Large title at the top of the page, e.g. "SERTIFIKAT PENANDATANGANAN".
    pub heading: &'a str,
    /// Title of the signed document; also becomes the PDF's `/Title`.
    pub document_title: &'a str,
    /// Campaign the document belongs to, e.g. "Pemilu dan Pilkada Serentak 2024".
    pub campaign_title: &'a str,
    /// Label/value pairs describing the signer (Nama, NIP, Jabatan, ...).
    pub signer_rows: &'a [(&'a str, &'a str)],
    /// Full text of the signed document.
    pub document_blocks: &'a [DocumentBlock<'a>],
    /// Label/value pairs identifying the certificate (number, id, SHA-256, key id, link).
    pub footer_rows: &'a [(&'a str, &'a str)],
    /// QR modules in row-major order, `true` = dark. Without quiet zone.
    pub qr_modules: &'a [bool],
    /// Modules per side of the QR symbol.
    pub qr_width: usize,
    /// Caption printed under the QR code.
    pub qr_caption: &'a str,
    /// One small line at the bottom of every page.
    pub attribution: &'a str,
    /// The PDF's `/Subject`, e.g. `ikrar-certificate:<id>`. Written as plain bytes when it
    /// is ASCII, so the id can be found in an uploaded file without parsing the PDF.
    pub subject: &'a str,
}

/// One block of the signed document's text.
pub enum DocumentBlock<'a> {
    /// Centred bold heading.
    Heading(&'a str),
    /// Justified paragraph.
    Paragraph(&'a str),
    /// A commitment the signer agreed to, printed after a drawn, ticked check box.
    Commitment(&'a str),
}

/// Why a certificate could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The compiled-in font could not be read. This is a build problem, not a data problem.
    #[error("embedded font {0} could not be parsed")]
    Font(&'static str),
    /// `qr_modules` does not hold `qr_width × qr_width` entries.
    #[error("QR matrix has {len} modules, expected {width}×{width}")]
    QrShape { len: usize, width: usize },
    /// printpdf or lopdf reported an error while writing the file.
    #[error("PDF serialisation failed: {0}")]
    Serialize(String),
}

/// Renders the A4 certificate: one page, more if the document text overflows.
/// The same input always gives identical bytes.
///
/// # Errors
///
/// [`PdfError::QrShape`] if the QR matrix is not square; the other variants indicate a
/// broken build (unreadable embedded font) or a printpdf/lopdf failure.
pub fn render(sheet: &CertificateSheet) -> Result<Vec<u8>, PdfError> {
    if sheet.qr_width == 0 || sheet.qr_modules.len() != sheet.qr_width * sheet.qr_width {
        return Err(PdfError::QrShape {
            len: sheet.qr_modules.len(),
            width: sheet.qr_width,
        });
    }
    let faces = faces()?;
    let mut pages = Composer::new(faces, sheet, BODY).compose();
    if pages.len() > 1 {
        let compact = Composer::new(faces, sheet, BODY_COMPACT).compose();
        if compact.len() == 1 {
            pages = compact;
        }
    }
    write_document(sheet, faces, pages)
}

// ---------------------------------------------------------------------------------------
// Page geometry and styles. All coordinates are PDF points from the lower-left corner.

const fn mm(v: f32) -> f32 {
    v * 72.0 / 25.4
}

const PAGE_W: f32 = mm(210.0);
const PAGE_H: f32 = mm(297.0);
const MARGIN_X: f32 = mm(18.0);
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const TOP: f32 = PAGE_H - mm(14.5);
/// Lowest point body text may reach on continuation pages (above the attribution line).
const BOTTOM: f32 = mm(18.0);
const ATTRIBUTION_BASELINE: f32 = mm(12.2);
const FOOTER_BOTTOM: f32 = mm(15.5);
/// Side of the QR symbol without its quiet zone, unless that makes modules too small.
const QR_SIDE: f32 = mm(35.0);
/// Smallest module size, in points, so that a page rendered at 72 dpi (a poor scan)
/// still decodes. Measured with zbarimg on pdftoppm renders of verification links
/// (versions 9–13): at 35 mm a version 11 symbol has 1.63 pt modules and does not decode
/// at 72 or 96 dpi; at 1.8 pt 31 of 100 random links failed at 72 dpi; at 2.0 pt none
/// failed at 72 or 100 dpi. A version 11 code is then 43 mm wide.
const QR_MIN_MODULE: f32 = 2.0;
/// The quiet zone required by ISO/IEC 18004, in modules on each side.
const QR_QUIET_MODULES: usize = 4;

type Rgb3 = [f32; 3];
const NAVY: Rgb3 = [0.075, 0.176, 0.361];
const GOLD: Rgb3 = [0.690, 0.545, 0.220];
const INK: Rgb3 = [0.110, 0.114, 0.125];
const MUTED: Rgb3 = [0.365, 0.384, 0.427];
const RULE: Rgb3 = [0.725, 0.753, 0.800];
const TINT: Rgb3 = [0.945, 0.953, 0.973];
const WHITE: Rgb3 = [1.0, 1.0, 1.0];
const BLACK: Rgb3 = [0.0, 0.0, 0.0];

#[derive(Clone, Copy)]
struct Style {
    face: Face,
    size: f32,
    leading: f32,
    color: Rgb3,
}

impl Style {
    const fn new(face: Face, size: f32, leading: f32, color: Rgb3) -> Self {
        Self {
            face,
            size,
            leading,
            color,
        }
    }

    /// Baseline of a line whose box (height = leading) starts at `top`; centres the cap
    /// height in the box so table rows and body lines look evenly spaced.
    fn baseline(&self, top: f32) -> f32 {
        top - (self.leading + 0.72 * self.size) / 2.0
    }
}

const HEADING: Style = Style::new(Face::Bold, 17.0, 20.0, NAVY);
const DOC_TITLE: Style = Style::new(Face::Bold, 10.5, 13.5, INK);
const CAMPAIGN: Style = Style::new(Face::Regular, 9.5, 12.5, MUTED);
const TABLE_LABEL: Style = Style::new(Face::Regular, 8.6, 10.8, MUTED);
const TABLE_VALUE: Style = Style::new(Face::Bold, 8.6, 10.8, INK);
const BODY: Style = Style::new(Face::Regular, 8.5, 10.2, INK);
/// Used instead of [`BODY`] only when it keeps the whole certificate on one page: a
/// 3,000-character pact with a dozen commitments overflows page 1 by a few lines at 8.5 pt.
const BODY_COMPACT: Style = Style::new(Face::Regular, 8.2, 9.8, INK);
const BODY_HEADING: Style = Style::new(Face::Bold, 9.0, 12.0, NAVY);
const FOOTER_LABEL: Style = Style::new(Face::Regular, 6.4, 7.6, MUTED);
const FOOTER_VALUE: Style = Style::new(Face::Regular, 7.4, 9.0, INK);
const CAPTION: Style = Style::new(Face::Regular, 6.8, 8.4, MUTED);
const SMALL: Style = Style::new(Face::Regular, 6.3, 8.0, MUTED);
const RUNNING_HEAD: Style = Style::new(Face::Bold, 7.5, 9.5, NAVY);

const PARAGRAPH_GAP: f32 = 3.6;
const LIST_GAP: f32 = 1.8;
const HEADING_GAP_BEFORE: f32 = 5.0;
const HEADING_GAP_AFTER: f32 = 2.0;
/// Indentation of commitments and numbered paragraphs; the check box or number hangs in it.
const LIST_INDENT: f32 = 13.0;
const CHECKBOX: f32 = 6.4;

// ---------------------------------------------------------------------------------------
// Fonts

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Face {
    Regular = 0,
    Bold = 1,
}

/// One embedded font face, parsed once per process.
struct FontFace {
    /// Resource name in the page's `/Font` dictionary; fixed so output is deterministic.
    resource: &'static str,
    /// PostScript name, written as `/BaseFont` behind a subset tag.
    postscript_name: &'static str,
    program: &'static [u8],
    parsed: ParsedFont,
}

impl FontFace {
    fn load(
        resource: &'static str,
        postscript_name: &'static str,
        program: &'static [u8],
    ) -> Option<Self> {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(program, 0, &mut warnings)?;
        if parsed.units_per_em == 0 || parsed.codepoint_to_glyph.is_empty() {
            return None;
        }
        Some(Self {
            resource,
            postscript_name,
            program,
            parsed,
        })
    }

    /// Advance width of `ch` in thousandths of an em, computed (and truncated) exactly like
    /// printpdf computes the `/W` widths, so measured and rendered widths match. A character
    /// the font lacks is drawn as `.notdef` with no `/W` entry, i.e. the default width 1000.
    fn advance(&self, ch: char) -> u32 {
        let Some(gid) = self.parsed.lookup_glyph_index(u32::from(ch)) else {
            return 1000;
        };
        let width = self.parsed.get_glyph_width(gid).unwrap_or(0);
        (f32::from(width) * 1000.0 / f32::from(self.parsed.units_per_em)) as u32
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let thousandths: u32 = text.chars().map(|c| self.advance(c)).sum();
        thousandths as f32 * size / 1000.0
    }

    /// A font program holding only the glyphs for `chars`, as a printpdf font whose
    /// character and width maps are cut down to `chars` too, since printpdf clones the font
    /// while serialising.
    fn subset(&self, chars: &BTreeSet<char>) -> Result<ParsedFont, PdfError> {
        let base = &self.parsed;
        let mut codepoint_to_glyph = BTreeMap::new();
        let mut glyph_widths = BTreeMap::new();
        for &ch in chars {
            if let Some(gid) = base.lookup_glyph_index(u32::from(ch)) {
                codepoint_to_glyph.insert(u32::from(ch), gid);
                glyph_widths.insert(gid, base.get_glyph_width(gid).unwrap_or(0));
            }
        }
        let gids: BTreeSet<u16> = glyph_widths.keys().copied().collect();
        let program =
            strip_unused_glyphs(self.program, &gids).ok_or(PdfError::Font(self.postscript_name))?;
        Ok(ParsedFont {
            original_bytes: program,
            font_index: 0,
            font_name: Some(format!(
                "{}+{}",
                subset_tag(self.postscript_name, &gids),
                self.postscript_name
            )),
            codepoint_to_glyph,
            glyph_widths,
            units_per_em: base.units_per_em,
            font_metrics: base.font_metrics.clone(),
            font_type: base.font_type,
            pdf_font_metrics: base.pdf_font_metrics.clone(),
        })
    }
}

type Faces = [FontFace; 2];

fn faces() -> Result<&'static Faces, PdfError> {
    static FACES: OnceLock<Option<Faces>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Some([
                FontFace::load(
                    "DejaVuSans",
                    "DejaVuSans",
                    include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
                )?,
                FontFace::load(
                    "DejaVuSansBold",
                    "DejaVuSans-Bold",
                    include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf"),
                )?,
            ])
        })
        .as_ref()
        .ok_or(PdfError::Font("DejaVuSans"))
}

/// The six-letter `XXXXXX+` prefix that marks a subset font (ISO 32000-1 §9.6.4),
/// derived from the glyph set so it is stable across runs.
fn subset_tag(name: &str, gids: &BTreeSet<u16>) -> String {
    let mut hash = Fnv::new(0);
    hash.write(name.as_bytes());
    for gid in gids {
        hash.write(&gid.to_be_bytes());
    }
    let mut h = hash.finish();
    (0..6)
        .map(|_| {
            let letter = char::from(b'A' + (h % 26) as u8);
            h /= 26;
            letter
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// TrueType glyph stripping

/// Tables kept in the embedded font. ISO 32000-1 §9.9 requires glyf, head, hhea, hmtx,
/// loca, maxp, cvt, fpgm and prep. cmap, OS/2, name and post are kept because some viewers
/// (pdf.js, Preview) check them, and `name` carries the font's copyright notice. Shaping
/// tables (GSUB, GPOS, kern, ...) are useless for pre-positioned Identity-H text and are
/// dropped.
const KEPT_TABLES: [&[u8; 4]; 14] = [
    b"OS/2", b"cmap", b"cvt ", b"fpgm", b"gasp", b"glyf", b"head", b"hhea", b"hmtx", b"loca",
    b"maxp", b"name", b"post", b"prep",
];

/// Returns a copy of the TrueType `program` in which every glyph outside `used` (and the
/// components of used composite glyphs, and `.notdef`) has empty outline data.
///
/// Glyph ids are not renumbered, so the full font's cmap and advance widths, which printpdf
/// uses for `/W`, `/ToUnicode` and the content stream, still apply. The glyph count stays;
/// loca and the zeroed metrics of the emptied glyphs compress to almost nothing.
fn strip_unused_glyphs(program: &[u8], used: &BTreeSet<u16>) -> Option<Vec<u8>> {
    let tables = read_table_directory(program)?;
    let table = |tag: &[u8; 4]| tables.iter().find(|(t, _)| t == tag).map(|(_, data)| *data);
    let head = table(b"head")?;
    let loca = table(b"loca")?;
    let glyf = table(b"glyf")?;
    let num_glyphs = usize::from(read_u16(table(b"maxp")?, 4)?);
    let long_offsets = read_u16(head, 50)? == 1;

    let offsets = (0..=num_glyphs)
        .map(|i| {
            if long_offsets {
                read_u32(loca, 4 * i).map(|o| o as usize)
            } else {
                read_u16(loca, 2 * i).map(|o| usize::from(o) * 2)
            }
        })
        .collect::<Option<Vec<usize>>>()?;
    let glyph = |gid: usize| glyf.get(offsets[gid]..offsets[gid + 1]);

    let mut keep = BTreeSet::new();
    let mut pending: Vec<u16> = std::iter::once(0).chain(used.iter().copied()).collect();
    while let Some(gid) = pending.pop() {
        if usize::from(gid) < num_glyphs && keep.insert(gid) {
            pending.extend(composite_components(glyph(usize::from(gid))?)?);
        }
    }

    // Every kept glyph starts at an even offset, so the short loca format (offset / 2 as
    // u16) works whenever the stripped glyf table is below 128 KB, which it always is for
    // a certificate.
    let mut new_glyf = Vec::new();
    let mut starts = Vec::with_capacity(num_glyphs + 1);
    for gid in 0..num_glyphs {
        starts.push(new_glyf.len());
        if keep.contains(&u16::try_from(gid).ok()?) {
            new_glyf.extend_from_slice(glyph(gid)?);
            new_glyf.resize(new_glyf.len().next_multiple_of(4), 0);
        }
    }
    starts.push(new_glyf.len());
    let short_loca = new_glyf.len() / 2 <= usize::from(u16::MAX);
    let mut new_loca = Vec::with_capacity(4 * starts.len());
    for start in starts {
        if short_loca {
            new_loca.extend_from_slice(&u16::try_from(start / 2).ok()?.to_be_bytes());
        } else {
            new_loca.extend_from_slice(&u32::try_from(start).ok()?.to_be_bytes());
        }
    }

    let mut out_tables: Vec<([u8; 4], Cow<[u8]>)> = Vec::new();
    for (tag, data) in &tables {
        if !KEPT_TABLES.contains(&tag) {
            continue;
        }
        let data = match tag {
            b"glyf" => Cow::Owned(std::mem::take(&mut new_glyf)),
            b"loca" => Cow::Owned(std::mem::take(&mut new_loca)),
            b"head" => {
                let mut head = data.to_vec();
                head.get_mut(8..12)?.fill(0); // checkSumAdjustment, recomputed below
                let loca_format = u16::from(!short_loca);
                head.get_mut(50..52)?
                    .copy_from_slice(&loca_format.to_be_bytes());
                Cow::Owned(head)
            }
            b"hmtx" => {
                let metrics = usize::from(read_u16(table(b"hhea")?, 34)?);
                Cow::Owned(clear_unused_metrics(data, metrics, num_glyphs, &keep)?)
            }
            // Version 3 drops the 60 KB of glyph names; viewers use /ToUnicode instead.
            b"post" if data.len() >= 32 => {
                let mut post = data[..32].to_vec();
                post[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());
                Cow::Owned(post)
            }
            _ => Cow::Borrowed(*data),
        };
        out_tables.push((*tag, data));
    }
    out_tables.sort_by_key(|(tag, _)| *tag);
    write_sfnt(program.get(..4)?, &out_tables)
}

/// Zeroes the horizontal metrics of glyphs that are not kept. Viewers position text with
/// the PDF's `/W` widths; zeroing the metrics only makes hmtx compress to almost nothing.
/// The last full metric record stays, because every glyph after it takes its advance from it.
fn clear_unused_metrics(
    hmtx: &[u8],
    metrics: usize,
    num_glyphs: usize,
    keep: &BTreeSet<u16>,
) -> Option<Vec<u8>> {
    let mut out = hmtx.to_vec();
    for gid in 0..num_glyphs {
        if keep.contains(&u16::try_from(gid).ok()?) || gid + 1 == metrics {
            continue;
        }
        let range = if gid < metrics {
            4 * gid..4 * gid + 4
        } else {
            4 * metrics + 2 * (gid - metrics)..4 * metrics + 2 * (gid - metrics) + 2
        };
        out.get_mut(range)?.fill(0);
    }
    Some(out)
}

/// Table tag and data for every table in the font's directory.
fn read_table_directory(program: &[u8]) -> Option<Vec<([u8; 4], &[u8])>> {
    let count = usize::from(read_u16(program, 4)?);
    (0..count)
        .map(|i| {
            let record = program.get(12 + 16 * i..28 + 16 * i)?;
            let tag: [u8; 4] = record[..4].try_into().ok()?;
            let offset = read_u32(record, 8)? as usize;
            let length = read_u32(record, 12)? as usize;
            Some((tag, program.get(offset..offset.checked_add(length)?)?))
        })
        .collect()
}

/// Glyph ids referenced by a composite glyph (empty for simple glyphs).
fn composite_components(glyph: &[u8]) -> Option<Vec<u16>> {
    const ARGS_ARE_WORDS: u16 = 0x0001;
    const HAVE_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const HAVE_XY_SCALE: u16 = 0x0040;
    const HAVE_2X2: u16 = 0x0080;

    if glyph.len() < 10 || read_u16(glyph, 0)? & 0x8000 == 0 {
        return Some(Vec::new());
    }
    let mut components = Vec::new();
    let mut pos = 10;
    loop {
        let flags = read_u16(glyph, pos)?;
        components.push(read_u16(glyph, pos + 2)?);
        pos += 4 + if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
        pos += if flags & HAVE_SCALE != 0 {
            2
        } else if flags & HAVE_XY_SCALE != 0 {
            4
        } else if flags & HAVE_2X2 != 0 {
            8
        } else {
            0
        };
        if flags & MORE_COMPONENTS == 0 {
            return Some(components);
        }
    }
}

/// Serialises an sfnt with the given tables (sorted by tag), fixing all checksums.
fn write_sfnt(version: &[u8], tables: &[([u8; 4], Cow<[u8]>)]) -> Option<Vec<u8>> {
    let count = u16::try_from(tables.len()).ok()?;
    let entry_selector = 15 - count.leading_zeros() as u16;
    let search_range = 16u16 << entry_selector;
    let mut out = Vec::new();
    out.extend_from_slice(version);
    for field in [
        count,
        search_range,
        entry_selector,
        count * 16 - search_range,
    ] {
        out.extend_from_slice(&field.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_offset = None;
    for (tag, data) in tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&sfnt_checksum(data).to_be_bytes());
        out.extend_from_slice(&u32::try_from(offset).ok()?.to_be_bytes());
        out.extend_from_slice(&u32::try_from(data.len()).ok()?.to_be_bytes());
        if tag == b"head" {
            head_offset = Some(offset);
        }
        offset += data.len().next_multiple_of(4);
    }
    for (_, data) in tables {
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(head) = head_offset {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(sfnt_checksum(&out));
        out[head + 8..head + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    Some(out)
}

fn sfnt_checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

fn read_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

// ---------------------------------------------------------------------------------------
// Line breaking

/// One laid-out line: the words it shows and their natural width (single spaces).
struct TextLine<'t> {
    words: Vec<&'t str>,
    width: f32,
    /// False for a paragraph's last line, which is never stretched.
    justify: bool,
}

/// Greedy word wrap at `max` points. Words wider than a line (URLs, hashes) are broken
/// between characters rather than overflowing the margin. No-break spaces (as in
/// "Pasal 5" or "Rp 1.000") do not break.
fn wrap<'t>(font: &FontFace, size: f32, text: &'t str, max: f32) -> Vec<TextLine<'t>> {
    let space = font.width(" ", size);
    let mut lines = Vec::new();
    let mut words: Vec<&'t str> = Vec::new();
    let mut width = 0.0;
    let breaks = |c: char| c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}');
    for word in text.split(breaks).filter(|w| !w.is_empty()) {
        for piece in break_long_word(font, size, word, max) {
            let piece_width = font.width(piece, size);
            if !words.is_empty() && width + space + piece_width > max {
                lines.push(TextLine {
                    words: std::mem::take(&mut words),
                    width,
                    justify: true,
                });
                width = 0.0;
            }
            width += if words.is_empty() {
                piece_width
            } else {
                space + piece_width
            };
            words.push(piece);
        }
    }
    if !words.is_empty() {
        lines.push(TextLine {
            words,
            width,
            justify: false,
        });
    }
    lines
}

/// Like [`wrap`], but with lines of even length: a centred title wrapped greedily ends
/// in a lonely last word. Searches for the narrowest width giving the same line count.
fn wrap_balanced<'t>(font: &FontFace, size: f32, text: &'t str, max: f32) -> Vec<TextLine<'t>> {
    let lines = wrap(font, size, text, max);
    if lines.len() < 2 {
        return lines;
    }
    let (mut narrow, mut wide) = (0.0, max);
    for _ in 0..12 {
        let mid = (narrow + wide) / 2.0;
        if wrap(font, size, text, mid).len() <= lines.len() {
            wide = mid;
        } else {
            narrow = mid;
        }
    }
    wrap(font, size, text, wide)
}

/// `text` shortened with an ellipsis so that it fits in `max` points.
fn truncate<'t>(font: &FontFace, size: f32, text: &'t str, max: f32) -> Cow<'t, str> {
    if font.width(text, size) <= max {
        return Cow::Borrowed(text);
    }
    let budget = max - font.width("…", size);
    let mut width = 0.0;
    let end = text
        .char_indices()
        .find(|&(_, ch)| {
            width += font.advance(ch) as f32 * size / 1000.0;
            width > budget
        })
        .map_or(text.len(), |(i, _)| i);
    Cow::Owned(format!("{}…", text[..end].trim_end()))
}

fn break_long_word<'t>(font: &FontFace, size: f32, word: &'t str, max: f32) -> Vec<&'t str> {
    if font.width(word, size) <= max {
        return vec![word];
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut width = 0.0;
    for (i, ch) in word.char_indices() {
        let advance = font.advance(ch) as f32 * size / 1000.0;
        if width + advance > max && i > start {
            pieces.push(&word[start..i]);
            start = i;
            width = 0.0;
        }
        width += advance;
    }
    pieces.push(&word[start..]);
    pieces
}

/// What hangs in front of a paragraph's first line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gutter<'t> {
    None,
    Checkbox,
    Number(&'t str),
}

/// Splits "1. Undang-Undang …" into ("1.", "Undang-Undang …") so that numbered paragraphs
/// (the legal basis of a pact) can be set as a list with a hanging number.
fn list_marker(text: &str) -> Option<(&str, &str)> {
    let (marker, rest) = text.split_once(' ')?;
    let digits = marker.strip_suffix('.')?;
    let numeric = (1..=3).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    numeric.then(|| (marker, rest.trim_start()))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
    Right,
    Justify,
}

// ---------------------------------------------------------------------------------------
// Drawing

/// Operations of one page plus the characters it shows per face. Keeps a text object open
/// across consecutive text lines and skips redundant font and colour changes.
struct Canvas<'f> {
    faces: &'f Faces,
    ops: Vec<Op>,
    in_text: bool,
    font: Option<(Face, f32)>,
    fill: Option<Rgb3>,
    stroke: Option<(Rgb3, f32)>,
    chars: [BTreeSet<char>; 2],
}

impl<'f> Canvas<'f> {
    fn new(faces: &'f Faces) -> Self {
        Self {
            faces,
            ops: vec![
                Op::SetLineCapStyle {
                    cap: LineCapStyle::Round,
                },
                Op::SetLineJoinStyle {
                    join: LineJoinStyle::Round,
                },
            ],
            in_text: false,
            font: None,
            fill: None,
            stroke: None,
            chars: [BTreeSet::new(), BTreeSet::new()],
        }
    }

    fn finish(mut self) -> (Vec<Op>, [BTreeSet<char>; 2]) {
        self.end_text();
        (self.ops, self.chars)
    }

    fn end_text(&mut self) {
        if self.in_text {
            self.ops.push(Op::EndTextSection);
            self.in_text = false;
        }
    }

    fn set_fill(&mut self, color: Rgb3) {
        if self.fill != Some(color) {
            self.ops.push(Op::SetFillColor { col: rgb(color) });
            self.fill = Some(color);
        }
    }

    fn set_stroke(&mut self, color: Rgb3, width: f32) {
        if self.stroke != Some((color, width)) {
            self.ops.push(Op::SetOutlineColor { col: rgb(color) });
            self.ops.push(Op::SetOutlineThickness { pt: Pt(width) });
            self.stroke = Some((color, width));
        }
    }

    fn show(&mut self, style: Style, x: f32, baseline: f32, items: Vec<TextItem>) {
        if !self.in_text {
            self.ops.push(Op::StartTextSection);
            self.in_text = true;
        }
        if self.font != Some((style.face, style.size)) {
            self.ops.push(Op::SetFont {
                font: PdfFontHandle::External(FontId(
                    self.faces[style.face as usize].resource.to_owned(),
                )),
                size: Pt(style.size),
            });
            self.font = Some((style.face, style.size));
        }
        self.set_fill(style.color);
        self.ops.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Pt(x), Pt(baseline)),
        });
        for item in &items {
            if let TextItem::Text(text) = item {
                self.chars[style.face as usize].extend(text.chars());
            }
        }
        self.ops.push(Op::ShowText { items });
    }

    /// Draws one wrapped line inside the box `[x, x + width]`.
    fn line(
        &mut self,
        style: Style,
        line: &TextLine,
        x: f32,
        width: f32,
        baseline: f32,
        align: Align,
    ) {
        let font = &self.faces[style.face as usize];
        let gaps = line.words.len().saturating_sub(1);
        let slack = width - line.width;
        let stretch = if align == Align::Justify && line.justify && gaps > 0 {
            slack / gaps as f32
        } else {
            0.0
        };
        // A line with one or two long words would turn into a row of holes; leave it ragged.
        if stretch > 0.0 && stretch <= 3.0 * font.width(" ", style.size) {
            let kern = -stretch * 1000.0 / style.size;
            let mut items = Vec::with_capacity(2 * line.words.len());
            for (i, word) in line.words.iter().enumerate() {
                if i < gaps {
                    items.push(TextItem::Text(format!("{word} ")));
                    items.push(TextItem::Offset(kern));
                } else {
                    items.push(TextItem::Text((*word).to_owned()));
                }
            }
            self.show(style, x, baseline, items);
            return;
        }
        let x = match align {
            Align::Center => x + slack / 2.0,
            Align::Right => x + slack,
            Align::Left | Align::Justify => x,
        };
        self.show(
            style,
            x,
            baseline,
            vec![TextItem::Text(line.words.join(" "))],
        );
    }

    fn fill_rect(&mut self, x: f32, y: f32, width: f32, height: f32, color: Rgb3) {
        self.end_text();
        self.set_fill(color);
        self.ops.push(Op::DrawRectangle {
            rectangle: rect(x, y, width, height, PaintMode::Fill),
        });
    }

    fn stroke_rect(
        &mut self,
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        color: Rgb3,
        line_width: f32,
    ) {
        self.end_text();
        self.set_stroke(color, line_width);
        self.ops.push(Op::DrawRectangle {
            rectangle: rect(x, y, width, height, PaintMode::Stroke),
        });
    }

    fn polyline(&mut self, points: &[(f32, f32)], color: Rgb3, line_width: f32) {
        self.end_text();
        self.set_stroke(color, line_width);
        self.ops.push(Op::DrawLine {
            line: PathLine {
                points: points.iter().map(|&(x, y)| line_point(x, y)).collect(),
                is_closed: false,
            },
        });
    }

    fn hrule(&mut self, x: f32, y: f32, width: f32, color: Rgb3, line_width: f32) {
        self.polyline(&[(x, y), (x + width, y)], color, line_width);
    }

    /// Fills rectangles given in grid units, scaled by `unit` and placed with the grid's
    /// origin at (`x`, `y`). The rectangles form one path, so abutting ones show no
    /// anti-aliasing seams. Under a scaling matrix the coordinates are small integers,
    /// which keeps the content stream of a QR code compact.
    fn fill_grid(&mut self, x: f32, y: f32, unit: f32, rects: &[[u16; 4]], color: Rgb3) {
        self.end_text();
        self.set_fill(color);
        let rings = rects
            .iter()
            .map(|&[left, bottom, width, height]| {
                let (l, b) = (f32::from(left), f32::from(bottom));
                let (r, t) = (l + f32::from(width), b + f32::from(height));
                PolygonRing {
                    points: vec![
                        line_point(l, b),
                        line_point(r, b),
                        line_point(r, t),
                        line_point(l, t),
                    ],
                }
            })
            .collect();
        self.ops.push(Op::SaveGraphicsState);
        self.ops.push(Op::SetTransformationMatrix {
            matrix: CurTransMat::Raw([unit, 0.0, 0.0, unit, x, y]),
        });
        self.ops.push(Op::DrawPolygon {
            polygon: Polygon {
                rings,
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        });
        self.ops.push(Op::RestoreGraphicsState);
    }
}

fn rgb([r, g, b]: Rgb3) -> Color {
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
}

fn rect(x: f32, y: f32, width: f32, height: f32, mode: PaintMode) -> Rect {
    Rect {
        x: Pt(x),
        y: Pt(y),
        width: Pt(width),
        height: Pt(height),
        mode: Some(mode),
        winding_order: None,
    }
}

fn line_point(x: f32, y: f32) -> LinePoint {
    LinePoint {
        p: Point { x: Pt(x), y: Pt(y) },
        bezier: false,
    }
}

// ---------------------------------------------------------------------------------------
// Page composition

/// Lays out the sheet page by page. `cursor` is the top of the next body line on the
/// current (last) page, `body_top` where that page's body text starts, and `bottom` the
/// lowest point body text may reach on it.
struct Composer<'a> {
    faces: &'a Faces,
    sheet: &'a CertificateSheet<'a>,
    body: Style,
    pages: Vec<Canvas<'a>>,
    cursor: f32,
    body_top: f32,
    bottom: f32,
}

impl<'a> Composer<'a> {
    fn new(faces: &'a Faces, sheet: &'a CertificateSheet<'a>, body: Style) -> Self {
        Self {
            faces,
            sheet,
            body,
            pages: Vec::new(),
            cursor: TOP,
            body_top: TOP,
            bottom: BOTTOM,
        }
    }

    fn compose(mut self) -> Vec<Canvas<'a>> {
        let mut first = Canvas::new(self.faces);
        draw_frame(&mut first);
        let below_title = self.title_block(&mut first, TOP);
        self.cursor = self.signer_table(&mut first, below_title - mm(3.5)) - mm(4.5);
        self.body_top = self.cursor;
        self.bottom = self.footer(&mut first) + mm(3.5);
        self.pages.push(first);

        for block in self.sheet.document_blocks {
            match block {
                DocumentBlock::Heading(text) => self.heading(text),
                DocumentBlock::Paragraph(text) => match list_marker(text) {
                    Some((number, rest)) => self.paragraph(rest, Gutter::Number(number), LIST_GAP),
                    None => self.paragraph(text, Gutter::None, PARAGRAPH_GAP),
                },
                DocumentBlock::Commitment(text) => self.paragraph(text, Gutter::Checkbox, LIST_GAP),
            }
        }
        self.page_furniture();
        self.pages
    }

    fn at_page_top(&self) -> bool {
        self.cursor >= self.body_top - 0.01
    }

    /// Starts a continuation page whose running head repeats the document title.
    fn new_page(&mut self) {
        let mut canvas = Canvas::new(self.faces);
        draw_frame(&mut canvas);
        let style = RUNNING_HEAD;
        let font = &self.faces[style.face as usize];
        let title = truncate(font, style.size, self.sheet.document_title, CONTENT_W);
        if let Some(line) = wrap(font, style.size, &title, CONTENT_W).first() {
            canvas.line(
                style,
                line,
                MARGIN_X,
                CONTENT_W,
                style.baseline(TOP),
                Align::Left,
            );
        }
        canvas.hrule(
            MARGIN_X,
            TOP - style.leading - mm(1.5),
            CONTENT_W,
            GOLD,
            0.8,
        );
        self.pages.push(canvas);
        self.cursor = TOP - style.leading - mm(5.0);
        self.body_top = self.cursor;
        self.bottom = BOTTOM;
    }

    /// Draws centred wrapped text and returns the cursor below it.
    fn centered(
        &self,
        canvas: &mut Canvas,
        style: Style,
        text: &str,
        width: f32,
        mut top: f32,
    ) -> f32 {
        let font = &self.faces[style.face as usize];
        let x = MARGIN_X + (CONTENT_W - width) / 2.0;
        for line in wrap_balanced(font, style.size, text, width) {
            canvas.line(style, &line, x, width, style.baseline(top), Align::Center);
            top -= style.leading;
        }
        top
    }

    fn title_block(&self, canvas: &mut Canvas, top: f32) -> f32 {
        let mut cursor = self.centered(canvas, HEADING, self.sheet.heading, CONTENT_W, top);
        cursor -= mm(1.2);
        canvas.hrule(PAGE_W / 2.0 - mm(22.0), cursor, mm(44.0), GOLD, 1.2);
        cursor -= mm(2.5);
        cursor = self.centered(
            canvas,
            DOC_TITLE,
            self.sheet.document_title,
            CONTENT_W - mm(20.0),
            cursor,
        );
        cursor -= 1.0;
        self.centered(
            canvas,
            CAMPAIGN,
            self.sheet.campaign_title,
            CONTENT_W - mm(20.0),
            cursor,
        )
    }

    /// Two-column label/value table of the signer's details; returns its bottom edge.
    fn signer_table(&self, canvas: &mut Canvas, top: f32) -> f32 {
        let rows = self.sheet.signer_rows;
        if rows.is_empty() {
            return top;
        }
        let pad_x = mm(2.5);
        let pad_y = 1.8;
        let label_font = &self.faces[TABLE_LABEL.face as usize];
        let value_font = &self.faces[TABLE_VALUE.face as usize];
        let widest = rows
            .iter()
            .map(|(label, _)| label_font.width(label, TABLE_LABEL.size))
            .fold(0.0, f32::max);
        let label_w = (widest + 2.0 * pad_x).clamp(mm(30.0), CONTENT_W * 0.4);
        let value_w = CONTENT_W - label_w - 2.0 * pad_x;

        let laid_out: Vec<_> = rows
            .iter()
            .map(|(label, value)| {
                let labels = wrap(label_font, TABLE_LABEL.size, label, label_w - 2.0 * pad_x);
                let values = wrap(value_font, TABLE_VALUE.size, value, value_w);
                let lines = labels.len().max(values.len()).max(1);
                (
                    labels,
                    values,
                    lines as f32 * TABLE_VALUE.leading + 2.0 * pad_y,
                )
            })
            .collect();
        let height: f32 = laid_out.iter().map(|(_, _, h)| h).sum();
        let bottom = top - height;

        canvas.fill_rect(MARGIN_X, bottom, label_w, height, TINT);
        let mut row_top = top;
        for (i, (labels, values, row_h)) in laid_out.iter().enumerate() {
            if i > 0 {
                canvas.hrule(MARGIN_X, row_top, CONTENT_W, RULE, 0.4);
            }
            let mut line_top = row_top - pad_y;
            for line in labels {
                let baseline = TABLE_LABEL.baseline(line_top);
                canvas.line(
                    TABLE_LABEL,
                    line,
                    MARGIN_X + pad_x,
                    label_w,
                    baseline,
                    Align::Left,
                );
                line_top -= TABLE_LABEL.leading;
            }
            let mut line_top = row_top - pad_y;
            for line in values {
                let x = MARGIN_X + label_w + pad_x;
                let baseline = TABLE_VALUE.baseline(line_top);
                canvas.line(TABLE_VALUE, line, x, value_w, baseline, Align::Left);
                line_top -= TABLE_VALUE.leading;
            }
            row_top -= row_h;
        }
        canvas.polyline(
            &[(MARGIN_X + label_w, top), (MARGIN_X + label_w, bottom)],
            RULE,
            0.4,
        );
        canvas.stroke_rect(MARGIN_X, bottom, CONTENT_W, height, NAVY, 0.6);
        bottom
    }

    /// Certificate facts on the left, QR code with caption on the right, in a tinted box
    /// anchored to the bottom of page 1. Returns the box's top edge.
    ///
    /// Each fact is printed as a small label above its value, so that long values (the
    /// 64-digit SHA-256, the verification link) get the full width and stay on one line.
    /// The QR tile sits flush in the box's top-right corner: its white quiet zone already
    /// separates the code from everything else, and the space saved keeps a typical pact
    /// on one page.
    fn footer(&self, canvas: &mut Canvas) -> f32 {
        const ROW_GAP: f32 = 2.4;
        let sheet = self.sheet;
        let pad = mm(2.4);
        let module = (QR_SIDE / sheet.qr_width as f32).max(QR_MIN_MODULE);
        let tile = module * (sheet.qr_width + 2 * QR_QUIET_MODULES) as f32;
        let caption_font = &self.faces[CAPTION.face as usize];
        let caption = wrap(caption_font, CAPTION.size, sheet.qr_caption, tile);
        let qr_block_h = tile + caption.len() as f32 * CAPTION.leading + pad / 2.0;

        let label_font = &self.faces[FOOTER_LABEL.face as usize];
        let value_font = &self.faces[FOOTER_VALUE.face as usize];
        let rows_x = MARGIN_X + pad + 1.0;
        let rows_w = CONTENT_W - pad - tile - mm(5.0);
        let rows: Vec<_> = sheet
            .footer_rows
            .iter()
            .map(|(label, value)| {
                let labels = wrap(label_font, FOOTER_LABEL.size, label, rows_w);
                let values = wrap(value_font, FOOTER_VALUE.size, value, rows_w);
                let height = labels.len() as f32 * FOOTER_LABEL.leading
                    + values.len() as f32 * FOOTER_VALUE.leading;
                (labels, values, height)
            })
            .collect();
        let rows_h = rows.iter().map(|(_, _, h)| h).sum::<f32>()
            + ROW_GAP * rows.len().saturating_sub(1) as f32;

        let box_h = (rows_h + 2.0 * pad).max(qr_block_h);
        let box_top = FOOTER_BOTTOM + box_h;
        canvas.fill_rect(MARGIN_X, FOOTER_BOTTOM, CONTENT_W, box_h, TINT);

        let mut line_top = box_top - (box_h - rows_h) / 2.0;
        for (labels, values, _) in &rows {
            for (style, lines) in [(FOOTER_LABEL, labels), (FOOTER_VALUE, values)] {
                for line in lines {
                    canvas.line(
                        style,
                        line,
                        rows_x,
                        rows_w,
                        style.baseline(line_top),
                        Align::Left,
                    );
                    line_top -= style.leading;
                }
            }
            line_top -= ROW_GAP;
        }

        let tile_x = MARGIN_X + CONTENT_W - tile;
        let tile_bottom = self.qr(canvas, tile_x, box_top, module);
        let mut line_top = tile_bottom;
        for line in &caption {
            canvas.line(
                CAPTION,
                line,
                tile_x,
                tile,
                CAPTION.baseline(line_top),
                Align::Center,
            );
            line_top -= CAPTION.leading;
        }
        canvas.hrule(MARGIN_X, box_top, CONTENT_W, NAVY, 1.0);
        box_top
    }

    /// Draws the QR symbol on a white tile that includes the quiet zone, with the tile's
    /// top-left corner near (`x`, `top`). Returns the tile's bottom edge.
    ///
    /// Each horizontal run of dark modules becomes one rectangle, and all of them are filled
    /// as a single path. The symbol's top-left corner is moved by less than half a point so
    /// that it lies on whole points from the page's top-left corner, where a 72 dpi
    /// rasteriser puts its pixel grid: 2 pt modules then come out as crisp 2×2 pixel
    /// squares instead of grey smears.
    fn qr(&self, canvas: &mut Canvas, x: f32, top: f32, module: f32) -> f32 {
        let width = self.sheet.qr_width;
        let quiet = module * QR_QUIET_MODULES as f32;
        let tile = module * (width + 2 * QR_QUIET_MODULES) as f32;
        let origin_x = (x + quiet).round();
        let origin_top = PAGE_H - (PAGE_H - (top - quiet)).round();
        let tile_bottom = origin_top + quiet - tile;
        canvas.fill_rect(origin_x - quiet, tile_bottom, tile, tile, WHITE);
        let mut runs = Vec::new();
        for (row, modules) in self.sheet.qr_modules.chunks(width).enumerate() {
            let y = grid_coordinate(width - 1 - row);
            let mut col = 0;
            while col < width {
                if !modules[col] {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < width && modules[col] {
                    col += 1;
                }
                runs.push([grid_coordinate(start), y, grid_coordinate(col - start), 1]);
            }
        }
        let origin_bottom = origin_top - module * width as f32;
        canvas.fill_grid(origin_x, origin_bottom, module, &runs, BLACK);
        tile_bottom
    }

    /// Positions for `count` lines of height `leading`, starting new pages as needed.
    /// Avoids a paragraph's first line alone at a page bottom (orphan) and its last line
    /// alone at a page top (widow).
    fn place_lines(&mut self, count: usize, leading: f32) -> Vec<(usize, f32)> {
        let mut tops = Vec::with_capacity(count);
        while tops.len() < count {
            let remaining = count - tops.len();
            let room = ((self.cursor - self.bottom) / leading + 1e-3)
                .floor()
                .max(0.0) as usize;
            let mut take = room.min(remaining);
            if take < remaining {
                if take > 0 && remaining - take == 1 {
                    take -= 1;
                }
                if tops.is_empty() && take < 2 {
                    take = 0;
                }
            }
            // A continuation page always takes at least one line, so an overlong paragraph
            // cannot start page after page. Page 1 may really be full (tall footer).
            if take == 0 && self.pages.len() > 1 && self.at_page_top() {
                take = 1;
            }
            for _ in 0..take {
                tops.push((self.pages.len() - 1, self.cursor));
                self.cursor -= leading;
            }
            if tops.len() < count {
                self.new_page();
            }
        }
        tops
    }

    fn heading(&mut self, text: &str) {
        let style = BODY_HEADING;
        let font = &self.faces[style.face as usize];
        let lines = wrap(font, style.size, text, CONTENT_W);
        if !self.at_page_top() {
            self.cursor -= HEADING_GAP_BEFORE;
        }
        // Keep the heading together with the first two lines that follow it.
        let needed =
            lines.len() as f32 * style.leading + HEADING_GAP_AFTER + 2.0 * self.body.leading;
        if self.cursor - needed < self.bottom {
            self.new_page();
        }
        let placed = self.place_lines(lines.len(), style.leading);
        for (line, (page, top)) in lines.iter().zip(placed) {
            self.pages[page].line(
                style,
                line,
                MARGIN_X,
                CONTENT_W,
                style.baseline(top),
                Align::Center,
            );
        }
        self.cursor -= HEADING_GAP_AFTER;
    }

    /// A justified paragraph. With a gutter mark (check box or list number) the text is
    /// indented and the mark hangs in front of its first line.
    fn paragraph(&mut self, text: &str, gutter: Gutter, gap_after: f32) {
        let style = self.body;
        let indent = if gutter == Gutter::None {
            0.0
        } else {
            LIST_INDENT
        };
        let width = CONTENT_W - indent;
        let font = &self.faces[style.face as usize];
        let lines = wrap(font, style.size, text, width);
        let placed = self.place_lines(lines.len(), style.leading);
        for (i, (line, (page, top))) in lines.iter().zip(placed).enumerate() {
            let baseline = style.baseline(top);
            let canvas = &mut self.pages[page];
            if i == 0 {
                match gutter {
                    Gutter::None => {}
                    Gutter::Checkbox => draw_checkbox(canvas, MARGIN_X + 1.0, baseline - 0.6),
                    Gutter::Number(number) => {
                        let x = MARGIN_X + LIST_INDENT - 3.0 - font.width(number, style.size);
                        canvas.show(style, x, baseline, vec![TextItem::Text(number.to_owned())]);
                    }
                }
            }
            canvas.line(
                style,
                line,
                MARGIN_X + indent,
                width,
                baseline,
                Align::Justify,
            );
        }
        self.cursor -= gap_after;
    }

    /// Attribution line on every page, page numbers once there is more than one page.
    fn page_furniture(&mut self) {
        let total = self.pages.len();
        let font = &self.faces[SMALL.face as usize];
        let attribution = wrap(
            font,
            SMALL.size,
            self.sheet.attribution,
            CONTENT_W - mm(30.0),
        );
        for (index, canvas) in self.pages.iter_mut().enumerate() {
            if let Some(line) = attribution.first() {
                canvas.line(
                    SMALL,
                    line,
                    MARGIN_X,
                    CONTENT_W,
                    ATTRIBUTION_BASELINE,
                    Align::Center,
                );
            }
            if total > 1 {
                let number = format!("{}/{}", index + 1, total);
                if let Some(line) = wrap(font, SMALL.size, &number, CONTENT_W).first() {
                    canvas.line(
                        SMALL,
                        line,
                        MARGIN_X,
                        CONTENT_W,
                        ATTRIBUTION_BASELINE,
                        Align::Right,
                    );
                }
            }
        }
    }
}

/// QR symbols have at most 177 modules per side, so grid coordinates always fit.
fn grid_coordinate(modules: usize) -> u16 {
    u16::try_from(modules).unwrap_or(u16::MAX)
}

/// Double rule around the page, the usual frame of an official certificate.
fn draw_frame(canvas: &mut Canvas) {
    let outer = mm(8.0);
    let inner = mm(9.4);
    canvas.stroke_rect(
        outer,
        outer,
        PAGE_W - 2.0 * outer,
        PAGE_H - 2.0 * outer,
        NAVY,
        1.4,
    );
    canvas.stroke_rect(
        inner,
        inner,
        PAGE_W - 2.0 * inner,
        PAGE_H - 2.0 * inner,
        NAVY,
        0.4,
    );
}

/// A ticked check box whose lower-left corner is at (`x`, `y`). Drawn as vector paths
/// rather than the ☑ glyph so it looks the same at every size and in every viewer.
fn draw_checkbox(canvas: &mut Canvas, x: f32, y: f32) {
    let s = CHECKBOX;
    canvas.stroke_rect(x, y, s, s, NAVY, 0.6);
    canvas.polyline(
        &[
            (x + 0.20 * s, y + 0.52 * s),
            (x + 0.42 * s, y + 0.26 * s),
            (x + 0.82 * s, y + 0.80 * s),
        ],
        NAVY,
        1.0,
    );
}

// ---------------------------------------------------------------------------------------
// Document assembly

fn write_document(
    sheet: &CertificateSheet,
    faces: &Faces,
    pages: Vec<Canvas<'_>>,
) -> Result<Vec<u8>, PdfError> {
    let mut chars: [BTreeSet<char>; 2] = [BTreeSet::new(), BTreeSet::new()];
    let mut pdf_pages = Vec::with_capacity(pages.len());
    for canvas in pages {
        let (ops, used) = canvas.finish();
        for (all, page) in chars.iter_mut().zip(used) {
            all.extend(page);
        }
        pdf_pages.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
    }

    let mut doc = PdfDocument::new(sheet.document_title);
    // `PdfDocument::add_font` would register the font under a random id, which ends up in
    // every content stream; a fixed id keeps the output reproducible.
    for (face, used) in faces.iter().zip(&chars) {
        if !used.is_empty() {
            let font = PdfFont::new(face.subset(used)?);
            doc.resources
                .fonts
                .map
                .insert(FontId(face.resource.to_owned()), font);
        }
    }
    let info = &mut doc.metadata.info;
    info.author = "ikrar".to_owned();
    info.creator = "ikrar".to_owned();
    info.producer = "ikrar (printpdf 0.12)".to_owned();
    info.subject = sheet.subject.to_owned();
    doc.with_pages(pdf_pages);

    let options = PdfSaveOptions {
        // Subsetting is a no-op without printpdf's `text_layout` feature; the fonts
        // registered above are already stripped to the glyphs in use.
        subset_fonts: false,
        image_optimization: None,
        ..PdfSaveOptions::default()
    };
    let mut warnings = Vec::new();
    let mut pdf = doc.to_lopdf_document(&options, &mut warnings);
    if let Some(error) = warnings
        .iter()
        .find(|w| w.severity == PdfParseErrorSeverity::Error)
    {
        return Err(PdfError::Serialize(error.msg.clone()));
    }

    let lopdf_error = |e: &dyn std::fmt::Display| PdfError::Serialize(e.to_string());
    // /Lang and /DisplayDocTitle are PDF 1.4 keys.
    pdf.version = "1.4".to_owned();
    let catalog = pdf.catalog_mut().map_err(|e| lopdf_error(&e))?;
    catalog.set(
        "Lang",
        DictItem::String {
            data: b"id-ID".to_vec(),
            literal: true,
        }
        .to_lopdf(),
    );
    catalog.set(
        "ViewerPreferences",
        DictItem::Dict {
            map: BTreeMap::from([("DisplayDocTitle".to_owned(), DictItem::Bool(true))]),
        }
        .to_lopdf(),
    );
    let info_id = pdf
        .trailer
        .get(b"Info")
        .and_then(|o| o.as_reference())
        .map_err(|e| lopdf_error(&e))?;
    let info = pdf
        .get_object_mut(info_id)
        .and_then(|o| o.as_dict_mut())
        .map_err(|e| lopdf_error(&e))?;
    // printpdf always writes these; its dates are a 1970 placeholder, and the signing time
    // is printed on the certificate anyway. Empty entries only add noise.
    for key in [
        "CreationDate",
        "ModDate",
        "Trapped",
        "GTS_PDFXVersion",
        "Identifier",
        "Keywords",
    ] {
        info.remove(key.as_bytes());
    }
    // printpdf writes every text string as UTF-16; ASCII is valid PDFDocEncoding as is.
    if sheet.subject.is_empty() {
        info.remove(b"Subject");
    } else if sheet.subject.is_ascii() {
        let subject = DictItem::String {
            data: sheet.subject.as_bytes().to_vec(),
            literal: true,
        };
        info.set("Subject", subject.to_lopdf());
    }
    // printpdf fills /ID with random strings; derive it from the content instead.
    let id = file_id(sheet);
    pdf.trailer.set(
        "ID",
        DictItem::Array(vec![
            DictItem::Bytes(id.to_vec()),
            DictItem::Bytes(id.to_vec()),
        ])
        .to_lopdf(),
    );

    compress_streams(&mut pdf);
    let mut bytes = Vec::new();
    pdf.save_to(&mut bytes).map_err(|e| lopdf_error(&e))?;
    Ok(bytes)
}

/// zlib level for the streams. lopdf's own `compress` uses level 9, which spent more than half
/// of a certificate's render time searching for matches; this level gives files a few percent
/// larger (measured in docs/performance.md) in a fraction of the time.
const DEFLATE_LEVEL: u32 = 2;

fn compress_streams(pdf: &mut lopdf::Document) {
    use std::io::Write;
    for object in pdf.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        let mut encoder = flate2::write::ZlibEncoder::new(
            Vec::with_capacity(stream.content.len() / 2),
            flate2::Compression::new(DEFLATE_LEVEL),
        );
        let Ok(compressed) = encoder
            .write_all(&stream.content)
            .and_then(|()| encoder.finish())
        else {
            continue;
        };
        if compressed.len() + 19 < stream.content.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(compressed);
        }
    }
}

/// 16-byte file identifier: two FNV-1a hashes over everything printed on the sheet.
fn file_id(sheet: &CertificateSheet) -> [u8; 16] {
    let mut halves = [Fnv::new(0), Fnv::new(1)];
    for hash in &mut halves {
        for text in [
            sheet.heading,
            sheet.document_title,
            sheet.campaign_title,
            sheet.qr_caption,
            sheet.attribution,
            sheet.subject,
        ] {
            hash.field(text);
        }
        for (label, value) in sheet.signer_rows.iter().chain(sheet.footer_rows) {
            hash.field(label);
            hash.field(value);
        }
        for block in sheet.document_blocks {
            let (kind, text) = match block {
                DocumentBlock::Heading(text) => (b'H', text),
                DocumentBlock::Paragraph(text) => (b'P', text),
                DocumentBlock::Commitment(text) => (b'C', text),
            };
            hash.write(&[kind]);
            hash.field(text);
        }
        let modules: Vec<u8> = sheet
            .qr_modules
            .iter()
            .map(|&dark| u8::from(dark))
            .collect();
        hash.write(&modules);
    }
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&halves[0].finish().to_be_bytes());
    id[8..].copy_from_slice(&halves[1].finish().to_be_bytes());
    id
}

/// 64-bit FNV-1a: a stable, dependency-free hash for identifiers (not for security).
struct Fnv(u64);

impl Fnv {
    fn new(seed: u64) -> Self {
        Self(0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// A text followed by a byte that never occurs in UTF-8, so that field boundaries
    /// count: ("ab", "c") and ("a", "bc") hash differently.
    fn field(&mut self, text: &str) {
        self.write(text.as_bytes());
        self.write(&[0xFF]);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
