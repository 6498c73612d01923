//! A stored certificate drawn again as its sealed PDF: the signer's download and the mail the
//! outbox sends both take it from here.

use std::time::{Duration, Instant};

use super::bundle::Gathered;
use super::{render_pdf, CertificateContext, OfflineBundle, PdfSigner};
use crate::caches::Caches;
use crate::crypto::Seal;
use crate::db::certificates::{self, CertificateRow};
use crate::db::{areas, campaigns, Db};
use crate::domain::CertificateId;

/// How long a download of a certificate signed a moment ago waits for the checkpoint that covers
/// it (one is signed within about a second of every append), so that its PDF carries the offline
/// bundle. Past this the PDF is made without it, rather than not at all.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(3);

/// Renders a stored certificate as its PDF, with its offline bundle attached, sealed by `seal`;
/// `None` if there is no such certificate.
pub fn render_stored(
    db: &Db,
    caches: &Caches,
    base_url: &str,
    seal: &Seal,
    id: &CertificateId,
) -> anyhow::Result<Option<(CertificateRow, Vec<u8>)>> {
    let mut conn = db.read()?;
    let Some(row) = certificates::find(&mut conn, id)? else {
        return Ok(None);
    };
    let campaign = campaigns::find(&mut conn, &row.campaign_id)?
        .ok_or_else(|| anyhow::anyhow!("certificate {} names a missing campaign", row.id))?;
    let document = campaigns::document_by_hash(&mut conn, &row.campaign_id, &row.document_sha256)?
        .ok_or_else(|| anyhow::anyhow!("certificate {} names a missing document", row.id))?;
    let work_area = areas::describe(&mut conn, &caches.area_names, &row.village_code)?;
    let authority = campaigns::authority_at(&mut conn, &row.campaign_id, row.signed_at)?;
    let mut gathered = OfflineBundle::gather(&mut conn, &row)?;
    drop(conn);
    let waiting_since = Instant::now();
    while gathered == Gathered::AwaitingCheckpoint && waiting_since.elapsed() < CHECKPOINT_WAIT {
        std::thread::sleep(Duration::from_millis(100));
        gathered = OfflineBundle::gather(&mut *db.read()?, &row)?;
    }
    let bundle = match gathered {
        Gathered::Ready(bundle) => Some(bundle),
        other => {
            tracing::warn!(certificate = %row.id, state = ?other, "a certificate PDF goes out without its offline bundle");
            None
        }
    };
    let pdf = render_pdf(
        &CertificateContext {
            certificate: &row,
            campaign: &campaign,
            document: &document,
            work_area: &work_area,
            base_url,
            authority: authority.as_ref(),
            bundle: bundle.as_ref(),
        },
        PdfSigner { seal },
    )?;
    Ok(Some((row, pdf)))
}
