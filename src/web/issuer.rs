//! The seal certificate, published so that standard PDF validators can be told to trust it:
//! `GET /.well-known/ikrar-seal.crt` (the leaf, DER) and `/.well-known/ikrar-seal.pem` (the
//! whole chain, leaf first). For a self-made seal the leaf is the trust anchor; for a CA-issued
//! e-seal, the CA's root is.

use actix_web::{web, HttpResponse};

use super::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/.well-known/ikrar-seal.crt", web::get().to(seal_der))
        .route("/.well-known/ikrar-seal.pem", web::get().to(seal_pem));
}

fn attachment(state: &AppState, extension: &str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .insert_header((
            "Content-Disposition",
            format!(
                "inline; filename=\"ikrar-seal-{}.{extension}\"",
                &state.seal.fingerprint_hex()[..16]
            ),
        ));
    response
}

async fn seal_der(state: web::Data<AppState>) -> HttpResponse {
    attachment(&state, "crt")
        .content_type("application/pkix-cert")
        .body(state.seal.leaf_der().to_vec())
}

async fn seal_pem(state: web::Data<AppState>) -> HttpResponse {
    attachment(&state, "pem")
        .content_type("application/x-pem-file")
        .body(state.seal.chain_pem())
}
