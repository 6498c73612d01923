//! A signer's name in 6-bit symbols instead of UTF-8 bytes: the roster's names are Latin letters,
//! spaces and the punctuation of titles (`Prof. Dr. Ir. H. Andi …, S.H., M.Si.`), so a 60-character
//! name takes 45 bytes instead of 60, which keeps the QR at version 10. Any other character is
//! written as an escape and its Unicode scalar value, so every name round-trips exactly.

/// Symbols 0–60 stand for these characters.
const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,'-`’()";
/// The next 2 symbols (12 bits) are a code point below U+1000 (Latin Extended, Greek, Cyrillic).
const ESCAPE_12: u32 = 61;
/// The next 4 symbols (24 bits) are any code point.
const ESCAPE_24: u32 = 62;

fn symbol_of(c: char) -> Option<u32> {
    ALPHABET.chars().position(|a| a == c).map(|i| i as u32)
}

/// The name's symbols, most significant bit first, then one-bits up to a byte boundary (at most
/// 7; a real symbol is never all ones, so the padding cannot be read as one).
pub fn encode(name: &str) -> Vec<u8> {
    let mut bits = BitWriter::default();
    for c in name.chars() {
        match symbol_of(c) {
            Some(s) => bits.push(s, 6),
            None if (c as u32) < 0x1000 => {
                bits.push(ESCAPE_12, 6);
                bits.push(c as u32, 12);
            }
            None => {
                bits.push(ESCAPE_24, 6);
                bits.push(c as u32, 24);
            }
        }
    }
    bits.finish()
}

/// The inverse of [`encode`]; `None` for bits `encode` cannot have written.
pub fn decode(bytes: &[u8]) -> Option<String> {
    let total = bytes.len() * 8;
    let bit = |i: usize| (bytes[i / 8] >> (7 - i % 8)) & 1;
    let read = |at: usize, n: usize| (at..at + n).fold(0u32, |v, i| (v << 1) | u32::from(bit(i)));
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    let mut name = String::new();
    let mut at = 0;
    loop {
        let left = total - at;
        if left < 8 && (at..total).all(|i| bit(i) == 1) {
            return Some(name);
        }
        if left < 6 {
            return None;
        }
        let symbol = read(at, 6);
        at += 6;
        let width = match symbol {
            ESCAPE_12 => 12,
            ESCAPE_24 => 24,
            s => {
                name.push(*alphabet.get(s as usize)?);
                continue;
            }
        };
        if total - at < width {
            return None;
        }
        let c = char::from_u32(read(at, width))?;
        at += width;
        // Only the shortest form is canonical: a signed claim has exactly one encoding.
        let shortest = match symbol_of(c) {
            Some(_) => 6,
            None if (c as u32) < 0x1000 => 12,
            None => 24,
        };
        if shortest != width {
            return None;
        }
        name.push(c);
    }
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    used: u32,
}

impl BitWriter {
    fn push(&mut self, value: u32, width: u32) {
        for i in (0..width).rev() {
            if self.used.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let last = self.bytes.last_mut().expect("pushed above");
            *last |= (((value >> i) & 1) as u8) << (7 - self.used % 8);
            self.used += 1;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        let pad = (8 - self.used % 8) % 8;
        self.push((1 << pad) - 1, pad);
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_exactly_in_three_quarters_of_their_bytes() {
        for name in [
            "",
            "A",
            "Abc",
            "Prof. Dr. Ir. H. Andi Muhammad Yusuf, S.H., M.Si.",
            "Ṣalāḥ ad-Dīn O’Neil (Ἀλέξανδρος) Пётр",
            "a\u{10FFFF}b",
        ] {
            assert_eq!(decode(&encode(name)).as_deref(), Some(name), "{name}");
        }
        let sixty = "Prof. Dr. Ir. H. Andi Muhammad Yusuf Baso, S.H., M.Si., M.H.";
        assert_eq!(encode(&sixty[..60]).len(), 45);
    }

    #[test]
    fn non_canonical_or_broken_bits_are_refused() {
        // 'a' written through the 12-bit escape.
        let mut bits = BitWriter::default();
        bits.push(ESCAPE_12, 6);
        bits.push('a' as u32, 12);
        assert_eq!(decode(&bits.finish()), None);
        // An escape cut short.
        assert_eq!(decode(&[0b1111_0100]), None);
        // Padding of zeros instead of ones.
        assert_eq!(decode(&[0b0000_0000]), None);
    }
}
