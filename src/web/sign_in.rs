//! Signing in: the code request and the code exchange, as API calls and as pages.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::pages::{self, render, render_with_status};
use super::security::{check_csrf, client_addr, CsrfToken};
use super::session::{cookie, expired_cookie, token_of};
use super::{AppState, PageError, WebError};
use crate::domain::LoginId;
use crate::sign_in::{self, Client, SignInError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/auth/code", web::post().to(api_request_code))
        .route("/api/v1/auth/session", web::post().to(api_open_session))
        .route("/", web::get().to(home))
        .route("/masuk", web::get().to(sign_in_page))
        .route("/masuk", web::post().to(sign_in_submit))
        .route("/masuk/kode", web::get().to(code_page))
        .route("/masuk/kode", web::post().to(code_submit))
        .route("/keluar", web::post().to(sign_out));
}

/// What every code request is answered, on the page and in the API: the same for known and
/// unknown ids, and plain about what happened if the id is on the roster.
pub(crate) fn code_sent(helpdesk: &str) -> String {
    format!(
        "Jika NIP/NIK tersebut terdaftar, kode masuk telah dikirim ke alamat surel yang tercatat \
         pada daftar pegawai. Kode biasanya tiba dalam satu menit; periksa juga folder spam. Jika \
         kode tidak tiba atau alamat surel Anda pada daftar pegawai keliru, hubungi {helpdesk}."
    )
}

/// Carries the id from the request form to the code page, so that it never appears in an
/// address (where history, proxies and server logs would keep it).
const PENDING_ID_COOKIE: &str = "ikrar_masuk";
const PENDING_ID_SECONDS: i64 = 15 * 60;

/// A short-lived HttpOnly cookie for one sign-in page: the id being signed in with.
pub(crate) fn pending_cookie(
    state: &AppState,
    name: &'static str,
    path: &'static str,
    value: &str,
) -> Cookie<'static> {
    Cookie::build(name, value.to_string())
        .path(path)
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(
            PENDING_ID_SECONDS,
        ))
        .finish()
}

pub(crate) fn pending_removal(name: &'static str, path: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(name, "").path(path).finish();
    c.make_removal();
    c
}

#[derive(Deserialize)]
struct CodeRequest {
    id: String,
    /// Only the page forms carry it; the JSON API is not reachable from another site's form.
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
struct SessionRequest {
    id: String,
    code: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// How sign-in failures of the shared core become answers: wrong codes and address limits are
/// the user's to know, the rest is logged and shown as a server fault.
pub(super) fn sign_in_error(e: SignInError) -> WebError {
    match e {
        SignInError::WrongCode => WebError::WrongCode(e.to_string()),
        SignInError::TooManyFromAddress | SignInError::TooManyCodes { .. } => {
            WebError::TooManyRequests(e.to_string())
        }
        e => WebError::internal(e),
    }
}

fn parse_id(raw: &str) -> Result<LoginId, WebError> {
    LoginId::parse(raw).map_err(|e| WebError::bad("id", e))
}

/// Runs one step of the sign-in core off the executor, as this client (address and limits).
pub(crate) async fn as_client<T: Send + 'static>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    step: impl FnOnce(&AppState, &Client<'_>) -> Result<T, SignInError> + Send + 'static,
) -> Result<Result<T, SignInError>, WebError> {
    let state = state.clone();
    let addr = client_addr(req);
    Ok(web::block(move || {
        let client = Client {
            addr: &addr,
            limits: state.address_limits,
        };
        step(&state, &client)
    })
    .await?)
}

/// Queues the code request; the node's drain sends the code if the id is on the roster.
async fn send_code(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    id: LoginId,
) -> Result<(), WebError> {
    as_client(state, req, move |state, client| {
        sign_in::request_code(&state.db, &state.code_desk, &id, client)
    })
    .await?
    .map_err(sign_in_error)
}

async fn redeem(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    id: LoginId,
    code: String,
) -> Result<String, WebError> {
    as_client(state, req, move |state, client| {
        sign_in::redeem_code(&state.db, &id, &code, client)
    })
    .await?
    .map(|(token, _)| token)
    .map_err(sign_in_error)
}

async fn api_request_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CodeRequest>,
) -> Result<HttpResponse, WebError> {
    send_code(&state, &req, parse_id(&body.id)?).await?;
    let helpdesk = state.code_desk.helpdesk();
    Ok(HttpResponse::Accepted()
        .json(serde_json::json!({ "message": code_sent(helpdesk), "helpdesk": helpdesk })))
}

async fn api_open_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SessionRequest>,
) -> Result<HttpResponse, WebError> {
    let body = body.into_inner();
    let id = parse_id(&body.id)?;
    let token = redeem(&state, &req, id, body.code).await?;
    Ok(HttpResponse::Ok()
        .cookie(cookie(&state, &token))
        .json(serde_json::json!({ "token": token })))
}

async fn home() -> Result<HttpResponse, PageError> {
    render(&pages::Home)
}

async fn sign_in_page(
    state: web::Data<AppState>,
    csrf: CsrfToken,
) -> Result<HttpResponse, PageError> {
    render(&pages::SignIn {
        id: String::new(),
        error: None,
        csrf: csrf.0,
        sso: state.sso.is_some(),
    })
}

async fn sign_in_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: CsrfToken,
    form: web::Form<CodeRequest>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&req, &form.csrf)?;
    let id = match parse_id(&form.id) {
        Ok(id) => id,
        Err(e) => {
            let page = pages::SignIn {
                id: form.id.clone(),
                error: Some(e.to_string()),
                csrf: csrf.0,
                sso: state.sso.is_some(),
            };
            return Ok(render_with_status(
                actix_web::http::StatusCode::BAD_REQUEST,
                &page,
            ));
        }
    };
    let pending = pending_cookie(&state, PENDING_ID_COOKIE, "/masuk", id.as_str());
    let typed = id.as_str().to_string();
    match send_code(&state, &req, id).await {
        Ok(()) => {}
        // Over a limit: said plainly on the form, the same for every id.
        Err(WebError::TooManyRequests(message)) => {
            let page = pages::SignIn {
                id: typed,
                error: Some(message),
                csrf: csrf.0,
                sso: state.sso.is_some(),
            };
            return Ok(render_with_status(
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                &page,
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(HttpResponse::SeeOther()
        .cookie(pending)
        .insert_header((header::LOCATION, "/masuk/kode"))
        .finish())
}

/// The code form, for the id the sign-in form sent; without one (the cookie expired, or the
/// page was opened directly) back to the sign-in form.
async fn code_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: CsrfToken,
) -> Result<HttpResponse, PageError> {
    let id = req
        .cookie(PENDING_ID_COOKIE)
        .and_then(|c| LoginId::parse(c.value()).ok());
    let Some(id) = id else {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/masuk"))
            .finish());
    };
    let helpdesk = state.code_desk.helpdesk();
    render(&pages::EnterCode {
        id: id.as_str().to_string(),
        notice: code_sent(helpdesk),
        helpdesk: helpdesk.to_string(),
        error: None,
        csrf: csrf.0,
    })
}

async fn code_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: CsrfToken,
    form: web::Form<SessionRequest>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    let id = parse_id(&form.id)?;
    let shown_id = id.as_str().to_string();
    match redeem(&state, &req, id, form.code).await {
        Ok(token) => Ok(HttpResponse::SeeOther()
            .cookie(cookie(&state, &token))
            .cookie(pending_removal(PENDING_ID_COOKIE, "/masuk"))
            .insert_header((header::LOCATION, "/pakta"))
            .finish()),
        Err(WebError::WrongCode(message)) => {
            let page = pages::EnterCode {
                id: shown_id,
                notice: String::new(),
                helpdesk: state.code_desk.helpdesk().to_string(),
                error: Some(message),
                csrf: csrf.0,
            };
            Ok(render_with_status(
                actix_web::http::StatusCode::UNAUTHORIZED,
                &page,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, PageError> {
    check_csrf(&req, &form.csrf)?;
    if let Some(token) = token_of(&req) {
        let db = state.db.clone();
        web::block(move || sign_in::end_session(&db, &token)).await??;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(expired_cookie())
        .insert_header((header::LOCATION, "/"))
        .finish())
}
