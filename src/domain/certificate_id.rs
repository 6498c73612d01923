use std::fmt;

/// Public identifier of a certificate: 80 random bits as 16 characters of RFC 4648 base32,
/// upper case so that the QR encoder can use its compact alphanumeric mode.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
// A text column; its `FromSql` parses (db::types).
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct CertificateId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateIdError {
    #[error("ID sertifikat harus 16 karakter huruf A-Z dan angka 2-7")]
    Shape,
}

impl CertificateId {
    pub const BYTES: usize = 10;

    pub fn random() -> Self {
        let mut bytes = [0u8; Self::BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8; Self::BYTES]) -> Self {
        Self(data_encoding::BASE32_NOPAD.encode(bytes))
    }

    pub fn parse(raw: &str) -> Result<Self, CertificateIdError> {
        let s = raw.trim().to_ascii_uppercase();
        match data_encoding::BASE32_NOPAD.decode(s.as_bytes()) {
            Ok(bytes) if bytes.len() == Self::BYTES => Ok(Self(s)),
            _ => Err(CertificateIdError::Shape),
        }
    }

    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let v = data_encoding::BASE32_NOPAD
            .decode(self.0.as_bytes())
            .expect("checked at parse");
        v.try_into().expect("checked at parse")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Reads as its text wherever a `&str` is taken (queries, counters, templates); only `parse`
/// makes one.
impl std::ops::Deref for CertificateId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for CertificateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = CertificateId::random();
        assert_eq!(id.as_str().len(), 16);
        assert_eq!(
            CertificateId::parse(&id.as_str().to_lowercase()).unwrap(),
            id
        );
        assert_eq!(CertificateId::from_bytes(&id.to_bytes()), id);
        assert!(CertificateId::parse("ABC").is_err());
        assert!(CertificateId::parse("ABCDEFGHIJKLMNO1").is_err());
    }
}
