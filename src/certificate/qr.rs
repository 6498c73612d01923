use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{bits, ec, Color, EcLevel, Version};

/// The largest QR version that still reads when the code is printed 3 cm wide.
pub const MAX_VERSION: i16 = 12;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("the verification link does not fit a QR code of version {MAX_VERSION} at level M")]
    TooLong,
}

/// A QR code as a square of dark (true) and light modules, without the quiet zone.
pub struct QrMatrix {
    width: usize,
    modules: Vec<bool>,
}

impl QrMatrix {
    /// Error correction M: readable with 15% of the code damaged or dirty.
    ///
    /// The mask is fixed instead of scored: `QrCode::new` draws all eight masks and scores each
    /// (about 1.5 ms for our links, more than the signature and the PDF together). A mask only
    /// exists to break up large single-colour areas, and our links end in a signed claim that
    /// reads like random bytes, so the checkerboard mask never yields a worse-reading code; every
    /// reader accepts any of the eight masks because the format bits name it.
    pub fn encode(data: &str) -> Result<Self, QrError> {
        let bits = bits::encode_auto(data.as_bytes(), EcLevel::M).map_err(|_| QrError::TooLong)?;
        let version = bits.version();
        match version {
            Version::Normal(v) if v <= MAX_VERSION => {}
            _ => return Err(QrError::TooLong),
        }
        let (data, ec) = ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M)
            .map_err(|_| QrError::TooLong)?;
        let mut canvas = Canvas::new(version, EcLevel::M);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data, &ec);
        canvas.apply_mask(MaskPattern::Checkerboard);
        let width = version.width() as usize;
        let modules = canvas
            .into_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        Ok(Self { width, modules })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn modules(&self) -> &[bool] {
        &self.modules
    }

    /// The code as an SVG path of merged horizontal runs, for pages (no image files, no script).
    pub fn to_svg(&self) -> String {
        let quiet = 4;
        let size = self.width + 2 * quiet;
        let mut path = String::new();
        for y in 0..self.width {
            let row = &self.modules[y * self.width..(y + 1) * self.width];
            let mut x = 0;
            while x < self.width {
                if row[x] {
                    let start = x;
                    while x < self.width && row[x] {
                        x += 1;
                    }
                    path.push_str(&format!(
                        "M{} {}h{}v1h-{}z",
                        start + quiet,
                        y + quiet,
                        x - start,
                        x - start
                    ));
                } else {
                    x += 1;
                }
            }
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"Kode QR\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
        )
    }
}

/// `{base}/v/{id}#{claim}`: the page opens from the path; the claim rides in the fragment.
pub fn verify_link(base_url: &str, certificate_id: &str, encoded_claim: &str) -> String {
    format!(
        "{}/v/{}#{}",
        base_url.trim_end_matches('/'),
        certificate_id,
        encoded_claim
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typical_link_fits_version_12_at_level_m() {
        let claim = "A".repeat(330);
        let link = verify_link("https://ikrar.sulselprov.go.id", "ABCDEFGHIJKLMNOP", &claim);
        let qr = QrMatrix::encode(&link).unwrap();
        assert!(qr.width() <= 17 + 4 * MAX_VERSION as usize);
        assert!(qr.to_svg().starts_with("<svg"));
        assert!(QrMatrix::encode(&"a".repeat(2000)).is_err());
    }
}
