//! Sign-in codes and sessions. Only hashes are stored: a copy of the database signs nobody in.

use diesel::prelude::*;

use super::schema::{login_codes, sessions, sign_in_jobs, sign_in_requests};
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

/// Stores a new code and retires the subject's earlier ones: only the latest email counts.
pub fn replace_code(conn: &mut DbConnection, code: &LoginCode) -> Result<(), DbError> {
    conn.transaction(|conn| {
        // Only the live ones: retired codes stay as they are, so a busy identity does not
        // rewrite its whole history with every new code.
        diesel::update(
            login_codes::table
                .filter(login_codes::subject.eq(&code.subject))
                .filter(login_codes::used.eq(false)),
        )
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

/// A code request as the limits see it: the id only as a keyed hash.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sign_in_requests)]
pub struct CodeRequest<'a> {
    pub id: &'a str,
    pub id_hash: &'a str,
    pub client_addr: &'a str,
    pub created_at: i64,
}

pub fn record_code_request(
    conn: &mut DbConnection,
    request: &CodeRequest<'_>,
) -> Result<(), DbError> {
    diesel::insert_into(sign_in_requests::table)
        .values(request)
        .execute(conn)?;
    Ok(())
}

/// Creation times of the code requests for one hashed id since `since`, oldest first: how many
/// there were and when the oldest leaves the hour window.
pub fn code_requests_for_id(
    conn: &mut DbConnection,
    id_hash: &str,
    since: i64,
) -> Result<Vec<i64>, DbError> {
    Ok(sign_in_requests::table
        .filter(sign_in_requests::id_hash.eq(id_hash))
        .filter(sign_in_requests::created_at.ge(since))
        .order(sign_in_requests::created_at)
        .select(sign_in_requests::created_at)
        .limit(1_000)
        .load(conn)?)
}

pub fn code_requests_from_address(
    conn: &mut DbConnection,
    client_addr: &str,
    since: i64,
) -> Result<i64, DbError> {
    Ok(sign_in_requests::table
        .filter(sign_in_requests::client_addr.eq(client_addr))
        .filter(sign_in_requests::created_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// Forgets code requests older than `before`: the limits look back one hour only.
pub fn forget_code_requests(conn: &mut DbConnection, before: i64) -> Result<usize, DbError> {
    Ok(
        diesel::delete(sign_in_requests::table.filter(sign_in_requests::created_at.lt(before)))
            .execute(conn)?,
    )
}

/// A code request waiting for a node to resolve the id and mail the code.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sign_in_jobs)]
pub struct CodeJob {
    pub id: String,
    pub kind: String,
    pub login: String,
    pub client_addr: String,
    pub created_at: i64,
    pub taken_until: i64,
}

pub fn enqueue_code_job(conn: &mut DbConnection, job: &CodeJob) -> Result<(), DbError> {
    diesel::insert_into(sign_in_jobs::table)
        .values(job)
        .execute(conn)?;
    Ok(())
}

/// Jobs no node holds at `now`, created at or before `created_by`, oldest first.
pub fn open_code_jobs(
    conn: &mut DbConnection,
    now: i64,
    created_by: i64,
    limit: i64,
) -> Result<Vec<CodeJob>, DbError> {
    Ok(sign_in_jobs::table
        .filter(sign_in_jobs::taken_until.lt(now))
        .filter(sign_in_jobs::created_at.le(created_by))
        .order(sign_in_jobs::created_at)
        .limit(limit)
        .select(CodeJob::as_select())
        .load(conn)?)
}

/// Takes a job until `until` if no other node holds it; a conditional update, so two nodes never
/// both take one.
pub fn take_code_job(
    conn: &mut DbConnection,
    job: &CodeJob,
    now: i64,
    until: i64,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        sign_in_jobs::table
            .find(&job.id)
            .filter(sign_in_jobs::taken_until.lt(now)),
    )
    .set(sign_in_jobs::taken_until.eq(until))
    .execute(conn)?;
    Ok(changed == 1)
}

pub fn finish_code_job(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    diesel::delete(sign_in_jobs::table.find(id)).execute(conn)?;
    Ok(())
}

/// Jobs not yet handled, for tests and health checks.
pub fn pending_code_jobs(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(sign_in_jobs::table.count().get_result(conn)?)
}
