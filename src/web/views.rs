//! What pages and the API show of stored rows. A handler turns the rows it read into these with
//! `From` and hands the view on, so that no page holds a row: a column added to a table shows
//! nowhere until a view says so, and a row's secrets (a TOTP key, a claim's salt) never reach a
//! template.

use crate::db::campaigns::Campaign;
use crate::domain::{AreaCode, AreaScope, CertificateId};

/// A campaign as its pages and the API name it: what it is called, where and when it runs.
#[derive(Debug, Clone)]
pub struct CampaignView {
    pub id: String,
    pub title: String,
    pub scope: AreaScope,
    pub opens_at: i64,
    pub closes_at: i64,
}

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        Self {
            id: c.id,
            title: c.title,
            scope: c.scope_code,
            opens_at: c.opens_at,
            closes_at: c.closes_at,
        }
    }
}

impl CampaignView {
    /// Whether the campaign covers the area, as `Campaign::covers` decides it.
    pub fn covers(&self, area: &AreaCode) -> bool {
        self.scope.covers(area)
    }
}

/// An employee's own standing certificate for a campaign, as their pages link to it.
#[derive(Debug, Clone)]
pub struct OwnCertificate {
    pub id: CertificateId,
}

impl From<crate::db::certificates::CertificateRow> for OwnCertificate {
    fn from(row: crate::db::certificates::CertificateRow) -> Self {
        Self { id: row.id }
    }
}

/// A version of a campaign's document as the signing page and the API show it: the text, and the
/// version and hash a signature must name.
#[derive(Debug, Clone)]
pub struct DocumentView {
    pub version: i32,
    pub sha256: String,
    pub body: String,
}

impl From<crate::db::campaigns::StoredDocument> for DocumentView {
    fn from(d: crate::db::campaigns::StoredDocument) -> Self {
        Self {
            version: d.version,
            sha256: d.sha256,
            body: d.body,
        }
    }
}
