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
    pub valid_until: Option<i64>,
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
    Ok(issuer_keys::table
        .find(key_id)
        .select(IssuerKeyRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<IssuerKeyRow>, DbError> {
    Ok(issuer_keys::table
        .order(issuer_keys::valid_from)
        .select(IssuerKeyRow::as_select())
        .load(conn)?)
}
