//! The issuing authority of a campaign: the government body whose letterhead (kop surat) heads
//! every certificate of the campaign, e.g. "Pemerintah Provinsi Sulawesi Selatan, Badan
//! Kepegawaian Daerah", and the place ("Makassar") the statement is dated in.

use std::fmt;
use std::sync::Arc;

/// Largest logo file accepted. A letterhead logo prints about 2 cm wide; 256 KB is ample for a
/// PNG of that size at print resolution and keeps each certificate small.
pub const LOGO_MAX_BYTES: usize = 256 * 1024;
/// Largest logo side in pixels: 2 cm at 600 dpi is 472 px, so 1,024 leaves room.
pub const LOGO_MAX_SIDE: u32 = 1024;

/// Why an authority field or logo was refused; the messages are shown to the admin as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    #[error("{0} tidak boleh kosong")]
    Empty(AuthorityField),
    #[error("{field} terlalu panjang ({len} karakter; paling banyak {max})")]
    TooLong {
        field: AuthorityField,
        len: usize,
        max: usize,
    },
    #[error("{0} memuat karakter kendali yang tidak dapat dicetak")]
    Control(AuthorityField),
    #[error("berkas logo terlalu besar ({0} bita; paling besar 256 KB)")]
    LogoTooLarge(usize),
    #[error("berkas logo bukan gambar PNG")]
    LogoNotPng,
    #[error("gambar logo tidak dapat dibaca: {0}")]
    LogoUnreadable(String),
    #[error("ukuran logo {width}×{height} piksel; sisi terpanjang paling banyak 1024 piksel")]
    LogoDimensions { width: u32, height: u32 },
}

/// The text fields of an authority, named as the admin page labels them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorityField {
    Name,
    Office,
    Address,
    Place,
}

impl AuthorityField {
    const fn max_chars(self) -> usize {
        match self {
            Self::Name | Self::Office => 120,
            Self::Address => 200,
            Self::Place => 60,
        }
    }
}

impl fmt::Display for AuthorityField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Name => "nama instansi penerbit",
            Self::Office => "nama perangkat daerah/kantor",
            Self::Address => "alamat kantor",
            Self::Place => "tempat penandatanganan",
        })
    }
}

/// A campaign's issuing authority, every field checked: non-empty single-line text within its
/// length, and a logo that decodes as a PNG of sensible size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuingAuthority {
    name: String,
    office: String,
    address: String,
    place: String,
    logo: Option<AuthorityLogo>,
}

impl IssuingAuthority {
    /// Parses the four text fields (white space folded) and the optional logo file.
    pub fn parse(
        name: &str,
        office: &str,
        address: &str,
        place: &str,
        logo: Option<AuthorityLogo>,
    ) -> Result<Self, AuthorityError> {
        Ok(Self {
            name: line(AuthorityField::Name, name)?,
            office: line(AuthorityField::Office, office)?,
            address: line(AuthorityField::Address, address)?,
            place: line(AuthorityField::Place, place)?,
            logo,
        })
    }

    /// "Pemerintah Provinsi Sulawesi Selatan": the top line of the letterhead.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// "Badan Kepegawaian Daerah": the office that issues, the letterhead's large line.
    pub fn office(&self) -> &str {
        &self.office
    }

    /// The office's postal address, one line under the office.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The city a statement is dated in: "Makassar, 15 November 2023".
    pub fn place(&self) -> &str {
        &self.place
    }

    pub fn logo(&self) -> Option<&AuthorityLogo> {
        self.logo.as_ref()
    }
}

fn line(field: AuthorityField, raw: &str) -> Result<String, AuthorityError> {
    if raw.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(AuthorityError::Control(field));
    }
    let folded = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        return Err(AuthorityError::Empty(field));
    }
    let len = folded.chars().count();
    let max = field.max_chars();
    if len > max {
        return Err(AuthorityError::TooLong { field, len, max });
    }
    Ok(folded)
}

/// A PNG logo that decodes, at most [`LOGO_MAX_BYTES`] and [`LOGO_MAX_SIDE`] pixels a side.
/// The file is kept as uploaded (the verify page and emails can show it as it is).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorityLogo {
    png: Arc<[u8]>,
    width: u32,
    height: u32,
}

impl fmt::Debug for AuthorityLogo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AuthorityLogo({}×{}, {} bytes)",
            self.width,
            self.height,
            self.png.len()
        )
    }
}

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

impl AuthorityLogo {
    /// Checks an uploaded file: size, PNG signature, and that the whole image decodes.
    pub fn parse(bytes: &[u8]) -> Result<Self, AuthorityError> {
        if bytes.len() > LOGO_MAX_BYTES {
            return Err(AuthorityError::LogoTooLarge(bytes.len()));
        }
        if !bytes.starts_with(PNG_SIGNATURE) {
            return Err(AuthorityError::LogoNotPng);
        }
        let logo = Self {
            png: Arc::from(bytes),
            width: 0,
            height: 0,
        };
        let (width, height, _) = logo.rgba()?;
        if width.max(height) > LOGO_MAX_SIDE {
            return Err(AuthorityError::LogoDimensions { width, height });
        }
        Ok(Self {
            width,
            height,
            ..logo
        })
    }

    /// The PNG file as uploaded.
    pub fn png(&self) -> &[u8] {
        &self.png
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Decodes the image to 8-bit RGBA pixels, row by row from the top.
    pub fn rgba(&self) -> Result<(u32, u32, Vec<u8>), AuthorityError> {
        let unreadable = |e: png::DecodingError| AuthorityError::LogoUnreadable(e.to_string());
        let mut decoder = png::Decoder::new(&self.png[..]);
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().map_err(unreadable)?;
        let (width, height) = (reader.info().width, reader.info().height);
        if width.max(height) > LOGO_MAX_SIDE {
            return Err(AuthorityError::LogoDimensions { width, height });
        }
        let mut buffer = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut buffer).map_err(unreadable)?;
        buffer.truncate(frame.buffer_size());
        let rgba = match frame.color_type {
            png::ColorType::Rgba => buffer,
            png::ColorType::Rgb => buffer
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            png::ColorType::GrayscaleAlpha => buffer
                .chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
            png::ColorType::Grayscale => buffer.iter().flat_map(|&g| [g, g, g, 255]).collect(),
            png::ColorType::Indexed => {
                return Err(AuthorityError::LogoUnreadable(
                    "palet warna tidak terurai".into(),
                ))
            }
        };
        Ok((width, height, rgba))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_folded_and_bounded() {
        let a = IssuingAuthority::parse(
            " Pemerintah  Provinsi Sulawesi Selatan ",
            "Badan Kepegawaian Daerah",
            "Jalan Urip Sumoharjo No. 269, Makassar 90231",
            "Makassar",
            None,
        )
        .unwrap();
        assert_eq!(a.name(), "Pemerintah Provinsi Sulawesi Selatan");
        assert_eq!(
            IssuingAuthority::parse("x", " ", "a", "b", None),
            Err(AuthorityError::Empty(AuthorityField::Office))
        );
        assert!(matches!(
            IssuingAuthority::parse("x", "y", "a", &"b".repeat(61), None),
            Err(AuthorityError::TooLong { max: 60, .. })
        ));
    }

    #[test]
    fn a_logo_must_be_a_png_that_decodes() {
        assert_eq!(
            AuthorityLogo::parse(b"GIF89a...."),
            Err(AuthorityError::LogoNotPng)
        );
        assert!(matches!(
            AuthorityLogo::parse(b"\x89PNG\r\n\x1a\nbroken"),
            Err(AuthorityError::LogoUnreadable(_))
        ));
        assert_eq!(
            AuthorityLogo::parse(&vec![0; LOGO_MAX_BYTES + 1]),
            Err(AuthorityError::LogoTooLarge(LOGO_MAX_BYTES + 1))
        );
        let logo = AuthorityLogo::parse(include_bytes!("../../assets/logo/kop-demo.png")).unwrap();
        let (w, h, rgba) = logo.rgba().unwrap();
        assert_eq!(rgba.len(), (w * h * 4) as usize);
    }
}
