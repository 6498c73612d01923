//! The issuing authority of a campaign (penerbit: instansi, perangkat daerah, alamat, tempat,
//! logo), shown and revised by the admins of the campaign's area. Each save is a new version in
//! force from the next second, so certificates already issued keep their letterhead.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt as _;

use super::{audited, campaign_visible, no_such_campaign, SignedInAdmin};
use crate::db::campaigns;
use crate::domain::{AuthorityError, AuthorityLogo, IssuingAuthority, LOGO_MAX_BYTES};
use crate::web::pages::{render, render_with_status, AdminHeader};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::upload::Form;
use crate::web::{AppState, PageError, WebError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin/kampanye/{id}/penerbit",
        web::get().to(authority_page),
    )
    .route(
        "/admin/kampanye/{id}/penerbit",
        web::post().to(revise_authority),
    );
}

#[derive(Template)]
#[template(path = "admin/authority.html")]
struct AuthorityPage {
    admin: AdminHeader,
    campaign_id: String,
    campaign_title: String,
    name: String,
    office: String,
    address: String,
    place: String,
    /// The current logo as a `data:` URL, for the preview.
    logo_src: Option<String>,
    saved: bool,
    error: Option<String>,
    csrf: String,
}

impl AuthorityPage {
    fn new(me: &SignedInAdmin, campaign: &campaigns::Campaign, csrf: String) -> Self {
        Self {
            admin: AdminHeader::of(me),
            campaign_id: campaign.id.clone(),
            campaign_title: campaign.title.clone(),
            name: String::new(),
            office: String::new(),
            address: String::new(),
            place: String::new(),
            logo_src: None,
            saved: false,
            error: None,
            csrf,
        }
    }

    fn show(mut self, authority: Option<&IssuingAuthority>) -> Self {
        if let Some(a) = authority {
            self.name = a.name().to_string();
            self.office = a.office().to_string();
            self.address = a.address().to_string();
            self.place = a.place().to_string();
            self.logo_src = a.logo().map(|logo| {
                use base64::Engine as _;
                format!(
                    "data:image/png;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(logo.png())
                )
            });
        }
        self
    }
}

/// Only area admins whose area covers the campaign's may change what its certificates say.
fn may_edit(me: &SignedInAdmin, campaign: &campaigns::Campaign) -> Result<(), WebError> {
    if me.scope.agency().is_some() || !me.scope.covers_area(campaign.scope_code.as_str()) {
        return Err(WebError::Forbidden(
            "Penerbit penandatanganan hanya dapat diubah oleh admin wilayah yang mencakup seluruh \
             wilayah penandatanganan."
                .into(),
        ));
    }
    Ok(())
}

async fn load(
    state: &web::Data<AppState>,
    me: &SignedInAdmin,
    id: String,
) -> Result<(campaigns::Campaign, Option<IssuingAuthority>), WebError> {
    let db = state.db.clone();
    let scope = me.scope.clone();
    web::block(move || {
        let mut conn = db.read()?;
        let campaign = campaigns::find(&mut conn, &id)?
            .filter(|c| campaign_visible(&scope, c))
            .ok_or_else(no_such_campaign)?;
        let authority = campaigns::current_authority(&mut conn, &campaign.id)?;
        Ok::<_, WebError>((campaign, authority))
    })
    .await?
}

async fn authority_page(
    state: web::Data<AppState>,
    me: SignedInAdmin,
    csrf: CsrfToken,
    path: web::Path<String>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let (campaign, authority) = load(&state, &me, path.into_inner()).await?;
    let mut page = AuthorityPage::new(&me, &campaign, csrf.0).show(authority.as_ref());
    page.saved = query.contains_key("tersimpan");
    render(&page)
}

/// The form as submitted: text fields and, if a file was chosen, the logo's bytes.
#[derive(Default)]
struct AuthorityForm {
    csrf: String,
    name: String,
    office: String,
    address: String,
    place: String,
    logo: Vec<u8>,
    remove_logo: bool,
}

/// Longest text field read from the form; the domain's limits are far below it.
const FIELD_MAX_BYTES: usize = 4096;

async fn read_form(mut payload: Multipart) -> Result<AuthorityForm, WebError> {
    let mut form = AuthorityForm::default();
    while let Some(field) = payload.next().await {
        let mut field =
            field.map_err(|e| WebError::bad("logo", format!("formulir tidak terbaca: {e}")))?;
        let name = field.name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk =
                chunk.map_err(|e| WebError::bad("logo", format!("unggahan terputus: {e}")))?;
            bytes.extend_from_slice(&chunk);
            let limit = if name == "logo" {
                LOGO_MAX_BYTES
            } else {
                FIELD_MAX_BYTES
            };
            if bytes.len() > limit {
                return Err(if name == "logo" {
                    WebError::PayloadTooLarge(
                        "berkas logo terlalu besar (paling besar 256 KB)".into(),
                    )
                } else {
                    WebError::bad("name", "isian terlalu panjang")
                });
            }
        }
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "csrf" => form.csrf = text(),
            "name" => form.name = text(),
            "office" => form.office = text(),
            "address" => form.address = text(),
            "place" => form.place = text(),
            "remove_logo" => form.remove_logo = true,
            "logo" => form.logo = bytes,
            _ => {}
        }
    }
    Ok(form)
}

/// The status for a refused authority: 413 for a logo over the limit, 415 for a file that is not
/// a PNG, 422 for the rest.
fn status_of(error: &AuthorityError) -> StatusCode {
    match error {
        AuthorityError::LogoTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AuthorityError::LogoNotPng => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

async fn revise_authority(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    csrf: CsrfToken,
    path: web::Path<String>,
    Form(payload): Form,
) -> Result<HttpResponse, PageError> {
    let (campaign, current) = load(&state, &me, path.into_inner()).await?;
    may_edit(&me, &campaign)?;
    let refuse = |status: StatusCode, form: &AuthorityForm, message: String| {
        let mut page = AuthorityPage::new(&me, &campaign, csrf.0.clone()).show(current.as_ref());
        page.name = form.name.clone();
        page.office = form.office.clone();
        page.address = form.address.clone();
        page.place = form.place.clone();
        page.error = Some(message);
        Ok(render_with_status(status, &page))
    };
    let form = match read_form(payload).await {
        Ok(form) => form,
        Err(e @ WebError::PayloadTooLarge(_)) => {
            let message = format!("Berkas logo terlalu besar (paling besar 256 KB). {e}");
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                &AuthorityForm::default(),
                message,
            );
        }
        Err(e) => return Err(e.into()),
    };
    check_csrf(&req, &form.csrf)?;
    // No new file keeps the current logo, unless the admin asked to remove it.
    let logo = if !form.logo.is_empty() {
        match AuthorityLogo::parse(&form.logo) {
            Ok(logo) => Some(logo),
            Err(e) => return refuse(status_of(&e), &form, capitalised(&e)),
        }
    } else if form.remove_logo {
        None
    } else {
        current.as_ref().and_then(|a| a.logo().cloned())
    };
    let authority =
        match IssuingAuthority::parse(&form.name, &form.office, &form.address, &form.place, logo) {
            Ok(a) => a,
            Err(e) => return refuse(status_of(&e), &form, capitalised(&e)),
        };
    let id = campaign.id.clone();
    let detail = format!("{} — {}", authority.office(), authority.name());
    let campaign_id = id.clone();
    audited(
        &state,
        &req,
        &me,
        "ubah_penerbit_kampanye",
        id.clone(),
        detail,
        move |conn| Ok(campaigns::revise_authority(conn, &campaign_id, &authority)?),
    )
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/admin/kampanye/{id}/penerbit?tersimpan"),
        ))
        .finish())
}

fn capitalised(e: &AuthorityError) -> String {
    let text = e.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => text,
    }
}
