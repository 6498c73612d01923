//! Public halves of the issuer keys, shared by every node through the database.

use diesel::prelude::*;

use super::schema::issuer_keys;
use super::{DbConnection, DbError};
use crate::signing::IssuerKey;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = issuer_keys)]
pub struct IssuerKeyRow {
    pub key_id: String,
    pub algorithm: String,
    pub public_key: Vec<u8>,
    pub valid_from: i64,
    /// Signatures made after this instant are not genuine: set when the key is revoked.
    pub valid_until: Option<i64>,
    /// When `ikrar keys rotate` replaced it; its earlier certificates stay genuine.
    pub retired_at: Option<i64>,
    /// When `ikrar keys revoke` marked it compromised.
    pub revoked_at: Option<i64>,
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
}

#[derive(Debug, thiserror::Error)]
pub enum KeyStandingError {
    #[error("kunci penerbit {key_id} sudah {status} (berkas kunci node ini usang); salin berkas kunci yang berlaku dari node tempat `ikrar keys rotate` dijalankan")]
    NotSigning {
        key_id: String,
        status: &'static str,
    },
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
}

/// Records the key's public half the first time a node starts with it.
pub fn register(conn: &mut DbConnection, key: &IssuerKey) -> Result<(), DbError> {
    let id = key.id().to_hex();
    if find(conn, &id)?.is_none() {
        let row = IssuerKeyRow {
            key_id: id,
            algorithm: "Ed25519".into(),
            public_key: key.public().as_bytes().to_vec(),
            valid_from: super::now(),
            valid_until: None,
            retired_at: None,
            revoked_at: None,
        };
        match diesel::insert_into(issuer_keys::table)
            .values(&row)
            .execute(conn)
        {
            // Another node registered the same key at the same moment.
            Err(e) if super::is_unique_violation(&e) => {}
            other => drop(other?),
        }
    }
    Ok(())
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

/// A node signs only with a key that was neither rotated out nor revoked: a node started with a
/// stale key file would otherwise issue certificates under a key the issuer has given up.
pub fn ensure_signing(conn: &mut DbConnection, key: &IssuerKey) -> Result<(), KeyStandingError> {
    let key_id = key.id().to_hex();
    let status = find(conn, &key_id)?.map_or(KeyStatus::Active, |k| k.status());
    match status {
        KeyStatus::Active => Ok(()),
        KeyStatus::Retired => Err(KeyStandingError::NotSigning {
            key_id,
            status: "dipensiunkan",
        }),
        KeyStatus::Revoked => Err(KeyStandingError::NotSigning {
            key_id,
            status: "dicabut",
        }),
    }
}

/// Makes `new` the signing key and retires `old`, in one transaction.
pub fn rotate(
    conn: &mut DbConnection,
    old: &IssuerKey,
    new: &IssuerKey,
    at: i64,
) -> Result<(), DbError> {
    conn.transaction(|conn| {
        register(conn, old)?;
        register(conn, new)?;
        diesel::update(issuer_keys::table.find(old.id().to_hex()))
            .set(issuer_keys::retired_at.eq(at))
            .execute(conn)?;
        diesel::update(issuer_keys::table.find(new.id().to_hex()))
            .set(issuer_keys::valid_from.eq(at))
            .execute(conn)?;
        Ok::<(), DbError>(())
    })
}

/// Marks a key compromised: its signatures made after `from` are not genuine. A second revocation
/// can only move `from` earlier, never make a forged certificate genuine again.
pub fn revoke(
    conn: &mut DbConnection,
    key_id: &str,
    from: i64,
    at: i64,
) -> Result<Option<IssuerKeyRow>, DbError> {
    conn.transaction(|conn| {
        let Some(row) = find(conn, key_id)? else {
            return Ok(None);
        };
        let until = row.valid_until.map_or(from, |u| u.min(from));
        diesel::update(issuer_keys::table.find(key_id))
            .set((
                issuer_keys::valid_until.eq(until),
                issuer_keys::revoked_at.eq(row.revoked_at.unwrap_or(at)),
            ))
            .execute(conn)?;
        find(conn, key_id)
    })
}
