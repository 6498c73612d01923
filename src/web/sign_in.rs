//! Signing in: the code request and the code exchange, as API calls and as pages.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::pages::{self, render, render_with_status};
use super::session::{cookie, expired_cookie, token_of};
use super::{AppState, PageError, WebError};
use crate::domain::LoginId;
use crate::sign_in::{self, SignInError};

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
}

#[derive(Deserialize)]
struct SessionRequest {
    id: String,
    code: String,
}

fn parse_id(raw: &str) -> Result<LoginId, WebError> {
    LoginId::parse(raw).map_err(|e| WebError::bad("id", e))
}

/// Sends the code; a mail failure is logged, not shown, so the answer never tells whether the id
/// is on the roster.
async fn send_code(state: &web::Data<AppState>, id: LoginId) -> Result<(), WebError> {
    let state = state.clone();
    let outcome = web::block(move || sign_in::request_code(&state.db, &state.mailer, &id)).await?;
    match outcome {
        Ok(()) => Ok(()),
        Err(SignInError::Mail(e)) => {
            tracing::error!(error = %e, "could not send a sign-in code");
            Ok(())
        }
        Err(e) => Err(WebError::internal(e)),
    }
}

async fn redeem(
    state: &web::Data<AppState>,
    id: LoginId,
    code: String,
) -> Result<String, WebError> {
    let state = state.clone();
    match web::block(move || sign_in::redeem_code(&state.db, &id, &code)).await? {
        Ok((token, _)) => Ok(token),
        Err(SignInError::WrongCode) => Err(WebError::WrongCode(SignInError::WrongCode.to_string())),
        Err(e) => Err(WebError::internal(e)),
    }
}

async fn api_request_code(
    state: web::Data<AppState>,
    body: web::Json<CodeRequest>,
) -> Result<HttpResponse, WebError> {
    send_code(&state, parse_id(&body.id)?).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "message": CODE_SENT })))
}

async fn api_open_session(
    state: web::Data<AppState>,
    body: web::Json<SessionRequest>,
) -> Result<HttpResponse, WebError> {
    let body = body.into_inner();
    let id = parse_id(&body.id)?;
    let token = redeem(&state, id, body.code).await?;
    Ok(HttpResponse::Ok()
        .cookie(cookie(&state, &token))
        .json(serde_json::json!({ "token": token })))
}

async fn home() -> Result<HttpResponse, PageError> {
    render(&pages::Home)
}

async fn sign_in_page() -> Result<HttpResponse, PageError> {
    render(&pages::SignIn {
        id: String::new(),
        error: None,
    })
}

async fn sign_in_submit(
    state: web::Data<AppState>,
    form: web::Form<CodeRequest>,
) -> Result<HttpResponse, PageError> {
    let id = match parse_id(&form.id) {
        Ok(id) => id,
        Err(e) => {
            let page = pages::SignIn {
                id: form.id.clone(),
                error: Some(e.to_string()),
            };
            return Ok(render_with_status(
                actix_web::http::StatusCode::BAD_REQUEST,
                &page,
            ));
        }
    };
    let target = format!("/masuk/kode?id={}", id.as_str());
    send_code(&state, id).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .finish())
}

#[derive(Deserialize)]
struct CodeQuery {
    id: String,
}

async fn code_page(query: web::Query<CodeQuery>) -> Result<HttpResponse, PageError> {
    let id = parse_id(&query.id)?;
    render(&pages::EnterCode {
        id: id.as_str().to_string(),
        notice: CODE_SENT.to_string(),
        error: None,
    })
}

async fn code_submit(
    state: web::Data<AppState>,
    form: web::Form<SessionRequest>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let id = parse_id(&form.id)?;
    let shown_id = id.as_str().to_string();
    match redeem(&state, id, form.code).await {
        Ok(token) => Ok(HttpResponse::SeeOther()
            .cookie(cookie(&state, &token))
            .insert_header((header::LOCATION, "/pakta"))
            .finish()),
        Err(WebError::WrongCode(message)) => {
            let page = pages::EnterCode {
                id: shown_id,
                notice: String::new(),
                error: Some(message),
            };
            Ok(render_with_status(
                actix_web::http::StatusCode::UNAUTHORIZED,
                &page,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn sign_out(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    if let Some(token) = token_of(&req) {
        let db = state.db.clone();
        web::block(move || sign_in::end_session(&db, &token)).await??;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(expired_cookie())
        .insert_header((header::LOCATION, "/"))
        .finish())
}
