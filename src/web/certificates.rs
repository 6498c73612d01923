//! A signer's own certificate: the confirmation page and the PDF download.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::pages::{self, render};
use super::{AppState, PageError, SignedInEmployee, WebError};
use crate::certificate::{self, CertificateContext, PdfSigner, QrMatrix};
use crate::db::certificates::{self, CertificateRow};
use crate::db::{areas, campaigns, Db};
use crate::domain::{AreaCode, CertificateId};
use crate::signing::Seal;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/certificates/{id:[A-Za-z2-7]{16}}.pdf",
        web::get().to(download),
    )
    .route(
        "/sertifikat/{id:[A-Za-z2-7]{16}}.pdf",
        web::get().to(download),
    )
    .route("/sertifikat/{id}", web::get().to(certificate_page));
}

/// Renders a stored certificate as its PDF, sealed by `seal`; `None` if there is no such
/// certificate.
pub fn render_stored(
    db: &Db,
    base_url: &str,
    seal: &Seal,
    id: &CertificateId,
) -> anyhow::Result<Option<(CertificateRow, Vec<u8>)>> {
    let mut conn = db.read()?;
    let Some(row) = certificates::find(&mut conn, id)? else {
        return Ok(None);
    };
    let campaign = campaigns::find(&mut conn, &row.campaign_id)?
        .ok_or_else(|| anyhow::anyhow!("certificate {} names a missing campaign", row.id))?;
    let document = campaigns::document_by_hash(&mut conn, &row.campaign_id, &row.document_sha256)?
        .ok_or_else(|| anyhow::anyhow!("certificate {} names a missing document", row.id))?;
    let work_area = areas::describe(&mut conn, &AreaCode::parse(&row.village_code)?)?;
    drop(conn);
    let pdf = certificate::render_pdf(
        &CertificateContext {
            certificate: &row,
            campaign: &campaign,
            document: &document,
            work_area: &work_area,
            base_url,
        },
        PdfSigner { seal },
    )?;
    Ok(Some((row, pdf)))
}

/// Only the signer downloads the PDF: it carries the full NIP or NIK. Anyone else gets the same
/// 404 as for an unknown id.
async fn download(
    state: web::Data<AppState>,
    me: SignedInEmployee,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let not_found = || WebError::NotFound("sertifikat tidak ditemukan".into());
    let id = CertificateId::parse(&path).map_err(|_| not_found())?;
    let st = state.clone();
    let rendered = web::block(move || render_stored(&st.db, &st.base_url, &st.seal, &id))
        .await?
        .map_err(WebError::internal)?;
    match rendered {
        Some((row, pdf)) if row.employee_id == me.employee.id => Ok(HttpResponse::Ok()
            .content_type("application/pdf")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"sertifikat-ikrar-{}.pdf\"", row.id),
            ))
            .body(pdf)),
        _ => Err(not_found()),
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
        id: row.id.clone(),
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
