//! Signing campaigns and the versions of their document.

use diesel::prelude::*;

use super::certificates::CertificateRow;
use super::schema::{campaign_authorities, campaigns, certificates, documents};
use super::{on_backend, DbConnection, DbError};
use crate::domain::{AreaCode, AreaScope, AuthorityLogo, IssuingAuthority, PactDocument};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns)]
pub struct Campaign {
    pub id: String,
    pub title: String,
    pub scope_code: AreaScope,
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
    /// Whether the campaign covers the area (a national campaign covers every area).
    pub fn covers(&self, area: &AreaCode) -> bool {
        self.scope_code.covers(area)
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
    #[error("dokumen penandatanganan ini sudah ditandatangani dan tidak dapat diubah lagi")]
    Frozen,
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
}

/// Stores a new campaign with the first version of its document.
pub fn create(
    conn: &mut DbConnection,
    campaign: &Campaign,
    document: &PactDocument,
) -> Result<(), DbError> {
    create_with_authority(conn, campaign, document, None)
}

/// Stores a new campaign with the first version of its document and, if given, of its issuing
/// authority.
pub fn create_with_authority(
    conn: &mut DbConnection,
    campaign: &Campaign,
    document: &PactDocument,
    authority: Option<&IssuingAuthority>,
) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::insert_into(campaigns::table)
            .values(campaign)
            .execute(conn)?;
        if let Some(authority) = authority {
            // No certificate exists yet, so the first version is in force for all of them.
            diesel::insert_into(campaign_authorities::table)
                .values(AuthorityRow::of(&campaign.id, 1, i64::MIN, authority))
                .execute(conn)?;
        }
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

/// What a signing request is checked against, in one statement: the campaign, the hash of its
/// current document (which the signer must name; the body is not read), and the employee's
/// standing certificate for it, if any. `None` for an unknown campaign. On PostgreSQL each
/// statement is a round trip made on a group-commit thread, once per signing.
pub fn for_signing(
    conn: &mut DbConnection,
    campaign_id: &str,
    employee_id: i64,
) -> Result<Option<(Campaign, String, Option<CertificateRow>)>, DbError> {
    type Found = (Campaign, Option<String>, Option<CertificateRow>);
    let found: Option<Found> = on_backend!(conn, |c| campaigns::table
        .left_join(documents::table)
        .left_join(
            certificates::table.on(certificates::campaign_id
                .eq(campaigns::id)
                .and(certificates::employee_id.eq(employee_id))
                .and(certificates::revoked_at.is_null())),
        )
        .filter(campaigns::id.eq(campaign_id))
        .order(documents::version.desc())
        .select((
            Campaign::as_select(),
            documents::sha256.nullable(),
            Option::<CertificateRow>::as_select(),
        ))
        .first(c)
        .optional())?;
    match found {
        None => Ok(None),
        Some((campaign, Some(sha256), standing)) => Ok(Some((campaign, sha256, standing))),
        // Every campaign is created with its document.
        Some((_, None, _)) => Err(DbError::Query(diesel::result::Error::NotFound)),
    }
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
    let mut scopes = vec![AreaScope::National];
    let mut cur = Some(village.clone());
    while let Some(area) = cur {
        cur = area.parent();
        scopes.push(AreaScope::Area(area));
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

/// One version of a campaign's issuing authority, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaign_authorities)]
pub(super) struct AuthorityRow {
    campaign_id: String,
    version: i32,
    name: String,
    office: String,
    address: String,
    place: String,
    logo_png: Option<Vec<u8>>,
    effective_at: i64,
}

impl AuthorityRow {
    fn of(campaign_id: &str, version: i32, effective_at: i64, a: &IssuingAuthority) -> Self {
        Self {
            campaign_id: campaign_id.to_string(),
            version,
            name: a.name().to_string(),
            office: a.office().to_string(),
            address: a.address().to_string(),
            place: a.place().to_string(),
            logo_png: a.logo().map(|logo| logo.png().to_vec()),
            effective_at,
        }
    }

    /// The stored fields were parsed before they were written; one that no longer parses was
    /// changed behind the application's back.
    fn into_authority(self) -> Result<IssuingAuthority, DbError> {
        let damaged = |e: crate::domain::AuthorityError| {
            DbError::Query(diesel::result::Error::DeserializationError(Box::new(e)))
        };
        let logo = self
            .logo_png
            .map(|png| AuthorityLogo::parse(&png))
            .transpose()
            .map_err(damaged)?;
        IssuingAuthority::parse(&self.name, &self.office, &self.address, &self.place, logo)
            .map_err(damaged)
    }
}

/// Records a new version of the campaign's issuing authority, in force for certificates signed
/// from the next second on: those signed before keep the letterhead they were issued with, since
/// each certificate shows the version in force at its `signed_at` (see [`authority_at`]).
/// Returns the new version number.
pub fn revise_authority(
    conn: &mut DbConnection,
    campaign_id: &str,
    authority: &IssuingAuthority,
) -> Result<i32, DbError> {
    let effective_at = super::now() + 1;
    Ok(conn.transaction(|conn| {
        let last: Option<i32> = campaign_authorities::table
            .filter(campaign_authorities::campaign_id.eq(campaign_id))
            .select(diesel::dsl::max(campaign_authorities::version))
            .first(conn)?;
        let version = last.unwrap_or(0) + 1;
        diesel::insert_into(campaign_authorities::table)
            .values(AuthorityRow::of(
                campaign_id,
                version,
                effective_at,
                authority,
            ))
            .execute(conn)?;
        Ok::<_, diesel::result::Error>(version)
    })?)
}

/// The issuing authority printed on a certificate of the campaign signed at `signed_at` (Unix
/// seconds): the latest version in force then. `None` for campaigns without an authority.
pub fn authority_at(
    conn: &mut DbConnection,
    campaign_id: &str,
    signed_at: i64,
) -> Result<Option<IssuingAuthority>, DbError> {
    let row = campaign_authorities::table
        .filter(campaign_authorities::campaign_id.eq(campaign_id))
        .filter(campaign_authorities::effective_at.le(signed_at))
        .order(campaign_authorities::version.desc())
        .select(AuthorityRow::as_select())
        .first(conn)
        .optional()?;
    row.map(AuthorityRow::into_authority).transpose()
}

/// Every version of the campaign's authority as (in force from, "name, office"), oldest first,
/// without the logos: what the verify page names as the issuer.
pub fn authority_names(
    conn: &mut DbConnection,
    campaign_id: &str,
) -> Result<Vec<(i64, String)>, DbError> {
    let rows: Vec<(i64, String, String)> = campaign_authorities::table
        .filter(campaign_authorities::campaign_id.eq(campaign_id))
        .order(campaign_authorities::version.asc())
        .select((
            campaign_authorities::effective_at,
            campaign_authorities::name,
            campaign_authorities::office,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(from, name, office)| (from, format!("{name}, {office}")))
        .collect())
}

/// The campaign's authority as it stands now, for the admin page and new certificates.
pub fn current_authority(
    conn: &mut DbConnection,
    campaign_id: &str,
) -> Result<Option<IssuingAuthority>, DbError> {
    authority_at(conn, campaign_id, i64::MAX)
}
