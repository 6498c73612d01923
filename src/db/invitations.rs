//! Invitation slips as stored: one row per printed slip, holding only the hash of its code.
//! A slip is live until it is used, retired by a reprint, or its campaign closes.

use diesel::prelude::*;

use super::schema::invitations;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: String,
    pub token_hash: String,
    pub employee_id: i64,
    pub campaign_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// `admin:<id>` or `cli:<user>`: who printed it.
    pub printed_by: String,
    pub used_at: Option<i64>,
    pub retired_at: Option<i64>,
}

/// Stores freshly printed slips, retiring every live slip their employees held before: only the
/// newest paper in a person's hands works. Call inside the transaction that records the printing.
pub fn replace_slips(
    conn: &mut DbConnection,
    slips: &[Invitation],
    at: i64,
) -> Result<(), DbError> {
    // One statement per chunk: the multi-backend connection has no batch insert, but the retiring
    // stays a handful of statements for a whole office.
    for chunk in slips.chunks(500) {
        let employees: Vec<i64> = chunk.iter().map(|s| s.employee_id).collect();
        diesel::update(
            invitations::table
                .filter(invitations::employee_id.eq_any(employees))
                .filter(invitations::used_at.is_null())
                .filter(invitations::retired_at.is_null()),
        )
        .set(invitations::retired_at.eq(Some(at)))
        .execute(conn)?;
    }
    for slip in slips {
        diesel::insert_into(invitations::table)
            .values(slip)
            .execute(conn)?;
    }
    Ok(())
}

/// Uses up the live slip whose code hashes to `token_hash`, if there is one. The check and the
/// marking are one statement, so two people typing the same code at once cannot both get in.
pub fn use_slip(
    conn: &mut DbConnection,
    token_hash: &str,
    at: i64,
) -> Result<Option<Invitation>, DbError> {
    let live = invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .filter(invitations::used_at.is_null())
        .filter(invitations::retired_at.is_null())
        .filter(invitations::expires_at.gt(at));
    let Some(slip) = live
        .select(Invitation::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let changed = diesel::update(live.filter(invitations::id.eq(&slip.id)))
        .set(invitations::used_at.eq(Some(at)))
        .execute(conn)?;
    Ok((changed == 1).then_some(slip))
}
