//! The PDF file around the pages: numbered objects, a classic cross-reference table and the
//! trailer, written in one pass into one buffer.
//!
//! The layout is the simplest a reader accepts and the one `pdf_signature.rs` appends its
//! incremental update to: `n 0 obj … endobj` in ascending order, one `xref` section starting
//! at object 0, a trailer with `/Size`, `/Root`, `/Info` and `/ID`.

use std::fmt::Write as _;

/// A PDF being written. Objects must be added in the order of their numbers, starting at 1.
pub(super) struct PdfFile {
    bytes: Vec<u8>,
    /// Byte offset of each object, object 1 first.
    offsets: Vec<usize>,
}

impl PdfFile {
    /// A file with the header for PDF 1.4 (`/Lang` and `/DisplayDocTitle` are 1.4 keys).
    pub(super) fn new(capacity: usize) -> Self {
        let mut bytes = Vec::with_capacity(capacity);
        // The comment of four bytes above 127 tells transfer programs the file is binary.
        bytes.extend_from_slice(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
        Self {
            bytes,
            offsets: Vec::new(),
        }
    }

    /// A file that begins with `bytes`, a header and objects 1 to `offsets.len()` written
    /// earlier by another `PdfFile` (see [`PdfFile::into_parts`]).
    pub(super) fn starting_with(bytes: &[u8], offsets: &[usize], capacity: usize) -> Self {
        let mut copy = Vec::with_capacity(capacity.max(bytes.len()));
        copy.extend_from_slice(bytes);
        Self {
            bytes: copy,
            offsets: offsets.to_vec(),
        }
    }

    /// The bytes and object offsets written so far, to start other files with.
    pub(super) fn into_parts(self) -> (Vec<u8>, Vec<usize>) {
        (self.bytes, self.offsets)
    }

    /// The number the next object gets.
    pub(super) fn next_object(&self) -> u32 {
        self.offsets.len() as u32 + 1
    }

    /// Writes object `number`, whose value is `body` (a dictionary or array in PDF syntax).
    pub(super) fn object(&mut self, number: u32, body: &[u8]) {
        self.begin(number);
        self.bytes.extend_from_slice(body);
        self.bytes.extend_from_slice(b"\nendobj\n");
    }

    /// Writes object `number` as a stream of already deflated `data`. `extra` holds further
    /// dictionary entries, e.g. `/Length1 1234`.
    pub(super) fn deflated_stream(&mut self, number: u32, extra: &str, data: &[u8]) {
        self.begin(number);
        let _ = write!(
            Bytes(&mut self.bytes),
            "<</Length {}/Filter/FlateDecode{extra}>>\nstream\n",
            data.len()
        );
        self.bytes.extend_from_slice(data);
        self.bytes.extend_from_slice(b"\nendstream\nendobj\n");
    }

    fn begin(&mut self, number: u32) {
        assert_eq!(
            number,
            self.next_object(),
            "PDF objects are written in order"
        );
        self.offsets.push(self.bytes.len());
        let _ = writeln!(Bytes(&mut self.bytes), "{number} 0 obj");
    }

    /// Appends the cross-reference table and the trailer and returns the file.
    pub(super) fn finish(mut self, root: u32, info: u32, id: &[u8; 16]) -> Vec<u8> {
        let xref_at = self.bytes.len();
        let size = self.offsets.len() + 1;
        let mut out = Bytes(&mut self.bytes);
        let _ = write!(out, "xref\n0 {size}\n0000000000 65535 f \n");
        for offset in &self.offsets {
            let _ = writeln!(out, "{offset:010} 00000 n ");
        }
        let id = data_encoding::HEXUPPER.encode(id);
        let _ = write!(
            out,
            "trailer\n<</Size {size}/Root {root} 0 R/Info {info} 0 R/ID[<{id}><{id}>]>>\n\
             startxref\n{xref_at}\n%%EOF\n"
        );
        self.bytes
    }
}

/// `fmt::Write` into a byte buffer, for the few formatted pieces of the file structure.
pub(super) struct Bytes<'a>(pub(super) &'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A text string (ISO 32000-1 §7.9.2): ASCII as a literal string, so that it can be found in
/// the file as it is; anything else as UTF-16BE with a byte order mark.
pub(super) fn text_string(out: &mut Vec<u8>, text: &str) {
    if text.is_ascii() {
        out.push(b'(');
        for byte in text.bytes() {
            match byte {
                b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', byte]),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x20..=0x7E => out.push(byte),
                _ => {
                    let _ = write!(Bytes(out), "\\{byte:03o}");
                }
            }
        }
        out.push(b')');
    } else {
        out.extend_from_slice(b"<FEFF");
        for unit in text.encode_utf16() {
            let _ = write!(Bytes(out), "{unit:04X}");
        }
        out.push(b'>');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(text: &str) -> String {
        let mut out = Vec::new();
        text_string(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_strings_are_literal_for_ascii_and_utf16_otherwise() {
        assert_eq!(string("ikrar-certificate:ABC"), "(ikrar-certificate:ABC)");
        assert_eq!(string("a(b)\\c\n\u{7}"), "(a\\(b\\)\\\\c\\n\\007)");
        assert_eq!(
            string("Pakta “é”"),
            "<FEFF00500061006B007400610020201C00E9201D>"
        );
    }

    #[test]
    fn the_cross_reference_table_points_at_every_object() {
        let mut file = PdfFile::new(0);
        file.object(1, b"<</Type/Catalog/Pages 2 0 R>>");
        file.object(2, b"<</Type/Pages/Kids[]/Count 0>>");
        file.deflated_stream(3, "/Length1 1", b"x");
        let bytes = file.finish(1, 2, &[0xAB; 16]);
        // Offsets count bytes; the header's binary comment would not survive as text.
        let header = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".len();
        assert!(bytes.starts_with(b"%PDF-1.4\n"));
        let text = String::from_utf8(bytes[header..].to_vec()).unwrap();
        let at = |offset: usize| &text[offset - header..];
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|tail| tail.lines().next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(at(xref_at).starts_with("xref\n0 4\n"));
        for (number, line) in at(xref_at).lines().skip(3).take(3).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(at(offset).starts_with(&format!("{} 0 obj\n", number + 1)));
            assert_eq!(line.len(), 19, "entries are 20 bytes with their line end");
        }
        assert!(text.contains("/Size 4/Root 1 0 R/Info 2 0 R/ID[<ABAB"));
        assert!(text.ends_with("%%EOF\n"));
    }
}
