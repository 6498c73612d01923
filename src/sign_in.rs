//! Signing in with a six-digit code sent by email: employees by NIP or NIK, administrators by
//! email address (plus an authenticator code if they turned one on). One mechanism, one set of
//! limits: per identity (codes per hour, tries per code) and per client address, and every
//! request, success and failure goes into the audit trail.

use sha2::{Digest, Sha256};

use crate::db::admins::{self, AdminRow};
use crate::db::audit::{self, AuditEvent};
use crate::db::auth::{self, Session};
use crate::db::employees::{self, Employee};
use crate::db::{now, Db, DbConnection, DbError};
use crate::domain::{EmailAddress, LoginId};
use crate::mail::MailError;
use crate::totp;

pub mod code_requests;
pub use code_requests::{CodeDesk, CodeFor};

pub const CODE_LIFETIME_SECS: i64 = 10 * 60;
pub const SESSION_LIFETIME_SECS: i64 = 12 * 3600;

/// Audit actions of signing in; the per-address limits count them.
pub const CODE_REQUESTED: &str = "kode_diminta";
pub const SIGNED_IN: &str = "masuk";
pub const SIGN_IN_FAILED: &str = "masuk_gagal";

/// How someone proved who they are; every sign-in records it in the audit trail
/// (`metode=…` in the detail of a `masuk` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// A six-digit code sent to the email address on record.
    EmailCode,
    /// A printed invitation slip's one-time token.
    InvitationSlip,
    /// The province's identity provider (OpenID Connect).
    SingleSignOn,
}

impl SignInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailCode => "kode_surel",
            Self::InvitationSlip => "undangan",
            Self::SingleSignOn => "sso",
        }
    }

    fn audit_detail(self) -> String {
        format!("metode={}", self.as_str())
    }
}

/// Limits per client address and hour. An office behind one NAT address signs in together on a
/// ceremony morning, so these are far above what one person needs and far below what guessing
/// codes needs.
#[derive(Debug, Clone, Copy)]
pub struct AddressLimits {
    pub code_requests_per_hour: i64,
    pub failed_tries_per_hour: i64,
}

impl Default for AddressLimits {
    fn default() -> Self {
        Self {
            code_requests_per_hour: 2_000,
            failed_tries_per_hour: 300,
        }
    }
}

/// Where a request comes from, for the audit trail and the per-address limits.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub addr: &'a str,
    pub limits: AddressLimits,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Kode salah, sudah kedaluwarsa, atau sudah dipakai. Periksa surel terbaru atau minta kode baru.")]
    WrongCode,
    #[error(
        "Terlalu banyak permintaan dari alamat jaringan Anda. Silakan coba lagi dalam satu jam."
    )]
    TooManyFromAddress,
    /// The hourly limit of one submitted id, known or not: the message reads the same for both.
    #[error(
        "Kode masuk untuk {label} sudah diminta {limit} kali dalam satu jam terakhir, batas \
         yang berlaku demi keamanan. Permintaan kode berikutnya dapat dikirim {minutes} menit \
         lagi. Jika {label} terdaftar, kode yang sudah dikirim ke alamat surel yang tercatat \
         tetap dapat dipakai selama masa berlakunya (10 menit). Bila perlu bantuan, hubungi \
         {helpdesk}."
    )]
    TooManyCodes {
        label: &'static str,
        limit: i64,
        minutes: i64,
        helpdesk: String,
    },
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

impl From<diesel::result::Error> for SignInError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

pub(crate) fn hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u32).to_be_bytes());
        h.update(p.as_bytes());
    }
    data_encoding::HEXLOWER.encode(&h.finalize())
}

fn random_code() -> String {
    loop {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).expect("the operating system's random source");
        let n = u32::from_le_bytes(b);
        // Rejection sampling keeps all million codes equally likely.
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// Someone who can sign in: an employee on the roster or an administrator.
pub(crate) struct Recipient {
    subject: String,
    email: Option<String>,
    name: String,
    scope_code: String,
    agency: String,
}

impl Recipient {
    pub(crate) fn employee(e: &Employee) -> Self {
        Self {
            subject: auth::employee_subject(e.id),
            email: e.email.clone(),
            name: e.full_name.clone(),
            scope_code: e.village_code.to_string(),
            agency: e.agency.clone(),
        }
    }

    pub(crate) fn admin(a: &AdminRow) -> Self {
        Self {
            subject: auth::admin_subject(&a.id),
            email: Some(a.email.clone()),
            name: a.full_name.clone(),
            scope_code: a.scope_code.to_string(),
            agency: a.agency.clone(),
        }
    }
}

pub(crate) fn record(
    conn: &mut DbConnection,
    client: &Client<'_>,
    recipient: Option<&Recipient>,
    action: &str,
    target: &str,
) -> Result<(), DbError> {
    record_with_detail(conn, client, recipient, action, target, "")
}

fn record_with_detail(
    conn: &mut DbConnection,
    client: &Client<'_>,
    recipient: Option<&Recipient>,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), DbError> {
    let (actor, scope_code, agency) = recipient.map_or(("tidak dikenal", "", ""), |r| {
        (r.subject.as_str(), r.scope_code.as_str(), r.agency.as_str())
    });
    audit::append(
        conn,
        &AuditEvent {
            actor,
            action,
            target,
            scope_code,
            agency,
            client_addr: client.addr,
            detail,
        },
        now(),
    )?;
    Ok(())
}

fn over_address_limit(
    conn: &mut DbConnection,
    client: &Client<'_>,
    action: &str,
    limit: i64,
) -> Result<bool, DbError> {
    Ok(audit::count_from_address(conn, client.addr, action, now() - 3600)? >= limit)
}

/// Checks a typed code (and, where `second_factor` says so, more) and opens a session.
/// Every failure counts against the code's tries and the client address, and is audited.
///
/// An unknown id, or a known one without a live code, runs the same statements against a
/// subject and code that match nothing, in one transaction (one commit) like a known id: a wrong
/// code takes as long to refuse whoever typed it.
fn redeem(
    db: &Db,
    recipient: Option<Recipient>,
    typed: &str,
    code: &str,
    client: &Client<'_>,
    second_factor: impl FnOnce(&mut DbConnection) -> Result<bool, DbError>,
) -> Result<String, SignInError> {
    let code = code.trim();
    let mut conn = db.write()?;
    let opened = crate::db::write_transaction(&mut conn, |conn| {
        if over_address_limit(
            conn,
            client,
            SIGN_IN_FAILED,
            client.limits.failed_tries_per_hour,
        )? {
            return Err(SignInError::TooManyFromAddress);
        }
        let at = now();
        let subject = recipient.as_ref().map_or(NOBODY, |r| r.subject.as_str());
        let live = auth::live_code(conn, subject, at)?;
        let (code_id, code_hash) = live.as_ref().map_or((NOBODY, NO_CODE_HASH), |l| {
            (l.id.as_str(), l.code_hash.as_str())
        });
        let typed_hash = hash(&[code_id, code]);
        let matches =
            live.is_some() && code.len() == 6 && typed_hash == code_hash && second_factor(conn)?;
        let counted = auth::record_attempt(conn, code_id, matches)?;
        match &recipient {
            Some(recipient) if counted && matches => Ok(Some(signed_in(
                conn,
                client,
                recipient,
                SignInMethod::EmailCode,
                typed,
            )?)),
            _ => {
                record(conn, client, recipient.as_ref(), SIGN_IN_FAILED, typed)?;
                Ok(None)
            }
        }
    })?;
    opened.ok_or(SignInError::WrongCode)
}

/// A subject and code id no row carries (stored ones are `pegawai:…`, `admin:…` and hex).
const NOBODY: &str = "tidak-ada";
/// A code hash no typed code meets: not hex.
const NO_CODE_HASH: &str = "-";

/// Opens a session for someone whose identity `method` has just proven, and records the sign-in
/// with its method, in the caller's transaction. Every way in ends here.
pub(crate) fn signed_in(
    conn: &mut DbConnection,
    client: &Client<'_>,
    recipient: &Recipient,
    method: SignInMethod,
    target: &str,
) -> Result<String, DbError> {
    let token = start_session(conn, &recipient.subject, now())?;
    record_with_detail(
        conn,
        client,
        Some(recipient),
        SIGNED_IN,
        target,
        &method.audit_detail(),
    )?;
    Ok(token)
}

fn start_session(conn: &mut DbConnection, subject: &str, at: i64) -> Result<String, DbError> {
    let mut token_bytes = [0u8; 32];
    getrandom::fill(&mut token_bytes).expect("the operating system's random source");
    let token = data_encoding::BASE64URL_NOPAD.encode(&token_bytes);
    auth::create_session(
        conn,
        &Session {
            token_hash: hash(&[&token]),
            subject: subject.to_string(),
            created_at: at,
            expires_at: at + SESSION_LIFETIME_SECS,
        },
    )?;
    Ok(token)
}

/// A session opened by the operator without a code, for load tests run from the command line
/// (which has the database in hand anyway); never reachable over HTTP.
pub fn open_session(conn: &mut DbConnection, employee_id: i64) -> Result<String, DbError> {
    start_session(conn, &auth::employee_subject(employee_id), now())
}

/// Records a request for an employee's code; the node's drain mails it if the id is on the
/// roster ([`code_requests`]). Over an hourly limit, refused the same way for every id.
pub fn request_code(
    db: &Db,
    desk: &CodeDesk,
    id: &LoginId,
    client: &Client<'_>,
) -> Result<(), SignInError> {
    desk.request(db, CodeFor::Employee(id), client)
}

/// Exchanges a correct code for a session token (returned once, stored only as a hash).
pub fn redeem_code(
    db: &Db,
    id: &LoginId,
    code: &str,
    client: &Client<'_>,
) -> Result<(String, Employee), SignInError> {
    let employee = employees::find_by_login(&mut *db.read()?, id)?;
    let recipient = employee.as_ref().map(Recipient::employee);
    let token = redeem(db, recipient, &id.masked(), code, client, |_| Ok(true))?;
    Ok((
        token,
        employee.expect("a session opens only for a known employee"),
    ))
}

fn active_admin(db: &Db, email: &EmailAddress) -> Result<Option<AdminRow>, DbError> {
    Ok(admins::find_by_email(&mut *db.read()?, email.as_str())?.filter(|a| a.active))
}

pub fn request_admin_code(
    db: &Db,
    desk: &CodeDesk,
    email: &EmailAddress,
    client: &Client<'_>,
) -> Result<(), SignInError> {
    desk.request(db, CodeFor::Admin(email), client)
}

/// Like `redeem_code`; an admin who turned on an authenticator must also give its current code,
/// and each authenticator code works once.
pub fn redeem_admin_code(
    db: &Db,
    email: &EmailAddress,
    code: &str,
    authenticator_code: &str,
    client: &Client<'_>,
) -> Result<(String, AdminRow), SignInError> {
    let admin = active_admin(db, email)?;
    let recipient = admin.as_ref().map(Recipient::admin);
    let second_factor = |conn: &mut DbConnection| {
        let Some(admin) = &admin else {
            return Ok(false);
        };
        let Some(secret) = &admin.totp_secret else {
            return Ok(true);
        };
        match totp::matching_step(secret, authenticator_code, now()) {
            Some(step) => admins::use_totp_step(conn, &admin.id, step),
            None => Ok(false),
        }
    };
    let token = redeem(db, recipient, email.as_str(), code, client, second_factor)?;
    Ok((
        token,
        admin.expect("a session opens only for a known admin"),
    ))
}

/// What a session token stands for.
fn subject_for_token(conn: &mut DbConnection, token: &str) -> Result<Option<String>, DbError> {
    auth::session_subject(conn, &hash(&[token]), now())
}

pub fn employee_for_token(db: &Db, token: &str) -> Result<Option<Employee>, DbError> {
    let mut conn = db.read()?;
    let id = subject_for_token(&mut conn, token)?
        .and_then(|s| s.strip_prefix("pegawai:").and_then(|id| id.parse().ok()));
    match id {
        Some(id) => Ok(employees::find(&mut conn, id)?.filter(|e| e.active)),
        None => Ok(None),
    }
}

pub fn admin_for_token(db: &Db, token: &str) -> Result<Option<AdminRow>, DbError> {
    let mut conn = db.read()?;
    match subject_for_token(&mut conn, token)?
        .and_then(|s| s.strip_prefix("admin:").map(str::to_string))
    {
        Some(id) => Ok(admins::find(&mut conn, &id)?.filter(|a| a.active)),
        None => Ok(None),
    }
}

pub fn end_session(db: &Db, token: &str) -> Result<(), DbError> {
    auth::end_session(&mut *db.write()?, &hash(&[token]))
}
