//! Issued certificates: the signature record, the signer's snapshot and its revocation.

use diesel::prelude::*;

use super::keys::IssuerKeyRow;
use super::schema::{certificates, issuer_keys};
use super::{DbConnection, DbError};
use crate::domain::{AreaCode, CertificateId, EmployeeType, LoginId, Nik, Nip};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = certificates)]
pub struct CertificateRow {
    pub id: CertificateId,
    pub serial: i64,
    pub campaign_id: String,
    pub employee_id: i64,
    pub document_sha256: String,
    pub signed_at: i64,
    pub signer_name: String,
    pub signer_nip: Option<Nip>,
    pub signer_nik: Nik,
    pub position: String,
    pub agency: String,
    pub unit: String,
    pub employee_type: EmployeeType,
    pub village_code: AreaCode,
    pub key_id: String,
    pub record_salt: Vec<u8>,
    pub claim: Vec<u8>,
    pub signature: Vec<u8>,
    pub revoked_at: Option<i64>,
    pub revocation_reason: Option<String>,
}

impl CertificateRow {
    /// The signer's identifier: the NIP, or the NIK for staff without one. Always `Some` now that
    /// the row holds parsed values; the `Option` stays for the callers written when it did not.
    pub fn signer_id(&self) -> Option<LoginId> {
        Some(match &self.signer_nip {
            Some(nip) => LoginId::Nip(nip.clone()),
            None => LoginId::Nik(self.signer_nik.clone()),
        })
    }
}

/// Takes the next certificate number. The counter row is locked until the caller's transaction
/// ends, so numbers are unique across every node on one database.
pub fn next_serial(conn: &mut DbConnection) -> Result<i64, diesel::result::Error> {
    super::advance_counter(conn, "certificate_serial", 1)
}

/// Takes `n` consecutive certificate numbers at once and returns the first.
pub fn reserve_serials(conn: &mut DbConnection, n: i64) -> Result<i64, diesel::result::Error> {
    let last = super::advance_counter(conn, "certificate_serial", n)?;
    Ok(last - n + 1)
}

/// Inserts many certificates; the caller counts them (see `coverage::CountDeltas`).
pub fn insert_many(
    conn: &mut DbConnection,
    rows: &[CertificateRow],
) -> Result<(), diesel::result::Error> {
    // 20 columns x 500 rows stays under both backends' limits on bound parameters.
    for chunk in rows.chunks(500) {
        super::on_backend!(conn, |c| diesel::insert_into(certificates::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

pub fn insert(conn: &mut DbConnection, row: &CertificateRow) -> Result<(), diesel::result::Error> {
    super::on_backend!(conn, |c| diesel::insert_into(certificates::table)
        .values(row)
        .execute(c))
    .map(drop)
}

pub fn find(
    conn: &mut DbConnection,
    id: &CertificateId,
) -> Result<Option<CertificateRow>, DbError> {
    Ok(super::on_backend!(conn, |c| certificates::table
        .find(id.as_str())
        .select(CertificateRow::as_select())
        .first(c)
        .optional())?)
}

/// A certificate with what judging it needs besides its own record.
#[derive(Debug, Clone)]
pub struct Verifiable {
    pub certificate: CertificateRow,
    /// The issuer key the certificate names; `None` if it is not one of ours.
    pub issuer_key: Option<IssuerKeyRow>,
    /// Where its issuance is in the public log; `None` if it predates the log.
    pub log_index: Option<u64>,
}

/// The certificate, its issuer key and its place in the log. A QR scan is dominated by
/// per-statement costs (locks, binding, stepping) and by the pages it reads, so the key comes in
/// the same statement. The log index is kept on the certificate; only certificates logged before
/// that column existed need a second statement, the search of `log_entries`. It is not joined:
/// SQLite seeks that index before it tests the join's condition on the certificate, which cost
/// every scan a random page.
pub fn find_verifiable(
    conn: &mut DbConnection,
    id: &CertificateId,
) -> Result<Option<Verifiable>, DbError> {
    type Found = (CertificateRow, Option<IssuerKeyRow>, Option<i64>);
    let found: Option<Found> = super::on_backend!(conn, |c| certificates::table
        .left_join(issuer_keys::table)
        .filter(certificates::id.eq(id.as_str()))
        .select((
            CertificateRow::as_select(),
            Option::<IssuerKeyRow>::as_select(),
            certificates::log_index,
        ))
        .first(c)
        .optional())?;
    let Some((certificate, issuer_key, own)) = found else {
        return Ok(None);
    };
    let log_index = match own {
        Some(index) => Some(index as u64),
        None => super::log::entry_of(conn, id.as_str(), super::log::ISSUED)?.map(|e| e.idx as u64),
    };
    Ok(Some(Verifiable {
        certificate,
        issuer_key,
        log_index,
    }))
}

/// Records where the certificate's issuance sits in the log, in the logging transaction.
pub fn set_log_index(
    conn: &mut DbConnection,
    id: &str,
    index: u64,
) -> Result<(), diesel::result::Error> {
    let index = index as i64;
    super::on_backend!(conn, |c| super::fixed::SetLogIndex { index, id }.execute(c)).map(drop)
}

/// The employee's certificate for the campaign that has not been revoked, if any.
pub fn standing(
    conn: &mut DbConnection,
    campaign_id: &str,
    employee_id: i64,
) -> Result<Option<CertificateRow>, diesel::result::Error> {
    super::on_backend!(conn, |c| certificates::table
        .filter(certificates::campaign_id.eq(campaign_id))
        .filter(certificates::employee_id.eq(employee_id))
        .filter(certificates::revoked_at.is_null())
        .select(CertificateRow::as_select())
        .first(c)
        .optional())
}

/// Ids of up to `limit` standing certificates of the campaign, drawn at random from all of them:
/// what a load test verifies. The first ones in storage order would sit together in a few
/// pages of the table and of the log, and make scans look cheaper than the public's are.
pub fn standing_ids(
    conn: &mut DbConnection,
    campaign_id: &str,
    limit: usize,
) -> Result<Vec<String>, DbError> {
    Ok(certificates::table
        .filter(certificates::campaign_id.eq(campaign_id))
        .filter(certificates::revoked_at.is_null())
        .order(diesel::dsl::sql::<diesel::sql_types::Double>("random()"))
        .limit(limit as i64)
        .select(certificates::id)
        .load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(certificates::table.count().get_result(conn)?)
}

/// Marks a standing certificate revoked at `at` with the stored reason, in the caller's
/// transaction, and returns it as it stood; `None` if it is unknown or already revoked. The
/// workflow around it (the log, the coverage counts) is `signing::revoke_certificate`.
pub fn mark_revoked(
    conn: &mut DbConnection,
    id: &CertificateId,
    at: i64,
    reason: &str,
) -> Result<Option<CertificateRow>, diesel::result::Error> {
    let Some(row) = certificates::table
        .find(id.as_str())
        .filter(certificates::revoked_at.is_null())
        .select(CertificateRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    diesel::update(certificates::table.find(id.as_str()))
        .set((
            certificates::revoked_at.eq(at),
            certificates::revocation_reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(Some(row))
}

/// How many certificates a key signed at or after an instant: what revoking it from then on
/// affects.
pub fn signed_by_from(conn: &mut DbConnection, key_id: &str, from: i64) -> Result<i64, DbError> {
    Ok(certificates::table
        .filter(certificates::key_id.eq(key_id))
        .filter(certificates::signed_at.ge(from))
        .count()
        .get_result(conn)?)
}
