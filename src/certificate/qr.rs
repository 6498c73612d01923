use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{bits, ec, Color, EcLevel, Version};

/// The largest QR version we draw. The claim's numeric encoding keeps a 60-character name at
/// version 10 and a 120-character one at 12 (with a 40-character base URL); the worst name the
/// roster accepts (120 characters, each outside the 6-bit name alphabet) needs about version 18. The
/// certificate enlarges the code's modules to a minimum size, so every accepted name prints.
pub const MAX_VERSION: i16 = 22;

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

    /// The QR version (1–40): the width is 17 + 4 × version modules.
    pub fn version(&self) -> usize {
        (self.width - 17) / 4
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
    use crate::crypto::{IssuerKey, SignedRecord};
    use crate::domain::CertificateId;

    /// A 40-character base URL, as the acceptance figures assume.
    const BASE: &str = "https://pakta.bkd.sulselprov.go.id/ikrar";

    fn link_for_name(name: &str) -> String {
        let key = IssuerKey::from_seed([1; 32]);
        let record = SignedRecord {
            certificate_id: CertificateId::parse("ABCDEFGHIJKLMNOP").unwrap(),
            serial: 1_234_567,
            key_id: key.id(),
            campaign_id: "k7q2m4xa".into(),
            document_sha256: [9; 32],
            signed_at: 1_700_015_400,
            signer_name: name.into(),
            signer_nip: Some("198503302010012004".into()),
            signer_nik: "7371015503850001".into(),
            position: "Guru Ahli Muda".into(),
            agency: "Dinas Pendidikan".into(),
            unit: "SMP Negeri 1".into(),
            employee_type: "PNS".into(),
            village_code: "73.71.01.1001".into(),
            record_salt: [3; 16],
        };
        let claim = record.claim();
        let signature = key.sign(&claim.signing_message());
        verify_link(BASE, "ABCDEFGHIJKLMNOP", &claim.encode_signed(&signature))
    }

    fn name_of(len: usize, filler: &str) -> String {
        let titled = format!("Prof. Dr. Ir. H. {} , S.H., M.Si.", filler.repeat(120));
        titled.chars().take(len).collect()
    }

    #[test]
    fn names_of_60_and_120_characters_stay_at_versions_10_and_13() {
        assert_eq!(BASE.len(), 40);
        let v60 = QrMatrix::encode(&link_for_name(&name_of(60, "Andi "))).unwrap();
        let v120 = QrMatrix::encode(&link_for_name(&name_of(120, "Andi "))).unwrap();
        assert!(
            v60.version() <= 10,
            "60 characters: version {}",
            v60.version()
        );
        assert!(
            v120.version() <= 13,
            "120 characters: version {}",
            v120.version()
        );
        assert!(v60.to_svg().starts_with("<svg"));
    }

    #[test]
    fn the_worst_name_the_roster_accepts_still_fits() {
        // Every character needs the 24-bit escape of the name code.
        let worst = QrMatrix::encode(&link_for_name(&"Ṣ".repeat(120))).unwrap();
        assert!(worst.version() <= MAX_VERSION as usize);
        assert!(QrMatrix::encode(&"a".repeat(2000)).is_err());
    }

    #[test]
    fn the_link_is_a_plain_https_url_with_the_claim_in_digits() {
        let link = link_for_name("Andi");
        let (page, fragment) = link.split_once('#').unwrap();
        assert_eq!(page, format!("{BASE}/v/ABCDEFGHIJKLMNOP"));
        assert!(fragment.bytes().all(|b| b.is_ascii_digit()));
    }
}
