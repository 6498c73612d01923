use std::fmt;

use super::{digits, is_valid_date};

/// Nomor Induk Kependudukan: 16 digits, province, regency and district of registration,
/// birth date `DDMMYY` (day plus 40 for women) and a four-digit serial.
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
pub struct Nik(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    #[error("NIK harus terdiri atas 16 angka (diterima {0} karakter)")]
    Length(usize),
    #[error("NIK hanya boleh berisi angka")]
    NotDigits,
    #[error("kode wilayah pada NIK ({0}) tidak valid")]
    Area(String),
    #[error("tanggal lahir pada NIK ({0}) bukan tanggal yang valid")]
    BirthDate(String),
    #[error("nomor urut pada NIK tidak boleh 0000")]
    Serial,
}

impl Nik {
    pub fn parse(raw: &str) -> Result<Self, NikError> {
        let s = raw.trim();
        if s.chars().count() != 16 {
            return Err(NikError::Length(s.chars().count()));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NikError::NotDigits);
        }
        let (province, regency, district) = (digits(&s[0..2]), digits(&s[2..4]), digits(&s[4..6]));
        if !(11..=96).contains(&province) || regency == 0 || district == 0 {
            return Err(NikError::Area(s[0..6].to_string()));
        }
        let (mut day, month, yy) = (digits(&s[6..8]), digits(&s[8..10]), digits(&s[10..12]));
        if day > 40 {
            day -= 40;
        }
        // The century is not written; a date valid in either century is accepted.
        if !is_valid_date(1900 + yy, month, day) && !is_valid_date(2000 + yy, month, day) {
            return Err(NikError::BirthDate(s[6..12].to_string()));
        }
        if &s[12..16] == "0000" {
            return Err(NikError::Serial);
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Only the region and the serial are shown; the birth date never leaves the server.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..4], &self.0[12..])
    }
}

/// Reads as its text wherever a `&str` is taken (queries, counters, templates); only `parse`
/// makes one.
impl std::ops::Deref for Nik {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn men_and_women_parse() {
        assert!(Nik::parse("7371011503850001").is_ok());
        assert!(
            Nik::parse("7371015503850001").is_ok(),
            "day 55 is the 15th for a woman"
        );
        assert_eq!(
            Nik::parse("7371011503850001").unwrap().masked(),
            "7371********0001"
        );
    }

    #[test]
    fn bad_niks_are_rejected() {
        assert_eq!(Nik::parse("737101150385000"), Err(NikError::Length(15)));
        assert_eq!(
            Nik::parse("0071011503850001"),
            Err(NikError::Area("007101".into()))
        );
        assert_eq!(
            Nik::parse("7371013202850001"),
            Err(NikError::BirthDate("320285".into()))
        );
        assert_eq!(
            Nik::parse("7371017202850001"),
            Err(NikError::BirthDate("720285".into()))
        );
        assert_eq!(Nik::parse("7371011503850000"), Err(NikError::Serial));
        assert_eq!(Nik::parse("73710115038500x1"), Err(NikError::NotDigits));
    }
}
