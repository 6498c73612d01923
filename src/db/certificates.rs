//! Issued certificates: the signature record, the signer's snapshot and its revocation.

use diesel::prelude::*;
use diesel::query_builder::QueryId;

use super::keys::IssuerKeyRow;
use super::log::CheckpointRow;
use super::schema::{certificates, issuer_keys, log_blocks};
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

/// A certificate's row as it is first stored: with its place in the public log, taken before the
/// row is written, so that the row is written once (on PostgreSQL an update of a row just written
/// is a second version of it, with a new entry in each of its indexes).
#[derive(Insertable)]
#[diesel(table_name = certificates)]
struct LoggedCertificate {
    #[diesel(embed)]
    row: CertificateRow,
    log_index: i64,
}

/// Stores issued certificates whose log places run from `first_index` on, in order; the caller
/// counts them (see `coverage::CountDeltas`).
pub fn insert_many(
    conn: &mut DbConnection,
    rows: &[CertificateRow],
    first_index: u64,
) -> Result<(), diesel::result::Error> {
    let logged: Vec<LoggedCertificate> = rows
        .iter()
        .zip(first_index as i64..)
        .map(|(row, log_index)| LoggedCertificate {
            row: row.clone(),
            log_index,
        })
        .collect();
    // 21 columns x 500 rows stays under both backends' limits on bound parameters.
    for chunk in logged.chunks(500) {
        super::on_backend!(conn, |c| diesel::insert_into(certificates::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Stores an issued certificate at its place in the log.
pub fn insert(
    conn: &mut DbConnection,
    row: &CertificateRow,
    log_index: u64,
) -> Result<(), diesel::result::Error> {
    let logged = LoggedCertificate {
        row: row.clone(),
        log_index: log_index as i64,
    };
    super::on_backend!(conn, |c| diesel::insert_into(certificates::table)
        .values(&logged)
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
    /// The log's latest checkpoint, read in the same snapshot; `None` while none is signed, and
    /// not read for a certificate that predates the log.
    pub latest_checkpoint: Option<CheckpointRow>,
    /// The stored block of leaf hashes around the certificate's own leaf, when it was read
    /// ahead (PostgreSQL); otherwise the proof reads it if it needs it.
    pub leaf_block: Option<(u64, Vec<u8>)>,
}

/// The certificate, its issuer key, its place in the log and the log's latest checkpoint.
///
/// A QR scan is dominated by per-statement costs. On SQLite a statement is a function call, and
/// each read here is one; the log index is kept on the certificate, and only certificates logged
/// before that column existed need the search of `log_entries`. It is not joined: SQLite seeks
/// that index before it tests the join's condition on the certificate, which cost every scan a
/// random page. On PostgreSQL each statement is a round trip to another process, so the
/// certificate, its key, the latest checkpoint and the certificate's block of leaf hashes (which
/// a first scan of it needs for its inclusion proof) come in one.
pub fn find_verifiable(
    conn: &mut DbConnection,
    id: &CertificateId,
) -> Result<Option<Verifiable>, DbError> {
    if let DbConnection::Postgres(_) = conn {
        return Ok(find_verifiable_many(conn, &[id])?.pop().flatten());
    }
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
    let latest_checkpoint = match log_index {
        Some(_) => super::log::latest_checkpoint(conn)?,
        None => None,
    };
    Ok(Some(Verifiable {
        certificate,
        issuer_key,
        log_index,
        latest_checkpoint,
        leaf_block: None,
    }))
}

/// [`find_verifiable`] for several certificates at once, in the order asked (an id asked twice
/// is answered twice). On PostgreSQL this is one statement for all of them; the scans that
/// arrive while another batch is being read are read together this way (`Db::read_scan`).
pub fn find_verifiable_many(
    conn: &mut DbConnection,
    ids: &[&CertificateId],
) -> Result<Vec<Option<Verifiable>>, DbError> {
    use super::log::LEAVES_PER_BLOCK;
    let DbConnection::Postgres(c) = conn else {
        return ids.iter().map(|id| find_verifiable(conn, id)).collect();
    };
    let scan = ScanRead {
        ids: ids.iter().map(|id| id.as_str()).collect(),
        selection: (
            CertificateRow::as_select(),
            Option::<IssuerKeyRow>::as_select(),
            certificates::log_index,
            Option::<CheckpointRow>::as_select(),
            log_blocks::leaves.nullable(),
        ),
    };
    let rows: Vec<ScanRow> = scan.load(c)?;
    let mut found = rustc_hash::FxHashMap::default();
    for (certificate, issuer_key, own, latest_checkpoint, block) in rows {
        let (log_index, latest_checkpoint) = match own {
            Some(index) => (Some(index as u64), latest_checkpoint),
            // Logged before the certificate kept its index: the block is read if the proof
            // needs it.
            None => {
                let logged =
                    super::log::entry_of(conn, certificate.id.as_str(), super::log::ISSUED)?
                        .map(|e| e.idx as u64);
                (logged, logged.and(latest_checkpoint))
            }
        };
        let leaf_block = match (log_index, block) {
            (Some(index), Some(leaves)) => Some((index / LEAVES_PER_BLOCK, leaves)),
            _ => None,
        };
        found.insert(
            certificate.id.clone(),
            Verifiable {
                certificate,
                issuer_key,
                log_index,
                latest_checkpoint,
                leaf_block,
            },
        );
    }
    Ok(ids.iter().map(|id| found.get(*id).cloned()).collect())
}

type ScanRow = (
    CertificateRow,
    Option<IssuerKeyRow>,
    Option<i64>,
    Option<CheckpointRow>,
    Option<Vec<u8>>,
);

type ScanSelection = (
    diesel::helper_types::AsSelect<CertificateRow, diesel::pg::Pg>,
    diesel::helper_types::AsSelect<Option<IssuerKeyRow>, diesel::pg::Pg>,
    certificates::log_index,
    diesel::helper_types::AsSelect<Option<CheckpointRow>, diesel::pg::Pg>,
    diesel::helper_types::Nullable<log_blocks::leaves>,
);

/// The one statement of a group of scans on PostgreSQL. diesel's query builder cannot join the
/// latest checkpoint (a subquery on the table it joins), so the joins are written out; the
/// selected columns are diesel's own, in the order the rows above read them. The ids are one
/// array parameter, so that every group size shares one prepared statement.
struct ScanRead<'a> {
    ids: Vec<&'a str>,
    selection: ScanSelection,
}

impl QueryId for ScanRead<'_> {
    type QueryId = ScanRead<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for ScanRead<'_> {
    type SqlType = <ScanSelection as Expression>::SqlType;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for ScanRead<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        out.push_sql("SELECT ");
        self.selection.walk_ast(out.reborrow())?;
        out.push_sql(
            " FROM certificates \
             LEFT JOIN issuer_keys ON issuer_keys.key_id = certificates.key_id \
             LEFT JOIN log_checkpoints ON log_checkpoints.tree_size = \
               (SELECT max(newest.tree_size) FROM log_checkpoints newest) \
             LEFT JOIN log_blocks ON log_blocks.block = certificates.log_index / ",
        );
        out.push_sql(&super::log::LEAVES_PER_BLOCK.to_string());
        out.push_sql(" WHERE certificates.id = ANY(");
        out.push_bind_param::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&self.ids)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for ScanRead<'_> {}

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
