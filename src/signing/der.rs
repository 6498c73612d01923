//! Just enough ASN.1 DER to write the issuer's X.509 certificate and the CMS signature of a PDF,
//! and to read back the few CMS fields upload verification needs.
//!
//! Hand-built on purpose: the structures are fixed and small, every length is definite, and a
//! reader that accepts only what we write is a smaller attack surface than a general BER parser.

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const OID: u8 = 0x06;
pub const UTF8_STRING: u8 = 0x0c;
pub const PRINTABLE_STRING: u8 = 0x13;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;
pub const BOOLEAN: u8 = 0x01;

/// `[n]` constructed, context-specific.
pub const fn context(n: u8) -> u8 {
    0xa0 | n
}

/// One TLV: the tag, the definite length, the content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A constructed value from already encoded parts, in the order given.
pub fn seq(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// A DER `SET OF`: the elements sorted by their encodings (X.690 11.6).
pub fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    tlv(SET, &elements.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = {
        let skip = magnitude.iter().take_while(|&&b| b == 0).count();
        &magnitude[skip.min(magnitude.len().saturating_sub(1))..]
    };
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(INTEGER, &content)
}

/// An OBJECT IDENTIFIER from its arcs.
pub fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut content = Vec::new();
    let mut push = |mut value: u64| {
        let mut chunk = [0u8; 10];
        let mut n = chunk.len();
        loop {
            n -= 1;
            chunk[n] = (value & 0x7f) as u8 | if n == chunk.len() - 1 { 0 } else { 0x80 };
            value >>= 7;
            if value == 0 {
                break;
            }
        }
        content.extend_from_slice(&chunk[n..]);
    };
    push(arcs[0] * 40 + arcs[1]);
    for &arc in &arcs[2..] {
        push(arc);
    }
    tlv(OID, &content)
}

/// A BIT STRING holding whole bytes.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(BIT_STRING, &content)
}

/// RFC 5280 time: UTCTime through 2049, GeneralizedTime from 2050 on.
pub fn time(unix_seconds: i64) -> Vec<u8> {
    let at = chrono::DateTime::from_timestamp(unix_seconds, 0).unwrap_or_default();
    if at.format("%Y").to_string().as_str() < "2050" {
        tlv(UTC_TIME, at.format("%y%m%d%H%M%SZ").to_string().as_bytes())
    } else {
        tlv(
            GENERALIZED_TIME,
            at.format("%Y%m%d%H%M%SZ").to_string().as_bytes(),
        )
    }
}

/// Why a DER value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed DER: {0}")]
pub struct DerError(pub &'static str);

/// A cursor over a run of DER values.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

/// One value read: its tag, its content and its whole encoding.
#[derive(Clone, Copy)]
pub struct Value<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub encoded: &'a [u8],
}

impl<'a> Value<'a> {
    /// The value's content as a run of values.
    pub fn children(&self) -> Reader<'a> {
        Reader::new(self.content)
    }
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads the next value, whatever its tag.
    pub fn any(&mut self) -> Result<Value<'a>, DerError> {
        let bytes = self.rest;
        let (&tag, after_tag) = bytes.split_first().ok_or(DerError("value expected"))?;
        if tag & 0x1f == 0x1f {
            return Err(DerError("multi-byte tags are not used"));
        }
        let (&first, after_len) = after_tag.split_first().ok_or(DerError("length missing"))?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || after_len.len() < n {
                return Err(DerError("length not definite"));
            }
            let len = after_len[..n]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 || after_len[0] == 0 {
                return Err(DerError("length not minimal"));
            }
            (len, 2 + n)
        };
        let end = header
            .checked_add(len)
            .filter(|&end| end <= bytes.len())
            .ok_or(DerError("value runs past its container"))?;
        self.rest = &bytes[end..];
        Ok(Value {
            tag,
            content: &bytes[header..end],
            encoded: &bytes[..end],
        })
    }

    /// Reads the next value and insists on its tag.
    pub fn expect(&mut self, tag: u8) -> Result<Value<'a>, DerError> {
        let value = self.any()?;
        if value.tag == tag {
            Ok(value)
        } else {
            Err(DerError("unexpected tag"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_x690_examples() {
        assert_eq!(oid(&[1, 3, 101, 112]), [0x06, 0x03, 0x2b, 0x65, 0x70]);
        assert_eq!(
            oid(&[2, 16, 840, 1, 101, 3, 4, 2, 3]),
            [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03]
        );
        assert_eq!(unsigned_integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned_integer(&[0, 0, 5]), [0x02, 0x01, 0x05]);
        assert_eq!(tlv(OCTET_STRING, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(time(0), tlv(UTC_TIME, b"700101000000Z"));
        assert_eq!(
            time(4_102_444_800),
            tlv(GENERALIZED_TIME, b"21000101000000Z")
        );
        let long = tlv(SEQUENCE, &[7; 300]);
        let value = Reader::new(&long).expect(SEQUENCE).unwrap();
        assert_eq!(value.content.len(), 300);
        assert!(Reader::new(&long[..long.len() - 1]).any().is_err());
    }
}
