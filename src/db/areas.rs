//! The Kemendagri area reference: loaded once from the CSV files built into the binary.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use diesel::prelude::*;

use super::schema::areas;
use super::{DbConnection, DbError};
use crate::domain::{AreaCode, AreaLevel};

/// Attribution the ODbL asks for wherever the area data is shown or shipped.
pub const ATTRIBUTION: &str = "Data wilayah: idn-area-data (ODbL 1.0)";

const PROVINCES: &str = include_str!("../../assets/wilayah/provinces.csv");
const REGENCIES: &str = include_str!("../../assets/wilayah/regencies.csv");
const DISTRICTS: &str = include_str!("../../assets/wilayah/districts.csv");
const VILLAGES: &str = include_str!("../../assets/wilayah/villages.csv");

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = areas)]
pub struct Area {
    pub code: String,
    pub parent_code: Option<String>,
    pub level: i32,
    pub name: String,
}

/// Reads the built-in reference; every file is `code,parent_code,name` after the header except
/// provinces, which have no parent.
fn reference() -> Vec<Area> {
    let mut all = Vec::with_capacity(92_000);
    for (csv, level) in [
        (PROVINCES, AreaLevel::Province),
        (REGENCIES, AreaLevel::Regency),
        (DISTRICTS, AreaLevel::District),
        (VILLAGES, AreaLevel::Village),
    ] {
        for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let mut fields = line.splitn(3, ',');
            let code = fields.next().unwrap_or_default().to_string();
            let (parent_code, name) = if level == AreaLevel::Province {
                (None, line[code.len() + 1..].to_string())
            } else {
                let parent = fields.next().unwrap_or_default().to_string();
                (Some(parent), fields.next().unwrap_or_default().to_string())
            };
            all.push(Area {
                code,
                parent_code,
                level: level as i32,
                name: unquote(&name),
            });
        }
    }
    all
}

/// The village codes of the built-in reference, without a database (a roster file is generated
/// before any database exists).
pub fn reference_village_codes() -> impl Iterator<Item = String> {
    VILLAGES
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|c| !c.trim().is_empty())
        .map(str::to_string)
}

/// The nation as an area of level 0 with the code "": a national campaign's scope refers to it.
fn nation() -> Area {
    Area {
        code: String::new(),
        parent_code: None,
        level: 0,
        name: "Indonesia".into(),
    }
}

fn find_nation(conn: &mut DbConnection) -> Result<Option<Area>, DbError> {
    Ok(areas::table
        .find("")
        .select(Area::as_select())
        .first(conn)
        .optional()?)
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(s)
        .replace("\"\"", "\"")
}

/// Loads the reference if the table is empty. Returns how many areas were inserted.
pub fn load_reference(conn: &mut DbConnection) -> Result<usize, DbError> {
    let present: i64 = areas::table.count().get_result(conn)?;
    if present > 0 {
        // Databases loaded before the nation had its row get it now.
        if find_nation(conn)?.is_none() {
            diesel::insert_into(areas::table)
                .values(nation())
                .execute(conn)?;
        }
        return Ok(0);
    }
    let all: Vec<Area> = std::iter::once(nation()).chain(reference()).collect();
    conn.transaction(|conn| {
        // Parents before children: the reference is ordered by level.
        for chunk in all.chunks(5_000) {
            super::on_backend!(conn, |c| diesel::insert_into(areas::table)
                .values(chunk)
                .execute(c))?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(all.len())
}

pub fn find(conn: &mut DbConnection, code: &AreaCode) -> Result<Option<Area>, DbError> {
    Ok(areas::table
        .find(code.as_str())
        .select(Area::as_select())
        .first(conn)
        .optional()?)
}

/// Every village code, for checking a roster file without a query per row.
pub fn village_codes(conn: &mut DbConnection) -> Result<HashSet<String>, DbError> {
    let codes: Vec<String> = areas::table
        .filter(areas::level.eq(AreaLevel::Village as i32))
        .select(areas::code)
        .load(conn)?;
    Ok(codes.into_iter().collect())
}

/// Every village of the reference, as codes: where generated employees work.
pub fn villages(conn: &mut DbConnection) -> Result<Vec<AreaCode>, DbError> {
    Ok(areas::table
        .filter(areas::level.eq(AreaLevel::Village as i32))
        .select(areas::code)
        .load(conn)?)
}

/// The areas directly below `parent`; below the nation (`None`), the provinces.
pub fn children(conn: &mut DbConnection, parent: Option<&AreaCode>) -> Result<Vec<Area>, DbError> {
    let query = areas::table
        .order(areas::code)
        .select(Area::as_select())
        .into_boxed();
    let query = match parent {
        Some(code) => query.filter(areas::parent_code.eq(code.as_str().to_string())),
        // The nation's own row also has no parent; the parent index still serves the query.
        None => query
            .filter(areas::parent_code.is_null())
            .filter(areas::level.eq(AreaLevel::Province as i32)),
    };
    Ok(query.load(conn)?)
}

/// The area and its ancestors, province first.
pub fn lineage(conn: &mut DbConnection, code: &AreaCode) -> Result<Vec<Area>, DbError> {
    // Always four codes (a village and its three ancestors; shorter lineages repeat the area's
    // own code), so the statement is the same every time and stays prepared; `IN` over a list
    // of varying length would be parsed afresh on each call.
    let mut codes: [String; 4] = std::array::from_fn(|_| code.as_str().to_string());
    let mut cur = code.clone();
    for slot in codes.iter_mut().skip(1) {
        let Some(parent) = cur.parent() else { break };
        *slot = parent.as_str().to_string();
        cur = parent;
    }
    let [a, b, c, d] = codes;
    Ok(super::on_backend!(conn, |conn| areas::table
        .filter(
            areas::code
                .eq(&a)
                .or(areas::code.eq(&b))
                .or(areas::code.eq(&c))
                .or(areas::code.eq(&d)),
        )
        .order(areas::level)
        .select(Area::as_select())
        .load(conn))?)
}

/// "Kelurahan X, Kecamatan Y, Kota Z, Provinsi W" style description of a work area.
///
/// Every verification and certificate names the signer's work area, and the reference never
/// changes once loaded, so the names of all areas are read once into `names` (about 6 MB) and a
/// description costs four lookups instead of a query. An area missing from them is described
/// from the database.
pub fn describe(
    conn: &mut DbConnection,
    names: &AreaNames,
    code: &AreaCode,
) -> Result<String, DbError> {
    match names.read(conn)?.and_then(|names| names.describe(code)) {
        Some(text) => Ok(text),
        None => describe_from(conn, code),
    }
}

/// Reads the names of every area now rather than on the first verification after start.
pub fn preload_names(conn: &mut DbConnection, names: &AreaNames) -> Result<(), DbError> {
    names.read(conn).map(drop)
}

/// The names of every area, read once and kept by the application's `Caches`.
#[derive(Default)]
pub struct AreaNames(OnceLock<DisplayNames>);

impl AreaNames {
    pub const fn new() -> Self {
        Self(OnceLock::new())
    }

    /// `None` while the reference is not loaded yet.
    fn read(&self, conn: &mut DbConnection) -> Result<Option<&DisplayNames>, DbError> {
        if let Some(names) = self.0.get() {
            return Ok(Some(names));
        }
        let rows: Vec<(String, i32, String)> = areas::table
            .filter(areas::level.gt(0))
            .select((areas::code, areas::level, areas::name))
            .load(conn)?;
        if rows.is_empty() {
            return Ok(None);
        }
        let names = rows
            .into_iter()
            .filter_map(|(code, level, name)| {
                Some((
                    digits_of(&code)?,
                    display_name(level, name).into_boxed_str(),
                ))
            })
            .collect();
        Ok(Some(self.0.get_or_init(|| DisplayNames(names))))
    }
}

/// Area names as a description shows them, by the digits of the area code.
struct DisplayNames(HashMap<u64, Box<str>, rustc_hash::FxBuildHasher>);

/// "73.71.01.1001" as 7371011001. Each level has a fixed number of digits and a province code
/// starts with a non-zero digit, so codes of different levels never collide.
fn digits_of(code: &str) -> Option<u64> {
    code.bytes().filter(|b| *b != b'.').try_fold(0u64, |n, b| {
        b.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))
            .flatten()
    })
}

fn display_name(level: i32, name: String) -> String {
    match AreaLevel::from_i32(level) {
        Some(AreaLevel::District) => format!("Kecamatan {name}"),
        Some(AreaLevel::Province) => format!("Provinsi {name}"),
        _ => name,
    }
}

impl DisplayNames {
    fn describe(&self, code: &AreaCode) -> Option<String> {
        let code = code.as_str();
        let ends = code
            .match_indices('.')
            .map(|(i, _)| i)
            .chain(std::iter::once(code.len()));
        let mut names: Vec<&str> = Vec::with_capacity(4);
        for end in ends {
            names.push(self.0.get(&digits_of(&code[..end])?)?);
        }
        names.reverse();
        Some(names.join(", "))
    }
}

fn describe_from(conn: &mut DbConnection, code: &AreaCode) -> Result<String, DbError> {
    let names: Vec<String> = lineage(conn, code)?
        .into_iter()
        .rev()
        .map(|a| display_name(a.level, a.name))
        .collect();
    Ok(names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_work_area_reads_the_same_from_memory_as_from_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ikrar.sqlite3");
        let db = super::super::Db::connect(&super::super::DatabaseUrl::Sqlite(
            path.to_string_lossy().into(),
        ))
        .unwrap();
        let conn = &mut *db.write().unwrap();
        load_reference(conn).unwrap();
        let village = AreaCode::parse(&reference_village_codes().next().unwrap()).unwrap();
        let names = AreaNames::new();
        let mut code = Some(village);
        while let Some(c) = code {
            let from_db = describe_from(conn, &c).unwrap();
            assert_eq!(from_db.split(", ").count(), c.level() as usize);
            assert_eq!(describe(conn, &names, &c).unwrap(), from_db);
            code = c.parent();
        }
        assert_eq!(digits_of("73.71.01.1001"), Some(7_371_011_001));
        assert_eq!(digits_of("73.7x"), None);
    }

    #[test]
    fn the_reference_has_every_area_of_the_nation() {
        let all = reference();
        let count = |l: AreaLevel| all.iter().filter(|a| a.level == l as i32).count();
        assert_eq!(count(AreaLevel::Province), 38);
        assert_eq!(count(AreaLevel::Regency), 514);
        assert_eq!(count(AreaLevel::District), 7_285);
        assert_eq!(count(AreaLevel::Village), 83_762);
        assert!(all
            .iter()
            .all(|a| AreaCode::parse(&a.code).is_ok() && !a.name.is_empty()));
    }
}
