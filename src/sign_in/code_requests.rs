//! Code requests off the request path. Answering "a code went out" only after looking the id up
//! and mailing made known ids measurably slower than unknown ones (7.5 ms against 2.9 ms), which
//! told anyone with a stopwatch who is on the roster. So the request path does the same work for
//! every id: check the hourly limits, record the request under a keyed hash of the id, queue one
//! job row, and wake the node's drain. The drain (a thread in every node that serves HTTP)
//! resolves the id, records the request in the audit trail, makes the code and mails it.
//!
//! The drain is a thread rather than an async task so that it keeps running while a caller
//! blocks its runtime (a journey polling the outbox); it ends when the node's desk is dropped.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{hash, random_code, record, Client, Recipient, SignInError, CODE_LIFETIME_SECS};
use crate::db::auth::{self, CodeJob, CodeRequest, LoginCode};
use crate::db::{admins, employees, now, Db, DbError};
use crate::domain::{EmailAddress, LoginId};
use crate::mail::Mailer;

/// Codes one submitted id may ask for per hour, known or not.
pub const CODES_PER_ID_PER_HOUR: i64 = 5;
/// How often a drain looks for jobs another node queued and could not finish (it stopped).
const POLL: Duration = Duration::from_secs(1);
/// A job is left to the node that queued it (whose drain was woken at once) for this long
/// before another node's poll takes it.
const GRACE_SECS: i64 = 5;
/// How long a node holds a job it is handling.
const LEASE_SECS: i64 = 60;
/// How long the drain waits after being woken before it starts.
const LET_THE_ANSWER_LEAVE: Duration = Duration::from_millis(20);
/// How often the drain forgets requests that no limit looks at any more.
const FORGET_EVERY: Duration = Duration::from_secs(600);

/// The helpdesk line shown when an operator names none: who helps in every agency.
pub const DEFAULT_HELPDESK: &str =
    "admin kepegawaian (BKD/BKPSDM) atau pengelola kepegawaian instansi Anda";

/// Whose code is asked for, as submitted (already parsed).
#[derive(Debug, Clone, Copy)]
pub enum CodeFor<'a> {
    Employee(&'a LoginId),
    Admin(&'a EmailAddress),
}

impl CodeFor<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Self::Employee(_) => "pegawai",
            Self::Admin(_) => "admin",
        }
    }

    fn login(&self) -> &str {
        match self {
            Self::Employee(id) => id.as_str(),
            Self::Admin(email) => email.as_str(),
        }
    }

    /// How the limit message names the id: it must read the same for known and unknown ids.
    fn label(&self) -> &'static str {
        match self {
            Self::Employee(_) => "NIP/NIK ini",
            Self::Admin(_) => "alamat surel ini",
        }
    }
}

/// The node's side of code requests: the key of the id hashes, the limit, the helpdesk line and
/// the bell that wakes the drain.
pub struct CodeDesk {
    id_key: [u8; 32],
    codes_per_id_per_hour: i64,
    helpdesk: String,
    wake: mpsc::SyncSender<()>,
}

impl CodeDesk {
    /// Makes the desk and starts its drain thread, which ends when the desk is dropped.
    pub fn start(
        db: Db,
        mailer: Mailer,
        id_key: [u8; 32],
        codes_per_id_per_hour: i64,
        helpdesk: String,
    ) -> std::io::Result<Self> {
        // One slot: wakes that arrive while the drain is busy fold into one more pass.
        let (wake, woken) = mpsc::sync_channel(1);
        let drain_helpdesk = helpdesk.clone();
        std::thread::Builder::new()
            .name("sign-in-codes".into())
            .spawn(move || drain_loop(&db, &mailer, &drain_helpdesk, &woken))?;
        Ok(Self {
            id_key,
            codes_per_id_per_hour,
            helpdesk,
            wake,
        })
    }

    pub fn helpdesk(&self) -> &str {
        &self.helpdesk
    }

    fn id_hash(&self, of: CodeFor<'_>) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.id_key).expect("HMAC takes keys of any length");
        mac.update(of.kind().as_bytes());
        mac.update(b":");
        mac.update(of.login().as_bytes());
        data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
    }

    /// Records a code request and queues its job, or refuses it over a limit. The same
    /// statements run whether or not the id is on the roster or an admin's.
    pub fn request(
        &self,
        db: &Db,
        of: CodeFor<'_>,
        client: &Client<'_>,
    ) -> Result<(), SignInError> {
        let id_hash = self.id_hash(of);
        let at = now();
        let request_id = random_hex(12);
        let mut conn = db.write()?;
        crate::db::write_transaction(&mut conn, |conn| {
            if auth::code_requests_from_address(conn, client.addr, at - 3600)?
                >= client.limits.code_requests_per_hour
            {
                return Err(SignInError::TooManyFromAddress);
            }
            let earlier = auth::code_requests_for_id(conn, &id_hash, at - 3600)?;
            if earlier.len() as i64 >= self.codes_per_id_per_hour {
                // The limit frees up when this request leaves the hour window.
                let oldest = earlier
                    .len()
                    .saturating_sub(self.codes_per_id_per_hour as usize);
                let free_at = earlier.get(oldest).copied().unwrap_or(at) + 3600;
                return Err(SignInError::TooManyCodes {
                    label: of.label(),
                    limit: self.codes_per_id_per_hour,
                    minutes: ((free_at - at + 59) / 60).max(1),
                    helpdesk: self.helpdesk.clone(),
                });
            }
            auth::record_code_request(
                conn,
                &CodeRequest {
                    id: &request_id,
                    id_hash: &id_hash,
                    client_addr: client.addr,
                    created_at: at,
                },
            )?;
            auth::enqueue_code_job(
                conn,
                &CodeJob {
                    id: request_id.clone(),
                    kind: of.kind().into(),
                    login: of.login().into(),
                    client_addr: client.addr.into(),
                    created_at: at,
                    taken_until: 0,
                },
            )?;
            Ok(())
        })?;
        drop(conn);
        // A full slot means a pass is already due, which will see this job too.
        let _ = self.wake.try_send(());
        Ok(())
    }
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).expect("the operating system's random source");
    data_encoding::HEXLOWER.encode(&b)
}

fn drain_loop(db: &Db, mailer: &Mailer, helpdesk: &str, woken: &mpsc::Receiver<()>) {
    let mut forgotten_at = Instant::now();
    loop {
        // Woken: this node queued a job, take everything. Otherwise look for jobs another node
        // queued and left behind.
        let created_by = match woken.recv_timeout(POLL) {
            Ok(()) => {
                // Let the answer that queued the job leave first: the extra work a known id
                // costs here (the lookup, the code, the mail) would otherwise compete with that
                // answer for the processor and make known ids answer measurably slower again.
                std::thread::sleep(LET_THE_ANSWER_LEAVE);
                now()
            }
            Err(mpsc::RecvTimeoutError::Timeout) => now() - GRACE_SECS,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        loop {
            match drain_once(db, mailer, helpdesk, created_by) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the sign-in code queue");
                    break;
                }
            }
        }
        if forgotten_at.elapsed() >= FORGET_EVERY {
            forgotten_at = Instant::now();
            if let Err(e) = db
                .write()
                .and_then(|mut c| auth::forget_code_requests(&mut c, now() - 2 * 3600))
            {
                tracing::warn!(error = %e, "cannot forget old sign-in code requests");
            }
        }
    }
}

/// Handles the open jobs created by `created_by`; returns how many this node took.
fn drain_once(db: &Db, mailer: &Mailer, helpdesk: &str, created_by: i64) -> Result<usize, DbError> {
    let at = now();
    let jobs = auth::open_code_jobs(&mut *db.read()?, at, created_by, 20)?;
    let mut taken = 0;
    for job in jobs {
        if !auth::take_code_job(&mut *db.write()?, &job, at, at + LEASE_SECS)? {
            continue; // another node has it
        }
        taken += 1;
        if let Err(e) = handle(db, mailer, helpdesk, &job) {
            tracing::error!(error = %e, job = %job.id, "could not send a sign-in code");
            // The person asks again; a job that keeps failing must not block the queue.
            if let Err(e) = auth::finish_code_job(&mut *db.write()?, &job.id) {
                tracing::warn!(error = %e, "cannot drop a failed sign-in code job");
            }
        }
    }
    Ok(taken)
}

/// Resolves the job's id, records the request in the audit trail, and for someone known with an
/// email address stores a fresh code and mails it.
fn handle(db: &Db, mailer: &Mailer, helpdesk: &str, job: &CodeJob) -> Result<(), SignInError> {
    let (recipient, target) = match job.kind.as_str() {
        "admin" => {
            let email = EmailAddress::parse(&job.login).ok();
            let admin = match &email {
                Some(e) => {
                    admins::find_by_email(&mut *db.read()?, e.as_str())?.filter(|a| a.active)
                }
                None => None,
            };
            (admin.as_ref().map(Recipient::admin), job.login.clone())
        }
        _ => {
            let id = LoginId::parse(&job.login).ok();
            let employee = match &id {
                Some(id) => employees::find_by_login(&mut *db.read()?, id)?,
                None => None,
            };
            let target = id.map(|i| i.masked()).unwrap_or_default();
            (employee.as_ref().map(Recipient::employee), target)
        }
    };
    let client = Client {
        addr: &job.client_addr,
        limits: Default::default(),
    };
    let mail = recipient
        .as_ref()
        .and_then(|r| r.email.clone().map(|to| (r, to)));
    let code = random_code();
    let at = now();
    let mut conn = db.write()?;
    crate::db::write_transaction(&mut conn, |conn| {
        record(
            conn,
            &client,
            recipient.as_ref(),
            super::CODE_REQUESTED,
            &target,
        )?;
        if let Some((recipient, _)) = &mail {
            let code_id = random_hex(12);
            auth::replace_code(
                conn,
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
        }
        Ok::<_, SignInError>(())
    })?;
    drop(conn);
    if let Some((recipient, to)) = mail {
        send_code(mailer, helpdesk, recipient, &to, &code)?;
    }
    // Only now: a node that stops before this point leaves the job to another once the lease
    // ends, and whoever then sees no job knows the mail has gone.
    auth::finish_code_job(&mut *db.write()?, &job.id)?;
    Ok(())
}

fn send_code(
    mailer: &Mailer,
    helpdesk: &str,
    recipient: &Recipient,
    to: &str,
    code: &str,
) -> Result<(), SignInError> {
    mailer.send(
        to,
        &format!("Kode masuk ikrar: {code}"),
        format!(
            "Yth. {name},\n\nKode masuk Anda: {code}\n\nKode ini berlaku 10 menit dan hanya dapat dipakai \
             satu kali. Jangan berikan kode ini kepada siapa pun, termasuk petugas.\n\nJika Anda tidak \
             meminta kode ini, abaikan surel ini. Bila perlu bantuan, hubungi {helpdesk}.\n\n-- \n\
             ikrar: penandatanganan Pakta Integritas dan Pernyataan Netralitas ASN\n",
            name = recipient.name
        ),
    )?;
    Ok(())
}

/// How many code jobs wait in the queue (all nodes), for tests that must know the drain is done.
pub fn pending(db: &Db) -> Result<i64, DbError> {
    auth::pending_code_jobs(&mut *db.read()?)
}
