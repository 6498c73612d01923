//! Revoking a certificate: the workflow beside issuing. The row is marked, the revocation is
//! appended to the public log and the certificate leaves the coverage counts, all in one
//! transaction; the employee may then sign again.

use diesel::Connection;

use crate::db::{certificates, coverage, employees, DbConnection, DbError};
use crate::domain::CertificateId;

/// Revokes a standing certificate at `at` with the stored reason (`category: note`; only the
/// category reaches the log). False if the certificate is unknown or already revoked.
pub fn revoke_certificate(
    conn: &mut DbConnection,
    id: &CertificateId,
    at: i64,
    reason: &str,
) -> Result<bool, DbError> {
    let revoked = conn.transaction(|conn| {
        let Some(row) = certificates::mark_revoked(conn, id, at, reason)? else {
            return Ok(false);
        };
        crate::transparency::log_revocation(conn, &row, at, reason)?;
        let employee = employees::find_q(conn, row.employee_id)?;
        if employee.active {
            coverage::add_signed(conn, &row.campaign_id, &employee.placement(), -1)?;
        }
        Ok::<_, diesel::result::Error>(true)
    })?;
    Ok(revoked)
}
