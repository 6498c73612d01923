//! What every response and every form carries: security headers with a Content-Security-Policy
//! that allows no inline script, a CSRF token, and the client's address for the audit trail and
//! the per-address limits.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{web, HttpMessage, HttpRequest};

use super::client_address::{resolve, ForwardingHeader};
use super::{AppState, WebError};

pub const CSRF_COOKIE: &str = "ikrar_csrf";
/// The hidden form field that must repeat the cookie.
pub const CSRF_FIELD: &str = "csrf";

pub fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'",
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
}

/// The token a page puts into its forms; the same value sits in an HttpOnly cookie, which a page
/// of another site can neither read nor set.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

fn fresh_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

fn csrf_cookie_of(req: &HttpRequest) -> Option<String> {
    req.cookie(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 43)
}

/// A token made during this request because the visitor had none; the response sets its cookie.
#[derive(Debug, Clone)]
struct FreshCsrf(String);

/// Sets the CSRF cookie when a page handed out a new token. Tokens are only made when a handler
/// asks for one (a page with a form), so API calls and QR scans do no work here.
pub async fn csrf_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let secure = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.secure_cookies);
    let mut res = next.call(req).await?;
    let fresh = res.request().extensions().get::<FreshCsrf>().cloned();
    if let Some(FreshCsrf(token)) = fresh {
        let cookie = Cookie::build(CSRF_COOKIE, token)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Strict)
            .finish();
        res.response_mut().add_cookie(&cookie)?;
    }
    Ok(res)
}

impl actix_web::FromRequest for CsrfToken {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let known = csrf_cookie_of(req)
            .or_else(|| req.extensions().get::<FreshCsrf>().map(|f| f.0.clone()));
        let token = known.unwrap_or_else(|| {
            let token = fresh_token();
            req.extensions_mut().insert(FreshCsrf(token.clone()));
            token
        });
        std::future::ready(Ok(CsrfToken(token)))
    }
}

/// Refuses a form whose token does not repeat the visitor's cookie.
pub fn check_csrf(req: &HttpRequest, submitted: &str) -> Result<(), WebError> {
    let expected = csrf_cookie_of(req);
    let same = expected.is_some_and(|e| {
        e.len() == submitted.len()
            && e.bytes()
                .zip(submitted.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if same {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "Formulir ini sudah kedaluwarsa atau tidak dikirim dari halaman ikrar. \
             Muat ulang halaman, lalu kirim kembali."
                .into(),
        ))
    }
}

/// The address a request came from: the peer, or behind the operator's trusted proxies the
/// client they report (`client_address`).
pub fn client_addr(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "tidak diketahui".into();
    };
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return peer.to_string();
    };
    let name = match state.forwarding_header {
        ForwardingHeader::XForwardedFor => "x-forwarded-for",
        ForwardingHeader::Forwarded => "forwarded",
    };
    let values = req.headers().get_all(name).filter_map(|v| v.to_str().ok());
    resolve(
        peer,
        &state.trusted_proxies,
        state.forwarding_header,
        values,
    )
    .to_string()
}
