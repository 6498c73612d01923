//! Signing campaigns and the versions of their document.

use diesel::prelude::*;

use super::schema::{campaigns, certificates, documents};
use super::{on_backend, DbConnection, DbError};
use crate::domain::{AreaCode, PactDocument};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns)]
pub struct Campaign {
    pub id: String,
    pub title: String,
    pub scope_code: String,
    pub opens_at: i64,
    pub closes_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents)]
pub struct StoredDocument {
    pub campaign_id: String,
    pub version: i32,
    pub sha256: String,
    pub body: String,
    pub created_at: i64,
}

impl Campaign {
    /// Whether the campaign covers the area (a national campaign, scope "", covers every area).
    pub fn covers(&self, code: &str) -> bool {
        self.scope_code.is_empty()
            || match (AreaCode::parse(&self.scope_code), AreaCode::parse(code)) {
                (Ok(scope), Ok(area)) => scope.contains(&area),
                _ => false,
            }
    }

    pub fn is_open_at(&self, at: i64) -> bool {
        self.opens_at <= at && at < self.closes_at
    }

    /// A short random id; lower-case base32 keeps it readable in links and compact in the QR.
    pub fn new_id() -> String {
        let mut bytes = [0u8; 5];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        data_encoding::BASE32_NOPAD
            .encode(&bytes)
            .to_ascii_lowercase()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentChangeError {
    #[error("dokumen kampanye ini sudah ditandatangani dan tidak dapat diubah lagi")]
    Frozen,
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
}

pub fn create(
    conn: &mut DbConnection,
    campaign: &Campaign,
    document: &PactDocument,
) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::insert_into(campaigns::table)
            .values(campaign)
            .execute(conn)?;
        diesel::insert_into(documents::table)
            .values(StoredDocument {
                campaign_id: campaign.id.clone(),
                version: 1,
                sha256: document.sha256_hex(),
                body: document.text().to_string(),
                created_at: campaign.created_at,
            })
            .execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// Replaces the campaign's text with a new version, as long as nobody has signed the current one.
pub fn revise_document(
    conn: &mut DbConnection,
    campaign_id: &str,
    document: &PactDocument,
) -> Result<StoredDocument, DocumentChangeError> {
    let result = conn.transaction(|conn| {
        let current = current_document_q(conn, campaign_id)?;
        let signed: i64 = certificates::table
            .filter(certificates::campaign_id.eq(campaign_id))
            .filter(certificates::document_sha256.eq(&current.sha256))
            .count()
            .get_result(conn)?;
        if signed > 0 {
            return Ok(Err(DocumentChangeError::Frozen));
        }
        let next = StoredDocument {
            campaign_id: campaign_id.to_string(),
            version: current.version + 1,
            sha256: document.sha256_hex(),
            body: document.text().to_string(),
            created_at: super::now(),
        };
        diesel::insert_into(documents::table)
            .values(&next)
            .execute(conn)?;
        Ok::<_, diesel::result::Error>(Ok(next))
    });
    result.map_err(DbError::from)?
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Campaign>, DbError> {
    Ok(on_backend!(conn, |c| campaigns::table
        .find(id)
        .select(Campaign::as_select())
        .first(c)
        .optional())?)
}

/// The hash of the campaign's current document, which a signing must name: the body is not
/// read for it.
pub fn current_document_sha256(
    conn: &mut DbConnection,
    campaign_id: &str,
) -> Result<String, DbError> {
    Ok(on_backend!(conn, |c| documents::table
        .filter(documents::campaign_id.eq(campaign_id))
        .order(documents::version.desc())
        .select(documents::sha256)
        .first(c))?)
}

fn current_document_q(
    conn: &mut DbConnection,
    campaign_id: &str,
) -> Result<StoredDocument, diesel::result::Error> {
    documents::table
        .filter(documents::campaign_id.eq(campaign_id))
        .order(documents::version.desc())
        .select(StoredDocument::as_select())
        .first(conn)
}

pub fn current_document(
    conn: &mut DbConnection,
    campaign_id: &str,
) -> Result<StoredDocument, DbError> {
    Ok(current_document_q(conn, campaign_id)?)
}

pub fn document_by_hash(
    conn: &mut DbConnection,
    campaign_id: &str,
    sha256: &str,
) -> Result<Option<StoredDocument>, DbError> {
    Ok(documents::table
        .filter(documents::campaign_id.eq(campaign_id))
        .filter(documents::sha256.eq(sha256))
        .select(StoredDocument::as_select())
        .first(conn)
        .optional()?)
}

/// Campaigns whose scope covers the village, newest first.
pub fn covering(conn: &mut DbConnection, village: &AreaCode) -> Result<Vec<Campaign>, DbError> {
    // "" is a national campaign.
    let mut scopes = vec![String::new(), village.as_str().to_string()];
    let mut cur = village.clone();
    while let Some(parent) = cur.parent() {
        scopes.push(parent.as_str().to_string());
        cur = parent;
    }
    Ok(campaigns::table
        .filter(campaigns::scope_code.eq_any(scopes))
        .order(campaigns::opens_at.desc())
        .select(Campaign::as_select())
        .load(conn)?)
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<Campaign>, DbError> {
    Ok(campaigns::table
        .order(campaigns::created_at)
        .select(Campaign::as_select())
        .load(conn)?)
}
