//! The roster: who may sign, where they work, and how to reach them.

pub mod bulk;

use diesel::prelude::*;

use std::collections::HashMap;

use super::coverage::{self, Placement};
use super::schema::{certificates, employees};
use super::{DbConnection, DbError};
use crate::domain::{AreaCode, AreaScope, EmployeeType, LoginId, Nik, Nip};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
// `None` is bound as NULL rather than left to the column default (also NULL): every insert
// then has one shape, which diesel prepares once, and SQLite inserts many rows per statement.
#[diesel(table_name = employees, treat_none_as_default_value = false)]
pub struct Employee {
    pub id: i64,
    pub nip: Option<Nip>,
    pub nik: Nik,
    pub full_name: String,
    pub position: String,
    pub agency: String,
    pub unit: String,
    pub employee_type: EmployeeType,
    pub village_code: AreaCode,
    pub email: Option<String>,
    pub active: bool,
    pub updated_at: i64,
}

/// A roster row as stored; built only from a checked roster record.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = employees, treat_none_as_null = true)]
pub struct EmployeeRecord {
    pub nip: Option<Nip>,
    pub nik: Nik,
    pub full_name: String,
    pub position: String,
    pub agency: String,
    pub unit: String,
    pub employee_type: EmployeeType,
    pub village_code: AreaCode,
    pub email: Option<String>,
    pub active: bool,
    pub updated_at: i64,
}

impl Employee {
    pub fn placement(&self) -> Placement {
        Placement {
            village_code: self.village_code.as_str().to_string(),
            agency: self.agency.clone(),
            employee_type: self.employee_type.as_str().to_string(),
        }
    }
}

impl EmployeeRecord {
    /// The row as a new employee with the given id.
    pub fn with_id(self, id: i64) -> Employee {
        Employee {
            id,
            nip: self.nip,
            nik: self.nik,
            full_name: self.full_name,
            position: self.position,
            agency: self.agency,
            unit: self.unit,
            employee_type: self.employee_type,
            village_code: self.village_code,
            email: self.email,
            active: self.active,
            updated_at: self.updated_at,
        }
    }

    pub fn placement(&self) -> Placement {
        Placement {
            village_code: self.village_code.as_str().to_string(),
            agency: self.agency.clone(),
            employee_type: self.employee_type.as_str().to_string(),
        }
    }
}

/// An employee who moves village, changes agency or type, or leaves, moves their counts with
/// them: the roster count, and the signed count of every campaign they hold a certificate for.
fn move_counts(conn: &mut DbConnection, old: &Employee, new: &EmployeeRecord) -> QueryResult<()> {
    let (from, to) = (old.placement(), new.placement());
    if from == to && old.active == new.active {
        return Ok(());
    }
    let campaigns: Vec<String> = certificates::table
        .filter(certificates::employee_id.eq(old.id))
        .filter(certificates::revoked_at.is_null())
        .select(certificates::campaign_id)
        .load(conn)?;
    if old.active {
        coverage::add_roster(conn, &from, -1)?;
        for campaign in &campaigns {
            coverage::add_signed(conn, campaign, &from, -1)?;
        }
    }
    if new.active {
        coverage::add_roster(conn, &to, 1)?;
        for campaign in &campaigns {
            coverage::add_signed(conn, campaign, &to, 1)?;
        }
    }
    Ok(())
}

pub(crate) fn find_q(conn: &mut DbConnection, id: i64) -> QueryResult<Employee> {
    employees::table
        .find(id)
        .select(Employee::as_select())
        .first(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Employee>, DbError> {
    Ok(employees::table
        .find(id)
        .select(Employee::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_login(
    conn: &mut DbConnection,
    login: &LoginId,
) -> Result<Option<Employee>, DbError> {
    let query = employees::table
        .select(Employee::as_select())
        .filter(employees::active.eq(true));
    Ok(match login {
        LoginId::Nip(nip) => query
            .filter(employees::nip.eq(nip.as_str()))
            .first(conn)
            .optional()?,
        LoginId::Nik(nik) => query
            .filter(employees::nik.eq(nik.as_str()))
            .first(conn)
            .optional()?,
    })
}

#[derive(Insertable)]
#[diesel(table_name = employees)]
struct NewEmployee {
    id: i64,
    #[diesel(embed)]
    record: EmployeeRecord,
}

/// Outcome of writing one batch of roster rows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UpsertCount {
    pub inserted: usize,
    pub updated: usize,
}

/// Why a batch was not written; `index` is the row in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchRefusal {
    /// The row names one employee by NIK and another by NIP: the file contradicts the roster.
    IdentityClash { index: usize },
    /// The row names an employee on the roster whom the caller may not change (an admin upload
    /// about someone outside the admin's scope); `current` is where they are placed now.
    NotYours { index: usize, current: Placement },
}

/// Inserts new employees and updates known ones, matched by NIK or else by NIP. Runs inside the
/// caller's transaction so that a whole file lands or none of it does. New employees are counted
/// into `counts`, which the caller writes (`CountDeltas::write`) before its transaction ends: a
/// file's counters are then summed over many batches and each counter row moves once.
pub fn upsert_batch(
    conn: &mut DbConnection,
    batch: &[EmployeeRecord],
    counts: &mut coverage::CountDeltas,
    may_change: impl Fn(&Placement) -> bool,
) -> Result<Result<UpsertCount, BatchRefusal>, DbError> {
    let niks: Vec<&str> = batch.iter().map(|r| r.nik.as_str()).collect();
    let nips: Vec<&str> = batch.iter().filter_map(|r| r.nip.as_deref()).collect();
    let known: Vec<Employee> = employees::table
        .filter(
            employees::nik
                .eq_any(&niks)
                .or(employees::nip.eq_any(&nips)),
        )
        .select(Employee::as_select())
        .load(conn)?;
    let by_nik: HashMap<&str, &Employee> = known.iter().map(|e| (e.nik.as_str(), e)).collect();
    let by_nip: HashMap<&str, &Employee> = known
        .iter()
        .filter_map(|e| e.nip.as_deref().map(|n| (n, e)))
        .collect();

    let mut count = UpsertCount::default();
    let mut fresh = Vec::new();
    for (index, record) in batch.iter().enumerate() {
        let via_nik = by_nik.get(record.nik.as_str()).copied();
        let via_nip = record.nip.as_deref().and_then(|n| by_nip.get(n).copied());
        match (via_nik, via_nip) {
            (Some(a), Some(b)) if a.id != b.id => {
                return Ok(Err(BatchRefusal::IdentityClash { index }))
            }
            (Some(old), _) | (None, Some(old)) if !may_change(&old.placement()) => {
                return Ok(Err(BatchRefusal::NotYours {
                    index,
                    current: old.placement(),
                }))
            }
            (Some(old), _) | (None, Some(old)) => {
                diesel::update(employees::table.find(old.id))
                    .set(record)
                    .execute(conn)?;
                move_counts(conn, old, record)?;
                count.updated += 1;
            }
            (None, None) => fresh.push(record),
        }
    }
    for record in fresh.iter().filter(|r| r.active) {
        counts.roster(&record.placement(), 1);
    }
    let rows: Vec<NewEmployee> = fresh
        .into_iter()
        .map(|r| NewEmployee {
            id: super::random_id(),
            record: r.clone(),
        })
        .collect();
    for chunk in rows.chunks(500) {
        super::on_backend!(conn, |c| diesel::insert_into(employees::table)
            .values(chunk)
            .execute(c))?;
    }
    count.inserted = rows.len();
    Ok(Ok(count))
}

/// Employees per insert statement on PostgreSQL: a fixed row count gives one statement that is
/// prepared once and reused (a varying count is parsed anew each time), and 64 rows of 12
/// columns stay far under the limit on bound parameters.
const ROWS_PER_INSERT: usize = 64;

/// Inserts employees known to be new (ids made by the caller), without counting them: a bulk
/// loader counts a whole batch at once with `coverage::CountDeltas`.
pub fn insert_new(conn: &mut DbConnection, rows: &[Employee]) -> QueryResult<()> {
    match conn {
        // One row per statement. SQLite runs a multi-row VALUES as a SELECT and keeps a
        // statement journal for it (a copy of each page the statement touches first, written to
        // a temporary file): more work than the rows themselves. A one-row insert needs none,
        // and its prepared statement is reused.
        DbConnection::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(employees::table)
                    .values(row)
                    .execute(c)?;
            }
        }
        // PostgreSQL pays a round trip per statement instead.
        DbConnection::Postgres(c) => {
            let mut full = rows.chunks_exact(ROWS_PER_INSERT);
            for chunk in full.by_ref() {
                let chunk: &[Employee; ROWS_PER_INSERT] = chunk.try_into().expect("an exact chunk");
                diesel::insert_into(employees::table)
                    .values(chunk)
                    .execute(c)?;
            }
            for row in full.remainder() {
                diesel::insert_into(employees::table)
                    .values(row)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Ids for the employees of one bulk load: random like `random_id`, but ascending, so the
/// primary-key index grows at its end instead of taking each row at a random page. Gaps are
/// random too, so the ids of a load do not count its employees.
pub struct AscendingIds {
    next: i64,
    rng: fastrand::Rng,
}

impl AscendingIds {
    pub fn new() -> Self {
        let mut rng = fastrand::Rng::with_seed(super::random_id() as u64);
        // Far below the top of the 63-bit range: 10 million ids with gaps of up to 2^20 use 2^44.
        let next = rng.i64(1 << 40..1 << 61);
        Self { next, rng }
    }

    pub fn next_id(&mut self) -> i64 {
        let id = self.next;
        self.next += 1 + self.rng.i64(0..1 << 20);
        id
    }
}

impl Default for AscendingIds {
    fn default() -> Self {
        Self::new()
    }
}

pub fn count(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(employees::table.count().get_result(conn)?)
}

/// An active ASN employee (with a NIP and an email) who holds no standing certificate for the
/// campaign: the demo's suggestion of whom to sign in as.
pub fn first_unsigned(
    conn: &mut DbConnection,
    campaign_id: &str,
) -> Result<Option<Employee>, DbError> {
    use super::schema::certificates;
    let signed = certificates::table
        .filter(certificates::employee_id.eq(employees::id))
        .filter(certificates::campaign_id.eq(campaign_id))
        .filter(certificates::revoked_at.is_null());
    Ok(employees::table
        .filter(employees::active.eq(true))
        .filter(employees::nip.is_not_null())
        .filter(employees::email.is_not_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(signed)))
        .order(employees::nip)
        .select(Employee::as_select())
        .first(conn)
        .optional()?)
}

/// Up to `limit` active employees who hold no standing certificate for the campaign, in no
/// particular order: the signers of a load test.
pub fn unsigned_sample(
    conn: &mut DbConnection,
    campaign_id: &str,
    limit: usize,
) -> Result<Vec<Employee>, DbError> {
    let signed = certificates::table
        .filter(certificates::employee_id.eq(employees::id))
        .filter(certificates::campaign_id.eq(campaign_id))
        .filter(certificates::revoked_at.is_null());
    Ok(employees::table
        .filter(employees::active.eq(true))
        .filter(diesel::dsl::not(diesel::dsl::exists(signed)))
        .limit(limit as i64)
        .select(Employee::as_select())
        .load(conn)?)
}

/// The village codes of an area as a range, so that both backends use the index on
/// `village_code`: "73.71" covers "73.71." up to (not including) "73.71/" ('/' follows '.').
fn village_range(area_code: &str) -> (String, String) {
    if area_code.is_empty() {
        (String::new(), "~".to_string())
    } else if area_code.len() == 13 {
        // A village: exactly its own code (no code lies between it and itself plus a space).
        (area_code.to_string(), format!("{area_code} "))
    } else {
        (format!("{area_code}."), format!("{area_code}/"))
    }
}

/// Every active employee working in the area ("" for the nation).
pub fn in_area(conn: &mut DbConnection, area_code: &str) -> Result<Vec<Employee>, DbError> {
    let (from, to) = village_range(area_code);
    Ok(employees::table
        .filter(employees::active.eq(true))
        .filter(
            employees::village_code
                .ge(from)
                .and(employees::village_code.lt(to)),
        )
        .order(employees::id)
        .select(Employee::as_select())
        .load(conn)?)
}

/// Which unsigned employees an admin asks for.
#[derive(Debug, Clone, Default)]
pub struct UnsignedFilter {
    /// The nation (the default) or one area.
    pub area_code: AreaScope,
    pub agency: Option<String>,
    pub employee_type: Option<String>,
}

/// Active employees in the area who hold no standing certificate for the campaign, ordered by
/// village, agency and name, the order in which they are chased.
pub fn unsigned(
    conn: &mut DbConnection,
    campaign_id: &str,
    filter: &UnsignedFilter,
) -> Result<Vec<Employee>, DbError> {
    let (from, to) = village_range(&filter.area_code);
    let signed = certificates::table
        .filter(certificates::employee_id.eq(employees::id))
        .filter(certificates::campaign_id.eq(campaign_id))
        .filter(certificates::revoked_at.is_null());
    let mut query = employees::table
        .filter(employees::active.eq(true))
        .filter(
            employees::village_code
                .ge(from)
                .and(employees::village_code.lt(to)),
        )
        .filter(diesel::dsl::not(diesel::dsl::exists(signed)))
        .order((
            employees::village_code,
            employees::agency,
            employees::full_name,
        ))
        .select(Employee::as_select())
        .into_boxed();
    if let Some(agency) = &filter.agency {
        query = query.filter(employees::agency.eq(agency.clone()));
    }
    if let Some(kind) = &filter.employee_type {
        query = query.filter(employees::employee_type.eq(kind.clone()));
    }
    Ok(query.load(conn)?)
}
