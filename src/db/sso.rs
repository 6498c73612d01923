//! Single sign-on attempts between leaving for the identity provider and coming back. Kept in the
//! database, not in one node's memory, so that the return may land on any node of a deployment.

use diesel::prelude::*;

use super::schema::sso_attempts;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_attempts)]
pub struct SsoAttempt {
    /// SHA-256 of the `state` sent to the provider; the state itself is not stored.
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Who is signing in: `pegawai` or `admin`.
    pub role: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used: bool,
}

/// Stores a new attempt and forgets those that ended more than a day ago.
pub fn begin(conn: &mut DbConnection, attempt: &SsoAttempt) -> Result<(), DbError> {
    diesel::delete(
        sso_attempts::table.filter(sso_attempts::expires_at.lt(attempt.created_at - 86_400)),
    )
    .execute(conn)?;
    diesel::insert_into(sso_attempts::table)
        .values(attempt)
        .execute(conn)?;
    Ok(())
}

/// Uses up the live attempt with this state hash and returns it; `None` when there is none, it
/// expired, or it was used already. One statement marks it used, so of two returns with the same
/// state only one gets the attempt.
pub fn take(
    conn: &mut DbConnection,
    state_hash: &str,
    now: i64,
) -> Result<Option<SsoAttempt>, DbError> {
    let claimed = diesel::update(
        sso_attempts::table
            .filter(sso_attempts::state_hash.eq(state_hash))
            .filter(sso_attempts::used.eq(false))
            .filter(sso_attempts::expires_at.gt(now)),
    )
    .set(sso_attempts::used.eq(true))
    .execute(conn)?;
    if claimed != 1 {
        return Ok(None);
    }
    Ok(sso_attempts::table
        .find(state_hash)
        .select(SsoAttempt::as_select())
        .first(conn)
        .optional()?)
}
