//! The bytes of a page's content stream, written while the page is drawn.
//!
//! Going through a list of operation values (printpdf's `Op`) and formatting floats with
//! `Display` cost more than the layout itself. Here operands go straight into one buffer:
//! numbers as fixed point with up to three decimals (a thousandth of a point is far below
//! what any device resolves), text as 2-byte glyph codes in literal strings.

/// One page's content stream, not yet compressed.
#[derive(Default)]
pub(super) struct ContentStream {
    bytes: Vec<u8>,
}

/// A number in thousandths, the resolution of everything written here, rounded half away
/// from zero. Adding ±0.5 and truncating is what `f64::round` does, without its call into libm.
pub(super) fn thousandths(value: f32) -> i64 {
    let scaled = f64::from(value) * 1000.0;
    (scaled + 0.5_f64.copysign(scaled)) as i64
}

impl ContentStream {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
        }
    }

    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// An operator and the line end after it, e.g. `b"re f"` or `b"BT"`.
    pub(super) fn operator(&mut self, operator: &[u8]) {
        self.bytes.extend_from_slice(operator);
        self.bytes.push(b'\n');
    }

    /// Raw bytes, for names and fixed operand sequences.
    pub(super) fn raw(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// A number operand followed by a space.
    pub(super) fn number(&mut self, value: f32) {
        self.fixed(thousandths(value));
        self.bytes.push(b' ');
    }

    /// Several number operands, each followed by a space.
    pub(super) fn numbers<const N: usize>(&mut self, values: [f32; N]) {
        for value in values {
            self.number(value);
        }
    }

    /// A number given in thousandths, without a separator: `12345` → `12.345`, `-500` →
    /// `-.5`, `2000` → `2`.
    pub(super) fn fixed(&mut self, thousandths: i64) {
        if thousandths < 0 {
            self.bytes.push(b'-');
        }
        let magnitude = thousandths.unsigned_abs();
        let (whole, mut fraction) = (magnitude / 1000, magnitude % 1000);
        if whole > 0 || fraction == 0 {
            self.integer(whole);
        }
        if fraction > 0 {
            self.bytes.push(b'.');
            let mut digits = 3;
            while fraction % 10 == 0 {
                fraction /= 10;
                digits -= 1;
            }
            let mut buffer = [b'0'; 3];
            for slot in buffer[..digits].iter_mut().rev() {
                *slot = b'0' + (fraction % 10) as u8;
                fraction /= 10;
            }
            self.bytes.extend_from_slice(&buffer[..digits]);
        }
    }

    fn integer(&mut self, mut value: u64) {
        let mut buffer = [0u8; 20];
        let mut at = buffer.len();
        loop {
            at -= 1;
            buffer[at] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.bytes.extend_from_slice(&buffer[at..]);
    }

    /// Opens a literal string of glyph codes: `(`.
    pub(super) fn open_string(&mut self) {
        self.bytes.push(b'(');
    }

    /// Closes a literal string: `)`.
    pub(super) fn close_string(&mut self) {
        self.bytes.push(b')');
    }

    /// One glyph as its 2-byte Identity-H code. Parentheses and backslashes are escaped, and
    /// so are line ends, which a reader would otherwise normalise to a single LF.
    pub(super) fn glyph(&mut self, gid: u16) {
        for byte in gid.to_be_bytes() {
            match byte {
                b'(' | b')' | b'\\' => self.bytes.extend_from_slice(&[b'\\', byte]),
                b'\r' => self.bytes.extend_from_slice(b"\\r"),
                b'\n' => self.bytes.extend_from_slice(b"\\n"),
                _ => self.bytes.push(byte),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut ContentStream)) -> String {
        let mut stream = ContentStream::default();
        f(&mut stream);
        String::from_utf8_lossy(&stream.into_bytes()).into_owned()
    }

    #[test]
    fn numbers_have_at_most_three_decimals_and_no_trailing_zeros() {
        assert_eq!(
            written(|s| s.numbers([0.0, 2.0, 0.5, -0.25, 76.127_78, 595.275_6, -1021.0])),
            "0 2 .5 -.25 76.128 595.276 -1021 "
        );
        assert_eq!(written(|s| s.number(-0.000_4)), "0 ");
        assert_eq!(written(|s| s.fixed(1_000_001)), "1000.001");
    }

    #[test]
    fn glyph_codes_escape_string_delimiters_and_line_ends() {
        let text = written(|s| {
            s.open_string();
            for gid in [0x0024, 0x0028, 0x5C29, 0x0D0A] {
                s.glyph(gid);
            }
            s.close_string();
        });
        assert_eq!(text, "(\0$\0\\(\\\\\\)\\r\\n)");
    }
}
