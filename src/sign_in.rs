//! Signing in with a six-digit code sent by email: employees by NIP or NIK, administrators by
//! email address (plus an authenticator code if they turned one on). One mechanism, one set of
//! limits: per identity (codes per hour, tries per code) and per client address, and every
//! request, success and failure goes into the audit trail.

use sha2::{Digest, Sha256};

use crate::db::admins::{self, AdminRow};
use crate::db::audit::{self, AuditEvent};
use crate::db::auth::{self, LoginCode, Session};
use crate::db::employees::{self, Employee};
use crate::db::{now, Db, DbConnection, DbError};
use crate::domain::{EmailAddress, LoginId};
use crate::mail::{MailError, Mailer};
use crate::totp;

pub const CODE_LIFETIME_SECS: i64 = 10 * 60;
pub const SESSION_LIFETIME_SECS: i64 = 12 * 3600;
/// Codes one identity may be sent per hour; more requests are answered alike but send nothing.
pub const CODES_PER_HOUR: i64 = 5;

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
            scope_code: a.scope_code.clone(),
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

/// Sends a code if the identity is known and has an email address. The caller answers the same
/// either way, so the endpoint cannot be used to find out who is on the roster.
fn send_code(
    db: &Db,
    mailer: &Mailer,
    recipient: Option<Recipient>,
    typed: &str,
    client: &Client<'_>,
) -> Result<(), SignInError> {
    let mut conn = db.write()?;
    if over_address_limit(
        &mut conn,
        client,
        CODE_REQUESTED,
        client.limits.code_requests_per_hour,
    )? {
        return Err(SignInError::TooManyFromAddress);
    }
    record(&mut conn, client, recipient.as_ref(), CODE_REQUESTED, typed)?;
    let Some((recipient, email)) = recipient.and_then(|r| r.email.clone().map(|email| (r, email)))
    else {
        return Ok(());
    };
    let at = now();
    if auth::codes_sent_since(&mut conn, &recipient.subject, at - 3600)? >= CODES_PER_HOUR {
        tracing::warn!(
            subject = recipient.subject,
            "sign-in code rate limit reached"
        );
        return Ok(());
    }
    let code = random_code();
    let mut id_bytes = [0u8; 12];
    getrandom::fill(&mut id_bytes).expect("the operating system's random source");
    let code_id = data_encoding::HEXLOWER.encode(&id_bytes);
    auth::replace_code(
        &mut conn,
        &LoginCode {
            code_hash: hash(&[&code_id, &code]),
            id: code_id,
            subject: recipient.subject.clone(),
            created_at: at,
            expires_at: at + CODE_LIFETIME_SECS,
            attempts: 0,
            used: false,
        },
    )?;
    drop(conn);
    mailer.send(
        &email,
        &format!("Kode masuk ikrar: {code}"),
        format!(
            "Yth. {name},\n\nKode masuk Anda: {code}\n\nKode ini berlaku 10 menit dan hanya dapat dipakai \
             satu kali. Jangan berikan kode ini kepada siapa pun, termasuk petugas.\n\nJika Anda tidak \
             meminta kode ini, abaikan surel ini.\n\n-- \nikrar: penandatanganan Pakta Integritas dan \
             Pernyataan Netralitas ASN\n",
            name = recipient.name
        ),
    )?;
    Ok(())
}

/// Checks a typed code (and, where `second_factor` says so, more) and opens a session.
/// Every failure counts against the code's tries and the client address, and is audited.
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
    if over_address_limit(
        &mut conn,
        client,
        SIGN_IN_FAILED,
        client.limits.failed_tries_per_hour,
    )? {
        return Err(SignInError::TooManyFromAddress);
    }
    let at = now();
    let fail = |conn: &mut DbConnection, who: Option<&Recipient>| {
        record(conn, client, who, SIGN_IN_FAILED, typed)?;
        Err(SignInError::WrongCode)
    };
    let Some(recipient) = recipient else {
        return fail(&mut conn, None);
    };
    let subject = recipient.subject.as_str();
    let Some(live) = auth::live_code(&mut conn, subject, at)? else {
        return fail(&mut conn, Some(&recipient));
    };
    let matches =
        code.len() == 6 && hash(&[&live.id, code]) == live.code_hash && second_factor(&mut conn)?;
    if !auth::record_attempt(&mut conn, &live.id, matches)? || !matches {
        return fail(&mut conn, Some(&recipient));
    }
    Ok(signed_in(
        &mut conn,
        client,
        &recipient,
        SignInMethod::EmailCode,
        typed,
    )?)
}

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

pub fn request_code(
    db: &Db,
    mailer: &Mailer,
    id: &LoginId,
    client: &Client<'_>,
) -> Result<(), SignInError> {
    let employee = employees::find_by_login(&mut *db.read()?, id)?;
    let recipient = employee.as_ref().map(Recipient::employee);
    send_code(db, mailer, recipient, &id.masked(), client)
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
    mailer: &Mailer,
    email: &EmailAddress,
    client: &Client<'_>,
) -> Result<(), SignInError> {
    let recipient = active_admin(db, email)?.as_ref().map(Recipient::admin);
    send_code(db, mailer, recipient, email.as_str(), client)
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
