use std::fmt;

/// PNS and PPPK are ASN; PPNPN are non-ASN government staff, who may have no NIP.
#[derive(
    Debug,
    Clone,
    Copy,
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
pub enum EmployeeType {
    Pns,
    Pppk,
    Ppnpn,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmployeeTypeError {
    #[error("jenis pegawai \"{0}\" tidak dikenal; gunakan PNS, PPPK atau PPNPN")]
    Unknown(String),
}

impl EmployeeType {
    pub const ALL: [EmployeeType; 3] = [Self::Pns, Self::Pppk, Self::Ppnpn];

    pub fn parse(raw: &str) -> Result<Self, EmployeeTypeError> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "PNS" => Ok(Self::Pns),
            "PPPK" => Ok(Self::Pppk),
            "PPNPN" => Ok(Self::Ppnpn),
            _ => Err(EmployeeTypeError::Unknown(raw.trim().to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pns => "PNS",
            Self::Pppk => "PPPK",
            Self::Ppnpn => "PPNPN",
        }
    }

    /// ASN must be identified by NIP; PPNPN staff have none.
    pub fn requires_nip(self) -> bool {
        !matches!(self, Self::Ppnpn)
    }
}

/// Reads as its text wherever a `&str` is taken (queries, counters, templates); only `parse`
/// makes one.
impl std::ops::Deref for EmployeeType {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for EmployeeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
