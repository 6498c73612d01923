use actix_web::{get, web, HttpResponse};

use super::{AppState, WebError};

/// Liveness and database reachability, for the load balancer.
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let db = state.db.clone();
    web::block(move || {
        use diesel::connection::SimpleConnection;
        db.read()?
            .batch_execute("SELECT 1")
            .map_err(crate::db::DbError::from)
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })))
}
