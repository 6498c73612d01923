//! Invitation slips as an A4 sheet of eight cut-out cards (two columns, four rows), drawn with the
//! certificate's own canvas and fonts. Each card carries the employee's name and masked NIP or
//! NIK, a QR code that opens sign-in with the card's one-time code, the same code to type, the
//! campaign's closing date and where to get help.

use super::pdf::canvas::{Canvas, Rgb3};
use super::pdf::fonts::{self, Face, Faces};
use super::pdf::{file, FileInfo, PdfError};
use super::{CertificateError, QrMatrix};

/// One card.
pub struct Slip<'a> {
    pub name: &'a str,
    /// "NIP 1985**********1004": masked, since the card passes through other hands.
    pub identity: &'a str,
    /// "Dinas Pendidikan · SMP Negeri 1", so that whoever hands the cards out finds the person.
    pub workplace: &'a str,
    /// "7K3M-Q9TD-2HXW".
    pub code: &'a str,
    /// What the QR code opens.
    pub link: &'a str,
    /// "Rabu, 31 Januari 2024 pukul 23.59 WITA", in the employee's own zone.
    pub valid_until: &'a str,
}

/// Everything the sheet prints besides the cards.
pub struct SlipSheet<'a> {
    pub campaign_title: &'a str,
    pub campaign_id: &'a str,
    /// "ikrar.sulselprov.go.id/masuk/undangan": where to type the code without a camera.
    pub sign_in_address: &'a str,
    pub helpdesk: &'a str,
    pub slips: &'a [Slip<'a>],
}

const fn mm(v: f32) -> f32 {
    v * 72.0 / 25.4
}
const PAGE_W: f32 = mm(210.0);
const PAGE_H: f32 = mm(297.0);
const COLUMNS: usize = 2;
const ROWS: usize = 4;
const CARD_W: f32 = PAGE_W / COLUMNS as f32;
const CARD_H: f32 = PAGE_H / ROWS as f32;
const PAD: f32 = mm(6.0);
/// 31 mm: a version 4 symbol's modules come out near 0.9 mm, which a phone reads from arm's
/// length and zbarimg from a 100-dpi scan.
const QR_SIDE: f32 = mm(31.0);

const NAVY: Rgb3 = [0.075, 0.176, 0.361];
const INK: Rgb3 = [0.11, 0.114, 0.125];
const MUTED: Rgb3 = [0.365, 0.384, 0.427];
const CUT: Rgb3 = [0.6, 0.6, 0.6];
const BLACK: Rgb3 = [0.0, 0.0, 0.0];

/// The sheet as PDF bytes: as many pages as eight cards a page need.
pub fn render_slips(sheet: &SlipSheet<'_>) -> Result<Vec<u8>, CertificateError> {
    let faces = fonts::faces()?;
    let mut pages = Vec::new();
    for cards in sheet.slips.chunks(COLUMNS * ROWS) {
        let mut page = Canvas::new(faces);
        for (index, slip) in cards.iter().enumerate() {
            let x = (index % COLUMNS) as f32 * CARD_W;
            let top = PAGE_H - (index / COLUMNS) as f32 * CARD_H;
            card(&mut page, faces, sheet, slip, x, top)?;
        }
        pages.push(page.finish());
    }
    let title = format!("Kartu undangan: {}", sheet.campaign_title);
    let subject = format!("ikrar-undangan:{}", sheet.campaign_id);
    Ok(file::write(
        faces,
        pages,
        None,
        &FileInfo {
            title: &title,
            author: "ikrar",
            subject: &subject,
            lang: "id-ID",
            attachment: None,
        },
    )?)
}

/// Draws one card with its top-left corner at (`x`, `top`).
fn card(
    page: &mut Canvas<'_>,
    faces: &Faces,
    sheet: &SlipSheet<'_>,
    slip: &Slip<'_>,
    x: f32,
    top: f32,
) -> Result<(), CertificateError> {
    // The cutting line: a thin grey frame that the scissors follow.
    page.stroke_rect(CUT, 0.4, x, top - CARD_H, CARD_W, CARD_H);
    let left = x + PAD;
    let width = CARD_W - 2.0 * PAD;
    let qr = QrMatrix::encode(slip.link)?;
    if qr.modules().len() != qr.width() * qr.width() {
        return Err(PdfError::QrShape {
            len: qr.modules().len(),
            width: qr.width(),
        }
        .into());
    }
    let module = QR_SIDE / qr.width() as f32;
    let qr_x = x + CARD_W - PAD - QR_SIDE;
    page.qr(BLACK, qr.modules(), qr.width(), qr_x, top - PAD, module);
    page.text_centred(
        Face::Regular,
        6.0,
        MUTED,
        qr_x + QR_SIDE / 2.0,
        top - PAD - QR_SIDE - 7.0,
        "Pindai untuk masuk",
    );

    // The text column beside the QR code.
    let column = width - QR_SIDE - mm(3.0);
    // (face, size, colour, text, space above): at most two lines each.
    let column_lines: [(Face, f32, Rgb3, &str, f32); 7] = [
        (Face::Bold, 8.0, NAVY, "KARTU UNDANGAN", 0.0),
        (Face::Regular, 6.5, MUTED, sheet.campaign_title, 0.0),
        (Face::Bold, 9.5, INK, slip.name, 3.0),
        (Face::Regular, 7.5, INK, slip.identity, 0.0),
        (Face::Regular, 6.5, MUTED, slip.workplace, 0.0),
        (Face::Regular, 6.5, MUTED, "Kode undangan:", 3.0),
        (Face::Bold, 13.0, INK, slip.code, 0.0),
    ];
    let mut y = top - PAD;
    for (face, size, color, text, above) in column_lines {
        y -= above;
        for part in faces.get(face).wrap(text, size, column).into_iter().take(2) {
            page.text(face, size, color, left, y - size, &part);
            y -= size * 1.3;
        }
    }

    // Under both, across the card: validity, how to use it, and help.
    let mut y = y.min(top - PAD - QR_SIDE - 10.0) - 3.0;
    let how = format!(
        "Pindai kode QR dengan ponsel, atau buka {} lalu ketik kode di atas. Kode hanya dapat \
         dipakai satu kali; jangan berikan kartu ini kepada orang lain.",
        sheet.sign_in_address
    );
    let until = format!("Berlaku sampai {}.", slip.valid_until);
    let help = format!("Bantuan: {}", sheet.helpdesk);
    for (face, text) in [
        (Face::Bold, until.as_str()),
        (Face::Regular, how.as_str()),
        (Face::Regular, help.as_str()),
    ] {
        for part in faces.get(face).wrap(text, 6.5, width) {
            if y - 6.5 < top - CARD_H + mm(3.0) {
                break;
            }
            page.text(face, 6.5, INK, left, y - 6.5, &part);
            y -= 8.2;
        }
    }
    Ok(())
}
