//! The Kemendagri area reference: loaded once from the CSV files built into the binary.

use std::collections::HashSet;

use diesel::prelude::*;

use super::schema::areas;
use super::{DbConnection, DbError};
use crate::domain::{AreaCode, AreaLevel};
use crate::memo::Memo;

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
/// Remembered per process: the reference never changes once loaded, and every verification
/// and certificate names the signer's work area.
pub fn describe(conn: &mut DbConnection, code: &AreaCode) -> Result<String, DbError> {
    // The reference has 83,762 villages, so every described area fits.
    static DESCRIBED: Memo<String, String> = Memo::new(200_000);
    if let Some(known) = DESCRIBED.get(&code.as_str().to_string()) {
        return Ok(known);
    }
    let text = describe_from(conn, code)?;
    // Only a full lineage is remembered: a missing ancestor may yet be loaded.
    if text.matches(", ").count() + 1 == code.level() as usize {
        DESCRIBED.remember(code.as_str().to_string(), text.clone());
    }
    Ok(text)
}

fn describe_from(conn: &mut DbConnection, code: &AreaCode) -> Result<String, DbError> {
    let names: Vec<String> = lineage(conn, code)?
        .into_iter()
        .rev()
        .map(|a| match AreaLevel::from_i32(a.level) {
            Some(AreaLevel::District) => format!("Kecamatan {}", a.name),
            Some(AreaLevel::Province) => format!("Provinsi {}", a.name),
            _ => a.name,
        })
        .collect();
    Ok(names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

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
