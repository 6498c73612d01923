//! The lists admins page through: unsigned employees and certificates, always inside the admin's
//! scope (`AdminScope::sql_filter`), a page at a time by keyset, and searchable by NIP, NIK or
//! name. A page costs the same on the last page of a province as on the first: each continues
//! after the last row shown instead of skipping an offset.

use diesel::dsl::{exists, not, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::certificates::CertificateRow;
use super::employees::{Employee, UnsignedFilter};
use super::schema::{certificates, employees, roster_counts};
use super::{DbConnection, DbError};
use crate::domain::{AdminScope, AreaCode, AreaRange};

/// Accented letters folded to their base letter, upper and lower case: names are searched as a
/// user types them, without accents and in any case. The same table builds the SQL expression
/// the index is made of (see the migration `employee_name_search`), so Rust and both databases
/// fold alike. ASCII letters are lowered separately.
const FOLDED: [(char, char); 44] = [
    ('à', 'a'),
    ('á', 'a'),
    ('â', 'a'),
    ('ä', 'a'),
    ('è', 'e'),
    ('é', 'e'),
    ('ê', 'e'),
    ('ë', 'e'),
    ('ì', 'i'),
    ('í', 'i'),
    ('î', 'i'),
    ('ï', 'i'),
    ('ò', 'o'),
    ('ó', 'o'),
    ('ô', 'o'),
    ('ö', 'o'),
    ('ù', 'u'),
    ('ú', 'u'),
    ('û', 'u'),
    ('ü', 'u'),
    ('ñ', 'n'),
    ('ç', 'c'),
    ('À', 'a'),
    ('Á', 'a'),
    ('Â', 'a'),
    ('Ä', 'a'),
    ('È', 'e'),
    ('É', 'e'),
    ('Ê', 'e'),
    ('Ë', 'e'),
    ('Ì', 'i'),
    ('Í', 'i'),
    ('Î', 'i'),
    ('Ï', 'i'),
    ('Ò', 'o'),
    ('Ó', 'o'),
    ('Ô', 'o'),
    ('Ö', 'o'),
    ('Ù', 'u'),
    ('Ú', 'u'),
    ('Û', 'u'),
    ('Ü', 'u'),
    ('Ñ', 'n'),
    ('Ç', 'c'),
];

/// A name as it is searched: ASCII letters lowered, accented letters replaced by their base.
pub fn fold(name: &str) -> String {
    name.chars()
        .map(|c| {
            FOLDED
                .iter()
                .find(|(from, _)| *from == c)
                .map_or(c.to_ascii_lowercase(), |(_, to)| *to)
        })
        .collect()
}

/// The SQL of `fold(full_name)` on SQLite: `lower` (ASCII only in SQLite) and one `replace` per
/// accented letter. The migration's index is this exact expression, so the planner uses it.
pub fn sqlite_folded_name() -> String {
    let mut expr = "lower(full_name)".to_string();
    for (from, to) in FOLDED {
        expr = format!("replace({expr}, '{from}', '{to}')");
    }
    expr
}

/// The SQL of `fold(full_name)` on PostgreSQL: one `translate` over ASCII capitals and the accented
/// letters (PostgreSQL's `lower` would also lower other scripts, which `fold` leaves alone),
/// compared bytewise (`COLLATE "C"`) so that a prefix is a plain range whatever the server locale.
pub fn postgres_folded_name() -> String {
    let from: String = ('A'..='Z').chain(FOLDED.iter().map(|(f, _)| *f)).collect();
    let to: String = ('a'..='z').chain(FOLDED.iter().map(|(_, t)| *t)).collect();
    format!("translate(full_name, '{from}', '{to}') COLLATE \"C\"")
}

/// What an admin typed into a search field, parsed once at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchTerm {
    /// The first digits of a NIP (18 digits) or NIK (16 digits).
    Digits(String),
    /// The first letters of a name, folded.
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchTermError {
    #[error("NIP paling panjang 18 angka dan NIK 16 angka; \"{0}\" lebih panjang")]
    TooManyDigits(String),
    #[error("ketik paling sedikit 2 huruf nama, atau angka awal NIP atau NIK")]
    TooShort,
    #[error("kata pencarian paling panjang 100 karakter")]
    TooLong,
}

impl SearchTerm {
    /// `None` for an empty field. Spaces inside a number are dropped (NIPs are often written in
    /// groups); a name keeps its spaces.
    pub fn parse(raw: &str) -> Result<Option<Self>, SearchTermError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if trimmed.chars().count() > 100 {
            return Err(SearchTermError::TooLong);
        }
        let digits: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            if digits.len() > 18 {
                return Err(SearchTermError::TooManyDigits(digits));
            }
            return Ok(Some(Self::Digits(digits)));
        }
        let name = fold(&trimmed.split_whitespace().collect::<Vec<_>>().join(" "));
        if name.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
            return Err(SearchTermError::TooShort);
        }
        Ok(Some(Self::Name(name)))
    }

    pub fn shown(&self) -> &str {
        match self {
            Self::Digits(d) | Self::Name(d) => d,
        }
    }
}

/// The first string after every string that starts with the digits `p`: "1985" → "1986",
/// "1989" → "199". `None` when there is none ("999").
fn after_digits(p: &str) -> Option<String> {
    let mut bytes = p.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        if last < b'9' {
            bytes.push(last + 1);
            return Some(String::from_utf8(bytes).expect("ASCII digits"));
        }
    }
    None
}

/// The employees whose NIP or NIK starts with the digits, or whose folded name starts with the
/// letters, as a condition on a query from the employees (`$name` for the query source `$qs`: the
/// employees alone, or joined to their certificates). Digit prefixes are ranges, so the unique
/// indexes on NIP and NIK serve them; ranges of digits sort alike under every collation.
macro_rules! matching {
    ($name:ident, $qs:ty) => {
        fn $name(
            conn: &DbConnection,
            term: &SearchTerm,
        ) -> Box<dyn BoxableExpression<$qs, super::MultiBackend, SqlType = Bool>> {
            type Condition = Box<dyn BoxableExpression<$qs, super::MultiBackend, SqlType = Bool>>;
            match term {
                SearchTerm::Digits(p) => {
                    let nip = employees::nip.assume_not_null();
                    let (nip, nik): (Condition, Condition) = match after_digits(p) {
                        // A missing NIP compares as NULL, which no filter keeps.
                        Some(end) => (
                            Box::new(nip.ge(p.clone()).and(nip.lt(end.clone()))),
                            Box::new(employees::nik.ge(p.clone()).and(employees::nik.lt(end))),
                        ),
                        None => (
                            Box::new(nip.ge(p.clone())),
                            Box::new(employees::nik.ge(p.clone())),
                        ),
                    };
                    Box::new(nip.or(nik))
                }
                SearchTerm::Name(p) => {
                    let expr = match conn {
                        DbConnection::Sqlite(_) => sqlite_folded_name(),
                        DbConnection::Postgres(_) => postgres_folded_name(),
                    };
                    let end = format!("{p}{}", char::MAX);
                    Box::new(
                        sql::<Bool>(&format!("{expr} >= "))
                            .bind::<Text, _>(p.clone())
                            .sql(&format!(" AND {expr} < "))
                            .bind::<Text, _>(end),
                    )
                }
            }
        }
    };
}

/// The search as `employees.id IN (…)`: the inner query is answered from the name, NIP or NIK
/// index alone, and the page is then read from the few employees found. As a plain condition
/// beside the page's order, SQLite would rather walk the village index in order and fold every
/// name of a province on the way (seconds, measured on 50,000 employees).
fn found_by(
    conn: &DbConnection,
    term: &SearchTerm,
) -> Box<dyn BoxableExpression<employees::table, super::MultiBackend, SqlType = Bool>> {
    match term {
        SearchTerm::Digits(p) => {
            let end = after_digits(p);
            // Without an end ("999…"), the lower bound is simply repeated.
            let (upper, bound) = match &end {
                Some(e) => (" AND {c} < ", e.clone()),
                None => (" AND {c} >= ", p.clone()),
            };
            Box::new(
                sql::<Bool>("employees.id IN (SELECT id FROM employees WHERE nip >= ")
                    .bind::<Text, _>(p.clone())
                    .sql(&upper.replace("{c}", "nip"))
                    .bind::<Text, _>(bound.clone())
                    .sql(" UNION ALL SELECT id FROM employees WHERE nik >= ")
                    .bind::<Text, _>(p.clone())
                    .sql(&upper.replace("{c}", "nik"))
                    .bind::<Text, _>(bound)
                    .sql(")"),
            )
        }
        SearchTerm::Name(p) => {
            let expr = match conn {
                DbConnection::Sqlite(_) => sqlite_folded_name(),
                DbConnection::Postgres(_) => postgres_folded_name(),
            };
            let end = format!("{p}{}", char::MAX);
            Box::new(
                sql::<Bool>(&format!(
                    "employees.id IN (SELECT id FROM employees WHERE {expr} >= "
                ))
                .bind::<Text, _>(p.clone())
                .sql(&format!(" AND {expr} < "))
                .bind::<Text, _>(end)
                .sql(")"),
            )
        }
    }
}
matching!(
    matching_signers,
    diesel::dsl::InnerJoinQuerySource<certificates::table, employees::table>
);

/// Where the previous page ended: its last row's village and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeCursor {
    pub village_code: String,
    pub id: i64,
}

impl EmployeeCursor {
    /// The cursor as it travels in a link: `73.71.01.1001~123`.
    pub fn encode(&self) -> String {
        format!("{}~{}", self.village_code, self.id)
    }

    /// `None` for anything that is not a cursor this module wrote.
    pub fn decode(raw: &str) -> Option<Self> {
        let (village, id) = raw.split_once('~')?;
        let village_code = AreaCode::parse(village).ok()?.into_string();
        Some(Self {
            village_code,
            id: id.parse().ok()?,
        })
    }
}

/// One page of active employees in the filter's area and the admin's scope who hold no standing
/// certificate for the campaign, by village and then roster id, after `cursor`. Up to `limit`
/// rows; the caller asks for one more than it shows to learn whether a next page exists.
///
/// Ordered by (village, id) because SQLite's index on `village_code` holds the rowid (the id),
/// and PostgreSQL finishes the order from its `village_code` index: the first page of a province
/// reads about as many rows as it shows.
pub fn unsigned_page(
    conn: &mut DbConnection,
    campaign_id: &str,
    scope: &AdminScope,
    filter: &UnsignedFilter,
    search: Option<&SearchTerm>,
    cursor: Option<&EmployeeCursor>,
    limit: i64,
) -> Result<Vec<Employee>, DbError> {
    let range = AreaRange::of_optional(filter.area_code.area());
    let signed = certificates::table
        .filter(certificates::employee_id.eq(employees::id))
        .filter(certificates::campaign_id.eq(campaign_id.to_string()))
        .filter(certificates::revoked_at.is_null());
    let mut query =
        employees::table
            .filter(employees::active.eq(true))
            .filter(employees::village_code.ge(range.from))
            .filter(employees::village_code.lt(range.to))
            .filter(scope.sql_filter::<_, super::MultiBackend, _, _>(
                employees::village_code,
                employees::agency,
            ))
            .filter(not(exists(signed)))
            .order((employees::village_code, employees::id))
            .limit(limit)
            .select(Employee::as_select())
            .into_boxed();
    if let Some(agency) = &filter.agency {
        query = query.filter(employees::agency.eq(agency.clone()));
    }
    if let Some(kind) = &filter.employee_type {
        query = query.filter(employees::employee_type.eq(kind.clone()));
    }
    if let Some(term) = search {
        query = query.filter(found_by(conn, term));
    }
    if let Some(c) = cursor {
        query = query.filter(
            employees::village_code
                .gt(c.village_code.clone())
                .or(employees::village_code
                    .eq(c.village_code.clone())
                    .and(employees::id.gt(c.id))),
        );
    }
    Ok(query.load(conn)?)
}

/// One page of certificates issued inside the admin's scope, newest first (by serial, below
/// `before`), optionally only those of the employees the search finds (joined by employee id, so
/// the name, NIP and NIK indexes of the roster serve the search).
pub fn certificates_page(
    conn: &mut DbConnection,
    scope: &AdminScope,
    search: Option<&SearchTerm>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<CertificateRow>, DbError> {
    let mut query = certificates::table
        .inner_join(employees::table)
        .filter(scope.sql_filter::<_, super::MultiBackend, _, _>(
            certificates::village_code,
            certificates::agency,
        ))
        .order(certificates::serial.desc())
        .limit(limit)
        .select(CertificateRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(certificates::serial.lt(before));
    }
    if let Some(term) = search {
        query = query.filter(matching_signers(conn, term));
    }
    Ok(query.load(conn)?)
}

/// The agencies with employees in an area (`""` = the nation), from the roster counts: the
/// choices of an agency picker, without reading the roster itself.
pub fn agencies_in(conn: &mut DbConnection, area_code: &str) -> Result<Vec<String>, DbError> {
    Ok(roster_counts::table
        .filter(roster_counts::area_code.eq(area_code.to_string()))
        .filter(roster_counts::employees.gt(0))
        .select(roster_counts::agency)
        .distinct()
        .order(roster_counts::agency)
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_without_case_or_accents() {
        assert_eq!(fold("Andi NURUL Hidayah"), "andi nurul hidayah");
        assert_eq!(fold("Désirée Ñoño Çelik"), "desiree nono celik");
        assert_eq!(fold("ÉLISE Müller"), "elise muller");
    }

    #[test]
    fn a_search_is_digits_or_a_name() {
        assert_eq!(
            SearchTerm::parse(" 1985 0330 ").unwrap(),
            Some(SearchTerm::Digits("19850330".into()))
        );
        assert_eq!(
            SearchTerm::parse("Wa  Ode").unwrap(),
            Some(SearchTerm::Name("wa ode".into()))
        );
        assert_eq!(SearchTerm::parse("  ").unwrap(), None);
        assert!(SearchTerm::parse("a").is_err());
        assert!(SearchTerm::parse(&"1".repeat(19)).is_err());
    }

    #[test]
    fn digit_prefixes_end_where_the_next_prefix_starts() {
        assert_eq!(after_digits("1985").as_deref(), Some("1986"));
        assert_eq!(after_digits("1989").as_deref(), Some("199"));
        assert_eq!(after_digits("999"), None);
    }

    #[test]
    fn cursors_travel_and_refuse_anything_else() {
        let c = EmployeeCursor {
            village_code: "73.71.01.1001".into(),
            id: 42,
        };
        assert_eq!(EmployeeCursor::decode(&c.encode()), Some(c));
        assert_eq!(EmployeeCursor::decode("73.71.01.1001~x"), None);
        assert_eq!(EmployeeCursor::decode("1 OR 1=1~3"), None);
    }
}
