use actix_web::{get, web, HttpResponse};

use super::{AppState, WebError};

/// Readiness for the load balancer: 503 with `Retry-After` within about a second while the
/// database cannot be reached, 200 again as soon as a connection works.
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let db = state.db.clone();
    web::block(move || db.reachable()).await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })))
}
