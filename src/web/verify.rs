//! The public side: what a QR scan, a journalist's upload or a verifier program is told.

use super::answers::{KeyList, LogRef, PublishedKey};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::pages::{self, render, render_with_status};
use super::security::{check_csrf, CsrfToken};
use super::upload::{receive, Form, UploadLimit};
use super::{rfc3339, AppState, PageError, WebError};
use crate::certificate::{self, pdf_signature};
use crate::db::{log, DbError, ScanWork};
use crate::domain::{CertificateId, IndonesianZone, RevocationReason};
use crate::transparency::{self, LogCheck};
use crate::verification::{self, Evidence, Verdict, Verified};

/// Certificates are about 30 KB; anything much larger is not one of ours.
pub const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/verify/{id}", web::get().to(api_verify))
        .route("/.well-known/ikrar-keys.json", web::get().to(keys_json))
        .route("/v", web::get().to(upload_page))
        .route("/v", web::post().to(upload_submit))
        .route("/v/luring", web::get().to(offline_page))
        .route("/v/{id}", web::get().to(verify_page));
}

#[derive(Deserialize)]
struct ClaimQuery {
    claim: Option<String>,
}

/// The pipeline with the node's own knowledge of the log's revocations.
fn verify(state: &AppState, id: &str, evidence: Evidence<'_>) -> Result<Verified, DbError> {
    verification::verify(&state.db, &state.revocations, &state.caches, id, evidence)
}

/// A QR scan's verdict (the page and the API). The certificate is read through `Db::read_scan`,
/// which on PostgreSQL reads it together with the other scans that arrived meanwhile; the
/// verdict is decided by the same pipeline as every other check.
async fn scan(
    state: &web::Data<AppState>,
    id: &str,
    claim: Option<String>,
) -> Result<Verified, WebError> {
    let Ok(id) = CertificateId::parse(id) else {
        return Ok(Verified::not_found());
    };
    let (tell, told) = tokio::sync::oneshot::channel();
    let st = state.clone();
    let work: ScanWork = Box::new(move |read| {
        let verified = read.and_then(|(conn, found)| {
            let evidence = evidence_of(claim.as_deref());
            verification::judge(
                conn,
                &st.revocations,
                &st.caches,
                found,
                evidence,
                &mut |_| {},
            )
        });
        let _ = tell.send(verified);
    });
    state.db.read_scan(id, work);
    match told.await {
        Ok(verified) => Ok(verified?),
        Err(_) => Err(WebError::internal(anyhow::anyhow!(
            "a scan's verification ended without an answer"
        ))),
    }
}

fn masked_id(row: &crate::db::certificates::CertificateRow) -> (&'static str, String) {
    row.signer_id()
        .map(|id| (id.label(), id.masked()))
        .unwrap_or(("NIK", String::new()))
}

/// Genuine and revoked are answers about a real certificate; a forged link is a client error.
fn status_of(verdict: Verdict) -> StatusCode {
    match verdict {
        Verdict::Genuine | Verdict::Revoked => StatusCode::OK,
        Verdict::NotFound => StatusCode::NOT_FOUND,
        Verdict::Tampered => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The answer of `/api/v1/verify/{id}` (docs/api.md). Serialized straight from borrowed fields:
/// a scan answers thousands of times a second, and a `serde_json::Value` tree cost one
/// allocation per field.
#[derive(Serialize)]
struct ApiAnswer<'a> {
    status: &'static str,
    certificate_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<&'static str>,
    #[serde(flatten)]
    certificate: Option<ApiCertificate<'a>>,
}

#[derive(Serialize)]
struct ApiCertificate<'a> {
    certificate_number: i64,
    signer: ApiSigner<'a>,
    campaign: ApiCampaign<'a>,
    document_sha256: &'a str,
    signed_at: String,
    signed_at_local: String,
    key_id: &'a str,
    revoked_at: Option<String>,
    revocation_reason: Option<&'static str>,
    revocation_reason_label: Option<&'static str>,
    log: Option<ApiLog>,
}

#[derive(Serialize)]
struct ApiSigner<'a> {
    full_name: &'a str,
    id_type: &'static str,
    id_masked: String,
    employee_type: &'a str,
    position: &'a str,
    agency: &'a str,
    unit: &'a str,
    village_code: &'a str,
    work_area: &'a str,
}

#[derive(Serialize)]
struct ApiCampaign<'a> {
    id: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct ApiLog {
    index: u64,
    revocation_index: Option<u64>,
    checkpoint_size: Option<u64>,
    checkpoint_at: Option<String>,
    inclusion_verified: Option<bool>,
}

impl<'a> ApiAnswer<'a> {
    fn of(view: &'a Verified, shown_id: &'a str) -> Self {
        let v = view;
        let certificate = v.certificate.as_ref().map(|c| {
            let (id_type, id_masked) = masked_id(c);
            let at = chrono::DateTime::from_timestamp(c.signed_at, 0).unwrap_or_default();
            // Only the category is public; the admin's note stays in the audit trail.
            let reason = v.revocation.and_then(|r| r.reason);
            ApiCertificate {
                certificate_number: c.serial,
                signer: ApiSigner {
                    full_name: &c.signer_name,
                    id_type,
                    id_masked,
                    employee_type: &c.employee_type,
                    position: &c.position,
                    agency: &c.agency,
                    unit: &c.unit,
                    village_code: &c.village_code,
                    work_area: &view.work_area,
                },
                campaign: ApiCampaign {
                    id: &c.campaign_id,
                    title: &view.campaign_title,
                },
                document_sha256: &c.document_sha256,
                signed_at: rfc3339(c.signed_at),
                signed_at_local: IndonesianZone::of_province(&c.village_code).format_long(at),
                key_id: &c.key_id,
                revoked_at: v.revocation.map(|r| rfc3339(r.at)),
                revocation_reason: reason.map(RevocationReason::as_str),
                revocation_reason_label: reason.map(RevocationReason::label),
                log: view.log.as_ref().map(|l| ApiLog {
                    index: l.index,
                    revocation_index: l.revocation_index,
                    checkpoint_size: l.checkpoint_size,
                    checkpoint_at: l.checkpoint_at.map(rfc3339),
                    inclusion_verified: l.included,
                }),
            }
        });
        Self {
            status: v.verdict.as_str(),
            certificate_id: shown_id,
            problem: v.problem,
            certificate,
        }
    }
}

async fn api_verify(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ClaimQuery>,
) -> Result<HttpResponse, WebError> {
    let shown_id = path.into_inner();
    let view = scan(&state, &shown_id, query.into_inner().claim).await?;
    Ok(HttpResponse::build(status_of(view.verdict)).json(ApiAnswer::of(&view, &shown_id)))
}

/// One sentence for the page: where the certificate is in the log and what was checked.
fn log_sentence(log: Option<&LogCheck>) -> String {
    let Some(l) = log else {
        return "Sertifikat ini diterbitkan sebelum log publik ada, sehingga tidak tercatat di dalamnya."
            .into();
    };
    let mut text = format!("Tercatat pada indeks {}. ", l.index);
    text += &match (l.included, l.checkpoint_size) {
        (Some(true), Some(size)) => format!(
            "Bukti inklusinya telah diperiksa dan cocok dengan akar log terbaru yang ditandatangani penerbit (ukuran log {size})."
        ),
        (Some(false), _) => {
            "Bukti inklusinya TIDAK cocok dengan akar log terbaru yang ditandatangani penerbit.".into()
        }
        _ => "Akar log terbaru yang ditandatangani belum memuat entri ini; akar berikutnya terbit dalam beberapa detik.".into(),
    };
    if let Some(r) = l.revocation_index {
        text += &format!(" Pencabutannya tercatat pada indeks {r}.");
    }
    text
}

/// A `?claim=` that is present counts, even when empty: an empty claim does not match.
fn evidence_of(claim: Option<&str>) -> Evidence<'_> {
    match claim {
        Some(text) => Evidence::QrClaim(text),
        None => Evidence::Id,
    }
}

pub(super) fn verdict_page(
    view: &Verified,
    id: &str,
    checked_claim: bool,
    report_url: Option<&str>,
) -> pages::Verify {
    let v = view;
    let details = v.certificate.as_ref().map(|c| {
        let (id_label, id_value) = masked_id(c);
        let zone = IndonesianZone::of_province(&c.village_code);
        pages::VerifyDetails {
            serial: format!("{:08}", c.serial),
            name: c.signer_name.clone(),
            id_label: id_label.to_string(),
            id_value,
            position: c.position.clone(),
            agency: c.agency.clone(),
            work_area: view.work_area.clone(),
            document_title: view.campaign_title.clone(),
            issuing_authority: view.issuing_authority.clone(),
            signed_at: certificate::signing_time(c),
            revoked_on: v.revocation.map(|r| {
                zone.format_long(chrono::DateTime::from_timestamp(r.at, 0).unwrap_or_default())
            }),
            revocation_reason: v
                .revocation
                .and_then(|r| r.reason)
                .map(|r| r.label().to_string()),
            document_sha256: c.document_sha256.clone(),
            key_id: c.key_id.clone(),
            log: log_sentence(view.log.as_ref()),
        }
    });
    pages::Verify {
        id: id.to_string(),
        verdict: v.verdict.as_str().to_string(),
        heading: v.verdict.heading().to_string(),
        problem: v.problem.map(str::to_string),
        checked_claim,
        uploaded: false,
        details,
        report_url: report_url.map(str::to_string),
        notice: None,
    }
}

async fn verify_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ClaimQuery>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let claim = query.into_inner().claim;
    let checked_claim = claim.is_some();
    let view = scan(&state, &id, claim).await?;
    let shown = CertificateId::parse(&id)
        .map(|i| i.to_string())
        .unwrap_or(id);
    let page = verdict_page(&view, &shown, checked_claim, state.report_url.as_deref());
    Ok(render_with_status(status_of(view.verdict), &page))
}

/// The published keys (docs/log.md, "The signed key list"): derived from the key events in the
/// log as it stands, and signed by the log key as a signed note naming the log size it reflects.
/// The JSON fields repeat the note's lines for convenience; a verifier trusts the note.
async fn keys_json(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let db = state.db.clone();
    let (size, listed, latest) = web::block(move || -> Result<_, DbError> {
        let mut conn = db.read()?;
        crate::db::in_one_snapshot(&mut conn, |conn| {
            let size = log::size(conn)?;
            let listed = transparency::keys::key_list(conn, size)?;
            Ok((size, listed, log::latest_checkpoint(conn)?))
        })
    })
    .await??;
    let origin = latest
        .as_ref()
        .and_then(|c| c.note.lines().next().map(str::to_string))
        .unwrap_or_else(|| transparency::default_origin(&state.base_url));
    let note = transparency::keys::sign_keys_note(&origin, size, &listed, &state.log_key);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(KeyList {
            version: 1,
            issuer: &state.base_url,
            claim_format: "ikrar/claim/v2",
            tree_size: size,
            keys: listed
                .iter()
                .map(|k| PublishedKey::of(k, &origin))
                .collect(),
            log: LogRef {
                origin: &origin,
                checkpoint: format!("{}/log/checkpoint", state.base_url),
                key_id: state.log_key.id().to_hex(),
                verifier_key: transparency::checkpoint::verifier_key(
                    &origin,
                    state.log_key.public().as_bytes(),
                ),
            },
            signed_note: note,
        }))
}

async fn offline_page(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    render(&pages::VerifyOffline {
        report_url: state.report_url.clone(),
    })
}

async fn upload_page(csrf: CsrfToken) -> Result<HttpResponse, PageError> {
    render(&pages::Upload {
        error: None,
        csrf: csrf.0,
    })
}

/// An uploaded PDF: the certificate it names is judged by the pipeline with the file's own
/// signature as evidence (`verification::Evidence::Pdf`).
async fn upload_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: CsrfToken,
    Form(payload): Form,
) -> Result<HttpResponse, PageError> {
    let refuse = |status: StatusCode, message: String| {
        Ok(render_with_status(
            status,
            &pages::Upload {
                error: Some(message),
                csrf: csrf.0.clone(),
            },
        ))
    };
    let mut bytes = Vec::new();
    let limit = UploadLimit {
        bytes: MAX_UPLOAD_BYTES,
        shown: "2 MB",
    };
    let received = receive(
        payload,
        "berkas",
        limit,
        &mut bytes,
        "pilih berkas PDF sertifikat yang akan diperiksa",
    );
    match received.await {
        Ok(submitted) => check_csrf(&req, &submitted)?,
        Err(e @ (WebError::PayloadTooLarge(_) | WebError::BadRequest { .. })) => {
            return refuse(actix_web::ResponseError::status_code(&e), e.to_string())
        }
        Err(e) => return Err(e.into()),
    };
    if !bytes.starts_with(b"%PDF-") {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Berkas ini bukan PDF.".into(),
        );
    }
    let Some(id) = certificate::id_in_pdf(&bytes).and_then(|s| CertificateId::parse(&s).ok())
    else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Berkas ini bukan sertifikat ikrar: nomor identitas sertifikat tidak ditemukan di dalamnya.".into(),
        );
    };
    let st = state.clone();
    let lookup = id.clone();
    let view = web::block(move || {
        verify(
            &st,
            lookup.as_str(),
            Evidence::Pdf(pdf_signature::read_signature(&bytes)),
        )
    })
    .await??;
    let mut page = verdict_page(&view, id.as_str(), false, state.report_url.as_deref());
    page.uploaded = true;
    Ok(render_with_status(status_of(view.verdict), &page))
}
