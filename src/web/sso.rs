//! "Masuk dengan SSO": leaving for the identity provider and coming back (`crate::sso`).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::pages::render_with_status;
use super::security::client_addr;
use super::{AppState, PageError, WebError};
use crate::sign_in::Client;
use crate::sso::{self, Role, SingleSignOn, SsoError};

/// Holds the state of the browser's own trip to the provider; sent back only to the return
/// address, and only for as long as an attempt lives.
const STATE_COOKIE: &str = "ikrar_sso";
const RETURN_PATH: &str = "/masuk/sso/kembali";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/masuk/sso", web::get().to(employee_departs))
        .route("/admin/masuk/sso", web::get().to(admin_departs))
        .route(RETURN_PATH, web::get().to(returns));
}

/// Shown after an administrator's SSO sign-in. The admin cookie is SameSite=Strict, so a
/// redirect at the end of the provider's chain of redirects would arrive without it; a click
/// on this page is a navigation from ikrar itself.
#[derive(Template)]
#[template(path = "sso_admin_signed_in.html")]
struct AdminSignedIn {
    name: String,
}

fn sso_error(e: SsoError) -> WebError {
    let message = e.to_string();
    match e {
        SsoError::NotOffered => WebError::NotFound(message),
        SsoError::Unreachable(cause) => {
            tracing::warn!(error = ?cause, "the identity provider cannot be reached");
            WebError::Overloaded {
                message,
                retry_after_secs: 30,
            }
        }
        SsoError::StaleAttempt => WebError::BadRequest {
            field: None,
            message,
        },
        SsoError::TooManyFromAddress => WebError::TooManyRequests(message),
        SsoError::Refused(_)
        | SsoError::InvalidToken(_)
        | SsoError::NoNip(_)
        | SsoError::NotOnRoster(_)
        | SsoError::NotAnAdmin => WebError::Forbidden(message),
        SsoError::Db(e) => WebError::internal(e),
        SsoError::Internal(e) => WebError::Internal(e),
    }
}

fn offered(state: &AppState, role: Role) -> Result<std::sync::Arc<SingleSignOn>, WebError> {
    match &state.sso {
        Some(sso) if role == Role::Employee || sso.admins_allowed() => Ok(sso.clone()),
        _ => Err(sso_error(SsoError::NotOffered)),
    }
}

fn return_url(state: &AppState) -> String {
    format!("{}{RETURN_PATH}", state.base_url)
}

async fn employee_departs(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    depart(state, Role::Employee).await
}

async fn admin_departs(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    depart(state, Role::Admin).await
}

async fn depart(state: web::Data<AppState>, role: Role) -> Result<HttpResponse, PageError> {
    let sso = offered(&state, role)?;
    let departure = sso
        .departure(&return_url(&state), role)
        .await
        .map_err(sso_error)?;
    let db = state.db.clone();
    let attempt = departure.attempt;
    web::block(move || sso::depart(&db, &attempt)).await??;
    let cookie = Cookie::build(STATE_COOKIE, departure.state)
        .path(RETURN_PATH)
        .http_only(true)
        .secure(state.secure_cookies)
        // Lax: the return is a top-level navigation from the provider's site.
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(
            sso::ATTEMPT_LIFETIME_SECS,
        ))
        .finish();
    Ok(HttpResponse::SeeOther()
        .cookie(cookie)
        .insert_header((header::LOCATION, departure.url))
        .finish())
}

/// What the provider appends to the return address (RFC 6749 §4.1.2).
#[derive(Deserialize)]
struct ReturnQuery {
    #[serde(default)]
    state: String,
    code: Option<String>,
    error: Option<String>,
}

async fn returns(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ReturnQuery>,
) -> Result<HttpResponse, PageError> {
    let sso = offered(&state, Role::Employee)?;
    let addr = client_addr(&req);
    let outcome = sign_in_on_return(&state, &sso, &req, &addr, query.into_inner()).await;
    let error = match outcome {
        Ok(answer) => return Ok(answer),
        Err(e) => e,
    };
    let db = state.db.clone();
    let limits = state.address_limits;
    let error = web::block(move || {
        let client = Client {
            addr: &addr,
            limits,
        };
        sso::record_refusal(&db, &client, &error).map(|()| error)
    })
    .await??;
    Err(sso_error(error).into())
}

async fn sign_in_on_return(
    state: &web::Data<AppState>,
    sso: &SingleSignOn,
    req: &HttpRequest,
    addr: &str,
    query: ReturnQuery,
) -> Result<HttpResponse, SsoError> {
    let cookie_state = req.cookie(STATE_COOKIE).map(|c| c.value().to_string());
    let (db, limits) = (state.db.clone(), state.address_limits);
    let (owned_addr, returned_state) = (addr.to_string(), query.state.clone());
    let (role, attempt) = blocking(move || {
        let client = Client {
            addr: &owned_addr,
            limits,
        };
        sso::arrive(&db, &client, &returned_state, cookie_state.as_deref())
    })
    .await?;
    if let Some(error) = query.error {
        return Err(SsoError::Refused(error));
    }
    let code = query
        .code
        .ok_or_else(|| SsoError::Refused("tanpa kode otorisasi".into()))?;
    let identity = sso.identity(&return_url(state), &attempt, code).await?;
    let db = state.db.clone();
    let owned_addr = addr.to_string();
    let nip_claim = sso.nip_claim().to_string();
    let mut used_state = Cookie::build(STATE_COOKIE, "").path(RETURN_PATH).finish();
    used_state.make_removal();
    match role {
        Role::Employee => {
            let (token, _) = blocking(move || {
                let client = Client {
                    addr: &owned_addr,
                    limits,
                };
                sso::sign_in_employee(&db, &client, &nip_claim, &identity)
            })
            .await?;
            Ok(HttpResponse::SeeOther()
                .cookie(super::session::cookie(state, &token))
                .cookie(used_state)
                .insert_header((header::LOCATION, "/pakta"))
                .finish())
        }
        Role::Admin => {
            let (token, admin) = blocking(move || {
                let client = Client {
                    addr: &owned_addr,
                    limits,
                };
                sso::sign_in_admin(&db, &client, &identity)
            })
            .await?;
            let mut answer = render_with_status(
                StatusCode::OK,
                &AdminSignedIn {
                    name: admin.full_name,
                },
            );
            answer.add_cookie(&super::admin::cookie(state, &token)).ok();
            answer.add_cookie(&used_state).ok();
            Ok(answer)
        }
    }
}

/// Runs a database step of the sign-in off the executor.
async fn blocking<T: Send + 'static>(
    step: impl FnOnce() -> Result<T, SsoError> + Send + 'static,
) -> Result<T, SsoError> {
    web::block(step)
        .await
        .map_err(|e| SsoError::Internal(e.into()))?
}
