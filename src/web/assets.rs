//! The stylesheet, the small scripts and the verification page's service worker, built into the
//! binary (no CDN, no asset folder to deploy).

use actix_web::{web, HttpResponse};

const STYLE: &str = include_str!("../../assets/web/gaya.css");
const VERIFY_SCRIPT: &str = include_str!("../../assets/web/periksa.js");
const LIVE_SCRIPT: &str = include_str!("../../assets/web/langsung.js");
const SERVICE_WORKER: &str = include_str!("../../assets/web/sw.js");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/aset/gaya.css",
        web::get().to(|| async { asset("text/css; charset=utf-8", STYLE) }),
    )
    .route(
        "/aset/periksa.js",
        web::get().to(|| async { asset("text/javascript; charset=utf-8", VERIFY_SCRIPT) }),
    )
    .route(
        "/aset/langsung.js",
        web::get().to(|| async { asset("text/javascript; charset=utf-8", LIVE_SCRIPT) }),
    )
    .route("/aset/sw.js", web::get().to(service_worker));
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(body)
}

/// The service worker lives with the other assets but serves the verification pages under /v/,
/// which the header allows; it is re-checked on every visit so that a fix reaches phones at once.
async fn service_worker() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Service-Worker-Allowed", "/v/"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(SERVICE_WORKER)
}
