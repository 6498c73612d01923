use actix_web::{get, web, HttpResponse};

use super::answers::Health;
use super::{AppState, WebError};

/// Readiness for the load balancer: 503 with `Retry-After` within about a second while the
/// database cannot be reached, 200 again as soon as a connection works. It also says whether this
/// node found certificate rows that contradict the public log (a revocation in the log whose row
/// no longer says revoked). Such a node still answers correctly, since verdicts follow the log, so
/// the status code stays 200; `"status": "log_contradiction"` and the list tell the operator.
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let db = state.db.clone();
    web::block(move || db.reachable()).await??;
    let st = state.clone();
    let contradictions = web::block(move || {
        let mut conn = st.db.read()?;
        st.revocations.audit(&mut conn)
    })
    .await??;
    let status = if contradictions.is_empty() {
        "ok"
    } else {
        "log_contradiction"
    };
    Ok(HttpResponse::Ok().json(Health {
        status,
        log_contradictions: contradictions,
        live_streams: state.live.open_streams(),
        live_feeds: state.live.running_feeds(),
    }))
}
