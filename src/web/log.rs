//! The public log over HTTP (docs/log.md): the latest signed checkpoint, entries (certificates'
//! and keys' events), and inclusion and consistency proofs, so that anyone can check our log
//! without trusting this server. The signed key list is `/.well-known/ikrar-keys.json`.

use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use super::answers::{ConsistencyProof, InclusionProof, LogEntry};
use super::{AppState, WebError};
use crate::db::log;
use crate::db::DbError;
use crate::domain::CertificateId;
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
    Ok(HttpResponse::Ok().json(LogEntry::of(&row)))
}

/// The query of `/log/proof/inclusion`, as it arrives.
#[derive(Deserialize)]
pub struct InclusionQuery {
    pub index: Option<String>,
    pub certificate: Option<String>,
    pub size: Option<String>,
}

/// What an inclusion proof is asked for: an entry by index or a certificate's issuance, and the
/// tree size (`None`: the latest checkpoint's).
#[derive(Debug, PartialEq, Eq)]
pub struct InclusionParameters {
    pub entry: EntryRef,
    pub size: Option<u64>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum EntryRef {
    Index(u64),
    Issuance(CertificateId),
}

/// Checks an inclusion query before the database is asked anything (public for the fuzzer).
pub fn inclusion_parameters(q: &InclusionQuery) -> Result<InclusionParameters, WebError> {
    let entry = match (&q.index, &q.certificate) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(WebError::bad(
                "index",
                "isi tepat satu dari parameter index atau certificate",
            ))
        }
        (None, Some(c)) => EntryRef::Issuance(
            CertificateId::parse(c).map_err(|e| WebError::bad("certificate", e))?,
        ),
        (Some(_), None) => EntryRef::Index(parse_count("index", q.index.as_deref(), 0)?),
    };
    let size = match q.size.as_deref() {
        None => None,
        raw => Some(parse_count("size", raw, 1)?),
    };
    Ok(InclusionParameters { entry, size })
}

/// Proof that an entry (by index, or the issuance of a certificate) is in the tree of `size`
/// entries; without `size`, the tree of the latest checkpoint.
async fn inclusion(
    state: web::Data<AppState>,
    query: web::Query<InclusionQuery>,
) -> Result<HttpResponse, WebError> {
    let InclusionParameters { entry, size } = inclusion_parameters(&query)?;
    let db = state.db.clone();
    let answer = web::block(
        move || -> Result<Result<InclusionProof, WebError>, DbError> {
            let mut conn = db.read()?;
            let entry = match &entry {
                EntryRef::Issuance(id) => log::entry_of(&mut conn, id.as_str(), EntryKind::Issued)?,
                EntryRef::Index(i) => log::entry_at(&mut conn, *i)?,
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
            Ok(Ok(InclusionProof {
                entry: LogEntry::of(&entry),
                tree_size: size,
                hashes: proof.iter().map(|h| STANDARD.encode(h)).collect(),
            }))
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

/// The query of `/log/proof/consistency`, as it arrives.
#[derive(Deserialize)]
pub struct ConsistencyQuery {
    pub first: Option<String>,
    pub second: Option<String>,
}

/// Checks a consistency query (the two tree sizes, `first` ≤ `second`) before the database is
/// asked anything (public for the fuzzer).
pub fn consistency_parameters(q: &ConsistencyQuery) -> Result<(u64, u64), WebError> {
    let first = parse_count("first", q.first.as_deref(), 1)?;
    let second = parse_count("second", q.second.as_deref(), 1)?;
    if first > second {
        return Err(WebError::bad(
            "first",
            "first tidak boleh lebih besar daripada second",
        ));
    }
    Ok((first, second))
}

/// Proof that the tree of `second` entries extends the tree of `first` entries.
async fn consistency(
    state: web::Data<AppState>,
    query: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, WebError> {
    let (first, second) = consistency_parameters(&query)?;
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
    Ok(HttpResponse::Ok().json(ConsistencyProof {
        first,
        second,
        hashes: answer?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inclusion(query: &str) -> Result<InclusionParameters, WebError> {
        inclusion_parameters(&web::Query::<InclusionQuery>::from_query(query).unwrap())
    }

    fn consistency(query: &str) -> Result<(u64, u64), WebError> {
        consistency_parameters(&web::Query::<ConsistencyQuery>::from_query(query).unwrap())
    }

    #[test]
    fn proof_parameters_are_checked_before_the_database_is_asked() {
        assert_eq!(
            inclusion("index=3&size=10").unwrap(),
            InclusionParameters {
                entry: EntryRef::Index(3),
                size: Some(10)
            }
        );
        assert!(inclusion("").is_err());
        assert!(inclusion("index=1&certificate=AAAAAAAAAAAAAAAA").is_err());
        assert!(inclusion("index=-1").is_err());
        assert!(inclusion("index=1&size=0").is_err());
        assert!(inclusion("index=18446744073709551615").is_err());
        assert!(inclusion("certificate=bukan").is_err());
        assert_eq!(consistency("first=2&second=5").unwrap(), (2, 5));
        assert!(consistency("first=5&second=2").is_err());
        assert!(consistency("first=0&second=2").is_err());
        assert!(consistency("second=2").is_err());
    }
}
