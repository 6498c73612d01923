//! Public halves of the Ed25519 keys (claim and log keys), shared by every node through the
//! database. The rows are a working copy; the public log's key events are the record
//! (`transparency::keys`), and every change here is made together with its event
//! (`signing::keyring`).

use diesel::prelude::*;

use super::schema::issuer_keys;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = issuer_keys)]
pub struct IssuerKeyRow {
    pub key_id: String,
    pub algorithm: String,
    pub public_key: Vec<u8>,
    pub valid_from: i64,
    /// Signatures made at or after this instant are not genuine: set when the key is revoked.
    pub valid_until: Option<i64>,
    /// When `ikrar keys rotate` replaced it; its earlier certificates stay genuine.
    pub retired_at: Option<i64>,
    /// When `ikrar keys revoke` marked it compromised.
    pub revoked_at: Option<i64>,
    /// The jobs it still does, comma-separated: `claim`, `log`, or `claim,log` for a key from
    /// before the log had its own (`transparency::entry::KeyRoles`).
    pub roles: String,
}

/// A key's standing, as `/.well-known/ikrar-keys.json` publishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Retired,
    Revoked,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Revoked => "revoked",
        }
    }
}

impl IssuerKeyRow {
    pub fn status(&self) -> KeyStatus {
        if self.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if self.retired_at.is_some() {
            KeyStatus::Retired
        } else {
            KeyStatus::Active
        }
    }

    /// Whether it still does the job named `role` (`claim` or `log`).
    pub fn does(&self, role: &str) -> bool {
        self.roles.split(',').any(|r| r == role)
    }
}

/// Records a key's public half with its roles, unless it is known. True when it was new.
pub fn register(
    conn: &mut DbConnection,
    key_id: &str,
    public_key: &[u8],
    roles: &str,
    at: i64,
) -> Result<bool, DbError> {
    if find(conn, key_id)?.is_some() {
        return Ok(false);
    }
    let row = IssuerKeyRow {
        key_id: key_id.into(),
        algorithm: "Ed25519".into(),
        public_key: public_key.to_vec(),
        valid_from: at,
        valid_until: None,
        retired_at: None,
        revoked_at: None,
        roles: roles.into(),
    };
    match diesel::insert_into(issuer_keys::table)
        .values(&row)
        .execute(conn)
    {
        // Another node registered the same key at the same moment.
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        other => other.map(|_| true).map_err(DbError::from),
    }
}

pub fn find(conn: &mut DbConnection, key_id: &str) -> Result<Option<IssuerKeyRow>, DbError> {
    Ok(super::on_backend!(conn, |c| issuer_keys::table
        .find(key_id)
        .select(IssuerKeyRow::as_select())
        .first(c)
        .optional())?)
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<IssuerKeyRow>, DbError> {
    Ok(issuer_keys::table
        .order(issuer_keys::valid_from)
        .select(IssuerKeyRow::as_select())
        .load(conn)?)
}

/// The roles it still does.
pub fn set_roles(conn: &mut DbConnection, key_id: &str, roles: &str) -> Result<(), DbError> {
    diesel::update(issuer_keys::table.find(key_id))
        .set(issuer_keys::roles.eq(roles))
        .execute(conn)?;
    Ok(())
}

/// Out of service since `at`: rotated out, its earlier signatures stay genuine.
pub fn set_retired(conn: &mut DbConnection, key_id: &str, at: i64) -> Result<(), DbError> {
    diesel::update(issuer_keys::table.find(key_id))
        .set(issuer_keys::retired_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// In service from `at` (a rotation names the instant the new key takes over).
pub fn set_valid_from(conn: &mut DbConnection, key_id: &str, at: i64) -> Result<(), DbError> {
    diesel::update(issuer_keys::table.find(key_id))
        .set(issuer_keys::valid_from.eq(at))
        .execute(conn)?;
    Ok(())
}

/// Compromised: its signatures made at or after `until` are not genuine; declared at `at`.
pub fn set_revoked(
    conn: &mut DbConnection,
    key_id: &str,
    until: i64,
    at: i64,
) -> Result<(), DbError> {
    diesel::update(issuer_keys::table.find(key_id))
        .set((
            issuer_keys::valid_until.eq(until),
            issuer_keys::revoked_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}
