//! Where coverage is counted. Counters per area (the nation, province, regency, district and
//! village), agency and employee type move in the same transaction as the roster row or the
//! certificate they count, so a drill-down reads a few small rows and always equals a recount.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;

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
    let row = (
        roster_counts::area_code.eq(area),
        roster_counts::parent_code.eq(parent),
        roster_counts::agency.eq(agency),
        roster_counts::employee_type.eq(employee_type),
        roster_counts::employees.eq(delta),
    );
    on_backend!(conn, |c| diesel::insert_into(roster_counts::table)
        .values(row)
        .on_conflict((
            roster_counts::area_code,
            roster_counts::agency,
            roster_counts::employee_type
        ))
        .do_update()
        .set(roster_counts::employees.eq(roster_counts::employees + delta))
        .execute(c))?;
    Ok(())
}

/// Counter deltas of many employees or certificates, summed per counter row in memory before
/// anything is written. A batch of a thousand roster rows then moves each province, regency and
/// district row once instead of once per employee, and the rows are written in key order, which
/// keeps the database's page cache warm.
#[derive(Debug, Default)]
pub struct CountDeltas {
    /// (campaign or "" for the roster, area, agency, type) -> (parent, delta)
    rows: HashMap<(String, String, String, String), (String, i64)>,
    /// (campaign, area, day) -> signings
    days: HashMap<(String, String, i64), i64>,
}

impl CountDeltas {
    fn add(&mut self, campaign: &str, p: &Placement, delta: i64) {
        for (area, parent) in lineage(&p.village_code) {
            let key = (
                campaign.to_string(),
                area,
                p.agency.clone(),
                p.employee_type.clone(),
            );
            self.rows.entry(key).or_insert((parent, 0)).1 += delta;
        }
    }

    pub fn roster(&mut self, p: &Placement, delta: i64) {
        self.add("", p, delta);
    }

    /// A certificate signed at `at`: counted as signed and on its signing day.
    pub fn signed(&mut self, campaign_id: &str, p: &Placement, at: i64) {
        self.add(campaign_id, p, 1);
        let day = day_of(at);
        for (area, _) in lineage(&p.village_code) {
            *self
                .days
                .entry((campaign_id.to_string(), area, day))
                .or_default() += 1;
        }
    }

    /// Takes over another batch's deltas (a signing whose savepoint held, into its group commit).
    pub fn absorb(&mut self, other: CountDeltas) {
        for (key, (parent, delta)) in other.rows {
            self.rows.entry(key).or_insert((parent, 0)).1 += delta;
        }
        for (key, n) in other.days {
            *self.days.entry(key).or_default() += n;
        }
    }

    /// Counter rows waiting to be written.
    pub fn len(&self) -> usize {
        self.rows.len() + self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.days.is_empty()
    }

    /// Writes the summed deltas in the caller's transaction and empties the batch.
    pub fn write(&mut self, conn: &mut DbConnection) -> QueryResult<()> {
        let mut rows: Vec<_> = self.rows.drain().filter(|(_, (_, d))| *d != 0).collect();
        rows.sort_unstable();
        for ((campaign, area, agency, kind), (parent, delta)) in rows {
            if campaign.is_empty() {
                upsert_roster(conn, &area, &parent, &agency, &kind, delta)?;
            } else {
                upsert_signed(conn, &campaign, &area, &parent, &agency, &kind, delta)?;
            }
        }
        let mut days: Vec<_> = self.days.drain().collect();
        days.sort_unstable();
        for ((campaign, area, day), n) in days {
            upsert_day(conn, &campaign, &area, day, n)?;
        }
        Ok(())
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
    let row = (
        signed_counts::campaign_id.eq(campaign_id),
        signed_counts::area_code.eq(area),
        signed_counts::parent_code.eq(parent),
        signed_counts::agency.eq(agency),
        signed_counts::employee_type.eq(employee_type),
        signed_counts::signed.eq(delta),
    );
    on_backend!(conn, |c| diesel::insert_into(signed_counts::table)
        .values(row)
        .on_conflict((
            signed_counts::campaign_id,
            signed_counts::area_code,
            signed_counts::agency,
            signed_counts::employee_type,
        ))
        .do_update()
        .set(signed_counts::signed.eq(signed_counts::signed + delta))
        .execute(c))?;
    Ok(())
}

/// Calendar day number in Indonesian central time (UTC+8), the day a ceremony is reported on.
pub fn day_of(at: i64) -> i64 {
    (at + 8 * 3600).div_euclid(86_400)
}

fn upsert_day(
    conn: &mut DbConnection,
    campaign_id: &str,
    area: &str,
    day: i64,
    signings: i64,
) -> QueryResult<()> {
    let row = (
        daily_signings::campaign_id.eq(campaign_id),
        daily_signings::area_code.eq(area),
        daily_signings::day.eq(day),
        daily_signings::signings.eq(signings),
    );
    on_backend!(conn, |c| diesel::insert_into(daily_signings::table)
        .values(row)
        .on_conflict((
            daily_signings::campaign_id,
            daily_signings::area_code,
            daily_signings::day
        ))
        .do_update()
        .set(daily_signings::signings.eq(daily_signings::signings + signings))
        .execute(c))?;
    Ok(())
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
