//! Who is calling: a session cookie (pages) or a bearer token (API), both the same token.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};

use super::{quick_read, AppState, WebError};
use crate::db::employees::Employee;

pub const COOKIE: &str = "ikrar_sesi";

/// An employee with a live session. Extracting it fails with 401 when there is none.
pub struct SignedInEmployee {
    pub employee: Employee,
    pub token: String,
}

pub fn token_of(req: &HttpRequest) -> Option<String> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    bearer.or_else(|| req.cookie(COOKIE).map(|c| c.value().to_string()))
}

pub fn cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(
            crate::sign_in::SESSION_LIFETIME_SECS,
        ))
        .finish()
}

pub fn expired_cookie() -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, "").path("/").finish();
    c.make_removal();
    c
}

impl FromRequest for SignedInEmployee {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = token_of(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(WebError::Unauthorized);
            };
            let db = state.db.clone();
            let lookup = token.clone();
            let employee = quick_read(&state.db, move || {
                crate::sign_in::employee_for_token(&db, &lookup)
            })
            .await??;
            employee
                .map(|employee| Self { employee, token })
                .ok_or(WebError::Unauthorized)
        })
    }
}
