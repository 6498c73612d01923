//! `Cache-Control: no-store` on every answer that may carry personal data, so that neither a
//! shared computer's browser cache nor a proxy keeps a NIP, a certificate or an export. Decided
//! from the request in one place rather than in each handler, so a new personal page cannot
//! forget it; a handler that sets its own `Cache-Control` keeps it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// Addresses whose answers are about one person: their campaigns and certificates, sign-in (which
/// hands out the session), and the whole admin area (rosters, lookups, exports).
const PERSONAL_PATHS: [&str; 8] = [
    "/api/v1/me",
    "/api/v1/auth/",
    "/api/v1/certificates/",
    "/pakta",
    "/sertifikat/",
    "/admin",
    "/masuk",
    "/keluar",
];

/// Whether the answer to `req` may carry personal data: a personal address, or any request made
/// with a session (bearer token or session cookie), whose page may greet the person by name.
fn is_personal(req: &ServiceRequest) -> bool {
    let path = req.path();
    if PERSONAL_PATHS.iter().any(|p| path.starts_with(p)) {
        return true;
    }
    let headers = req.headers();
    headers.contains_key(header::AUTHORIZATION)
        || headers.get(header::COOKIE).is_some_and(|cookies| {
            let cookies = cookies.as_bytes();
            [super::session::COOKIE, super::admin::COOKIE]
                .iter()
                .any(|name| contains(cookies, name.as_bytes()))
        })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub async fn no_store_for_personal(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let personal = is_personal(&req);
    let mut res = next.call(req).await?;
    if personal && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}
