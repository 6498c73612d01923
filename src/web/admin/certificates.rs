//! Finding certificates in the admin's scope (by NIP, NIK, name or id) and revoking one with a
//! reason. After revocation
//! the verification page says so, with the date and the reason's category, and the employee may
//! sign again.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::sealed_search::{self, must_be_sealed};
use super::views::{self, FormErrors};
use super::{audited, refused, see_other_confirmed, SignedInAdmin};
use crate::db::admin_lists::{self, SearchTerm};
use crate::db::certificates::{self, CertificateRow};
use crate::db::now;
use crate::domain::{AdminScope, CertificateId, IndonesianZone, RevocationReason};
use crate::web::pages::{self, render, render_with_status};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::{AppState, PageError, WebError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/sertifikat", web::get().to(lookup))
        .route("/admin/sertifikat", web::post().to(search))
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

/// Certificates shown per page of the list.
const PAGE_ROWS: i64 = 50;

#[derive(Deserialize)]
struct LookupQuery {
    id: Option<String>,
    q: Option<String>,
    /// The search term sealed (`sealed_search`), so that a NIP or NIK never shows in the address.
    cari: Option<String>,
    /// Keyset paging: certificates with a serial below this one.
    sebelum: Option<String>,
}

#[derive(Deserialize)]
struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    csrf: String,
}

fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn sealed_list(state: &AppState, me: &SignedInAdmin, term: &str) -> String {
    let sealed = state.search_seal.seal(&me.admin.id, term, now());
    format!("/admin/sertifikat?{}={sealed}", sealed_search::PARAM)
}

/// The search form posts here so that what was typed stays out of the address.
async fn search(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    form: web::Form<SearchForm>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&req, &form.csrf)?;
    let term = form.q.trim();
    if term.is_empty() {
        return Ok(see_other("/admin/sertifikat".into()));
    }
    Ok(see_other(sealed_list(&state, &me, term)))
}

/// The list of certificates in the admin's scope, newest first, searchable by NIP, NIK or name;
/// or, given a certificate id, that certificate.
async fn lookup(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    csrf: CsrfToken,
    query: web::Query<LookupQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    if let Some(id) = query.id.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
        let id = CertificateId::parse(id).map_err(|e| WebError::bad("id", e))?;
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/admin/sertifikat/{id}")))
            .finish());
    }
    // An address with a NIP or NIK in it (an old bookmark) is left at once for a sealed one.
    if let Some(typed) = query.q.as_deref().map(str::trim) {
        if must_be_sealed(typed) {
            return Ok(see_other(sealed_list(&state, &me, typed)));
        }
    }
    let sealed = query
        .cari
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let mut page = views::AdminCertificates {
        admin: pages::AdminHeader::of(&me),
        csrf: csrf.0,
        errors: FormErrors::none(),
        q: String::new(),
        rows: Vec::new(),
        first_href: None,
        next_href: None,
    };
    let typed = match &sealed {
        Some(token) => match state.search_seal.open(&me.admin.id, token, now()) {
            Ok(term) => term,
            // A stale link: the admin is told to type the term again, nothing is recorded.
            Err(e) => {
                page.errors = FormErrors::from_refusal(&e, "q");
                return Ok(render_with_status(views::status_of(&e), &page));
            }
        },
        None => query.q.clone().unwrap_or_default(),
    };
    page.q = typed.clone();
    let asked = SearchTerm::parse(&typed)
        .map_err(|e| WebError::bad("q", e))
        .and_then(|search| {
            let before = match query.sebelum.as_deref().filter(|b| !b.is_empty()) {
                Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
                    WebError::bad(
                        "sebelum",
                        "tautan halaman tidak sah; mulai dari halaman pertama",
                    )
                })?),
                None => None,
            };
            Ok((search, before))
        });
    let (search, before) = match asked {
        Ok(asked) => asked,
        Err(e) => {
            let e = refused(&state, &req, &me, "cari_sertifikat", typed, e).await;
            page.errors = FormErrors::from_refusal(&e, "q");
            return Ok(render_with_status(views::status_of(&e), &page));
        }
    };
    let scope = me.scope.clone();
    let mut found = audited(
        &state,
        &req,
        &me,
        "cari_sertifikat",
        typed.clone(),
        String::new(),
        move |conn| {
            Ok(admin_lists::certificates_page(
                conn,
                &scope,
                search.as_ref(),
                before,
                PAGE_ROWS + 1,
            )?)
        },
    )
    .await?;
    let more = found.len() as i64 > PAGE_ROWS;
    found.truncate(PAGE_ROWS as usize);
    let link = |before: Option<i64>| {
        let mut pairs = Vec::new();
        match &sealed {
            Some(token) => pairs.push(format!(
                "{}={}",
                sealed_search::PARAM,
                views::query_value(token)
            )),
            None if !typed.trim().is_empty() => {
                pairs.push(format!("q={}", views::query_value(typed.trim())))
            }
            None => {}
        }
        if let Some(b) = before {
            pairs.push(format!("sebelum={b}"));
        }
        if pairs.is_empty() {
            "/admin/sertifikat".to_string()
        } else {
            format!("/admin/sertifikat?{}", pairs.join("&"))
        }
    };
    page.next_href = more
        .then(|| found.last().map(|c| link(Some(c.serial))))
        .flatten();
    page.first_href = before.map(|_| link(None));
    page.rows = found
        .iter()
        .map(|c| {
            let v = view(c);
            views::CertificateListRow {
                id: v.id,
                signer: v.signer,
                identity: v.identity,
                agency: v.agency,
                signed_at: v.signed_at,
                revoked: v.revoked.is_some(),
            }
        })
        .collect();
    render(&page)
}

fn reasons() -> Vec<(&'static str, &'static str)> {
    RevocationReason::ALL
        .iter()
        .map(|r| (r.as_str(), r.label()))
        .collect()
}

fn view(c: &CertificateRow) -> views::AdminCertificateView {
    let zone = IndonesianZone::of_province(&c.village_code);
    let when =
        |at: i64| zone.format_long(chrono::DateTime::from_timestamp(at, 0).unwrap_or_default());
    views::AdminCertificateView {
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

#[derive(Deserialize)]
struct DetailsQuery {
    selesai: Option<String>,
}

async fn details(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    csrf: CsrfToken,
    path: web::Path<String>,
    query: web::Query<DetailsQuery>,
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
    render(&views::AdminCertificate {
        admin: pages::AdminHeader::of(&me),
        confirmation: views::confirmation(query.selesai.as_deref()),
        certificate: view(&certificate),
        reasons: reasons(),
        errors: FormErrors::none(),
        reason: String::new(),
        note: String::new(),
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

fn checked_revocation(form: &RevokeForm) -> Result<String, WebError> {
    let reason = RevocationReason::parse(&form.reason)
        .ok_or_else(|| WebError::bad("reason", "pilih salah satu kategori alasan pencabutan"))?;
    let note = form.note.trim();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(WebError::bad(
            "note",
            "keterangan wajib diisi, paling banyak 500 karakter",
        ));
    }
    Ok(format!("{}: {note}", reason.as_str()))
}

async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    csrf: CsrfToken,
    path: web::Path<String>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    let raw = path.into_inner();
    let outcome = match checked_revocation(&form) {
        Err(e) => Err(refused(&state, &req, &me, "cabut_sertifikat", raw.clone(), e).await),
        Ok(stored) => {
            let scope = me.scope.clone();
            let id = raw.clone();
            audited(
                &state,
                &req,
                &me,
                "cabut_sertifikat",
                raw.clone(),
                stored.clone(),
                move |conn| {
                    let certificate = in_scope(conn, &scope, &id)?;
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
                        crate::outbox::enqueue(conn, &id, crate::outbox::Letter::Revoked, at)?;
                    }
                    Ok(())
                },
            )
            .await
        }
    };
    match outcome {
        Ok(()) => Ok(see_other_confirmed(
            &format!("/admin/sertifikat/{raw}"),
            "dicabut",
        )),
        // Not found answers as an unknown id does; other refusals show the form again.
        Err(e @ (WebError::BadRequest { .. } | WebError::Conflict(_))) => {
            let scope = me.scope.clone();
            let db = state.db.clone();
            let id = raw.clone();
            let certificate = web::block(move || -> Result<_, WebError> {
                in_scope(&mut *db.read()?, &scope, &id)
            })
            .await??;
            let page = views::AdminCertificate {
                admin: pages::AdminHeader::of(&me),
                confirmation: None,
                certificate: view(&certificate),
                reasons: reasons(),
                errors: FormErrors::from_refusal(&e, "reason"),
                reason: form.reason,
                note: form.note,
                csrf: csrf.0,
            };
            Ok(render_with_status(views::status_of(&e), &page))
        }
        Err(e) => Err(e.into()),
    }
}
