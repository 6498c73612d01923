//! The one-time code printed on an invitation slip: 60 random bits as twelve Crockford base32
//! characters, grouped by four for reading aloud over the phone (`7K3M-Q9TD-2HXW`). Crockford's
//! alphabet has no I, L, O or U, so what is misread (1 for I or L, 0 for O) is read back as meant.

use std::fmt;

/// Characters of a code; 12 × 5 = 60 bits, far more than guessing within a campaign can reach,
/// and enough that a stolen copy of the hashes cannot be searched within one either.
pub const CODE_CHARS: usize = 12;
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[derive(Clone, PartialEq, Eq)]
pub struct InvitationCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvitationCodeError {
    #[error(
        "kode undangan belum diisi; ketik 12 huruf dan angka yang tercetak pada kartu undangan"
    )]
    Empty,
    #[error("kode undangan terdiri atas 12 huruf dan angka; yang Anda ketik berisi {0}")]
    Length(usize),
    #[error("kode undangan tidak memuat karakter \"{0}\"; periksa kembali kode pada kartu")]
    Character(char),
}

impl InvitationCode {
    /// A fresh random code.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        let mut n = u64::from_le_bytes(bytes);
        let mut out = String::with_capacity(CODE_CHARS);
        for _ in 0..CODE_CHARS {
            out.push(ALPHABET[(n & 31) as usize] as char);
            n >>= 5;
        }
        Self(out)
    }

    /// Accepts what a person types: any case, spaces and hyphens anywhere, I and L for 1, O for 0.
    pub fn parse(raw: &str) -> Result<Self, InvitationCodeError> {
        let mut out = String::with_capacity(CODE_CHARS);
        for c in raw.chars() {
            if c.is_whitespace() || c == '-' {
                continue;
            }
            let c = match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
                _ => return Err(InvitationCodeError::Character(c)),
            };
            out.push(c);
        }
        match out.len() {
            0 => Err(InvitationCodeError::Empty),
            CODE_CHARS => Ok(Self(out)),
            n => Err(InvitationCodeError::Length(n)),
        }
    }

    /// The twelve characters without grouping: what is hashed and carried in the QR link.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `XXXX-XXXX-XXXX`, as printed.
    pub fn grouped(&self) -> String {
        format!("{}-{}-{}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }
}

impl fmt::Display for InvitationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.grouped())
    }
}

/// Never printed in logs or panics: the code is a credential until it is used.
impl fmt::Debug for InvitationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvitationCode(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_back_however_it_is_typed() {
        let code = InvitationCode::generate();
        assert_eq!(code.as_str().len(), CODE_CHARS);
        let grouped = code.grouped();
        assert_eq!(InvitationCode::parse(&grouped).unwrap(), code);
        assert_eq!(
            InvitationCode::parse(&grouped.to_lowercase().replace('-', " ")).unwrap(),
            code
        );
        assert_eq!(
            InvitationCode::parse("oil0-1111-2222").unwrap().as_str(),
            "011011112222"
        );
    }

    #[test]
    fn a_wrong_code_is_named_precisely() {
        assert_eq!(
            InvitationCode::parse(" - "),
            Err(InvitationCodeError::Empty)
        );
        assert_eq!(
            InvitationCode::parse("ABCD-EFGH"),
            Err(InvitationCodeError::Length(8))
        );
        assert_eq!(
            InvitationCode::parse("ABCD-EFGH-JKMU"),
            Err(InvitationCodeError::Character('U'))
        );
    }
}
