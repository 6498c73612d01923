//! Letters to signers: the certificate PDF after signing, and the notice that a certificate was
//! revoked, with its public reason category (never the admin's private note).
//!
//! A letter is queued in `certificate_mail` inside the transaction that signs or revokes, and
//! every node drains the queue in the background. So a slow or broken mail server never slows or
//! fails a signature: the letter waits, is retried with growing pauses, and each failure is
//! logged. Nodes take a letter with a lease (a conditional update), so two nodes do not both
//! send it; a node that dies mid-send leaves the letter to be sent again when the lease ends.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use diesel::prelude::*;

use crate::crypto::Seal;
use crate::db::schema::certificate_mail;
use crate::db::{certificates, employees, now, Db, DbConnection};
use crate::domain::{CertificateId, IndonesianZone, RevocationReason};
use crate::mail::Mailer;

/// Which letter a queued row asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Letter {
    /// The certificate PDF, after signing.
    Issued,
    /// The notice of a revocation.
    Revoked,
}

impl Letter {
    fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "terbit",
            Self::Revoked => "cabut",
        }
    }
}

/// How often a node looks for letters due.
const POLL: Duration = Duration::from_secs(1);
/// How long a node holds a letter it is sending before another may try.
const LEASE_SECONDS: i64 = 300;
/// After this many failed attempts (the last about a day after the first) a letter is left in
/// the table with its last error, for an operator to see.
const MAX_ATTEMPTS: i32 = 12;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = certificate_mail)]
struct QueuedLetter {
    id: String,
    certificate_id: CertificateId,
    kind: String,
    attempts: i32,
    next_attempt_at: i64,
}

/// Queues a letter for the certificate's signer, in the caller's transaction.
pub fn enqueue(
    conn: &mut DbConnection,
    certificate_id: &CertificateId,
    letter: Letter,
    at: i64,
) -> QueryResult<()> {
    enqueue_many(conn, &[(certificate_id, at)], letter)
}

/// Queues one letter of a kind for each (certificate, instant): one statement for all of them
/// on PostgreSQL, one prepared insert per letter on SQLite.
pub fn enqueue_many(
    conn: &mut DbConnection,
    letters: &[(&CertificateId, i64)],
    letter: Letter,
) -> QueryResult<()> {
    let row = |(certificate_id, at): &(&CertificateId, i64)| {
        (
            certificate_mail::id.eq(CertificateId::random().as_str().to_string()),
            certificate_mail::certificate_id.eq(certificate_id.as_str().to_string()),
            certificate_mail::kind.eq(letter.as_str()),
            certificate_mail::created_at.eq(*at),
            certificate_mail::attempts.eq(0),
            certificate_mail::next_attempt_at.eq(*at),
        )
    };
    match conn {
        DbConnection::Postgres(c) if letters.len() > 1 => {
            let rows: Vec<_> = letters.iter().map(row).collect();
            diesel::insert_into(certificate_mail::table)
                .values(&rows)
                .execute(c)?;
        }
        _ => {
            for letter in letters {
                diesel::insert_into(certificate_mail::table)
                    .values(row(letter))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Drains the queue for as long as the node runs.
pub async fn drain_loop(
    db: Db,
    seal: Arc<Seal>,
    caches: Arc<crate::caches::Caches>,
    mailer: Mailer,
    base_url: String,
) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (db, seal, caches, mailer, base_url) = (
            db.clone(),
            seal.clone(),
            caches.clone(),
            mailer.clone(),
            base_url.clone(),
        );
        let drained = tokio::task::spawn_blocking(move || {
            drain_once(&db, &seal, &caches, &mailer, &base_url, now())
        })
        .await;
        match drained {
            Ok(Ok(0)) => {}
            Ok(Ok(sent)) => tracing::debug!(sent, "sent letters to signers"),
            Ok(Err(e)) => tracing::warn!(error = ?e, "cannot read the letter queue"),
            Err(e) => tracing::warn!(error = %e, "the letter task failed"),
        }
    }
}

/// Sends the letters due at `at`; returns how many went out. A letter that fails is put back
/// with a later attempt time and its error.
pub fn drain_once(
    db: &Db,
    seal: &Seal,
    caches: &crate::caches::Caches,
    mailer: &Mailer,
    base_url: &str,
    at: i64,
) -> anyhow::Result<usize> {
    let due: Vec<QueuedLetter> = certificate_mail::table
        .filter(certificate_mail::sent_at.is_null())
        .filter(certificate_mail::next_attempt_at.le(at))
        .filter(certificate_mail::attempts.lt(MAX_ATTEMPTS))
        .order(certificate_mail::next_attempt_at)
        .limit(20)
        .select(QueuedLetter::as_select())
        .load(&mut *db.read()?)?;
    let mut sent = 0;
    for letter in due {
        let taken = diesel::update(
            certificate_mail::table
                .find(&letter.id)
                .filter(certificate_mail::next_attempt_at.eq(letter.next_attempt_at))
                .filter(certificate_mail::sent_at.is_null()),
        )
        .set(certificate_mail::next_attempt_at.eq(at + LEASE_SECONDS))
        .execute(&mut *db.write()?)?;
        if taken == 0 {
            continue; // another node has it
        }
        let attempts = letter.attempts + 1;
        let outcome = send(db, seal, caches, mailer, base_url, &letter);
        let mut conn = db.write()?;
        let row = certificate_mail::table.find(&letter.id);
        match outcome {
            Ok(()) => {
                diesel::update(row)
                    .set((
                        certificate_mail::sent_at.eq(Some(at)),
                        certificate_mail::attempts.eq(attempts),
                        certificate_mail::last_error.eq(None::<String>),
                    ))
                    .execute(&mut *conn)?;
                sent += 1;
            }
            Err(e) => {
                // 1, 2, 4 … minutes, at most 4 hours between attempts.
                let pause = (60i64 << (attempts - 1).min(8)).min(4 * 3600);
                tracing::warn!(
                    letter = %letter.id,
                    certificate = %letter.certificate_id,
                    attempts,
                    error = ?e,
                    "cannot send a letter to a signer; it stays queued"
                );
                diesel::update(row)
                    .set((
                        certificate_mail::attempts.eq(attempts),
                        certificate_mail::next_attempt_at.eq(at + pause),
                        certificate_mail::last_error.eq(Some(format!("{e:#}"))),
                    ))
                    .execute(&mut *conn)?;
            }
        }
    }
    Ok(sent)
}

fn send(
    db: &Db,
    seal: &Seal,
    caches: &crate::caches::Caches,
    mailer: &Mailer,
    base_url: &str,
    letter: &QueuedLetter,
) -> anyhow::Result<()> {
    let id = &letter.certificate_id;
    let (row, campaign_title, to, sender) = {
        let mut conn = db.read()?;
        let row = certificates::find(&mut conn, id)?.context("the certificate is gone")?;
        let employee = employees::find(&mut conn, row.employee_id)?
            .context("the certificate's employee is gone")?;
        let title = crate::db::campaigns::find(&mut conn, &row.campaign_id)?
            .map(|c| c.title)
            .unwrap_or_default();
        let to = employee
            .email
            .context("the employee has no email address on the roster")?;
        // The letter closes with the authority that issued the certificate, as its letterhead does.
        let sender =
            crate::db::campaigns::authority_at(&mut conn, &row.campaign_id, row.signed_at)?
                .map(|a| format!("Hormat kami,\n{}\n{}", a.name(), a.office()))
                .unwrap_or_default();
        (row, title, to, sender)
    };
    let link = format!("{}/v/{}", base_url.trim_end_matches('/'), row.id);
    match letter.kind.as_str() {
        "terbit" => {
            let (row, pdf) = crate::certificate::render_stored(db, caches, base_url, seal, id)?
                .context("the certificate is gone")?;
            let body = letter_text(&[
                &format!("Yth. Bapak/Ibu {},", row.signer_name),
                &format!(
                    "Penandatanganan elektronik Anda untuk \"{campaign_title}\" telah tercatat \
                     pada {}.",
                    crate::certificate::signing_time(&row)
                ),
                &format!(
                    "Sertifikat penandatanganan terlampir dalam berkas PDF (nomor sertifikat \
                     {:08}, ID sertifikat {}). Simpanlah berkas ini. Keaslian sertifikat dapat \
                     diperiksa oleh siapa pun dengan memindai kode QR pada sertifikat atau \
                     melalui tautan berikut:",
                    row.serial, row.id
                ),
                &link,
                &sender,
                "Surel ini dikirim secara otomatis oleh sistem ikrar. Mohon tidak membalas \
                 surel ini; bila ada data yang keliru, hubungi admin kepegawaian instansi Anda.",
            ]);
            mailer.send_with_pdf(
                &to,
                &format!("Sertifikat penandatanganan: {campaign_title}"),
                body,
                &format!("sertifikat-ikrar-{}.pdf", row.id),
                pdf,
            )?;
        }
        "cabut" => {
            let revoked_at = row.revoked_at.context("the certificate is not revoked")?;
            let reason = row
                .revocation_reason
                .as_deref()
                .and_then(RevocationReason::of_stored)
                .unwrap_or(RevocationReason::Other);
            let when = IndonesianZone::of_province(&row.village_code)
                .format_long(chrono::DateTime::from_timestamp(revoked_at, 0).unwrap_or_default());
            let body = letter_text(&[
                &format!("Yth. Bapak/Ibu {},", row.signer_name),
                &format!(
                    "Dengan hormat kami sampaikan bahwa sertifikat penandatanganan Anda untuk \
                     \"{campaign_title}\" (ID sertifikat {}) telah dicabut pada {when} dan \
                     tidak berlaku lagi.",
                    row.id
                ),
                &format!("Alasan pencabutan:\n{}.", reason.label()),
                "Bila kegiatan tersebut masih dibuka, Anda dapat menandatanganinya kembali. \
                 Bila menurut Anda pencabutan ini keliru, silakan hubungi admin kepegawaian \
                 instansi Anda. Status sertifikat dapat diperiksa di:",
                &link,
                &sender,
                "Surel ini dikirim secara otomatis oleh sistem ikrar. Mohon tidak membalas \
                 surel ini.",
            ]);
            mailer.send(
                &to,
                &format!("Sertifikat Anda dicabut: {campaign_title}"),
                body,
            )?;
        }
        other => anyhow::bail!("unknown letter kind {other:?}"),
    }
    Ok(())
}

/// Paragraphs wrapped at 72 columns (a line of its own, such as a link, stays whole), so that
/// plain ASCII letters travel as 7-bit text that every mail reader shows as written.
fn letter_text(paragraphs: &[&str]) -> String {
    let mut out = String::new();
    for paragraph in paragraphs.iter().filter(|p| !p.is_empty()) {
        for line in paragraph.lines() {
            let mut width = 0;
            for word in line.split(' ') {
                if width > 0 && width + 1 + word.chars().count() > 72 {
                    out.push('\n');
                    width = 0;
                } else if width > 0 {
                    out.push(' ');
                    width += 1;
                }
                out.push_str(word);
                width += word.chars().count();
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}
