//! The issuer's X.509 certificate, published so that standard PDF validators can be told to
//! trust it: `GET /.well-known/ikrar-issuer/{key_id}.crt` (DER) or `.pem`.

use actix_web::{web, HttpResponse};

use super::{AppState, WebError};
use crate::db::{keys, DbConnection, DbError};
use crate::signing::{IssuerCertificate, IssuerKey};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/ikrar-issuer/{file}",
        web::get().to(issuer_certificate),
    );
}

/// The certificate of `key`, valid from the instant the key was first registered. It is
/// self-signed, so it can only be made where the key's private half is.
pub fn certificate_of(
    conn: &mut DbConnection,
    key: &IssuerKey,
) -> Result<Option<IssuerCertificate>, DbError> {
    Ok(keys::find(conn, &key.id().to_hex())?
        .map(|row| IssuerCertificate::issue(key, row.valid_from)))
}

async fn issuer_certificate(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let not_found = || WebError::NotFound("sertifikat penerbit tidak ditemukan".into());
    let file = path.into_inner();
    let (key_id, pem) = match (file.strip_suffix(".crt"), file.strip_suffix(".pem")) {
        (Some(id), _) => (id.to_string(), false),
        (_, Some(id)) => (id.to_string(), true),
        _ => return Err(not_found()),
    };
    if !key_id.eq_ignore_ascii_case(&state.key.id().to_hex()) {
        return Err(not_found());
    }
    let st = state.clone();
    let certificate = web::block(move || certificate_of(&mut *st.db.read()?, &st.key))
        .await??
        .ok_or_else(not_found)?;
    let extension = if pem { "pem" } else { "crt" };
    let mut response = HttpResponse::Ok();
    response
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .insert_header((
            "Content-Disposition",
            format!(
                "inline; filename=\"ikrar-issuer-{}.{extension}\"",
                certificate.key_id().to_hex()
            ),
        ));
    Ok(if pem {
        response
            .content_type("application/x-pem-file")
            .body(certificate.pem())
    } else {
        response
            .content_type("application/pkix-cert")
            .body(certificate.der().to_vec())
    })
}
