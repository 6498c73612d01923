//! Sign-in codes and sessions. Only hashes are stored: a copy of the database signs nobody in.

use diesel::prelude::*;

use super::schema::{login_codes, sessions};
use super::{DbConnection, DbError};

pub const MAX_ATTEMPTS: i32 = 5;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_codes)]
pub struct LoginCode {
    pub id: String,
    pub subject: String,
    pub code_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub attempts: i32,
    pub used: bool,
}

/// Who a code or session belongs to, as stored: `pegawai:<id>` or `admin:<id>`.
pub fn employee_subject(employee_id: i64) -> String {
    format!("pegawai:{employee_id}")
}

pub fn admin_subject(admin_id: &str) -> String {
    format!("admin:{admin_id}")
}

/// How many codes the subject was sent since `since`, for the per-identity rate limit.
pub fn codes_sent_since(
    conn: &mut DbConnection,
    subject: &str,
    since: i64,
) -> Result<i64, DbError> {
    Ok(login_codes::table
        .filter(login_codes::subject.eq(subject))
        .filter(login_codes::created_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// Stores a new code and retires the subject's earlier ones: only the latest email counts.
pub fn replace_code(conn: &mut DbConnection, code: &LoginCode) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::update(login_codes::table.filter(login_codes::subject.eq(&code.subject)))
            .set(login_codes::used.eq(true))
            .execute(conn)?;
        diesel::insert_into(login_codes::table)
            .values(code)
            .execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// The subject's live code: not used, not expired, tries left.
pub fn live_code(
    conn: &mut DbConnection,
    subject: &str,
    now: i64,
) -> Result<Option<LoginCode>, DbError> {
    Ok(login_codes::table
        .filter(login_codes::subject.eq(subject))
        .filter(login_codes::used.eq(false))
        .filter(login_codes::expires_at.gt(now))
        .filter(login_codes::attempts.lt(MAX_ATTEMPTS))
        .order(login_codes::created_at.desc())
        .select(LoginCode::as_select())
        .first(conn)
        .optional()?)
}

/// Counts one try; a matching try also uses the code up. Both in one statement each, so two
/// simultaneous tries cannot both get in.
pub fn record_attempt(
    conn: &mut DbConnection,
    code_id: &str,
    success: bool,
) -> Result<bool, DbError> {
    let target = login_codes::table
        .find(code_id)
        .filter(login_codes::used.eq(false))
        .filter(login_codes::attempts.lt(MAX_ATTEMPTS));
    let changed = if success {
        diesel::update(target)
            .set((
                login_codes::attempts.eq(login_codes::attempts + 1),
                login_codes::used.eq(true),
            ))
            .execute(conn)?
    } else {
        diesel::update(target)
            .set(login_codes::attempts.eq(login_codes::attempts + 1))
            .execute(conn)?
    };
    Ok(changed == 1)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub token_hash: String,
    pub subject: String,
    pub created_at: i64,
    pub expires_at: i64,
}

pub fn create_session(conn: &mut DbConnection, session: &Session) -> Result<(), DbError> {
    diesel::insert_into(sessions::table)
        .values(session)
        .execute(conn)?;
    Ok(())
}

/// The subject a live session belongs to.
pub fn session_subject(
    conn: &mut DbConnection,
    token_hash: &str,
    now: i64,
) -> Result<Option<String>, DbError> {
    Ok(sessions::table
        .find(token_hash)
        .filter(sessions::expires_at.gt(now))
        .select(sessions::subject)
        .first(conn)
        .optional()?)
}

pub fn end_session(conn: &mut DbConnection, token_hash: &str) -> Result<(), DbError> {
    diesel::delete(sessions::table.find(token_hash)).execute(conn)?;
    Ok(())
}
