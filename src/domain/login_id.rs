use super::{Nik, NikError, Nip, NipError};

/// What an employee types to sign in: a NIP for ASN, a NIK for non-ASN staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginId {
    Nip(Nip),
    Nik(Nik),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginIdError {
    #[error("NIP harus 18 angka atau NIK 16 angka; yang Anda masukkan berisi {0} karakter")]
    Length(usize),
    #[error(transparent)]
    Nip(#[from] NipError),
    #[error(transparent)]
    Nik(#[from] NikError),
}

impl LoginId {
    pub fn parse(raw: &str) -> Result<Self, LoginIdError> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        match compact.chars().count() {
            18 => Ok(Self::Nip(Nip::parse(&compact)?)),
            16 => Ok(Self::Nik(Nik::parse(&compact)?)),
            n => Err(LoginIdError::Length(n)),
        }
    }

    /// The identifier a signer is named by: the NIP, or the NIK for staff without one.
    pub fn of_signer(nip: Option<&str>, nik: &str) -> Option<Self> {
        match nip.and_then(|n| Nip::parse(n).ok()) {
            Some(nip) => Some(Self::Nip(nip)),
            None => Nik::parse(nik).ok().map(Self::Nik),
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Nip(_) => "NIP",
            Self::Nik(_) => "NIK",
        }
    }

    /// The form shown on public pages and carried in the QR.
    pub fn masked(&self) -> String {
        match self {
            Self::Nip(nip) => nip.masked(),
            Self::Nik(nik) => nik.masked(),
        }
    }

    /// The form printed on the certificate: the grouped NIP, or the NIK as it is.
    pub fn printed(&self) -> String {
        match self {
            Self::Nip(nip) => nip.grouped(),
            Self::Nik(nik) => nik.to_string(),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Nip(nip) => nip.as_str(),
            Self::Nik(nik) => nik.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grouped_nip_with_spaces_is_accepted() {
        assert!(matches!(
            LoginId::parse("19850330 201001 1 004"),
            Ok(LoginId::Nip(_))
        ));
        assert!(matches!(
            LoginId::parse("7371011503850001"),
            Ok(LoginId::Nik(_))
        ));
        assert_eq!(LoginId::parse("123"), Err(LoginIdError::Length(3)));
    }
}
