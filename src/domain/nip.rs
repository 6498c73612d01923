use std::fmt;

use super::{digits, is_valid_date};

/// Nomor Induk Pegawai: 18 digits, `YYYYMMDD` birth date, `YYYYMM` appointment (TMT CPNS),
/// sex digit (1 male, 2 female) and a three-digit serial.
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
pub struct Nip(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NipError {
    #[error("NIP harus terdiri atas 18 angka (diterima {0} karakter)")]
    Length(usize),
    #[error("NIP hanya boleh berisi angka")]
    NotDigits,
    #[error("tanggal lahir pada NIP ({0}) bukan tanggal yang valid")]
    BirthDate(String),
    #[error("bulan pengangkatan pada NIP ({0}) tidak valid")]
    AppointmentMonth(String),
    #[error("tanggal pengangkatan pada NIP ({appointed}) tidak mungkin untuk kelahiran {born}: pegawai belum berusia 18 tahun")]
    AppointedTooYoung { born: String, appointed: String },
    #[error("digit jenis kelamin pada NIP harus 1 (laki-laki) atau 2 (perempuan), bukan {0}")]
    Sex(char),
    #[error("nomor urut pada NIP tidak boleh 000")]
    Serial,
}

impl Nip {
    pub fn parse(raw: &str) -> Result<Self, NipError> {
        let s = raw.trim();
        if s.chars().count() != 18 {
            return Err(NipError::Length(s.chars().count()));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NipError::NotDigits);
        }
        let (year, month, day) = (digits(&s[0..4]), digits(&s[4..6]), digits(&s[6..8]));
        if year < 1900 || !is_valid_date(year, month, day) {
            return Err(NipError::BirthDate(s[0..8].to_string()));
        }
        let (app_year, app_month) = (digits(&s[8..12]), digits(&s[12..14]));
        if app_year < 1900 || !(1..=12).contains(&app_month) {
            return Err(NipError::AppointmentMonth(s[8..14].to_string()));
        }
        if app_year * 12 + app_month < (year + 18) * 12 + month {
            return Err(NipError::AppointedTooYoung {
                born: s[0..8].to_string(),
                appointed: s[8..14].to_string(),
            });
        }
        let sex = s.as_bytes()[14] as char;
        if sex != '1' && sex != '2' {
            return Err(NipError::Sex(sex));
        }
        if &s[15..18] == "000" {
            return Err(NipError::Serial);
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Shown on public pages: birth date and serial hidden, enough to tell two people apart.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }

    /// The customary printed form `19850330 201001 1 004`.
    pub fn grouped(&self) -> String {
        format!(
            "{} {} {} {}",
            &self.0[..8],
            &self.0[8..14],
            &self.0[14..15],
            &self.0[15..]
        )
    }
}

/// Reads as its text wherever a `&str` is taken (queries, counters, templates); only `parse`
/// makes one.
impl std::ops::Deref for Nip {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Nip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_nip_parses() {
        let nip = Nip::parse(" 198503302010011004 ").unwrap();
        assert_eq!(nip.as_str(), "198503302010011004");
        assert_eq!(nip.grouped(), "19850330 201001 1 004");
        assert_eq!(nip.masked(), "1985**********1004");
    }

    #[test]
    fn impossible_dates_are_rejected() {
        assert_eq!(
            Nip::parse("198502302010011004"),
            Err(NipError::BirthDate("19850230".into()))
        );
        assert_eq!(
            Nip::parse("198503302010131004"),
            Err(NipError::AppointmentMonth("201013".into()))
        );
        assert!(matches!(
            Nip::parse("198503302000011004"),
            Err(NipError::AppointedTooYoung { .. })
        ));
        assert_eq!(Nip::parse("198503302010013004"), Err(NipError::Sex('3')));
        assert_eq!(Nip::parse("198503302010011000"), Err(NipError::Serial));
    }

    #[test]
    fn wrong_length_and_letters_are_rejected() {
        assert_eq!(Nip::parse("12345"), Err(NipError::Length(5)));
        assert_eq!(Nip::parse("19850330201001100A"), Err(NipError::NotDigits));
    }

    #[test]
    fn a_leap_day_birth_is_valid() {
        assert!(Nip::parse("200002292020031001").is_ok());
        assert!(Nip::parse("199002292015031001").is_err());
    }
}
