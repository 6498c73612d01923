//! Signing in with a NIP or NIK and a six-digit code sent by email.

use sha2::{Digest, Sha256};

use crate::db::auth::{self, LoginCode, Session};
use crate::db::employees::{self, Employee};
use crate::db::{now, Db, DbConnection, DbError};
use crate::domain::LoginId;
use crate::mail::{MailError, Mailer};

pub const CODE_LIFETIME_SECS: i64 = 10 * 60;
pub const SESSION_LIFETIME_SECS: i64 = 12 * 3600;
/// Codes one identity may be sent per hour; more requests are answered alike but send nothing.
pub const CODES_PER_HOUR: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Kode salah, sudah kedaluwarsa, atau sudah dipakai. Periksa surel terbaru atau minta kode baru.")]
    WrongCode,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

fn hash(parts: &[&str]) -> String {
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

/// Sends a code if the id belongs to an active employee with an email address. The caller answers
/// the same either way, so the endpoint cannot be used to find out who is on the roster.
pub fn request_code(db: &Db, mailer: &Mailer, id: &LoginId) -> Result<(), SignInError> {
    let Some(employee) = employees::find_by_login(&mut *db.read()?, id)? else {
        return Ok(());
    };
    let Some(email) = employee.email.as_deref() else {
        return Ok(());
    };
    let at = now();
    let mut conn = db.write()?;
    if auth::codes_sent_since(&mut conn, employee.id, at - 3600)? >= CODES_PER_HOUR {
        tracing::warn!(employee = employee.id, "sign-in code rate limit reached");
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
            employee_id: employee.id,
            created_at: at,
            expires_at: at + CODE_LIFETIME_SECS,
            attempts: 0,
            used: false,
        },
    )?;
    drop(conn);
    mailer.send(
        email,
        &format!("Kode masuk ikrar: {code}"),
        format!(
            "Yth. {name},\n\nKode masuk Anda: {code}\n\nKode ini berlaku 10 menit dan hanya dapat dipakai \
             satu kali. Jangan berikan kode ini kepada siapa pun, termasuk petugas.\n\nJika Anda tidak \
             meminta kode ini, abaikan surel ini.\n\n-- \nikrar: penandatanganan Pakta Integritas dan \
             Pernyataan Netralitas ASN\n",
            name = employee.full_name
        ),
    )?;
    Ok(())
}

/// Exchanges a correct code for a session token (returned once, stored only as a hash).
pub fn redeem_code(db: &Db, id: &LoginId, code: &str) -> Result<(String, Employee), SignInError> {
    let code = code.trim();
    let employee = employees::find_by_login(&mut *db.read()?, id)?.ok_or(SignInError::WrongCode)?;
    let mut conn = db.write()?;
    let at = now();
    let live = auth::live_code(&mut conn, employee.id, at)?.ok_or(SignInError::WrongCode)?;
    let matches = code.len() == 6 && hash(&[&live.id, code]) == live.code_hash;
    if !auth::record_attempt(&mut conn, &live.id, matches)? || !matches {
        return Err(SignInError::WrongCode);
    }
    let token = start_session(&mut conn, employee.id, at)?;
    Ok((token, employee))
}

fn start_session(conn: &mut DbConnection, employee_id: i64, at: i64) -> Result<String, DbError> {
    let mut token_bytes = [0u8; 32];
    getrandom::fill(&mut token_bytes).expect("the operating system's random source");
    let token = data_encoding::BASE64URL_NOPAD.encode(&token_bytes);
    auth::create_session(
        conn,
        &Session {
            token_hash: hash(&[&token]),
            employee_id,
            created_at: at,
            expires_at: at + SESSION_LIFETIME_SECS,
        },
    )?;
    Ok(token)
}

/// A session opened by the operator without a code, for load tests run from the command line
/// (which has the database in hand anyway); never reachable over HTTP.
pub fn open_session(conn: &mut DbConnection, employee_id: i64) -> Result<String, DbError> {
    start_session(conn, employee_id, now())
}

pub fn employee_for_token(db: &Db, token: &str) -> Result<Option<Employee>, DbError> {
    let mut conn = db.read()?;
    match auth::session_employee(&mut conn, &hash(&[token]), now())? {
        Some(id) => Ok(employees::find(&mut conn, id)?.filter(|e| e.active)),
        None => Ok(None),
    }
}

pub fn end_session(db: &Db, token: &str) -> Result<(), DbError> {
    auth::end_session(&mut *db.write()?, &hash(&[token]))
}
