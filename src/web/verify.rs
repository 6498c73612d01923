//! The public side: what a QR scan, a journalist's upload or a verifier program is told.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::pages::{self, render, render_with_status};
use super::security::{check_csrf, CsrfToken};
use super::upload::{receive, UploadLimit};
use super::{quick_read, rfc3339, AppState, PageError, WebError};
use crate::certificate::{self, pdf_signature, PdfSignatureError};
use crate::db::{areas, campaigns, keys, log, Db, DbConnection, DbError};
use crate::domain::{AreaCode, CertificateId, IndonesianZone, RevocationReason};
use crate::memo::Memo;
use crate::signing::{find_certificate, judge, Verdict, Verification};
use crate::signing::{SealSignature, SealSignatureError};
use crate::transparency::{self, LogCheck};

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

/// A verification with the names a person needs to read it.
pub struct VerifiedView {
    pub verification: Verification,
    pub campaign_title: String,
    pub work_area: String,
    /// `None` for an unknown certificate, or one issued before the log existed.
    pub log: Option<LogCheck>,
}

fn verify(db: &Db, id: &str, claim: Option<&str>) -> Result<VerifiedView, DbError> {
    let mut conn = db.read()?;
    crate::db::in_one_snapshot(&mut conn, |conn| verify_in(conn, id, claim))
}

fn verify_in(
    conn: &mut DbConnection,
    id: &str,
    claim: Option<&str>,
) -> Result<VerifiedView, DbError> {
    let (mut verification, log) = match find_certificate(conn, id)? {
        Some(found) => {
            // The log first: when it vouches for the record, its signature needs no check.
            let log = transparency::check_certificate(conn, &found)?;
            let signature = LogCheck::signature_check(log.as_ref());
            let key = found.issuer_key.as_ref();
            (judge(found.certificate, key, claim, signature), log)
        }
        None => (Verification::not_found(), None),
    };
    let (mut campaign_title, mut work_area) = (String::new(), String::new());
    if let Some(c) = &verification.certificate {
        if log.as_ref().and_then(|l| l.included) == Some(false)
            && verification.verdict != Verdict::Tampered
        {
            // The record differs from what the log committed to, or the log was rewritten.
            verification.verdict = Verdict::Tampered;
            verification.problem =
                Some("catatan sertifikat tidak cocok dengan yang tercatat di log publik");
        }
        // A campaign's title never changes once it is created.
        static TITLES: Memo<String, String> = Memo::new(10_000);
        campaign_title = TITLES
            .get_or_try(c.campaign_id.clone(), || {
                Ok::<_, DbError>(campaigns::find(conn, &c.campaign_id)?.map(|c| c.title))
            })?
            .unwrap_or_default();
        if let Ok(code) = AreaCode::parse(&c.village_code) {
            work_area = areas::describe(conn, &code)?;
        }
    }
    Ok(VerifiedView {
        verification,
        campaign_title,
        work_area,
        log,
    })
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
    fn of(view: &'a VerifiedView, shown_id: &'a str) -> Self {
        let v = &view.verification;
        let certificate = v.certificate.as_ref().map(|c| {
            let (id_type, id_masked) = masked_id(c);
            let at = chrono::DateTime::from_timestamp(c.signed_at, 0).unwrap_or_default();
            // Only the category is public; the admin's note stays in the audit trail.
            let reason = c
                .revocation_reason
                .as_deref()
                .and_then(RevocationReason::of_stored);
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
                revoked_at: c.revoked_at.map(rfc3339),
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
    let db = state.db.clone();
    let id = path.into_inner();
    let claim = query.into_inner().claim;
    let shown_id = id.clone();
    let view = quick_read(&state.db, move || verify(&db, &id, claim.as_deref())).await??;
    Ok(HttpResponse::build(status_of(view.verification.verdict))
        .json(ApiAnswer::of(&view, &shown_id)))
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
            "Bukti inklusinya telah diperiksa dan cocok dengan checkpoint terbaru yang ditandatangani penerbit (ukuran log {size})."
        ),
        (Some(false), _) => {
            "Bukti inklusinya TIDAK cocok dengan checkpoint terbaru yang ditandatangani penerbit.".into()
        }
        _ => "Checkpoint terbaru belum memuat entri ini; checkpoint berikutnya terbit dalam beberapa detik.".into(),
    };
    if let Some(r) = l.revocation_index {
        text += &format!(" Pencabutannya tercatat pada indeks {r}.");
    }
    text
}

fn verdict_page(view: &VerifiedView, id: &str, checked_claim: bool) -> pages::Verify {
    let v = &view.verification;
    let details = v.certificate.as_ref().map(|c| {
        let (id_label, id_value) = masked_id(c);
        pages::VerifyDetails {
            serial: format!("{:08}", c.serial),
            name: c.signer_name.clone(),
            id_label: id_label.to_string(),
            id_value,
            position: c.position.clone(),
            agency: c.agency.clone(),
            work_area: view.work_area.clone(),
            campaign: view.campaign_title.clone(),
            document_sha256: c.document_sha256.clone(),
            signed_at: certificate::signing_time(c),
            key_id: c.key_id.clone(),
            revoked_on: c.revoked_at.map(|at| {
                IndonesianZone::of_province(&c.village_code)
                    .format_date(chrono::DateTime::from_timestamp(at, 0).unwrap_or_default())
            }),
            revocation_reason: c
                .revocation_reason
                .as_deref()
                .and_then(RevocationReason::of_stored)
                .map(|r| r.label().to_string()),
            log: log_sentence(view.log.as_ref()),
        }
    });
    pages::Verify {
        id: id.to_string(),
        verdict: v.verdict.as_str().to_string(),
        problem: v.problem.map(str::to_string),
        checked_claim,
        uploaded: false,
        details,
    }
}

async fn verify_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ClaimQuery>,
) -> Result<HttpResponse, PageError> {
    let db = state.db.clone();
    let id = path.into_inner();
    let claim = query.into_inner().claim;
    let checked_claim = claim.is_some();
    let lookup = id.clone();
    let view = quick_read(&state.db, move || verify(&db, &lookup, claim.as_deref())).await??;
    let page = verdict_page(
        &view,
        &CertificateId::parse(&id)
            .map(|i| i.to_string())
            .unwrap_or(id),
        checked_claim,
    );
    Ok(render_with_status(
        status_of(view.verification.verdict),
        &page,
    ))
}

async fn keys_json(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let db = state.db.clone();
    let (rows, latest) = web::block(move || -> Result<_, DbError> {
        let mut conn = db.read()?;
        Ok((keys::all(&mut conn)?, log::latest_checkpoint(&mut conn)?))
    })
    .await??;
    let origin = latest
        .as_ref()
        .and_then(|c| c.note.lines().next().map(str::to_string))
        .unwrap_or_else(|| transparency::default_origin(&state.base_url));
    let keys: Vec<_> = rows
        .iter()
        .map(|k| {
            let public: Option<[u8; 32]> = k.public_key.clone().try_into().ok();
            serde_json::json!({
                "key_id": k.key_id,
                "algorithm": k.algorithm,
                "public_key": data_encoding::BASE64URL_NOPAD.encode(&k.public_key),
                "public_key_hex": data_encoding::HEXLOWER.encode(&k.public_key),
                "valid_from": rfc3339(k.valid_from),
                "valid_until": k.valid_until.map(rfc3339),
                "status": k.status().as_str(),
                "retired_at": k.retired_at.map(rfc3339),
                "revoked_at": k.revoked_at.map(rfc3339),
                "log_verifier_key": public.map(|p| transparency::checkpoint::verifier_key(&origin, &p)),
            })
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(serde_json::json!({
            "issuer": state.base_url,
            "claim_format": "ikrar/claim/v1",
            "keys": keys,
            "log": {
                "origin": origin,
                "checkpoint": format!("{}/log/checkpoint", state.base_url),
            },
        })))
}

async fn offline_page() -> Result<HttpResponse, PageError> {
    render(&pages::VerifyOffline)
}

async fn upload_page(csrf: CsrfToken) -> Result<HttpResponse, PageError> {
    render(&pages::Upload {
        error: None,
        csrf: csrf.0,
    })
}

/// What a person is told when the PDF signature in an uploaded file does not hold.
fn signature_problem(error: &PdfSignatureError) -> &'static str {
    match error {
        PdfSignatureError::NotSigned => "berkas tidak memuat tanda tangan PDF penerbit",
        PdfSignatureError::ByteRange => {
            "tanda tangan PDF tidak mencakup seluruh isi berkas: berkas diubah atau ditambahi setelah ditandatangani"
        }
        PdfSignatureError::Digest => "isi berkas berubah setelah ditandatangani",
        PdfSignatureError::Cms(SealSignatureError::Signature) => {
            "tanda tangan PDF tidak sah: tidak cocok dengan sertifikat segel di dalamnya"
        }
        PdfSignatureError::Unreadable(_) => "berkas PDF rusak dan tidak dapat dibaca",
        PdfSignatureError::Structure(_)
        | PdfSignatureError::Contents
        | PdfSignatureError::Cms(_) => "tanda tangan PDF di dalam berkas rusak",
    }
}

/// Checks that an uploaded PDF's seal verified and was made by one of the seals this
/// deployment has used; `Some(problem)` when it was not.
fn check_pdf_signature(
    db: &Db,
    signature: Result<SealSignature, PdfSignatureError>,
) -> Result<Option<&'static str>, DbError> {
    let signed = match signature {
        Ok(signed) => signed,
        Err(e) => return Ok(Some(signature_problem(&e))),
    };
    let known = crate::db::seals::find(&mut *db.read()?, &signed.signer_fingerprint_hex())?;
    Ok(known
        .is_none()
        .then_some("tanda tangan PDF dibuat dengan sertifikat yang bukan segel penerbit ini"))
}

/// An uploaded PDF is ours and unaltered exactly when its embedded PDF seal covers the
/// whole file and verifies under one of our seal certificates. The certificate it names is then
/// judged against the records like a QR scan. No byte-for-byte comparison with a fresh render:
/// the signature already covers every byte, and a render after a key rotation would differ.
async fn upload_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: CsrfToken,
    payload: Multipart,
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
    let (problem, view) = web::block(move || -> Result<_, DbError> {
        let problem = check_pdf_signature(&st.db, pdf_signature::read_signature(&bytes))?;
        let view = verify(&st.db, lookup.as_str(), None)?;
        Ok((problem, view))
    })
    .await??;
    let mut page = verdict_page(&view, id.as_str(), false);
    page.uploaded = true;
    if let Some(problem) = problem {
        page.verdict = Verdict::Tampered.as_str().to_string();
        page.problem = Some(problem.into());
        return Ok(render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    Ok(render_with_status(
        status_of(view.verification.verdict),
        &page,
    ))
}
