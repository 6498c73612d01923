//! A4 certificate renderer.
//!
//! Turns a [`CertificateSheet`] (display strings that are already formatted) into the
//! PDF a signer downloads. The layout engine is deliberately small: word wrapping uses
//! the advance widths of the embedded DejaVu fonts, body paragraphs are justified, and
//! the text flows onto continuation pages when it does not fit on the first.
//!
//! Four properties matter more than looks:
//!
//! * **Self-contained.** Only embedded DejaVu Sans is used (never a standard-14 font), so
//!   Indonesian text with `é`, curly quotes or dashes renders the same everywhere.
//! * **Small.** The fonts are subsets: the glyphs Indonesian text uses, not the 760 KB
//!   programs (see [`font`]).
//! * **Fast.** A certificate is rendered for every download, so the file is written
//!   directly: the pages draw into their content streams ([`content`]), the fonts are
//!   prepared once per process and copied in byte for byte, and the objects go into one
//!   buffer with their cross-reference table ([`file`]).
//! * **Deterministic.** The same sheet always gives the same bytes: fixed resource names,
//!   a `/ID` hashed from the sheet, no dates (the signing time is printed on the page).

mod content;
mod file;
mod font;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;

use content::{thousandths, ContentStream};
use file::{text_string, Bytes, PdfFile};
use font::{EmbeddedFont, FontFace};

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
    /// zlib failed to deflate a stream. Writing into memory cannot fail, so this would be a
    /// bug in the compressor.
    #[error("deflating a PDF stream failed")]
    Deflate(#[from] std::io::Error),
}

/// Renders the A4 certificate: one page, more if the document text overflows.
/// The same input always gives identical bytes.
///
/// # Errors
///
/// [`PdfError::QrShape`] if the QR matrix is not square; the other variants indicate a
/// broken build (unreadable embedded font) or a failing compressor.
pub fn render(sheet: &CertificateSheet) -> Result<Vec<u8>, PdfError> {
    render_for_signing(sheet).map(|rendered| rendered.bytes)
}

/// [`render`], keeping what the PDF signature can reuse: see [`KnownPrefix`].
///
/// # Errors
///
/// As [`render`].
pub fn render_for_signing(sheet: &CertificateSheet) -> Result<RenderedPdf, PdfError> {
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

type Faces = [FontFace; 2];

/// The two faces, parsed and prepared on first use (a few milliseconds, once per process).
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

/// One page being drawn: its content stream plus what the document needs to know about it.
/// Keeps a text object open across consecutive text lines and skips redundant font and
/// colour changes.
struct Canvas<'f> {
    faces: &'f Faces,
    content: ContentStream,
    in_text: bool,
    /// Start of the current text line in thousandths of a point: `Td` moves relative to it,
    /// and whole thousandths keep the moves exact.
    line_origin: (i64, i64),
    font: Option<(Face, f32)>,
    fill: Option<Rgb3>,
    stroke: Option<(Rgb3, f32)>,
    /// Which faces the page shows text in.
    faces_used: [bool; 2],
    /// Characters shown that are outside the prepared font programs, per face.
    unprepared: [BTreeSet<char>; 2],
}

/// A finished page.
struct PageContent {
    content: Vec<u8>,
    faces_used: [bool; 2],
    unprepared: [BTreeSet<char>; 2],
}

impl<'f> Canvas<'f> {
    fn new(faces: &'f Faces) -> Self {
        let mut content = ContentStream::with_capacity(16 * 1024);
        // Round caps and joins, for the check marks and rules.
        content.operator(b"1 J 1 j");
        Self {
            faces,
            content,
            in_text: false,
            line_origin: (0, 0),
            font: None,
            fill: None,
            stroke: None,
            faces_used: [false; 2],
            unprepared: [BTreeSet::new(), BTreeSet::new()],
        }
    }

    fn finish(mut self) -> PageContent {
        self.end_text();
        PageContent {
            content: self.content.into_bytes(),
            faces_used: self.faces_used,
            unprepared: self.unprepared,
        }
    }

    fn end_text(&mut self) {
        if self.in_text {
            self.content.operator(b"ET");
            self.in_text = false;
        }
    }

    fn set_fill(&mut self, color: Rgb3) {
        if self.fill != Some(color) {
            self.content.numbers(color);
            self.content.operator(b"rg");
            self.fill = Some(color);
        }
    }

    fn set_stroke(&mut self, color: Rgb3, width: f32) {
        if self.stroke != Some((color, width)) {
            self.content.numbers(color);
            self.content.operator(b"RG");
            self.content.number(width);
            self.content.operator(b"w");
            self.stroke = Some((color, width));
        }
    }

    /// Starts a text line at (`x`, `baseline`) in `style`.
    fn begin_line(&mut self, style: Style, x: f32, baseline: f32) {
        if !self.in_text {
            self.content.operator(b"BT");
            self.in_text = true;
            self.line_origin = (0, 0);
        }
        if self.font != Some((style.face, style.size)) {
            self.content.raw(b"/");
            self.content
                .raw(self.faces[style.face as usize].resource.as_bytes());
            self.content.raw(b" ");
            self.content.number(style.size);
            self.content.operator(b"Tf");
            self.font = Some((style.face, style.size));
            self.faces_used[style.face as usize] = true;
        }
        self.set_fill(style.color);
        let origin = (thousandths(x), thousandths(baseline));
        self.content.fixed(origin.0 - self.line_origin.0);
        self.content.raw(b" ");
        self.content.fixed(origin.1 - self.line_origin.1);
        self.content.operator(b" Td");
        self.line_origin = origin;
    }

    /// The glyph codes of `text` (inside a string operand).
    fn glyphs(&mut self, face: Face, text: &str) {
        let font = &self.faces[face as usize];
        for ch in text.chars() {
            let gid = font.glyph(ch);
            if !font.is_prepared(gid) {
                self.unprepared[face as usize].insert(ch);
            }
            self.content.glyph(gid);
        }
    }

    /// Shows `text` as one run starting at (`x`, `baseline`).
    fn show(&mut self, style: Style, x: f32, baseline: f32, text: &str) {
        self.begin_line(style, x, baseline);
        self.content.open_string();
        self.glyphs(style.face, text);
        self.content.close_string();
        self.content.operator(b"Tj");
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
        // Justification widens each space by a negative TJ offset; word spacing (Tw) does
        // not apply to the 2-byte codes of Identity-H text.
        if stretch > 0.0 && stretch <= 3.0 * font.width(" ", style.size) {
            let kern = -stretch * 1000.0 / style.size;
            self.begin_line(style, x, baseline);
            self.content.raw(b"[");
            for (i, word) in line.words.iter().enumerate() {
                self.content.open_string();
                self.glyphs(style.face, word);
                if i < gaps {
                    self.glyphs(style.face, " ");
                    self.content.close_string();
                    self.content.number(kern);
                } else {
                    self.content.close_string();
                }
            }
            self.content.operator(b"]TJ");
            return;
        }
        let x = match align {
            Align::Center => x + slack / 2.0,
            Align::Right => x + slack,
            Align::Left | Align::Justify => x,
        };
        self.begin_line(style, x, baseline);
        self.content.open_string();
        for (i, word) in line.words.iter().enumerate() {
            if i > 0 {
                self.glyphs(style.face, " ");
            }
            self.glyphs(style.face, word);
        }
        self.content.close_string();
        self.content.operator(b"Tj");
    }

    fn fill_rect(&mut self, x: f32, y: f32, width: f32, height: f32, color: Rgb3) {
        self.end_text();
        self.set_fill(color);
        self.content.numbers([x, y, width, height]);
        self.content.operator(b"re f");
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
        self.content.numbers([x, y, width, height]);
        self.content.operator(b"re S");
    }

    fn polyline(&mut self, points: &[(f32, f32)], color: Rgb3, line_width: f32) {
        self.end_text();
        self.set_stroke(color, line_width);
        for (i, &(x, y)) in points.iter().enumerate() {
            self.content.numbers([x, y]);
            self.content.raw(if i == 0 { b"m " } else { b"l " });
        }
        self.content.operator(b"S");
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
        self.content.operator(b"q");
        self.content.numbers([unit, 0.0, 0.0, unit, x, y]);
        self.content.operator(b"cm");
        for &[left, bottom, width, height] in rects {
            self.content.numbers([
                f32::from(left),
                f32::from(bottom),
                f32::from(width),
                f32::from(height),
            ]);
            self.content.operator(b"re");
        }
        self.content.operator(b"f");
        self.content.operator(b"Q");
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
                        canvas.show(style, x, baseline, number);
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

/// zlib level of the content streams. Level 9 spent most of a render searching for matches;
/// this level gives files a few percent larger (measured in docs/performance.md) in a
/// fraction of the time.
const DEFLATE_LEVEL: u32 = 2;

/// The first bytes of every certificate whose text stays within the prepared fonts: the
/// header and both faces' font objects (numbers 1 to 10), with the SHA-512 state over them.
/// Copied into each such file, so that neither the font objects nor the hash over their
/// 70 KB are computed again per certificate.
pub struct KnownPrefix {
    bytes: Vec<u8>,
    offsets: Vec<usize>,
    font_resources: String,
    sha512: sha2::Sha512,
}

impl KnownPrefix {
    /// SHA-512 state after the first bytes of `pdf` and how many bytes that is, if `pdf`
    /// starts with this prefix. Compared byte for byte, so a file that does not start with
    /// it is hashed from its start as usual.
    pub fn sha512_state(&self, pdf: &[u8]) -> Option<(usize, sha2::Sha512)> {
        pdf.starts_with(&self.bytes)
            .then(|| (self.bytes.len(), self.sha512.clone()))
    }
}

fn known_prefix(faces: &Faces) -> &'static KnownPrefix {
    use sha2::Digest;
    static PREFIX: OnceLock<KnownPrefix> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let mut file = PdfFile::new(80 * 1024);
        let fonts: Vec<(&FontFace, &EmbeddedFont)> =
            faces.iter().map(|face| (face, face.prepared())).collect();
        let font_resources = write_fonts(&mut file, &fonts);
        let (bytes, offsets) = file.into_parts();
        let sha512 = sha2::Sha512::new().chain_update(&bytes);
        KnownPrefix {
            bytes,
            offsets,
            font_resources,
            sha512,
        }
    })
}

/// A rendered certificate, before its PDF signature.
#[derive(Clone)]
pub struct RenderedPdf {
    pub bytes: Vec<u8>,
    /// The prefix the file starts with, when it uses the prepared fonts.
    pub known_prefix: Option<&'static KnownPrefix>,
}

/// Objects: the fonts first (five per face, so that files sharing the prepared fonts share
/// their first 70 KB), then the catalog, the page tree, the document information, and each
/// page with its content stream.
fn write_document(
    sheet: &CertificateSheet,
    faces: &Faces,
    pages: Vec<Canvas<'_>>,
) -> Result<RenderedPdf, PdfError> {
    let pages: Vec<PageContent> = pages.into_iter().map(Canvas::finish).collect();
    // Each face used embeds its prepared objects, or, if the document shows characters
    // outside them, objects built for this document.
    let mut fonts: Vec<(&FontFace, Cow<EmbeddedFont>)> = Vec::new();
    for (index, face) in faces.iter().enumerate() {
        if !pages.iter().any(|page| page.faces_used[index]) {
            continue;
        }
        let unprepared: BTreeSet<char> = pages
            .iter()
            .flat_map(|page| page.unprepared[index].iter().copied())
            .collect();
        let embedded = if unprepared.is_empty() {
            Cow::Borrowed(face.prepared())
        } else {
            Cow::Owned(face.with_extra(&unprepared, DEFLATE_LEVEL)?)
        };
        fonts.push((face, embedded));
    }
    let contents = pages
        .iter()
        .map(|page| deflate(&page.content, DEFLATE_LEVEL))
        .collect::<Result<Vec<_>, _>>()?;

    let capacity = 4096
        + fonts
            .iter()
            .map(|(_, f)| f.program.len() + f.to_unicode.len() + f.widths.len() + 512)
            .sum::<usize>()
        + contents.iter().map(|c| c.len() + 512).sum::<usize>();
    let all_prepared = fonts.len() == faces.len()
        && fonts
            .iter()
            .all(|(_, embedded)| matches!(embedded, Cow::Borrowed(_)));
    let (mut file, font_resources, known) = if all_prepared {
        let prefix = known_prefix(faces);
        let file = PdfFile::starting_with(&prefix.bytes, &prefix.offsets, capacity);
        (
            file,
            Cow::Borrowed(prefix.font_resources.as_str()),
            Some(prefix),
        )
    } else {
        let mut file = PdfFile::new(capacity);
        let fonts: Vec<(&FontFace, &EmbeddedFont)> =
            fonts.iter().map(|(face, f)| (*face, f.as_ref())).collect();
        let resources = write_fonts(&mut file, &fonts);
        (file, Cow::Owned(resources), None)
    };

    let catalog = file.next_object();
    let (page_tree, info, first_page) = (catalog + 1, catalog + 2, catalog + 3);
    let page_object = |index: usize| first_page + 2 * index as u32;
    let mut body = Vec::with_capacity(1024);
    file.object(
        catalog,
        format!(
            "<</Type/Catalog/Pages {page_tree} 0 R/Lang(id-ID)\
             /ViewerPreferences<</DisplayDocTitle true>>>>"
        )
        .as_bytes(),
    );
    body.extend_from_slice(b"<</Type/Pages/Kids[");
    for index in 0..pages.len() {
        let separator = if index == 0 { "" } else { " " };
        let _ = write!(Bytes(&mut body), "{separator}{} 0 R", page_object(index));
    }
    let _ = write!(Bytes(&mut body), "]/Count {}>>", pages.len());
    file.object(page_tree, &body);

    body.clear();
    body.extend_from_slice(b"<</Title");
    text_string(&mut body, sheet.document_title);
    body.extend_from_slice(b"/Author(ikrar)/Creator(ikrar)/Producer(ikrar)");
    if !sheet.subject.is_empty() {
        // ASCII subjects are written as they are, so that `id_in_pdf` finds the id.
        body.extend_from_slice(b"/Subject");
        text_string(&mut body, sheet.subject);
    }
    body.extend_from_slice(b">>");
    file.object(info, &body);

    let mut media_box = ContentStream::default();
    media_box.numbers([PAGE_W, PAGE_H]);
    let media_box = media_box.into_bytes();
    for (index, content) in contents.iter().enumerate() {
        let page = page_object(index);
        body.clear();
        let _ = write!(
            Bytes(&mut body),
            "<</Type/Page/Parent {page_tree} 0 R/MediaBox[0 0 "
        );
        body.extend_from_slice(media_box.trim_ascii_end());
        let _ = write!(
            Bytes(&mut body),
            "]/Resources<<{font_resources}>>/Contents {} 0 R>>",
            page + 1
        );
        file.object(page, &body);
        file.deflated_stream(page + 1, "", content);
    }
    Ok(RenderedPdf {
        bytes: file.finish(catalog, info, &file_id(sheet)),
        known_prefix: known,
    })
}

/// Writes five objects per face (Type0 font, CIDFontType2 font, descriptor, font program,
/// `/ToUnicode`) and returns the `/Font` resource entry naming them.
fn write_fonts(file: &mut PdfFile, fonts: &[(&FontFace, &EmbeddedFont)]) -> String {
    let mut font_resources = String::from("/Font<<");
    for (face, embedded) in fonts {
        let type0 = file.next_object();
        let (cid_font, descriptor, program, to_unicode) =
            (type0 + 1, type0 + 2, type0 + 3, type0 + 4);
        let name = &embedded.base_font;
        let _ = write!(font_resources, "/{} {type0} 0 R", face.resource);
        file.object(
            type0,
            format!(
                "<</Type/Font/Subtype/Type0/BaseFont/{name}/Encoding/Identity-H\
                 /DescendantFonts[{cid_font} 0 R]/ToUnicode {to_unicode} 0 R>>"
            )
            .as_bytes(),
        );
        file.object(
            cid_font,
            format!(
                "<</Type/Font/Subtype/CIDFontType2/BaseFont/{name}\
                 /CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>\
                 /FontDescriptor {descriptor} 0 R/CIDToGIDMap/Identity/DW 1000/W {}>>",
                embedded.widths
            )
            .as_bytes(),
        );
        file.object(
            descriptor,
            format!(
                "<</Type/FontDescriptor/FontName/{name}{}/FontFile2 {program} 0 R>>",
                embedded.descriptor
            )
            .as_bytes(),
        );
        file.deflated_stream(
            program,
            &format!("/Length1 {}", embedded.program_length),
            &embedded.program,
        );
        file.deflated_stream(to_unicode, "", &embedded.to_unicode);
    }
    font_resources.push_str(">>");
    font_resources
}

/// `data` as a zlib stream (what `/FlateDecode` reads) at `level`.
fn deflate(data: &[u8], level: u32) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::new(level),
    );
    encoder.write_all(data)?;
    encoder.finish()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::QrMatrix;

    /// Renders a sheet with the given signer name and document text.
    fn render_with(name: &str, blocks: &[DocumentBlock]) -> Vec<u8> {
        let qr = QrMatrix::encode("https://ikrar.example/v/AAAAAAAAAAAAAAAA#ABCDEF").unwrap();
        let signer_rows = [("Nama", name), ("Jabatan", "Analis Kebijakan Ahli Muda")];
        let footer_rows = [("ID Sertifikat", "AAAAAAAAAAAAAAAA")];
        render(&CertificateSheet {
            heading: "SERTIFIKAT PENANDATANGANAN ELEKTRONIK",
            document_title: "Pakta Integritas — “Netralitas” ASN",
            campaign_title: "Pemilu dan Pilkada Serentak 2024",
            signer_rows: &signer_rows,
            document_blocks: blocks,
            footer_rows: &footer_rows,
            qr_modules: qr.modules(),
            qr_width: qr.width(),
            qr_caption: "Pindai untuk memeriksa keaslian",
            attribution: "Ditandatangani secara elektronik.",
            subject: "ikrar-certificate:AAAAAAAAAAAAAAAA",
        })
        .unwrap()
    }

    fn tool(program: &str, args: &[&str], pdf: &[u8]) -> (bool, String) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("certificate.pdf");
        std::fs::write(&file, pdf).unwrap();
        let to_stdout: &[&str] = if program == "pdftotext" { &["-"] } else { &[] };
        let out = std::process::Command::new(program)
            .args(args)
            .arg(&file)
            .args(to_stdout)
            .output()
            .unwrap_or_else(|_| panic!("{program} is installed"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    fn base_fonts(pdf: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(pdf);
        let mut names: Vec<String> = text
            .match_indices("/FontName/")
            .map(|(at, _)| {
                text[at + 10..]
                    .split(['/', '>'])
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        names.sort();
        names
    }

    fn words(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn indonesian_text_uses_the_prepared_fonts_and_extracts_as_written() {
        let paragraph =
            "Saya menyatakan “tidak berpihak” – termasuk café, naïve, Šibenik… • selesai—";
        let pdf = render_with(
            "Andi Nurul Hidayah, S.Pd.",
            &[DocumentBlock::Paragraph(paragraph)],
        );
        assert_eq!(
            pdf,
            render_with(
                "Andi Nurul Hidayah, S.Pd.",
                &[DocumentBlock::Paragraph(paragraph)]
            )
        );
        let faces = faces().unwrap();
        let mut prepared: Vec<String> = faces
            .iter()
            .map(|face| face.prepared().base_font.clone())
            .collect();
        prepared.sort();
        assert_eq!(base_fonts(&pdf), prepared);

        let (ok, check) = tool("qpdf", &["--check"], &pdf);
        assert!(ok, "{check}");
        let (_, text) = tool("pdftotext", &[], &pdf);
        let text = words(&text);
        assert!(text.contains(&words(paragraph)), "{text}");
        assert!(text.contains("Andi Nurul Hidayah, S.Pd."), "{text}");
    }

    #[test]
    fn characters_outside_the_prepared_fonts_get_a_font_of_their_own() {
        let name = "Δημήτρης Иванов";
        let pdf = render_with(name, &[DocumentBlock::Paragraph("Paragraf biasa.")]);
        assert_eq!(
            pdf,
            render_with(name, &[DocumentBlock::Paragraph("Paragraf biasa.")])
        );
        let faces = faces().unwrap();
        let fonts = base_fonts(&pdf);
        // The name is set in bold: that face is built for this document, the other is not.
        assert!(fonts.contains(&faces[Face::Regular as usize].prepared().base_font));
        assert!(!fonts.contains(&faces[Face::Bold as usize].prepared().base_font));
        assert!(fonts.iter().any(|f| f.ends_with("+DejaVuSans-Bold")));

        let (ok, check) = tool("qpdf", &["--check"], &pdf);
        assert!(ok, "{check}");
        let (_, text) = tool("pdftotext", &[], &pdf);
        assert!(words(&text).contains(name), "{text}");
    }

    #[test]
    fn a_character_no_face_has_is_drawn_as_notdef_and_measured_at_one_em() {
        let faces = faces().unwrap();
        let regular = &faces[Face::Regular as usize];
        assert_eq!(regular.glyph('漢'), 0);
        assert_eq!(regular.advance('漢'), 1000);
        assert!(regular.advance('a') > 0 && regular.advance('a') < 1000);
        let pdf = render_with("Wang 漢", &[DocumentBlock::Paragraph("Paragraf biasa.")]);
        let (ok, check) = tool("qpdf", &["--check"], &pdf);
        assert!(ok, "{check}");
    }

    #[test]
    fn a_long_document_flows_onto_pages_the_pdf_signature_can_be_appended_to() {
        let paragraph = "Saya bersedia menerima sanksi sesuai dengan ketentuan peraturan \
                         perundang-undangan apabila melanggar pakta integritas ini. ";
        let long = paragraph.repeat(12);
        let blocks: Vec<DocumentBlock> = (0..14)
            .map(|i| {
                if i % 5 == 0 {
                    DocumentBlock::Heading("Pernyataan")
                } else if i % 2 == 0 {
                    DocumentBlock::Commitment(&long)
                } else {
                    DocumentBlock::Paragraph(&long)
                }
            })
            .collect();
        let pdf = render_with("Muh. Yusran Rahman", &blocks);
        let text = String::from_utf8_lossy(&pdf);
        let count: usize = text
            .split("/Type/Pages/Kids[")
            .nth(1)
            .and_then(|rest| rest.split("/Count ").nth(1))
            .and_then(|rest| rest.split('>').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(count >= 3, "{count} pages");
        let (_, extracted) = tool("pdftotext", &[], &pdf);
        assert!(extracted.contains(&format!("{count}/{count}")));

        let seal = crate::signing::Seal::self_made("ikrar", 1_700_000_000).unwrap();
        let signer = super::super::PdfSigner { seal: &seal };
        let signed = super::super::pdf_signature::sign(pdf, signer, 1_700_000_100).unwrap();
        let read = super::super::pdf_signature::read_signature(&signed).unwrap();
        assert_eq!(read.signer_fingerprint, seal.fingerprint());
        let (ok, check) = tool("qpdf", &["--check"], &signed);
        assert!(ok, "{check}");
    }
}
