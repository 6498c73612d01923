//! The certificate as an A4 statement (surat pernyataan), drawn with printpdf.
//!
//! Top to bottom: the issuing authority's letterhead (kop) with its logo and a double rule; the
//! document title with the certificate number; the signer's identity; the signed text with its
//! numbered commitments; "<tempat>, <tanggal>" and "Yang menyatakan," over the signer's name and
//! NIP, with an electronic-signature note where a wet signature would be, beside the QR; the
//! legal basis; the certificate's identifiers.
//!
//! Lines are broken with the widths of the embedded DejaVu faces ([`fonts`]), so a name of 120
//! characters wraps inside its column. The statement is set at the largest of four sizes that
//! keeps it on one page, and flows onto a second page when even the smallest does not.

pub(super) mod canvas;
pub(super) mod file;
pub(super) mod fonts;

use canvas::{Canvas, Rgb3};
use file::PreparedLogo;
pub use file::{Attachment, FileInfo};
use fonts::{Face, Faces};

use crate::domain::AuthorityLogo;

/// Everything printed on a certificate, already formatted as display strings (Indonesian).
pub struct CertificateSheet<'a> {
    /// The issuing authority's letterhead; `None` for campaigns that have not named one.
    pub letterhead: Option<Letterhead<'a>>,
    /// Title of the signed document; also the PDF's `/Title`.
    pub title: &'a str,
    /// Lines centred under the title: the certificate number, the campaign.
    pub subtitle: &'a [&'a str],
    /// Label/value pairs of the signer's identity; the first (Nama) is set in bold.
    pub identity_rows: &'a [(&'a str, &'a str)],
    /// The signed text up to its legal basis.
    pub statement: &'a [DocumentBlock<'a>],
    /// "Makassar, 15 November 2023".
    pub place_and_date: &'a str,
    pub signer_name: &'a str,
    /// "NIP 19800101 200501 1 001".
    pub signer_id: &'a str,
    /// Lines in the box where a wet signature would be.
    pub signature_note: &'a [&'a str],
    /// QR modules in row-major order, `true` = dark, without quiet zone.
    pub qr_modules: &'a [bool],
    /// Modules per side of the QR symbol.
    pub qr_width: usize,
    /// Lines under the QR code.
    pub qr_caption: &'a [&'a str],
    /// The legal basis, printed small after the signature.
    pub legal_basis: &'a [DocumentBlock<'a>],
    /// Label/value pairs identifying the certificate (number, id, document, key id, link).
    pub footer_rows: &'a [(&'a str, &'a str)],
    /// One small line at the bottom of every page.
    pub attribution: &'a str,
    pub file: FileInfo<'a>,
}

/// The authority's letterhead.
pub struct Letterhead<'a> {
    pub name: &'a str,
    pub office: &'a str,
    pub address: &'a str,
    pub logo: Option<&'a AuthorityLogo>,
}

/// One block of the signed document's text.
pub enum DocumentBlock<'a> {
    Heading(&'a str),
    Paragraph(&'a str),
    /// A commitment, printed with its number.
    Commitment(&'a str),
}

/// Why a certificate could not be rendered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PdfError {
    /// A compiled-in font could not be read: a build problem, not a data problem.
    #[error("embedded font {0} could not be parsed")]
    Font(&'static str),
    #[error("QR matrix has {len} modules, expected {width}×{width}")]
    QrShape { len: usize, width: usize },
    #[error("the authority's logo could not be decoded")]
    Logo,
    #[error("deflating a PDF stream failed")]
    Deflate,
    #[error("printpdf's document lacks {0}")]
    Structure(&'static str),
}

/// Renders the certificate: one A4 page, two when the text does not fit on one.
/// The same sheet always gives the same bytes.
pub fn render(sheet: &CertificateSheet) -> Result<Vec<u8>, PdfError> {
    if sheet.qr_width == 0 || sheet.qr_modules.len() != sheet.qr_width * sheet.qr_width {
        return Err(PdfError::QrShape {
            len: sheet.qr_modules.len(),
            width: sheet.qr_width,
        });
    }
    let faces = fonts::faces()?;
    let logo = match sheet.letterhead.as_ref().and_then(|l| l.logo) {
        Some(logo) => Some(file::prepared_logo(logo)?),
        None => None,
    };
    let mut pages = Vec::new();
    for (attempt, density) in DENSITIES.iter().enumerate() {
        pages = Composer::new(faces, sheet, logo.as_ref(), density).compose();
        if pages.len() == 1 {
            break;
        }
        if attempt == DENSITIES.len() - 1 {
            // Even the smallest size needs a second page: use the most readable one.
            pages = Composer::new(faces, sheet, logo.as_ref(), &DENSITIES[0]).compose();
        }
    }
    file::write(faces, pages, logo.as_ref(), &sheet.file)
}

// Page geometry in points, from the lower-left corner.
const fn mm(v: f32) -> f32 {
    v * 72.0 / 25.4
}
const PAGE_W: f32 = mm(210.0);
const PAGE_H: f32 = mm(297.0);
const LEFT: f32 = mm(18.0);
const RIGHT: f32 = PAGE_W - mm(18.0);
const WIDTH: f32 = RIGHT - LEFT;
const TOP: f32 = PAGE_H - mm(10.0);
/// Lowest point of the text; the attribution line sits below it.
const BOTTOM: f32 = mm(13.0);
const ATTRIBUTION_BASELINE: f32 = mm(8.0);
const LOGO_BOX: f32 = mm(19.0);
/// Smallest QR module in points (1.06 mm): zbarimg then reads the symbol from a 72-dpi render and
/// from a 100-dpi one blurred (σ 1.0) and turned 5°, as a cheap phone camera sees a print; at
/// 2.0 pt it read only the sharp render.
const QR_MIN_MODULE: f32 = 3.0;
const QR_MIN_SIDE: f32 = mm(32.0);

const NAVY: Rgb3 = [0.075, 0.176, 0.361];
const INK: Rgb3 = [0.11, 0.114, 0.125];
const MUTED: Rgb3 = [0.365, 0.384, 0.427];
const BLACK: Rgb3 = [0.0, 0.0, 0.0];

/// Type sizes of one attempt at fitting the statement on a page.
struct Density {
    body: f32,
    leading: f32,
    gap: f32,
}

const DENSITIES: [Density; 4] = [
    Density {
        body: 9.0,
        leading: 11.4,
        gap: 4.5,
    },
    Density {
        body: 8.4,
        leading: 10.4,
        gap: 3.5,
    },
    Density {
        body: 7.9,
        leading: 9.6,
        gap: 2.6,
    },
    Density {
        body: 7.5,
        leading: 9.0,
        gap: 2.2,
    },
];

/// Lays the sheet out top to bottom, opening a page when the next line does not fit.
struct Composer<'a> {
    faces: &'a Faces,
    sheet: &'a CertificateSheet<'a>,
    logo: Option<&'a PreparedLogo>,
    d: &'a Density,
    done: Vec<Canvas<'a>>,
    page: Canvas<'a>,
    y: f32,
    /// Left edge and width of the column text flows in.
    column: (f32, f32),
}

impl<'a> Composer<'a> {
    fn new(
        faces: &'a Faces,
        sheet: &'a CertificateSheet<'a>,
        logo: Option<&'a PreparedLogo>,
        d: &'a Density,
    ) -> Self {
        Self {
            faces,
            sheet,
            logo,
            d,
            done: Vec::new(),
            page: Canvas::new(faces),
            y: TOP,
            column: (LEFT, WIDTH),
        }
    }

    fn compose(mut self) -> Vec<Vec<printpdf::Op>> {
        let d = self.d;
        let sheet = self.sheet;
        self.letterhead();
        self.centred(Face::Bold, d.body + 2.5, NAVY, sheet.title);
        for line in sheet.subtitle {
            self.centred(Face::Regular, d.body - 0.5, MUTED, line);
        }
        self.y -= d.gap * 2.0;
        self.identity();
        self.y -= d.gap;
        self.blocks(sheet.statement, d.body, d.leading);
        self.y -= d.gap * 2.0;
        self.signature();
        self.closing();
        self.done.push(self.page);
        let count = self.done.len();
        self.done
            .into_iter()
            .enumerate()
            .map(|(index, mut page)| {
                let mut line = sheet.attribution.to_string();
                if count > 1 {
                    line = format!("{line} — Halaman {} dari {count}", index + 1);
                }
                page.text_centred(
                    Face::Regular,
                    6.3,
                    MUTED,
                    PAGE_W / 2.0,
                    ATTRIBUTION_BASELINE,
                    &line,
                );
                page.finish()
            })
            .collect()
    }

    /// Makes room for `height` points, on a new page if this one is full.
    fn room(&mut self, height: f32) {
        if self.y - height >= BOTTOM {
            return;
        }
        let full = std::mem::replace(&mut self.page, Canvas::new(self.faces));
        self.done.push(full);
        self.y = TOP;
        // A running head so a loose second page still says what it belongs to.
        let head = format!("{} (lanjutan)", self.sheet.title);
        for line in self.faces.bold.wrap(&head, 7.5, WIDTH) {
            self.page
                .text(Face::Bold, 7.5, NAVY, LEFT, self.y - 7.5, &line);
            self.y -= 9.5;
        }
        self.page.rule(MUTED, 0.5, LEFT, RIGHT, self.y - 2.0);
        self.y -= 10.0;
    }

    /// Lines of `text` wrapped to `width`, starting at `x`.
    fn paragraph(&mut self, style: (Face, f32, f32, Rgb3), x: f32, width: f32, text: &str) {
        let (face, size, leading, color) = style;
        for line in self.faces.get(face).wrap(text, size, width) {
            self.room(leading);
            self.page.text(
                face,
                size,
                color,
                x,
                self.y - leading + (leading - size) / 2.0 + 1.0,
                &line,
            );
            self.y -= leading;
        }
    }

    fn centred(&mut self, face: Face, size: f32, color: Rgb3, text: &str) {
        let leading = size * 1.25;
        for line in self.faces.get(face).wrap(text, size, WIDTH) {
            self.room(leading);
            self.page
                .text_centred(face, size, color, PAGE_W / 2.0, self.y - size, &line);
            self.y -= leading;
        }
    }

    /// Logo at the left, the authority centred beside it, and the double rule under both.
    fn letterhead(&mut self) {
        let sheet = self.sheet;
        let Some(head) = &sheet.letterhead else {
            return;
        };
        let top = self.y;
        let mut logo_height = 0.0;
        let mut inset = 0.0;
        if let (Some(logo), Some(_)) = (head.logo, self.logo) {
            let (w, h) = logo.size();
            let scale = LOGO_BOX / w.max(h).max(1) as f32;
            let (width, height) = (w as f32 * scale, h as f32 * scale);
            self.page.image(
                &file::logo_id(),
                LEFT + (LOGO_BOX - width) / 2.0,
                top - height,
                width,
                height,
            );
            logo_height = height;
            inset = LOGO_BOX + mm(4.0);
        }
        // Centred on the page, within the width the logo leaves symmetrically.
        let width = WIDTH - 2.0 * inset;
        let lines: Vec<(Face, f32, String)> = [
            (Face::Bold, 11.5, head.name.to_uppercase()),
            (Face::Bold, 14.5, head.office.to_uppercase()),
            (Face::Regular, 8.0, head.address.to_string()),
        ]
        .into_iter()
        .flat_map(|(face, size, text)| {
            self.faces
                .get(face)
                .wrap(&text, size, width)
                .into_iter()
                .map(move |line| (face, size, line))
        })
        .collect();
        let text_height: f32 = lines.iter().map(|(_, size, _)| size * 1.25).sum();
        let height = text_height.max(logo_height);
        let mut y = top - (height - text_height) / 2.0;
        for (face, size, line) in &lines {
            let color = if *size > 10.0 { NAVY } else { INK };
            self.page
                .text_centred(*face, *size, color, PAGE_W / 2.0, y - size, line);
            y -= size * 1.25;
        }
        let rule = top - height - 5.0;
        self.page.rule(NAVY, 2.0, LEFT, RIGHT, rule);
        self.page.rule(NAVY, 0.6, LEFT, RIGHT, rule - 3.0);
        self.y = rule - 3.0 - 9.0;
    }

    /// "Label : value" rows, values wrapped in their column.
    fn identity(&mut self) {
        let size = self.d.body;
        let leading = self.d.leading;
        let label_width = mm(30.0);
        let value_x = LEFT + label_width + mm(3.0);
        let sheet = self.sheet;
        for (index, (label, value)) in sheet.identity_rows.iter().enumerate() {
            let face = if index == 0 {
                Face::Bold
            } else {
                Face::Regular
            };
            let lines = self.faces.get(face).wrap(value, size, RIGHT - value_x);
            self.room(leading * lines.len() as f32);
            let baseline = |y: f32| y - leading + (leading - size) / 2.0 + 1.0;
            self.page
                .text(Face::Regular, size, MUTED, LEFT, baseline(self.y), label);
            self.page.text(
                Face::Regular,
                size,
                MUTED,
                LEFT + label_width,
                baseline(self.y),
                ":",
            );
            for line in lines {
                self.page
                    .text(face, size, INK, value_x, baseline(self.y), &line);
                self.y -= leading;
            }
        }
    }

    /// Headings, paragraphs and numbered commitments. A paragraph that starts with its own
    /// number ("1. Undang-Undang …") hangs its lines under the text as a commitment does.
    fn blocks(&mut self, blocks: &[DocumentBlock<'_>], size: f32, leading: f32) {
        let mut number = 0;
        for block in blocks {
            match block {
                DocumentBlock::Heading(text) => {
                    if self.column.0 == LEFT {
                        self.y -= self.d.gap;
                    }
                    self.room(leading * 2.5);
                    let (x, width) = self.column;
                    self.paragraph(
                        (Face::Bold, size + 0.6, leading + 0.6, NAVY),
                        x,
                        width,
                        text,
                    );
                    self.y -= self.d.gap / 2.0;
                }
                DocumentBlock::Paragraph(text) => {
                    let numbered = text
                        .split_once(". ")
                        .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
                    match numbered {
                        Some((n, rest)) => self.hanging(size, leading, &format!("{n}."), rest),
                        None => {
                            let (x, width) = self.column;
                            self.paragraph((Face::Regular, size, leading, INK), x, width, text)
                        }
                    }
                    self.y -= self.d.gap / 2.0;
                }
                DocumentBlock::Commitment(text) => {
                    number += 1;
                    self.hanging(size, leading, &format!("{number}."), text);
                    self.y -= self.d.gap / 3.0;
                }
            }
        }
    }

    fn hanging(&mut self, size: f32, leading: f32, label: &str, text: &str) {
        let indent = (size * 2.2).max(mm(4.5));
        let (x, width) = self.column;
        self.room(leading);
        let baseline = self.y - leading + (leading - size) / 2.0 + 1.0;
        self.page.text(Face::Regular, size, INK, x, baseline, label);
        self.paragraph(
            (Face::Regular, size, leading, INK),
            x + indent,
            width - indent,
            text,
        );
    }

    /// "<tempat>, <tanggal>", "Yang menyatakan,", the electronic-signature note where a wet
    /// signature would be, the name and the NIP: in the right half, never split.
    fn signature(&mut self) {
        let sheet = self.sheet;
        let d = self.d;
        let column_x = LEFT + WIDTH * 0.55;
        let column_w = RIGHT - column_x;
        let name = self.faces.bold.wrap(sheet.signer_name, d.body, column_w);
        let note_size = d.body - 1.6;
        let note_w = column_w;
        let note: Vec<(Face, String)> = sheet
            .signature_note
            .iter()
            .enumerate()
            .flat_map(|(index, text)| {
                let face = if index == 0 {
                    Face::Bold
                } else {
                    Face::Regular
                };
                self.faces
                    .get(face)
                    .wrap(text, note_size, note_w - 10.0)
                    .into_iter()
                    .map(move |line| (face, line))
            })
            .collect();
        let note_h = note.len() as f32 * (note_size + 3.0) + 7.0;
        let module = (QR_MIN_SIDE / sheet.qr_width as f32).max(QR_MIN_MODULE);
        let qr_side = module * sheet.qr_width as f32;
        let caption_size = 6.6;
        let caption: Vec<String> = sheet
            .qr_caption
            .iter()
            .flat_map(|line| {
                self.faces
                    .regular
                    .wrap(line, caption_size, qr_side + mm(20.0))
            })
            .collect();
        let qr_height = qr_side + 3.0 + caption.len() as f32 * 8.0;
        let height = (d.leading * (3.0 + name.len() as f32) + note_h + 12.0).max(qr_height);
        self.room(height);
        let top = self.y;
        let mut y = self.y;
        let line = |page: &mut Canvas, face: Face, text: &str, y: &mut f32| {
            page.text(face, d.body, INK, column_x, *y - d.body, text);
            *y -= d.leading;
        };
        line(&mut self.page, Face::Regular, sheet.place_and_date, &mut y);
        line(&mut self.page, Face::Regular, "Yang menyatakan,", &mut y);
        y -= 5.0;
        self.page
            .stroke_rect(MUTED, 0.5, column_x, y - note_h, note_w, note_h);
        let mut note_y = y - 4.0;
        for (face, text) in &note {
            self.page.text(
                *face,
                note_size,
                MUTED,
                column_x + 5.0,
                note_y - note_size,
                text,
            );
            note_y -= note_size + 3.0;
        }
        y -= note_h + 6.0;
        for part in &name {
            line(&mut self.page, Face::Bold, part, &mut y);
        }
        line(&mut self.page, Face::Regular, sheet.signer_id, &mut y);
        self.page
            .qr(BLACK, sheet.qr_modules, sheet.qr_width, LEFT, top, module);
        let mut cy = top - qr_side - 3.0;
        for text in &caption {
            self.page.text(
                Face::Regular,
                caption_size,
                MUTED,
                LEFT,
                cy - caption_size,
                text,
            );
            cy -= 8.0;
        }
        self.y -= height;
    }

    /// The height `draw` takes, found by drawing it on a scratch page.
    fn measure(&mut self, draw: impl FnOnce(&mut Self)) -> f32 {
        const FAR: f32 = 1.0e6;
        let page = std::mem::replace(&mut self.page, Canvas::new(self.faces));
        let y = std::mem::replace(&mut self.y, FAR);
        draw(self);
        let height = FAR - self.y;
        self.page = page;
        self.y = y;
        height
    }

    /// The closing block at the foot of the last page, in small type: the legal basis and the
    /// certificate's identifiers under a rule.
    fn closing(&mut self) {
        let sheet = self.sheet;
        let (size, leading) = (6.4, 7.7);
        // Label/value pairs run on in lines ("Nomor sertifikat 00000001   ID sertifikat …").
        let gap = self.faces.regular.width("   ", size);
        let mut lines: Vec<Vec<(&str, &str, f32)>> = vec![Vec::new()];
        let mut width = 0.0;
        for (label, value) in sheet.footer_rows {
            let pair = self.faces.regular.width(label, size)
                + self.faces.regular.width(" ", size)
                + self.faces.regular.width(value, size);
            let line = lines.last_mut().expect("one line at least");
            if !line.is_empty() && width + gap + pair > WIDTH {
                lines.push(Vec::new());
                width = 0.0;
            }
            let line = lines.last_mut().expect("one line at least");
            if !line.is_empty() {
                width += gap;
            }
            line.push((label, value, width));
            width += pair;
        }
        let legal = sheet.legal_basis;
        let legal_height = self.measure(|c| c.blocks(legal, size, leading));
        let rows_height = lines.len() as f32 * leading + 5.0;
        self.y -= self.d.gap * 2.0;
        if legal_height + rows_height > self.y - BOTTOM {
            self.blocks(legal, size, leading);
            self.room(rows_height);
        } else {
            // Pinned to the foot of the page when there is room above it.
            self.y = BOTTOM + legal_height + rows_height;
            self.blocks(legal, size, leading);
        }
        let mut y = BOTTOM + rows_height;
        self.page.rule(MUTED, 0.4, LEFT, RIGHT, y);
        y -= 3.0;
        for line in lines {
            for (label, value, x) in line {
                let value_x = LEFT
                    + x
                    + self.faces.regular.width(label, size)
                    + self.faces.regular.width(" ", size);
                self.page
                    .text(Face::Regular, size, MUTED, LEFT + x, y - size, label);
                self.page
                    .text(Face::Regular, size, INK, value_x, y - size, value);
            }
            y -= leading;
        }
        self.y = BOTTOM;
    }
}
