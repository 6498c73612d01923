//! Domain values as columns: the row structs hold `CertificateId`, `Nip`, `Nik`, `EmployeeType`,
//! `AreaCode` and `AreaScope` (a campaign's or an admin's scope, `""` for the nation) instead of
//! strings, so that pages and the API use them without parsing them again. Every value is parsed
//! by the domain type's own `parse` on the way out of the database; a stored value that does not
//! parse is data damage, reported as a deserialization error (a `DbError`), never a panic. Each
//! type is written as its text, which is what it parsed.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use super::MultiBackend;
use crate::domain::{AreaCode, AreaScope, CertificateId, EmployeeType, Nik, Nip};

/// A stored text as the domain type, or why it is damaged.
fn stored<T, E: std::fmt::Display>(
    raw: &str,
    what: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> deserialize::Result<T> {
    parse(raw).map_err(|e| format!("stored {what} {raw:?} is damaged: {e}").into())
}

/// `FromSql` and `ToSql` of a text column for SQLite, PostgreSQL and the `MultiBackend` of
/// `DbConnection`, which dispatches to the other two.
macro_rules! text_column {
    ($ty:ty, $what:literal) => {
        impl FromSql<Text, Sqlite> for $ty {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let raw = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
                stored(&raw, $what, <$ty>::parse)
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let raw = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                stored(&raw, $what, <$ty>::parse)
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(
                bytes: <MultiBackend as Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, Text>()
            }
        }

        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }
    };
}

text_column!(CertificateId, "certificate id");
text_column!(Nip, "NIP");
text_column!(Nik, "NIK");
text_column!(EmployeeType, "employee type");
text_column!(AreaCode, "area code");
text_column!(AreaScope, "campaign scope");
