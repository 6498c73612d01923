//! The seal certificates a deployment has used, shared by every node through the database.

use diesel::prelude::*;

use super::schema::seal_certificates;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = seal_certificates)]
pub struct SealCertificateRow {
    /// SHA-256 of the leaf certificate's DER, lowercase hex.
    pub fingerprint: String,
    pub subject: String,
    /// The leaf certificate, DER.
    pub certificate: Vec<u8>,
    pub registered_at: i64,
}

/// Records a seal's certificate the first time a node starts with it (or it is imported).
pub fn register(conn: &mut DbConnection, row: SealCertificateRow) -> Result<(), DbError> {
    if find(conn, &row.fingerprint)?.is_some() {
        return Ok(());
    }
    match diesel::insert_into(seal_certificates::table)
        .values(&row)
        .execute(conn)
    {
        // Another node registered the same seal at the same moment.
        Err(e) if super::is_unique_violation(&e) => Ok(()),
        other => other.map(drop).map_err(Into::into),
    }
}

pub fn find(
    conn: &mut DbConnection,
    fingerprint: &str,
) -> Result<Option<SealCertificateRow>, DbError> {
    Ok(seal_certificates::table
        .find(fingerprint)
        .select(SealCertificateRow::as_select())
        .first(conn)
        .optional()?)
}
