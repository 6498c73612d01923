//! A signer's own certificate: the confirmation page and the PDF download.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};

use super::pages::{self, render, render_with_status};
use super::{AppState, PageError, SignedInEmployee, WebError};

use crate::certificate::{self, QrMatrix};
use crate::db::certificates;
use crate::domain::CertificateId;
use crate::verification::{self, Evidence, Verdict, Verified};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/certificates/{id:[A-Za-z2-7]{16}}.pdf",
        web::get().to(download_api),
    )
    .route(
        "/sertifikat/{id:[A-Za-z2-7]{16}}.pdf",
        web::get().to(download_page),
    )
    .route("/sertifikat/{id}", web::get().to(certificate_page));
}

/// Why a certificate that is not genuine gets no freshly sealed PDF: a new seal would make a
/// revoked or void certificate look valid to anyone checking the PDF alone.
fn refusal(verified: &Verified) -> String {
    match verified.verdict {
        Verdict::Revoked => "Berkas PDF sertifikat ini tidak diterbitkan lagi karena sertifikatnya sudah dicabut dan tidak berlaku. Berkas lama yang Anda simpan juga tidak berlaku lagi.".into(),
        _ => format!(
            "Berkas PDF sertifikat ini tidak diterbitkan lagi karena sertifikatnya tidak sah: {}.",
            verified.problem.unwrap_or("datanya tidak cocok dengan catatan penerbit")
        ),
    }
}

/// What a signer asking for their PDF gets.
enum Download {
    Pdf(HttpResponse),
    /// Not genuine: no fresh seal, and the reason.
    Refused(Box<Verified>, String),
}

/// Only the signer downloads the PDF: it carries the full NIP or NIK. Anyone else gets the same
/// 404 as for an unknown id. A certificate that is not genuine (revoked, or void because its
/// key was revoked) is not sealed afresh.
async fn download(
    state: &web::Data<AppState>,
    me: SignedInEmployee,
    path: &str,
) -> Result<Download, WebError> {
    let not_found = || WebError::NotFound("sertifikat tidak ditemukan".into());
    let id = CertificateId::parse(path).map_err(|_| not_found())?;
    let st = state.clone();
    let lookup = id.clone();
    let verified = web::block(move || {
        verification::verify(
            &st.db,
            &st.revocations,
            &st.caches,
            lookup.as_str(),
            Evidence::Id,
        )
    })
    .await??;
    let own = verified
        .certificate
        .as_ref()
        .is_some_and(|c| c.employee_id == me.employee.id);
    if !own {
        return Err(not_found());
    }
    if verified.verdict != Verdict::Genuine {
        let reason = refusal(&verified);
        return Ok(Download::Refused(Box::new(verified), reason));
    }
    let st = state.clone();
    let rendered = web::block(move || {
        certificate::render_stored(&st.db, &st.caches, &st.base_url, &st.seal, &id)
    })
    .await?
    .map_err(WebError::internal)?;
    match rendered {
        Some((row, pdf)) if row.employee_id == me.employee.id => Ok(Download::Pdf(
            HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"sertifikat-ikrar-{}.pdf\"", row.id),
                ))
                .body(pdf),
        )),
        _ => Err(not_found()),
    }
}

/// The API answers a refused download with 409 and the reason (docs/api.md).
async fn download_api(
    state: web::Data<AppState>,
    me: SignedInEmployee,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    match download(&state, me, &path).await? {
        Download::Pdf(pdf) => Ok(pdf),
        Download::Refused(_, reason) => Err(WebError::Conflict(reason)),
    }
}

/// The signer's page route answers a refused download with the verification page and the reason.
async fn download_page(
    state: web::Data<AppState>,
    me: SignedInEmployee,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    match download(&state, me, &path).await? {
        Download::Pdf(pdf) => Ok(pdf),
        Download::Refused(verified, reason) => {
            let mut page =
                super::verify::verdict_page(&verified, &path, false, state.report_url.as_deref());
            page.notice = Some(reason);
            Ok(render_with_status(StatusCode::CONFLICT, &page))
        }
    }
}

async fn certificate_page(
    state: web::Data<AppState>,
    me: Option<SignedInEmployee>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let Some(me) = me else {
        return Err(WebError::Unauthorized.into());
    };
    let not_found = || PageError(WebError::NotFound("sertifikat tidak ditemukan".into()));
    let id = CertificateId::parse(&path).map_err(|_| not_found())?;
    let db = state.db.clone();
    let row = web::block(move || certificates::find(&mut *db.read()?, &id)).await??;
    let row = row
        .filter(|r| r.employee_id == me.employee.id)
        .ok_or_else(not_found)?;
    let link = certificate::link_for(&state.base_url, &row).map_err(WebError::internal)?;
    let qr = QrMatrix::encode(&link).map_err(WebError::internal)?;
    let (id_label, id_value) = certificate::identity_row(&row);
    render(&pages::CertificateIssued {
        id: row.id.to_string(),
        serial: format!("{:08}", row.serial),
        name: row.signer_name.clone(),
        id_label: id_label.to_string(),
        id_value,
        signed_at: certificate::signing_time(&row),
        verify_path: format!("/v/{}", row.id),
        link,
        qr_svg: qr.to_svg(),
    })
}
