//! Admin sign-in: an emailed code, as for employees, plus the authenticator code for admins who
//! turned the second factor on.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{cookie, expired_cookie, SignedInAdmin};
use crate::domain::EmailAddress;
use crate::sign_in::{self, SignInError};
use crate::web::pages::{self, render, render_with_status};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::sign_in::{as_client, sign_in_error};
use crate::web::{AppState, PageError, WebError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/masuk", web::get().to(sign_in_page))
        .route("/admin/masuk", web::post().to(sign_in_submit))
        .route("/admin/masuk/kode", web::get().to(code_page))
        .route("/admin/masuk/kode", web::post().to(code_submit))
        .route("/admin/keluar", web::post().to(sign_out));
}

const CODE_SENT: &str =
    "Jika alamat surel tersebut terdaftar sebagai admin, kode masuk telah dikirim ke alamat itu.";

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
    let target = format!("/admin/masuk/kode?email={}", email.as_str());
    let outcome = as_client(&state, &req, move |state, client| {
        sign_in::request_admin_code(&state.db, &state.mailer, &email, client)
    })
    .await?;
    match outcome {
        Ok(()) => {}
        Err(SignInError::Mail(e)) => tracing::error!(error = %e, "could not send an admin code"),
        Err(e) => return Err(sign_in_error(e).into()),
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .finish())
}

#[derive(Deserialize)]
struct EmailQuery {
    email: String,
}

async fn code_page(
    query: web::Query<EmailQuery>,
    csrf: CsrfToken,
) -> Result<HttpResponse, PageError> {
    let email = EmailAddress::parse(&query.email).map_err(|e| WebError::bad("email", e))?;
    render(&pages::AdminCode {
        email: email.as_str().to_string(),
        notice: CODE_SENT.into(),
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
