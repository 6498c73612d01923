//! Admin sign-in: an emailed code, as for employees, plus the authenticator code for admins who
//! turned the second factor on.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{cookie, expired_cookie, SignedInAdmin};
use crate::domain::EmailAddress;
use crate::sign_in;
use crate::web::pages::{self, render, render_with_status};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::sign_in::{as_client, pending_cookie, pending_removal, sign_in_error};
use crate::web::{AppState, PageError, WebError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/masuk", web::get().to(sign_in_page))
        .route("/admin/masuk", web::post().to(sign_in_submit))
        .route("/admin/masuk/kode", web::get().to(code_page))
        .route("/admin/masuk/kode", web::post().to(code_submit))
        .route("/admin/keluar", web::post().to(sign_out));
}

fn code_sent(helpdesk: &str) -> String {
    format!(
        "Jika alamat surel tersebut terdaftar sebagai admin, kode masuk telah dikirim ke alamat \
         itu. Kode biasanya tiba dalam satu menit; periksa juga folder spam. Bila perlu bantuan, \
         hubungi {helpdesk}."
    )
}

/// The email address being signed in with, from the form to the code page; never in an address.
const PENDING_EMAIL_COOKIE: &str = "ikrar_admin_masuk";
const PENDING_PATH: &str = "/admin/masuk";

#[derive(Deserialize)]
struct EmailForm {
    email: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
struct CodeForm {
    email: String,
    code: String,
    #[serde(default)]
    authenticator: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn sign_in_page(
    state: web::Data<AppState>,
    csrf: CsrfToken,
) -> Result<HttpResponse, PageError> {
    render(&pages::AdminSignIn {
        email: String::new(),
        error: None,
        csrf: csrf.0,
        sso: state.sso.as_ref().is_some_and(|s| s.admins_allowed()),
    })
}

async fn sign_in_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: CsrfToken,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&req, &form.csrf)?;
    let email = match EmailAddress::parse(&form.email) {
        Ok(e) => e,
        Err(e) => {
            let page = pages::AdminSignIn {
                email: form.email.clone(),
                error: Some(e.to_string()),
                csrf: csrf.0,
                sso: state.sso.as_ref().is_some_and(|s| s.admins_allowed()),
            };
            return Ok(render_with_status(StatusCode::BAD_REQUEST, &page));
        }
    };
    let pending = pending_cookie(&state, PENDING_EMAIL_COOKIE, PENDING_PATH, email.as_str());
    let typed = email.as_str().to_string();
    let outcome = as_client(&state, &req, move |state, client| {
        sign_in::request_admin_code(&state.db, &state.code_desk, &email, client)
    })
    .await?;
    match outcome.map_err(sign_in_error) {
        Ok(()) => {}
        Err(WebError::TooManyRequests(message)) => {
            let page = pages::AdminSignIn {
                email: typed,
                error: Some(message),
                csrf: csrf.0,
                sso: state.sso.as_ref().is_some_and(|s| s.admins_allowed()),
            };
            return Ok(render_with_status(StatusCode::TOO_MANY_REQUESTS, &page));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(HttpResponse::SeeOther()
        .cookie(pending)
        .insert_header((header::LOCATION, "/admin/masuk/kode"))
        .finish())
}

async fn code_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: CsrfToken,
) -> Result<HttpResponse, PageError> {
    let email = req
        .cookie(PENDING_EMAIL_COOKIE)
        .and_then(|c| EmailAddress::parse(c.value()).ok());
    let Some(email) = email else {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, PENDING_PATH))
            .finish());
    };
    render(&pages::AdminCode {
        email: email.as_str().to_string(),
        notice: code_sent(state.code_desk.helpdesk()),
        error: None,
        csrf: csrf.0,
    })
}

async fn code_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: CsrfToken,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    let email = EmailAddress::parse(&form.email).map_err(|e| WebError::bad("email", e))?;
    let shown = email.as_str().to_string();
    let outcome = as_client(&state, &req, move |state, client| {
        sign_in::redeem_admin_code(&state.db, &email, &form.code, &form.authenticator, client)
    })
    .await?;
    match outcome {
        Ok((token, _)) => Ok(HttpResponse::SeeOther()
            .cookie(cookie(&state, &token))
            .cookie(pending_removal(PENDING_EMAIL_COOKIE, PENDING_PATH))
            .insert_header((header::LOCATION, "/admin"))
            .finish()),
        Err(e) => match sign_in_error(e) {
            WebError::WrongCode(message) => Ok(render_with_status(
                StatusCode::UNAUTHORIZED,
                &pages::AdminCode {
                    email: shown,
                    notice: String::new(),
                    error: Some(
                        message
                            + " Jika Anda memakai aplikasi autentikator, isi juga kode terbarunya.",
                    ),
                    csrf: csrf.0,
                },
            )),
            other => Err(other.into()),
        },
    }
}

async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&req, &form.csrf)?;
    let db = state.db.clone();
    let token = me.token.clone();
    web::block(move || sign_in::end_session(&db, &token)).await??;
    Ok(HttpResponse::SeeOther()
        .cookie(expired_cookie())
        .insert_header((header::LOCATION, "/admin/masuk"))
        .finish())
}
