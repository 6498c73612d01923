use std::fmt;

/// A person's name as it stands on the roster, with runs of white space folded to one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FullNameError {
    #[error("nama tidak boleh kosong")]
    Empty,
    #[error("nama terlalu panjang ({0} karakter; paling banyak 120)")]
    TooLong(usize),
    #[error("nama memuat karakter yang tidak diperbolehkan: {0:?}")]
    Character(char),
}

impl FullName {
    pub fn parse(raw: &str) -> Result<Self, FullNameError> {
        let folded = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if folded.is_empty() {
            return Err(FullNameError::Empty);
        }
        let len = folded.chars().count();
        if len > 120 {
            return Err(FullNameError::TooLong(len));
        }
        // Letters of any script, plus the punctuation of titles and degrees (S.Pd., Ir., M.Si).
        if let Some(c) = folded
            .chars()
            .find(|c| !(c.is_alphabetic() || " .,'-`’()".contains(*c)))
        {
            return Err(FullNameError::Character(c));
        }
        Ok(Self(folded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether a typed name is the roster name, case and spacing aside.
    pub fn matches_typed(&self, typed: &str) -> bool {
        let norm = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        norm(&self.0) == norm(typed)
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_degrees_parse_and_match_loosely() {
        let name = FullName::parse("  Andi  Nurul Hidayah, S.Pd. ").unwrap();
        assert_eq!(name.as_str(), "Andi Nurul Hidayah, S.Pd.");
        assert!(name.matches_typed("andi nurul   HIDAYAH, s.pd."));
        assert!(!name.matches_typed("Andi Nurul"));
        assert_eq!(FullName::parse("   "), Err(FullNameError::Empty));
        assert_eq!(FullName::parse("R0bot"), Err(FullNameError::Character('0')));
    }
}
