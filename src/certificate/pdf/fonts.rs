//! The two DejaVu Sans faces a certificate is set in, parsed once per process, and the text
//! measuring that line breaking needs.
//!
//! printpdf measures text only on its HTML path, which a certificate does not take; the widths
//! here come from the same parsed font's advances, so what is measured is what is drawn.

use std::sync::OnceLock;

use printpdf::{FontId, ParsedFont};

use super::PdfError;

/// Which face a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Regular,
    Bold,
}

/// One parsed face and its advance widths.
pub struct FontFace {
    pub parsed: ParsedFont,
    /// Resource name and, by its first six capitals, the subset tag (`IKRREG+DejaVuSans`). Fixed
    /// so that the same certificate gives the same bytes.
    pub id: &'static str,
    /// Advances of the characters below [`TABLE_LEN`], in thousandths of an em.
    table: Vec<u16>,
    /// Whether the face has a glyph for each character below [`TABLE_LEN`]: roster import asks
    /// for every character of millions of rows.
    drawn: Vec<bool>,
    units_per_em: f32,
}

/// Latin, Latin-1 and Latin Extended-A/B: what Indonesian text and names mostly use. Other
/// characters are looked up in the font on each use.
const TABLE_LEN: usize = 0x250;

impl FontFace {
    fn parse(bytes: &[u8], id: &'static str, name: &'static str) -> Result<Self, PdfError> {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings).ok_or(PdfError::Font(name))?;
        let units_per_em = f32::from(parsed.font_metrics.units_per_em.max(1));
        let mut face = Self {
            parsed,
            id,
            table: Vec::new(),
            drawn: Vec::new(),
            units_per_em,
        };
        face.drawn = (0..TABLE_LEN as u32).map(|c| face.has_glyph(c)).collect();
        face.table = (0..TABLE_LEN as u32)
            .map(|c| char::from_u32(c).map_or(0, |c| face.lookup(c)))
            .collect();
        Ok(face)
    }

    fn lookup(&self, c: char) -> u16 {
        let glyph = self.parsed.lookup_glyph_index(c as u32).unwrap_or(0);
        let advance = f32::from(self.parsed.get_horizontal_advance(glyph));
        (advance * 1000.0 / self.units_per_em).round() as u16
    }

    /// Whether the face has a glyph of its own for `c` (not the missing-glyph box).
    pub fn draws(&self, c: char) -> bool {
        match self.drawn.get(c as usize) {
            Some(&drawn) => drawn,
            None => self.has_glyph(c as u32),
        }
    }

    fn has_glyph(&self, code_point: u32) -> bool {
        self.parsed
            .lookup_glyph_index(code_point)
            .is_some_and(|g| g != 0)
    }

    /// Advance of one character in thousandths of an em (the missing-glyph box's for characters
    /// the font lacks).
    pub fn advance(&self, c: char) -> u16 {
        self.table
            .get(c as usize)
            .copied()
            .unwrap_or_else(|| self.lookup(c))
    }

    /// Width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let thousandths: u32 = text.chars().map(|c| u32::from(self.advance(c))).sum();
        thousandths as f32 * size / 1000.0
    }

    pub fn font_id(&self) -> FontId {
        FontId(self.id.to_string())
    }

    /// Breaks `text` into lines no wider than `max` points at `size`: greedily at spaces, and
    /// inside a word only when the word alone is wider than a line (a long unbroken name or URL
    /// must wrap too, never run off the page).
    pub fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let space = self.width(" ", size);
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut line_width = 0.0;
        for word in text.split_whitespace() {
            let word_width = self.width(word, size);
            if !line.is_empty() && line_width + space + word_width <= max {
                line.push(' ');
                line.push_str(word);
                line_width += space + word_width;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if word_width <= max {
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            // A word wider than the line: as many characters as fit on each line.
            line_width = 0.0;
            for c in word.chars() {
                let w = f32::from(self.advance(c)) * size / 1000.0;
                if !line.is_empty() && line_width + w > max {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(c);
                line_width += w;
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// Both faces, parsed from the fonts compiled into the binary.
pub struct Faces {
    pub regular: FontFace,
    pub bold: FontFace,
}

impl Faces {
    pub fn get(&self, face: Face) -> &FontFace {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }
}

/// The faces, parsed on first use (about 1.2 ms each) and shared by every later certificate.
pub fn faces() -> Result<&'static Faces, PdfError> {
    static FACES: OnceLock<Result<Faces, PdfError>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Ok(Faces {
                regular: FontFace::parse(
                    include_bytes!("../../../assets/fonts/DejaVuSans.ttf"),
                    "IKRREG",
                    "DejaVuSans.ttf",
                )?,
                bold: FontFace::parse(
                    include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf"),
                    "IKRBLD",
                    "DejaVuSans-Bold.ttf",
                )?,
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_and_names_wrap_within_the_width() {
        let faces = faces().unwrap();
        let name = "Prof. Dr. Ir. H. Andi Muhammad Nurdin Abdullah Sulaiman Rahmatullah, S.H., M.Si., M.Kn. Bin Abdurrahman Wahid Al-Makassari";
        for line in faces.bold.wrap(name, 10.0, 150.0) {
            assert!(faces.bold.width(&line, 10.0) <= 150.0, "{line}");
        }
        let url =
            "https://ikrar.example.go.id/v/ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let lines = faces.regular.wrap(url, 8.0, 100.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), url);
        assert_eq!(faces.regular.wrap("", 8.0, 100.0), vec![String::new()]);
    }
}
