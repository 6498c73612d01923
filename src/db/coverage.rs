//! Where coverage is counted. Counters per area (the nation, province, regency, district and
//! village), agency and employee type move in the same transaction as the roster row or the
//! certificate they count, so a drill-down reads a few small rows and always equals a recount.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;

use super::fixed::{pg, AddDailySignings, AddRosterCount, AddSignedCount};
use super::schema::{daily_signings, roster_counts, signed_counts};
use super::{on_backend, DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = roster_counts)]
pub struct RosterCount {
    pub area_code: String,
    pub parent_code: String,
    pub agency: String,
    pub employee_type: String,
    pub employees: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signed_counts)]
pub struct SignedCount {
    pub campaign_id: String,
    pub area_code: String,
    pub parent_code: String,
    pub agency: String,
    pub employee_type: String,
    pub signed: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = daily_signings)]
pub struct DailySigning {
    pub campaign_id: String,
    pub area_code: String,
    pub day: i64,
    pub signings: i64,
}

/// The parent code of the nation's own row; provinces have the nation ("") as parent.
const ABOVE_NATION: &str = "^";

/// Where an employee counts: their work village, agency and type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Placement {
    pub village_code: String,
    pub agency: String,
    pub employee_type: String,
}

/// The nation and every area above the village, each with its parent: `("", "^")`,
/// `("73", "")`, `("73.71", "73")`, `("73.71.01", "73.71")`, `("73.71.01.1001", "73.71.01")`.
fn lineage(village_code: &str) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), ABOVE_NATION.to_string())];
    let mut parent = String::new();
    for (i, _) in village_code
        .match_indices('.')
        .chain(std::iter::once((village_code.len(), "")))
    {
        let code = village_code[..i].to_string();
        out.push((code.clone(), std::mem::replace(&mut parent, code)));
    }
    out
}

pub fn add_roster(conn: &mut DbConnection, p: &Placement, delta: i64) -> QueryResult<()> {
    for (area, parent) in lineage(&p.village_code) {
        upsert_roster(conn, &area, &parent, &p.agency, &p.employee_type, delta)?;
    }
    Ok(())
}

fn upsert_roster(
    conn: &mut DbConnection,
    area: &str,
    parent: &str,
    agency: &str,
    employee_type: &str,
    delta: i64,
) -> QueryResult<()> {
    let row = AddRosterCount {
        area_code: area,
        parent_code: parent,
        agency,
        employee_type,
        employees: delta,
    };
    on_backend!(conn, |c| row.execute(c)).map(drop)
}

/// Counter deltas of many employees or certificates, summed in memory before anything is written.
/// A batch of a thousand roster rows then moves each province, regency and district row once
/// instead of once per employee, and the rows are written in key order, which keeps the
/// database's page cache warm.
///
/// Deltas are held per village, agency and type, with every name interned: a national load adds
/// millions of employees, and a delta costs a few hash lookups instead of allocating the five
/// counter keys of its lineage. The lineage is summed once, when the deltas are written.
#[derive(Debug, Default)]
pub struct CountDeltas {
    names: Names,
    /// (campaign or the roster, village, agency, type) -> delta.
    rows: HashMap<(u32, u32, u32, u32), i64>,
    /// (campaign, village, day) -> signings.
    days: HashMap<(u32, u32, i64), i64>,
}

/// Interned names: campaign ids, village codes, agencies and employee types.
#[derive(Debug, Default)]
struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    /// The id of the roster's own rows in place of a campaign.
    const ROSTER: &'static str = "";

    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// One summed counter row, ready to write; `campaign` is empty for the roster's rows.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct CountRow<'a> {
    campaign: &'a str,
    area: &'a str,
    agency: &'a str,
    employee_type: &'a str,
    parent: &'a str,
    delta: i64,
}

/// The codes of the areas above a village, with their parents, as slices of the village code:
/// the nation `("", "^")`, then province, regency and district.
fn areas_above(village_code: &str) -> impl Iterator<Item = (&str, &str)> {
    let cuts = village_code.match_indices('.').map(|(i, _)| i);
    std::iter::once(("", ABOVE_NATION)).chain(cuts.scan("", move |parent, i| {
        let area = &village_code[..i];
        Some((area, std::mem::replace(parent, area)))
    }))
}

/// The parent of a village: its district.
fn district_of(village_code: &str) -> &str {
    village_code.rfind('.').map_or("", |i| &village_code[..i])
}

impl CountDeltas {
    /// An employee added to (`delta` 1) or taken off (-1) the roster.
    pub fn roster(&mut self, p: &Placement, delta: i64) {
        self.roster_in(&p.village_code, &p.agency, &p.employee_type, delta);
    }

    /// `roster` for a placement the caller holds as borrowed fields.
    pub fn roster_in(&mut self, village_code: &str, agency: &str, employee_type: &str, delta: i64) {
        self.add(Names::ROSTER, village_code, agency, employee_type, delta);
    }

    fn add(&mut self, campaign: &str, village: &str, agency: &str, kind: &str, delta: i64) {
        let key = (
            self.names.id(campaign),
            self.names.id(village),
            self.names.id(agency),
            self.names.id(kind),
        );
        *self.rows.entry(key).or_default() += delta;
    }

    /// A certificate signed at `at`: counted as signed and on its signing day.
    pub fn signed(&mut self, campaign_id: &str, p: &Placement, at: i64) {
        self.add(campaign_id, &p.village_code, &p.agency, &p.employee_type, 1);
        let key = (
            self.names.id(campaign_id),
            self.names.id(&p.village_code),
            day_of(at),
        );
        *self.days.entry(key).or_default() += 1;
    }

    /// Takes over another batch's deltas (a signing whose savepoint held, into its group commit).
    pub fn absorb(&mut self, other: CountDeltas) {
        let name = |id: u32| other.names.name(id);
        for ((campaign, village, agency, kind), delta) in &other.rows {
            let (campaign, village) = (name(*campaign), name(*village));
            self.add(campaign, village, name(*agency), name(*kind), *delta);
        }
        for ((campaign, village, day), n) in &other.days {
            let key = (
                self.names.id(name(*campaign)),
                self.names.id(name(*village)),
                *day,
            );
            *self.days.entry(key).or_default() += n;
        }
    }

    /// Village counter rows waiting to be written (each moves up to four rows above it too).
    pub fn len(&self) -> usize {
        self.rows.len() + self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.days.is_empty()
    }

    /// Writes the summed deltas in the caller's transaction and empties the batch.
    pub fn write(&mut self, conn: &mut DbConnection) -> QueryResult<()> {
        std::mem::take(self).summed().write(conn)
    }

    /// The counter rows these deltas move, summed up every level to the nation and sorted by
    /// key. Needs no connection, so a loader can sum on one thread while another writes.
    pub fn summed(self) -> CountRows {
        let names = &self.names;
        // Village rows are distinct already; the areas above sum many villages each.
        let mut rows: Vec<CountRow> = Vec::with_capacity(self.rows.len() * 2);
        let mut above: HashMap<(u32, &str, u32, u32), (&str, i64)> = HashMap::new();
        for (&(campaign, village, agency, kind), &delta) in &self.rows {
            let village_code = names.name(village);
            rows.push(CountRow {
                campaign: names.name(campaign),
                area: village_code,
                agency: names.name(agency),
                employee_type: names.name(kind),
                parent: district_of(village_code),
                delta,
            });
            for (area, parent) in areas_above(village_code) {
                above
                    .entry((campaign, area, agency, kind))
                    .or_insert((parent, 0))
                    .1 += delta;
            }
        }
        rows.extend(
            above.into_iter().map(
                |((campaign, area, agency, kind), (parent, delta))| CountRow {
                    campaign: names.name(campaign),
                    area,
                    agency: names.name(agency),
                    employee_type: names.name(kind),
                    parent,
                    delta,
                },
            ),
        );
        rows.retain(|r| r.delta != 0);
        rows.sort_unstable();
        let split = rows.partition_point(|r| r.campaign.is_empty());
        let (roster, signed) = rows.split_at(split);
        let roster = roster
            .iter()
            .map(|r| RosterCount {
                area_code: r.area.into(),
                parent_code: r.parent.into(),
                agency: r.agency.into(),
                employee_type: r.employee_type.into(),
                employees: r.delta,
            })
            .collect();
        let signed = signed
            .iter()
            .map(|r| SignedCount {
                campaign_id: r.campaign.into(),
                area_code: r.area.into(),
                parent_code: r.parent.into(),
                agency: r.agency.into(),
                employee_type: r.employee_type.into(),
                signed: r.delta,
            })
            .collect();

        let mut days: HashMap<(u32, &str, i64), i64> = HashMap::new();
        for (&(campaign, village, day), &n) in &self.days {
            let village_code = names.name(village);
            let lineage = areas_above(village_code).map(|(area, _)| area);
            for area in lineage.chain(std::iter::once(village_code)) {
                *days.entry((campaign, area, day)).or_default() += n;
            }
        }
        let mut days: Vec<((&str, &str, i64), i64)> = days
            .into_iter()
            .map(|((campaign, area, day), n)| ((names.name(campaign), area, day), n))
            .collect();
        days.sort_unstable();
        let days = days
            .into_iter()
            .map(|((campaign, area, day), signings)| DailySigning {
                campaign_id: campaign.into(),
                area_code: area.into(),
                day,
                signings,
            })
            .collect();
        CountRows {
            roster,
            signed,
            days,
        }
    }
}

/// Rows per statement when counter rows go into an empty table: a fixed count is prepared once
/// and reused, and 64 rows of six columns stay far under both backends' bind limits.
const ROWS_PER_INSERT: usize = 64;

/// Writes `rows` (sorted by key, each key once) adding each one's value to the stored counter.
/// Into an empty table, such as the first load of a roster, they are plain inserts of many rows
/// per statement; otherwise, on SQLite, one upsert per row (diesel builds no multi-row upsert
/// for SQLite), each a statement prepared once and reused (`db::fixed`). On PostgreSQL each row
/// would be a round trip made while the batch holds the counter rows every signing waits for
/// (about ten per signing), so all rows go in one statement there.
macro_rules! write_adding {
    ($conn:expr, $rows:expr, $table:ident, $value:ident) => {{
        let conn: &mut DbConnection = $conn;
        let rows = $rows;
        let occupied: bool =
            diesel::select(diesel::dsl::exists($table::table.select($table::$value)))
                .get_result(conn)?;
        if occupied {
            if let DbConnection::Postgres(c) = &mut *conn {
                if !rows.is_empty() {
                    AddToStored::add_all_to_stored(&rows[..], c)?;
                }
            } else {
                for row in rows {
                    row.add_to_stored(conn)?;
                }
            }
        } else {
            let mut full = rows.chunks_exact(ROWS_PER_INSERT);
            for chunk in full.by_ref() {
                let chunk: &[_; ROWS_PER_INSERT] = chunk.try_into().expect("an exact chunk");
                on_backend!(conn, |c| diesel::insert_into($table::table)
                    .values(chunk)
                    .execute(c))?;
            }
            for row in full.remainder() {
                on_backend!(conn, |c| diesel::insert_into($table::table)
                    .values(row)
                    .execute(c))?;
            }
        }
        Ok::<(), diesel::result::Error>(())
    }};
}

/// A counter row that adds its value to the stored row of the same key, or becomes that row.
trait AddToStored: Sized {
    fn add_to_stored(&self, conn: &mut DbConnection) -> QueryResult<usize>;
    /// The same for many rows in one statement (PostgreSQL); each key once.
    fn add_all_to_stored(rows: &[Self], conn: &mut diesel::PgConnection) -> QueryResult<usize>;
}

impl AddToStored for RosterCount {
    fn add_to_stored(&self, conn: &mut DbConnection) -> QueryResult<usize> {
        let row = AddRosterCount {
            area_code: &self.area_code,
            parent_code: &self.parent_code,
            agency: &self.agency,
            employee_type: &self.employee_type,
            employees: self.employees,
        };
        on_backend!(conn, |c| row.execute(c))
    }

    fn add_all_to_stored(rows: &[Self], conn: &mut diesel::PgConnection) -> QueryResult<usize> {
        let mut all = pg::AddRosterCounts::default();
        for r in rows {
            all.area_code.push(&r.area_code);
            all.parent_code.push(&r.parent_code);
            all.agency.push(&r.agency);
            all.employee_type.push(&r.employee_type);
            all.employees.push(r.employees);
        }
        all.execute(conn)
    }
}

impl AddToStored for SignedCount {
    fn add_to_stored(&self, conn: &mut DbConnection) -> QueryResult<usize> {
        let row = AddSignedCount {
            campaign_id: &self.campaign_id,
            area_code: &self.area_code,
            parent_code: &self.parent_code,
            agency: &self.agency,
            employee_type: &self.employee_type,
            signed: self.signed,
        };
        on_backend!(conn, |c| row.execute(c))
    }

    fn add_all_to_stored(rows: &[Self], conn: &mut diesel::PgConnection) -> QueryResult<usize> {
        let mut all = pg::AddSignedCounts::default();
        for r in rows {
            all.campaign_id.push(&r.campaign_id);
            all.area_code.push(&r.area_code);
            all.parent_code.push(&r.parent_code);
            all.agency.push(&r.agency);
            all.employee_type.push(&r.employee_type);
            all.signed.push(r.signed);
        }
        all.execute(conn)
    }
}

impl AddToStored for DailySigning {
    fn add_to_stored(&self, conn: &mut DbConnection) -> QueryResult<usize> {
        let row = AddDailySignings {
            campaign_id: &self.campaign_id,
            area_code: &self.area_code,
            day: self.day,
            signings: self.signings,
        };
        on_backend!(conn, |c| row.execute(c))
    }

    fn add_all_to_stored(rows: &[Self], conn: &mut diesel::PgConnection) -> QueryResult<usize> {
        let mut all = pg::AddDailySignings::default();
        for r in rows {
            all.campaign_id.push(&r.campaign_id);
            all.area_code.push(&r.area_code);
            all.day.push(r.day);
            all.signings.push(r.signings);
        }
        all.execute(conn)
    }
}

/// Summed counter rows (`CountDeltas::summed`), each key once and in key order, waiting to be
/// added to the stored counters.
#[derive(Debug, Default)]
pub struct CountRows {
    roster: Vec<RosterCount>,
    signed: Vec<SignedCount>,
    days: Vec<DailySigning>,
}

impl CountRows {
    /// Adds the rows to the stored counters in the caller's transaction.
    pub fn write(&self, conn: &mut DbConnection) -> QueryResult<()> {
        write_adding!(conn, &self.roster, roster_counts, employees)?;
        write_adding!(conn, &self.signed, signed_counts, signed)?;
        write_adding!(conn, &self.days, daily_signings, signings)
    }
}

pub fn add_signed(
    conn: &mut DbConnection,
    campaign_id: &str,
    p: &Placement,
    delta: i64,
) -> QueryResult<()> {
    for (area, parent) in lineage(&p.village_code) {
        upsert_signed(
            conn,
            campaign_id,
            &area,
            &parent,
            &p.agency,
            &p.employee_type,
            delta,
        )?;
    }
    Ok(())
}

fn upsert_signed(
    conn: &mut DbConnection,
    campaign_id: &str,
    area: &str,
    parent: &str,
    agency: &str,
    employee_type: &str,
    delta: i64,
) -> QueryResult<()> {
    let row = AddSignedCount {
        campaign_id,
        area_code: area,
        parent_code: parent,
        agency,
        employee_type,
        signed: delta,
    };
    on_backend!(conn, |c| row.execute(c)).map(drop)
}

/// Calendar day number in Indonesian central time (UTC+8), the day a ceremony is reported on.
pub fn day_of(at: i64) -> i64 {
    (at + 8 * 3600).div_euclid(86_400)
}

/// Roster size and signed count of one group.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub roster: i64,
    pub signed: i64,
}

impl Tally {
    pub fn percent(&self) -> f64 {
        if self.roster == 0 {
            0.0
        } else {
            (self.signed as f64 * 1000.0 / self.roster as f64).round() / 10.0
        }
    }
}

/// Coverage of one area for one campaign, broken down three ways.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AreaCoverage {
    pub total: Tally,
    pub children: BTreeMap<String, Tally>,
    pub by_agency: BTreeMap<String, Tally>,
    pub by_type: BTreeMap<String, Tally>,
}

/// Reads the counters of an area (`""` for the nation) and of its children.
pub fn area(
    conn: &mut DbConnection,
    campaign_id: &str,
    area_code: &str,
) -> Result<AreaCoverage, DbError> {
    let mut out = AreaCoverage::default();
    let own_roster: Vec<(String, String, i64)> = roster_counts::table
        .filter(roster_counts::area_code.eq(area_code))
        .select((
            roster_counts::agency,
            roster_counts::employee_type,
            roster_counts::employees,
        ))
        .load(conn)?;
    let own_signed: Vec<(String, String, i64)> = signed_counts::table
        .filter(signed_counts::campaign_id.eq(campaign_id))
        .filter(signed_counts::area_code.eq(area_code))
        .select((
            signed_counts::agency,
            signed_counts::employee_type,
            signed_counts::signed,
        ))
        .load(conn)?;
    for (agency, kind, n) in own_roster {
        out.total.roster += n;
        out.by_agency.entry(agency).or_default().roster += n;
        out.by_type.entry(kind).or_default().roster += n;
    }
    for (agency, kind, n) in own_signed {
        out.total.signed += n;
        out.by_agency.entry(agency).or_default().signed += n;
        out.by_type.entry(kind).or_default().signed += n;
    }
    // Summed per child by the database: a province has ~2,000 (child, agency, type) rows.
    let sum = |column: &str| {
        diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("CAST(SUM({column}) AS BIGINT)"))
    };
    let child_roster: Vec<(String, i64)> = roster_counts::table
        .filter(roster_counts::parent_code.eq(area_code))
        .group_by(roster_counts::area_code)
        .select((roster_counts::area_code, sum("employees")))
        .load(conn)?;
    let child_signed: Vec<(String, i64)> = signed_counts::table
        .filter(signed_counts::campaign_id.eq(campaign_id))
        .filter(signed_counts::parent_code.eq(area_code))
        .group_by(signed_counts::area_code)
        .select((signed_counts::area_code, sum("signed")))
        .load(conn)?;
    for (code, n) in child_roster {
        out.children.entry(code).or_default().roster += n;
    }
    for (code, n) in child_signed {
        out.children.entry(code).or_default().signed += n;
    }
    out.by_agency.retain(|_, t| t.roster != 0 || t.signed != 0);
    out.by_type.retain(|_, t| t.roster != 0 || t.signed != 0);
    Ok(out)
}

/// Only the totals of an area: what the live counter polls every second.
pub fn total(
    conn: &mut DbConnection,
    campaign_id: &str,
    area_code: &str,
) -> Result<Tally, DbError> {
    let sum = |column: &str| {
        diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "CAST(COALESCE(SUM({column}), 0) AS BIGINT)"
        ))
    };
    let roster = roster_counts::table
        .filter(roster_counts::area_code.eq(area_code))
        .select(sum("employees"))
        .first(conn)?;
    let signed = signed_counts::table
        .filter(signed_counts::campaign_id.eq(campaign_id))
        .filter(signed_counts::area_code.eq(area_code))
        .select(sum("signed"))
        .first(conn)?;
    Ok(Tally { roster, signed })
}

/// Signings per day in the area, oldest first.
pub fn daily(
    conn: &mut DbConnection,
    campaign_id: &str,
    area_code: &str,
) -> Result<Vec<(i64, i64)>, DbError> {
    Ok(daily_signings::table
        .filter(daily_signings::campaign_id.eq(campaign_id))
        .filter(daily_signings::area_code.eq(area_code))
        .order(daily_signings::day)
        .select((daily_signings::day, daily_signings::signings))
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_village_counts_in_the_nation_and_every_area_above_it() {
        let l = lineage("73.71.01.1001");
        let pairs: Vec<(&str, &str)> = l.iter().map(|(a, p)| (a.as_str(), p.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("", "^"),
                ("73", ""),
                ("73.71", "73"),
                ("73.71.01", "73.71"),
                ("73.71.01.1001", "73.71.01")
            ]
        );
    }

    #[test]
    fn summed_deltas_use_the_same_lineage_as_single_moves() {
        let village = "73.71.01.1001";
        let mut summed: Vec<(&str, &str)> = areas_above(village).collect();
        summed.push((village, district_of(village)));
        let single = lineage(village);
        let single: Vec<(&str, &str)> = single
            .iter()
            .map(|(a, p)| (a.as_str(), p.as_str()))
            .collect();
        assert_eq!(summed, single);
    }

    #[test]
    fn percentages_have_one_decimal() {
        assert_eq!(
            Tally {
                roster: 3,
                signed: 2
            }
            .percent(),
            66.7
        );
        assert_eq!(Tally::default().percent(), 0.0);
    }
}
