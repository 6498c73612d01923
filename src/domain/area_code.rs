use std::fmt;

/// Kode wilayah Kemendagri: `73`, `73.72`, `73.72.01`, `73.72.01.1001`.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
// A text column; its `FromSql` parses (db::types).
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct AreaCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AreaLevel {
    Province = 1,
    Regency = 2,
    District = 3,
    Village = 4,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaCodeError {
    #[error("kode wilayah \"{0}\" tidak sesuai pola 73, 73.72, 73.72.01 atau 73.72.01.1001")]
    Shape(String),
}

impl AreaLevel {
    pub fn from_i32(n: i32) -> Option<Self> {
        match n {
            1 => Some(Self::Province),
            2 => Some(Self::Regency),
            3 => Some(Self::District),
            4 => Some(Self::Village),
            _ => None,
        }
    }

    pub fn child(self) -> Option<Self> {
        Self::from_i32(self as i32 + 1)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Province => "Provinsi",
            Self::Regency => "Kabupaten/Kota",
            Self::District => "Kecamatan",
            Self::Village => "Desa/Kelurahan",
        }
    }
}

impl AreaCode {
    pub fn parse(raw: &str) -> Result<Self, AreaCodeError> {
        let s = raw.trim();
        let parts: Vec<&str> = s.split('.').collect();
        const WIDTHS: [usize; 4] = [2, 2, 2, 4];
        let ok = !parts.is_empty()
            && parts.len() <= 4
            && parts.iter().zip(WIDTHS).all(|(p, w)| {
                p.len() == w
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.bytes().any(|b| b != b'0')
            });
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(AreaCodeError::Shape(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn level(&self) -> AreaLevel {
        AreaLevel::from_i32(self.0.split('.').count() as i32).expect("checked at parse")
    }

    pub fn province(&self) -> &str {
        &self.0[..2]
    }

    pub fn parent(&self) -> Option<AreaCode> {
        self.0.rfind('.').map(|i| AreaCode(self.0[..i].to_string()))
    }

    /// True for the area itself and every area below it.
    pub fn contains(&self, other: &AreaCode) -> bool {
        other.0 == self.0
            || (other.0.starts_with(&self.0) && other.0.as_bytes()[self.0.len()] == b'.')
    }
}

/// Reads as its text wherever a `&str` is taken (queries, counters, templates); only `parse`
/// makes one.
impl std::ops::Deref for AreaCode {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_parses_and_knows_its_parent() {
        let village = AreaCode::parse("73.72.01.1001").unwrap();
        assert_eq!(village.level(), AreaLevel::Village);
        assert_eq!(village.parent().unwrap().as_str(), "73.72.01");
        assert_eq!(AreaCode::parse("73").unwrap().level(), AreaLevel::Province);
        assert!(AreaCode::parse("73").unwrap().contains(&village));
        assert!(AreaCode::parse("73.7").is_err());
        assert!(!AreaCode::parse("73.72")
            .unwrap()
            .contains(&AreaCode::parse("73.73.01").unwrap()));
    }

    #[test]
    fn malformed_codes_are_rejected() {
        for bad in [
            "",
            "7",
            "73.",
            "73.72.01.101",
            "73.72.01.1001.1",
            "7a",
            "00",
            "73.00",
        ] {
            assert!(AreaCode::parse(bad).is_err(), "{bad}");
        }
    }
}
