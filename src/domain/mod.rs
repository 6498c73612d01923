//! Types that can only hold valid values. Every raw string from a form, a CSV row or a URL is
//! parsed into one of these at the edge; code past the edge trusts them.

mod admin_scope;
mod area_code;
mod area_scope;
mod authority;
mod certificate_id;
mod document;
mod email;
mod employee_type;
mod full_name;
mod invitation_code;
mod login_id;
mod nik;
mod nip;
mod revocation_reason;
mod time_zone;

pub use admin_scope::{AdminRole, AdminScope, AdminScopeError, AreaRange};
pub use area_code::{AreaCode, AreaCodeError, AreaLevel};
pub use area_scope::AreaScope;
pub use authority::{
    AuthorityError, AuthorityField, AuthorityLogo, IssuingAuthority, LOGO_MAX_BYTES,
};
pub use certificate_id::{CertificateId, CertificateIdError};
pub use document::{Block, DocumentError, PactDocument};
pub use email::{EmailAddress, EmailError};
pub use employee_type::{EmployeeType, EmployeeTypeError};
pub use full_name::{FullName, FullNameError};
pub use invitation_code::{InvitationCode, InvitationCodeError};
pub use login_id::{LoginId, LoginIdError};
pub use nik::{Nik, NikError};
pub use nip::{Nip, NipError};
pub use revocation_reason::RevocationReason;
pub use time_zone::IndonesianZone;

/// Checks a calendar date without pulling a date library into every parser.
pub(crate) fn is_valid_date(year: u32, month: u32, day: u32) -> bool {
    if !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

/// Parses a run of ASCII digits; the callers have already checked the characters.
pub(crate) fn digits(s: &str) -> u32 {
    s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

/// Identifiers travel in JSON as their text, exactly as the strings they replaced in the rows did.
macro_rules! serialize_as_text {
    ($($ty:ty),*) => {
        $(
            impl serde::Serialize for $ty {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_str(self.as_str())
                }
            }
        )*
    };
}
serialize_as_text!(AreaCode, AreaScope, CertificateId, EmployeeType, Nik, Nip);
