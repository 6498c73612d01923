//! Printed invitation slips, for staff without an email address: an admin prints cut-out cards
//! for the unsigned employees of an area, agency or unit; each card's one-time code (typed, or
//! read from its QR) opens a session once, until the campaign closes. Printing again retires the
//! employee's earlier card. Printing and signing in are both in the audit trail.

use diesel::Connection;

use crate::certificate::slips::{render_slips, Slip, SlipSheet};
use crate::certificate::CertificateError;
use crate::db::admin_lists::{self, EmployeeCursor};
use crate::db::audit;
use crate::db::campaigns::Campaign;
use crate::db::employees::{self, Employee, UnsignedFilter};
use crate::db::invitations::{self, Invitation};
use crate::db::{now, Db, DbConnection, DbError};
use crate::domain::{AdminScope, IndonesianZone, InvitationCode, LoginId};
use crate::sign_in::{self, Client, Recipient, SignInMethod};

/// The audit action of a printing (refused attempts: `undangan_dicetak_ditolak`).
pub const PRINTED: &str = "undangan_dicetak";
/// Where a card sends its holder; the QR link adds `?kode=…`.
pub const SIGN_IN_PATH: &str = "/masuk/undangan";
/// Cards per printing: 250 A4 pages, a large office at once. A whole regency is printed office by
/// office, which is also how the cards are handed out.
pub const MAX_SLIPS: usize = 2_000;
/// Printed when the admin names no helpdesk.
pub const DEFAULT_HELPDESK: &str = "admin kepegawaian di instansi Anda";
/// Rows read per query while collecting the employees of a printing.
const CHUNK: i64 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum InvitationError {
    #[error("tidak ada pegawai yang belum menandatangani dengan pilihan ini, jadi tidak ada kartu yang dicetak")]
    NoOne,
    #[error("pilihan ini memuat lebih dari 2.000 pegawai yang belum menandatangani; persempit dengan wilayah, instansi atau unit kerja")]
    TooMany,
    #[error("penandatanganan ini sudah ditutup, jadi kartu undangan tidak dapat dicetak lagi")]
    Closed,
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("the slips could not be drawn")]
    Pdf(#[from] CertificateError),
}

impl From<diesel::result::Error> for InvitationError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Whose cards to print, already narrowed to what the printer may see.
pub struct PrintRequest<'a> {
    pub campaign: &'a Campaign,
    pub scope: &'a AdminScope,
    pub filter: &'a UnsignedFilter,
    /// Only this unit (unit kerja), exactly as on the roster.
    pub unit: Option<&'a str>,
    pub helpdesk: &'a str,
    pub base_url: &'a str,
    /// `admin:<id>` or `cli:<user>`.
    pub printed_by: &'a str,
}

/// A drawn sheet whose codes are not stored yet, so none of them works: `store` makes them live.
/// Drawing happens before the write, so a large printing never holds the database's writer.
pub struct PrintedSlips {
    pub pdf: Vec<u8>,
    pub count: usize,
    rows: Vec<Invitation>,
}

/// The link a card's QR code holds.
pub fn link(base_url: &str, code: &InvitationCode) -> String {
    format!(
        "{}{SIGN_IN_PATH}?kode={}",
        base_url.trim_end_matches('/'),
        code.as_str()
    )
}

/// Draws the cards of the employees who have not signed. Reads only; `store` then makes them live.
pub fn print(
    conn: &mut DbConnection,
    request: &PrintRequest<'_>,
) -> Result<PrintedSlips, InvitationError> {
    let at = now();
    if at >= request.campaign.closes_at {
        return Err(InvitationError::Closed);
    }
    let people = unsigned_employees(conn, request)?;
    if people.is_empty() {
        return Err(InvitationError::NoOne);
    }
    let codes: Vec<InvitationCode> = people.iter().map(|_| InvitationCode::generate()).collect();
    let rows: Vec<Invitation> = people
        .iter()
        .zip(&codes)
        .map(|(e, code)| Invitation {
            id: random_id(),
            token_hash: code_hash(code),
            employee_id: e.id,
            campaign_id: request.campaign.id.clone(),
            created_at: at,
            expires_at: request.campaign.closes_at,
            printed_by: request.printed_by.to_string(),
            used_at: None,
            retired_at: None,
        })
        .collect();
    let closes =
        chrono::DateTime::from_timestamp(request.campaign.closes_at, 0).unwrap_or_default();
    struct Card {
        identity: String,
        workplace: String,
        code: String,
        link: String,
        valid_until: String,
    }
    let cards: Vec<Card> = people
        .iter()
        .zip(&codes)
        .map(|(e, code)| {
            let id = LoginId::of_signer(e.nip.as_deref(), e.nik.as_str());
            Card {
                identity: id
                    .map_or_else(String::new, |id| format!("{} {}", id.label(), id.masked())),
                workplace: if e.unit.is_empty() {
                    e.agency.clone()
                } else {
                    format!("{} · {}", e.agency, e.unit)
                },
                code: code.grouped(),
                link: link(request.base_url, code),
                valid_until: IndonesianZone::of_province(e.village_code.as_str())
                    .format_long(closes),
            }
        })
        .collect();
    let slips: Vec<Slip<'_>> = people
        .iter()
        .zip(&cards)
        .map(|(e, c)| Slip {
            name: &e.full_name,
            identity: &c.identity,
            workplace: &c.workplace,
            code: &c.code,
            link: &c.link,
            valid_until: &c.valid_until,
        })
        .collect();
    let address = format!(
        "{}{SIGN_IN_PATH}",
        request
            .base_url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
    );
    let pdf = render_slips(&SlipSheet {
        campaign_title: &request.campaign.title,
        campaign_id: &request.campaign.id,
        sign_in_address: &address,
        helpdesk: request.helpdesk,
        slips: &slips,
    })?;
    Ok(PrintedSlips {
        pdf,
        count: people.len(),
        rows,
    })
}

/// Stores the sheet's code hashes and retires the employees' earlier slips, in the caller's
/// transaction (which also records the printing). Someone who signed in the meantime keeps an
/// unused card; it opens a session that can only show their certificate.
pub fn store(conn: &mut DbConnection, printed: &PrintedSlips) -> Result<(), InvitationError> {
    Ok(invitations::replace_slips(conn, &printed.rows, now())?)
}

/// The unsigned employees of the request, in the order the unsigned list shows them (village,
/// then roster id), at most `MAX_SLIPS`.
fn unsigned_employees(
    conn: &mut DbConnection,
    request: &PrintRequest<'_>,
) -> Result<Vec<Employee>, InvitationError> {
    let mut found = Vec::new();
    let mut cursor: Option<EmployeeCursor> = None;
    loop {
        let chunk = admin_lists::unsigned_page(
            conn,
            &request.campaign.id,
            request.scope,
            request.filter,
            None,
            cursor.as_ref(),
            CHUNK,
        )?;
        let full = chunk.len() as i64 == CHUNK;
        cursor = chunk.last().map(|e| EmployeeCursor {
            village_code: e.village_code.to_string(),
            id: e.id,
        });
        found.extend(
            chunk
                .into_iter()
                .filter(|e| request.unit.is_none_or(|unit| e.unit == unit)),
        );
        if found.len() > MAX_SLIPS {
            return Err(InvitationError::TooMany);
        }
        if !full {
            return Ok(found);
        }
    }
}

fn random_id() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    data_encoding::HEXLOWER.encode(&bytes)
}

/// Only this is stored: a copy of the database signs nobody in.
fn code_hash(code: &InvitationCode) -> String {
    sign_in::hash(&["undangan", code.as_str()])
}

#[derive(Debug, thiserror::Error)]
pub enum SlipSignInError {
    #[error("Kode undangan tidak dapat dipakai: salah ketik, sudah pernah dipakai, sudah diganti dengan kartu yang lebih baru, atau penandatanganan sudah ditutup. Periksa kembali kode pada kartu Anda atau hubungi admin kepegawaian.")]
    WrongCode,
    #[error(
        "Terlalu banyak percobaan dari alamat jaringan Anda. Silakan coba lagi dalam satu jam."
    )]
    TooManyFromAddress,
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for SlipSignInError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Uses the card's code up and opens a session for its employee, recorded as a sign-in by
/// invitation (`metode=undangan`). A code that does not work counts against the client address
/// like a wrong emailed code, and is recorded as a failed sign-in.
pub fn sign_in_with_slip(
    db: &Db,
    code: &InvitationCode,
    client: &Client<'_>,
) -> Result<(String, Employee), SlipSignInError> {
    let mut conn = db.write()?;
    let since = now() - 3600;
    if audit::count_from_address(&mut conn, client.addr, sign_in::SIGN_IN_FAILED, since)?
        >= client.limits.failed_tries_per_hour
    {
        return Err(SlipSignInError::TooManyFromAddress);
    }
    let hash = code_hash(code);
    let opened = conn.transaction(|conn| -> Result<_, SlipSignInError> {
        let Some(slip) = invitations::use_slip(conn, &hash, now())? else {
            return Ok(None);
        };
        let Some(employee) = employees::find(conn, slip.employee_id)?.filter(|e| e.active) else {
            return Ok(None);
        };
        let token = sign_in::signed_in(
            conn,
            client,
            &Recipient::employee(&employee),
            SignInMethod::InvitationSlip,
            &format!("undangan:{}", slip.id),
        )?;
        Ok(Some((token, employee)))
    })?;
    match opened {
        Some(done) => Ok(done),
        None => {
            sign_in::record(&mut conn, client, None, sign_in::SIGN_IN_FAILED, "undangan")?;
            Err(SlipSignInError::WrongCode)
        }
    }
}
