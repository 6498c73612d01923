//! Looking up a certificate in the admin's scope and revoking it with a reason. After revocation
//! the verification page says so, with the date and the reason's category, and the employee may
//! sign again.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{audited, SignedInAdmin};
use crate::db::certificates::{self, CertificateRow};
use crate::db::now;
use crate::domain::{AdminScope, CertificateId, IndonesianZone, RevocationReason};
use crate::web::pages::{self, render};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::{AppState, PageError, WebError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/sertifikat", web::get().to(lookup))
        .route("/admin/sertifikat/{id}", web::get().to(details))
        .route("/admin/sertifikat/{id}/cabut", web::post().to(revoke));
}

fn not_found() -> WebError {
    WebError::NotFound("Sertifikat tidak ditemukan.".into())
}

/// The certificate if it exists and is this admin's to see; otherwise the same 404 either way.
fn in_scope(
    conn: &mut crate::db::DbConnection,
    scope: &AdminScope,
    raw_id: &str,
) -> Result<CertificateRow, WebError> {
    let id = CertificateId::parse(raw_id).map_err(|_| not_found())?;
    certificates::find(conn, &id)?
        .filter(|c| scope.covers(&c.village_code, &c.agency))
        .ok_or_else(not_found)
}

#[derive(Deserialize)]
struct LookupQuery {
    id: Option<String>,
}

async fn lookup(
    me: SignedInAdmin,
    query: web::Query<LookupQuery>,
) -> Result<HttpResponse, PageError> {
    if let Some(id) = query.id.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
        let id = CertificateId::parse(id).map_err(|e| WebError::bad("id", e))?;
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/admin/sertifikat/{id}")))
            .finish());
    }
    render(&pages::AdminCertificate {
        admin: pages::AdminHeader::of(&me),
        certificate: None,
        reasons: reasons(),
        error: None,
        csrf: String::new(),
    })
}

fn reasons() -> Vec<(&'static str, &'static str)> {
    RevocationReason::ALL
        .iter()
        .map(|r| (r.as_str(), r.label()))
        .collect()
}

fn view(c: &CertificateRow) -> pages::AdminCertificateView {
    let zone = IndonesianZone::of_province(&c.village_code);
    let when =
        |at: i64| zone.format_long(chrono::DateTime::from_timestamp(at, 0).unwrap_or_default());
    pages::AdminCertificateView {
        id: c.id.to_string(),
        serial: c.serial,
        signer: c.signer_name.clone(),
        identity: crate::certificate::identity_row(c).1,
        agency: c.agency.clone(),
        unit: c.unit.clone(),
        village_code: c.village_code.to_string(),
        signed_at: when(c.signed_at),
        revoked: c.revoked_at.map(|at| {
            let category = c
                .revocation_reason
                .as_deref()
                .and_then(RevocationReason::of_stored)
                .map_or("", RevocationReason::label);
            format!("{} ({category})", when(at))
        }),
    }
}

async fn details(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    csrf: CsrfToken,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let scope = me.scope.clone();
    let raw = path.into_inner();
    let certificate = audited(
        &state,
        &req,
        &me,
        "lihat_sertifikat",
        raw.clone(),
        String::new(),
        move |conn| in_scope(conn, &scope, &raw),
    )
    .await?;
    render(&pages::AdminCertificate {
        admin: pages::AdminHeader::of(&me),
        certificate: Some(view(&certificate)),
        reasons: reasons(),
        error: None,
        csrf: csrf.0,
    })
}

#[derive(Deserialize)]
struct RevokeForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    csrf: String,
}

async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    let scope = me.scope.clone();
    let raw = path.into_inner();
    let reason = RevocationReason::parse(&form.reason)
        .ok_or_else(|| WebError::bad("reason", "pilih salah satu kategori alasan pencabutan"))?;
    let note = form.note.trim().to_string();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(
            WebError::bad("note", "keterangan wajib diisi, paling banyak 500 karakter").into(),
        );
    }
    let stored = format!("{}: {note}", reason.as_str());
    let id = raw.clone();
    audited(
        &state,
        &req,
        &me,
        "cabut_sertifikat",
        raw.clone(),
        stored.clone(),
        move |conn| {
            let certificate = in_scope(conn, &scope, &raw)?;
            let id = certificate.id.clone();
            let at = now();
            if !crate::signing::revoke_certificate(conn, &id, at, &stored)? {
                return Err(WebError::Conflict(
                    "Sertifikat ini sudah dicabut sebelumnya.".into(),
                ));
            }
            // The signer is told, with the public category only, once this commits.
            if crate::db::employees::find(conn, certificate.employee_id)?
                .is_some_and(|e| e.email.is_some())
            {
                crate::outbox::enqueue(conn, id.as_str(), crate::outbox::Letter::Revoked, at)?;
            }
            Ok(())
        },
    )
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/admin/sertifikat/{id}")))
        .finish())
}
