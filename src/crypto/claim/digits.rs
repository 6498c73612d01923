//! Bytes as decimal digits, so that a QR code can carry them in numeric mode: 10 bits per three
//! digits, about 3.33 bits a digit, where byte mode spends 8 bits a character and alphanumeric
//! mode (base32) 5.5 bits for 5 bits of data. SMART Health Cards carry their token in numeric
//! mode for the same reason; we pack tighter, 7 bytes into 17 digits (57 QR bits for 56).

/// Digits for a trailing group of `k` bytes (index `k`): the fewest that can hold `256^k − 1`.
const DIGITS_FOR: [usize; 8] = [0, 3, 5, 8, 10, 13, 15, 17];
const GROUP: usize = 7;

/// Big-endian groups of 7 bytes, each written as a zero-padded 17-digit number; a last, shorter
/// group of `k` bytes takes `DIGITS_FOR[k]` digits.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 17 / 7 + 17);
    for group in bytes.chunks(GROUP) {
        let value = group.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
        out.push_str(&format!("{value:0width$}", width = DIGITS_FOR[group.len()]));
    }
    out
}

/// The inverse of [`encode`]; `None` for anything `encode` cannot have written (a character
/// that is not a digit, a length no group count explains, a group above its byte range).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let full = text.len() / DIGITS_FOR[GROUP];
    let tail_digits = text.len() % DIGITS_FOR[GROUP];
    let tail = DIGITS_FOR.iter().position(|d| *d == tail_digits)?;
    let mut out = Vec::with_capacity(full * GROUP + tail);
    let mut at = 0;
    for k in std::iter::repeat_n(GROUP, full).chain((tail > 0).then_some(tail)) {
        let digits = &text[at..at + DIGITS_FOR[k]];
        at += DIGITS_FOR[k];
        let value: u64 = digits.parse().ok()?;
        if value >> (8 * k) != 0 {
            return None;
        }
        out.extend((0..k).rev().map(|i| (value >> (8 * i)) as u8));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_round_trips_and_only_digits_come_out() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 255) as u8).collect();
            let text = encode(&bytes);
            assert!(text.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(decode(&text).as_deref(), Some(bytes.as_slice()), "{len}");
        }
        assert_eq!(encode(&[0xff; 7]), "72057594037927935");
    }

    #[test]
    fn what_encode_cannot_write_is_refused() {
        assert_eq!(decode("12"), None);
        assert_eq!(decode("256"), None);
        assert_eq!(decode("12a"), None);
        assert_eq!(decode("72057594037927936"), None);
    }
}
