//! Administrators: who they are and the scope they act in. Rows are only added or switched off;
//! what an admin did is in the audit trail, not here.

use diesel::prelude::*;

use super::schema::admins;
use super::{DbConnection, DbError};
use crate::domain::{AdminRole, AdminScope, AreaScope};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admins)]
pub struct AdminRow {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub role: String,
    /// The nation or the area the admin answers for; with `role` and `agency`, their `AdminScope`.
    pub scope_code: AreaScope,
    pub agency: String,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub active: bool,
}

impl AdminRow {
    /// The scope as a checked value; a row that does not parse (edited by hand) grants nothing.
    pub fn scope(&self) -> Option<AdminScope> {
        let role = AdminRole::parse(&self.role).ok()?;
        let agency = Some(self.agency.as_str()).filter(|a| !a.is_empty());
        AdminScope::new(role, self.scope_code.area().cloned(), agency).ok()
    }

    pub fn new_id() -> String {
        let mut bytes = [0u8; 10];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        data_encoding::BASE32_NOPAD
            .encode(&bytes)
            .to_ascii_lowercase()
    }
}

pub fn insert(conn: &mut DbConnection, admin: &AdminRow) -> QueryResult<()> {
    diesel::insert_into(admins::table)
        .values(admin)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<AdminRow>, DbError> {
    Ok(admins::table
        .find(id)
        .select(AdminRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<AdminRow>, DbError> {
    Ok(admins::table
        .filter(admins::email.eq(email))
        .select(AdminRow::as_select())
        .first(conn)
        .optional()?)
}

/// Admins whose scope lies within `scope` (the caller's own included), for the team page. The
/// subtree is selected in SQL: a national roster of village admins runs to tens of thousands.
pub fn within(conn: &mut DbConnection, scope: &AdminScope) -> Result<Vec<AdminRow>, DbError> {
    Ok(admins::table
        .filter(
            scope.sql_filter::<_, super::MultiBackend, _, _>(admins::scope_code, admins::agency),
        )
        .order((admins::scope_code, admins::email))
        .select(AdminRow::as_select())
        .load(conn)?)
}

/// The names and roles of the admins among `ids` (their audit subjects' ids), for the audit page.
pub fn names_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<(String, String, String)>, DbError> {
    Ok(admins::table
        .filter(admins::id.eq_any(ids))
        .select((admins::id, admins::full_name, admins::role))
        .load(conn)?)
}

/// Turns on the second factor once the admin has proved their authenticator shows the codes.
pub fn set_totp(
    conn: &mut DbConnection,
    id: &str,
    secret: &[u8],
    step: i64,
) -> Result<(), DbError> {
    diesel::update(admins::table.find(id))
        .set((
            admins::totp_secret.eq(Some(secret.to_vec())),
            admins::totp_last_step.eq(Some(step)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records the time step of an accepted authenticator code, unless that step or a later one was
/// already used: a code seen once cannot be replayed. False means it was a replay.
pub fn use_totp_step(conn: &mut DbConnection, id: &str, step: i64) -> Result<bool, DbError> {
    let changed = diesel::update(
        admins::table.find(id).filter(
            admins::totp_last_step
                .is_null()
                .or(admins::totp_last_step.lt(step)),
        ),
    )
    .set(admins::totp_last_step.eq(Some(step)))
    .execute(conn)?;
    Ok(changed == 1)
}
