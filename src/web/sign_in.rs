//! Signing in: the code request and the code exchange, as API calls and as pages.

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

const CODE_SENT: &str =
    "Jika NIP/NIK tersebut terdaftar, kode masuk telah dikirim ke alamat surel yang tercatat pada daftar pegawai.";

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
        SignInError::TooManyFromAddress => WebError::TooManyRequests(e.to_string()),
        e => WebError::internal(e),
    }
}

fn parse_id(raw: &str) -> Result<LoginId, WebError> {
    LoginId::parse(raw).map_err(|e| WebError::bad("id", e))
}

/// Sends the code; a mail failure is logged, not shown, so the answer never tells whether the id
/// is on the roster.
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

async fn send_code(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    id: LoginId,
) -> Result<(), WebError> {
    let outcome = as_client(state, req, move |state, client| {
        sign_in::request_code(&state.db, &state.mailer, &id, client)
    })
    .await?;
    match outcome {
        Ok(()) => Ok(()),
        Err(SignInError::Mail(e)) => {
            tracing::error!(error = %e, "could not send a sign-in code");
            Ok(())
        }
        Err(e) => Err(sign_in_error(e)),
    }
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
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "message": CODE_SENT })))
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
    let target = format!("/masuk/kode?id={}", id.as_str());
    send_code(&state, &req, id).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .finish())
}

#[derive(Deserialize)]
struct CodeQuery {
    id: String,
}

async fn code_page(
    query: web::Query<CodeQuery>,
    csrf: CsrfToken,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&query.id)?;
    render(&pages::EnterCode {
        id: id.as_str().to_string(),
        notice: CODE_SENT.to_string(),
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
            .insert_header((header::LOCATION, "/pakta"))
            .finish()),
        Err(WebError::WrongCode(message)) => {
            let page = pages::EnterCode {
                id: shown_id,
                notice: String::new(),
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
