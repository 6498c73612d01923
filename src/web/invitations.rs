//! Signing in with a printed invitation slip: `/masuk/undangan`, where the code is typed, or
//! filled in from the slip's QR link (`?kode=…`). Opening the link only shows the form; the code
//! is used when the holder presses the button, so a link previewer or a scanner app that fetches
//! the address does not burn it.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::pages::{render, render_with_status};
use super::security::{check_csrf, client_addr, CsrfToken};
use super::session::cookie;
use super::{AppState, PageError, WebError};
use crate::domain::InvitationCode;
use crate::invitations::{self, SlipSignInError};
use crate::sign_in::Client;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(invitations::SIGN_IN_PATH, web::get().to(code_page))
        .route(invitations::SIGN_IN_PATH, web::post().to(code_submit));
}

#[derive(Template)]
#[template(path = "invitation_sign_in.html")]
struct InvitationSignIn {
    code: String,
    from_card: bool,
    error: Option<String>,
    csrf: String,
}

#[derive(Deserialize)]
struct CodeQuery {
    kode: Option<String>,
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    kode: String,
    #[serde(default)]
    csrf: String,
}

async fn code_page(
    query: web::Query<CodeQuery>,
    csrf: CsrfToken,
) -> Result<HttpResponse, PageError> {
    // A code from the link that does not parse is shown as it came, for the holder to correct.
    let raw = query.kode.clone().unwrap_or_default();
    let code = InvitationCode::parse(&raw).map_or(raw, |c| c.grouped());
    let page = InvitationSignIn {
        from_card: !code.is_empty(),
        code,
        error: None,
        csrf: csrf.0,
    };
    let mut answer = render(&page)?;
    // The address may hold a live code: no cache keeps it, no other site learns it.
    answer.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    answer.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    Ok(answer)
}

async fn code_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    csrf: CsrfToken,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    let again = |status: StatusCode, error: String| {
        let page = InvitationSignIn {
            code: form.kode.clone(),
            from_card: false,
            error: Some(error),
            csrf: csrf.0.clone(),
        };
        Ok(render_with_status(status, &page))
    };
    let code = match InvitationCode::parse(&form.kode) {
        Ok(code) => code,
        Err(e) => {
            let message = WebError::bad("kode", e).to_string();
            return again(StatusCode::BAD_REQUEST, capitalised(&message));
        }
    };
    let addr = client_addr(&req);
    let shared = state.clone();
    let outcome = web::block(move || {
        let client = Client {
            addr: &addr,
            limits: shared.address_limits,
        };
        invitations::sign_in_with_slip(&shared.db, &code, &client)
    })
    .await?;
    match outcome {
        Ok((token, _)) => Ok(HttpResponse::SeeOther()
            .cookie(cookie(&state, &token))
            .insert_header((header::LOCATION, "/pakta"))
            .finish()),
        Err(e @ SlipSignInError::WrongCode) => again(StatusCode::UNAUTHORIZED, e.to_string()),
        Err(e @ SlipSignInError::TooManyFromAddress) => {
            Err(WebError::TooManyRequests(e.to_string()).into())
        }
        Err(SlipSignInError::Db(e)) => Err(WebError::internal(e).into()),
    }
}

/// Parse errors are written as clauses; the page shows them as sentences.
fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}
