//! The public log over HTTP (docs/log.md): the latest signed checkpoint, entries (certificates'
//! and keys' events), and inclusion and consistency proofs, so that anyone can check our log
//! without trusting this server. The signed key list is `/.well-known/ikrar-keys.json`.

use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use super::{rfc3339, AppState, WebError};
use crate::db::log::{self, LogEntryRow};
use crate::db::DbError;
use crate::domain::CertificateId;
use crate::transparency::entry::KeyEvent;
use crate::transparency::{self, EntryKind};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/log/checkpoint", web::get().to(latest_checkpoint))
        .route("/log/checkpoint/{size}", web::get().to(checkpoint_at))
        .route("/log/entries/{index}", web::get().to(entry))
        .route("/log/proof/inclusion", web::get().to(inclusion))
        .route("/log/proof/consistency", web::get().to(consistency));
}

fn note_response(note: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(note)
}

async fn latest_checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let db = state.db.clone();
    let latest =
        web::block(move || -> Result<_, DbError> { Ok(log::latest_checkpoint(&mut *db.read()?)?) })
            .await??;
    let cp = latest.ok_or_else(|| {
        WebError::NotFound(
            "Log belum memiliki checkpoint: belum ada sertifikat yang dicatat.".into(),
        )
    })?;
    Ok(note_response(cp.note))
}

/// A count of entries from the URL: a whole number, at least `min`.
fn parse_count(field: &'static str, raw: Option<&str>, min: u64) -> Result<u64, WebError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| WebError::bad(field, format!("parameter {field} wajib diisi")))?;
    raw.parse::<u64>()
        .ok()
        .filter(|n| *n >= min && *n <= i64::MAX as u64)
        .ok_or_else(|| {
            WebError::bad(
                field,
                format!("parameter {field} harus bilangan bulat paling kecil {min}, bukan {raw:?}"),
            )
        })
}

async fn checkpoint_at(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let size = parse_count("size", Some(path.into_inner().as_str()), 1)?;
    let db = state.db.clone();
    let cp = web::block(move || -> Result<_, DbError> {
        Ok(log::checkpoint_of_size(&mut *db.read()?, size)?)
    })
    .await??
    .ok_or_else(|| WebError::NotFound(format!("Tidak ada checkpoint untuk ukuran log {size}.")))?;
    Ok(note_response(cp.note))
}

/// An entry as `/log/entries` gives it: a certificate's entry names the certificate, a key
/// event the key (its bytes say the rest, docs/log.md).
fn entry_json(e: &LogEntryRow) -> serde_json::Value {
    let mut body = serde_json::json!({
        "index": e.idx,
        "kind": e.kind,
        "entry": STANDARD.encode(&e.entry),
        "appended_at": rfc3339(e.appended_at),
    });
    match KeyEvent::parse(&e.entry).filter(|_| e.kind == EntryKind::Key.as_str()) {
        Some(event) => body["key_id"] = data_encoding::HEXLOWER.encode(&event.key_id).into(),
        None => body["certificate_id"] = e.certificate_id.clone().into(),
    }
    body
}

async fn entry(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let index = parse_count("index", Some(path.into_inner().as_str()), 0)?;
    let db = state.db.clone();
    let row =
        web::block(move || -> Result<_, DbError> { Ok(log::entry_at(&mut *db.read()?, index)?) })
            .await??
            .ok_or_else(|| {
                WebError::NotFound(format!("Log tidak memuat entri dengan indeks {index}."))
            })?;
    Ok(HttpResponse::Ok().json(entry_json(&row)))
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: Option<String>,
    certificate: Option<String>,
    size: Option<String>,
}

/// Proof that an entry (by index, or the issuance of a certificate) is in the tree of `size`
/// entries; without `size`, the tree of the latest checkpoint.
async fn inclusion(
    state: web::Data<AppState>,
    query: web::Query<InclusionQuery>,
) -> Result<HttpResponse, WebError> {
    let q = query.into_inner();
    let by_certificate = match (&q.index, &q.certificate) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(WebError::bad(
                "index",
                "isi tepat satu dari parameter index atau certificate",
            ))
        }
        (None, Some(c)) => {
            Some(CertificateId::parse(c).map_err(|e| WebError::bad("certificate", e))?)
        }
        (Some(_), None) => None,
    };
    let index = match by_certificate {
        None => Some(parse_count("index", q.index.as_deref(), 0)?),
        Some(_) => None,
    };
    let size = match q.size.as_deref() {
        None => None,
        raw => Some(parse_count("size", raw, 1)?),
    };
    let db = state.db.clone();
    let answer = web::block(
        move || -> Result<Result<serde_json::Value, WebError>, DbError> {
            let mut conn = db.read()?;
            let entry = match (&by_certificate, index) {
                (Some(id), _) => log::entry_of(&mut conn, id.as_str(), EntryKind::Issued)?,
                (None, Some(i)) => log::entry_at(&mut conn, i)?,
                (None, None) => None,
            };
            let Some(entry) = entry else {
                return Ok(Err(WebError::NotFound(
                    "Entri yang diminta tidak ada di log.".into(),
                )));
            };
            let size = match size {
                Some(s) => s,
                None => match log::latest_checkpoint(&mut conn)? {
                    Some(cp) => cp.tree_size as u64,
                    None => {
                        return Ok(Err(WebError::NotFound(
                            "Log belum memiliki checkpoint.".into(),
                        )))
                    }
                },
            };
            let current = log::size(&mut conn)?;
            if size > current {
                return Ok(Err(WebError::bad(
                    "size",
                    format!("log baru memuat {current} entri; size tidak boleh lebih dari itu"),
                )));
            }
            if entry.idx as u64 >= size {
                return Ok(Err(WebError::bad(
                    "size",
                    format!(
                        "entri berindeks {} belum termasuk dalam pohon berukuran {size}",
                        entry.idx
                    ),
                )));
            }
            let proof = transparency::inclusion_proof(&mut conn, entry.idx as u64, size)?
                .ok_or_else(missing_node)?;
            let mut body = entry_json(&entry);
            body["tree_size"] = size.into();
            body["hashes"] = proof.iter().map(|h| STANDARD.encode(h)).collect();
            Ok(Ok(body))
        },
    )
    .await??;
    Ok(HttpResponse::Ok().json(answer?))
}

fn missing_node() -> DbError {
    DbError::Query(diesel::result::Error::DeserializationError(
        "a complete subtree of the log is missing".into(),
    ))
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    first: Option<String>,
    second: Option<String>,
}

/// Proof that the tree of `second` entries extends the tree of `first` entries.
async fn consistency(
    state: web::Data<AppState>,
    query: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, WebError> {
    let q = query.into_inner();
    let first = parse_count("first", q.first.as_deref(), 1)?;
    let second = parse_count("second", q.second.as_deref(), 1)?;
    if first > second {
        return Err(WebError::bad(
            "first",
            "first tidak boleh lebih besar daripada second",
        ));
    }
    let db = state.db.clone();
    let answer = web::block(move || -> Result<Result<Vec<String>, WebError>, DbError> {
        let mut conn = db.read()?;
        let current = log::size(&mut conn)?;
        if second > current {
            return Ok(Err(WebError::bad(
                "second",
                format!("log baru memuat {current} entri; second tidak boleh lebih dari itu"),
            )));
        }
        let proof =
            transparency::consistency_proof(&mut conn, first, second)?.ok_or_else(missing_node)?;
        Ok(Ok(proof.iter().map(|h| STANDARD.encode(h)).collect()))
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "first": first,
        "second": second,
        "hashes": answer?,
    })))
}
