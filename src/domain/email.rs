use std::fmt;

/// An address lettre will accept as a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("alamat surel \"{0}\" tidak valid")]
    Invalid(String),
}

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let s = raw.trim();
        match s.parse::<lettre::Address>() {
            Ok(_) if s.len() <= 254 => Ok(Self(s.to_string())),
            _ => Err(EmailError::Invalid(s.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        assert!(EmailAddress::parse("andi@sulselprov.go.id").is_ok());
        assert!(EmailAddress::parse("andi@").is_err());
        assert!(EmailAddress::parse("bukan surel").is_err());
    }
}
