//! Reading a form upload: one file field, streamed into a sink and refused as soon as it passes
//! its limit, and the form's CSRF field, so that upload forms are protected like every other form.
//! Every other field has a limit too, as has the number of fields: a form's body is read only as
//! far as a real form of ours could reach.

use std::future::{ready, Ready};
use std::io::Write;

use actix_multipart::Multipart;
use actix_web::http::header::{HeaderMap, CONTENT_TYPE};
use actix_web::{dev::Payload, mime, FromRequest, HttpRequest};
use futures_util::StreamExt;

use super::security::CSRF_FIELD;
use super::{PageError, WebError};

/// Fields a form of ours has at most: the file, the CSRF token, a button, and some room.
const MAX_FIELDS: usize = 8;

/// A field other than the file and the CSRF token (none of our upload forms has one that needs
/// more) is read up to this size and refused beyond it.
const MAX_OTHER_FIELD_BYTES: usize = 1024;

/// The shortest multipart boundary a form may declare. actix-multipart 0.7.2 slices the first
/// lines of a body by the boundary's length without checking the line's, and panics (taking the
/// worker's connections with it) on a body such as "\n" under `boundary=X`: the fuzzer found it
/// (fuzz/fuzz_targets/multipart.rs). With four characters or more every such line is long enough.
/// Browsers and HTTP clients send 16 or more.
pub const MIN_BOUNDARY_LEN: usize = 4;

/// A multipart form whose declared boundary the form reader can read safely; the extractor every
/// handler taking a multipart body uses instead of `Multipart`.
pub struct Form(pub Multipart);

impl FromRequest for Form {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(
            check_boundary(req.headers())
                .map(|()| Form(Multipart::new(req.headers(), payload.take())))
                .map_err(PageError),
        )
    }
}

/// Refuses a multipart body whose boundary is shorter than [`MIN_BOUNDARY_LEN`]. Anything else
/// wrong with the content type is left to the form reader, which reports it as an error.
pub fn check_boundary(headers: &HeaderMap) -> Result<(), WebError> {
    let boundary_len = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .and_then(|ct| ct.get_param(mime::BOUNDARY).map(|b| b.as_str().len()));
    match boundary_len {
        Some(len) if len < MIN_BOUNDARY_LEN => Err(WebError::bad(
            "berkas",
            format!(
                "batas (boundary) formulir multipart terlalu pendek (paling sedikit {MIN_BOUNDARY_LEN} karakter)"
            ),
        )),
        _ => Ok(()),
    }
}

pub struct UploadLimit {
    pub bytes: usize,
    /// How the limit is shown to people, e.g. "2 MB".
    pub shown: &'static str,
}

/// Streams the field `file_field` into `sink`; returns the CSRF token that came with it.
/// `missing` is the message when no file was chosen.
pub async fn receive(
    mut payload: Multipart,
    file_field: &'static str,
    limit: UploadLimit,
    sink: &mut impl Write,
    missing: &'static str,
) -> Result<String, WebError> {
    let mut csrf = String::new();
    let mut size = 0usize;
    let mut fields = 0usize;
    while let Some(field) = payload.next().await {
        let mut field =
            field.map_err(|e| WebError::bad(file_field, format!("unggahan tidak terbaca: {e}")))?;
        fields += 1;
        if fields > MAX_FIELDS {
            return Err(WebError::bad(
                file_field,
                format!("formulir memuat terlalu banyak isian (paling banyak {MAX_FIELDS})"),
            ));
        }
        let name = field.name().unwrap_or("").to_string();
        let mut other = 0usize;
        while let Some(chunk) = field.next().await {
            let chunk =
                chunk.map_err(|e| WebError::bad(file_field, format!("unggahan terputus: {e}")))?;
            if name == CSRF_FIELD {
                if csrf.len() + chunk.len() > 128 {
                    return Err(WebError::bad("csrf", "isian csrf tidak sah"));
                }
                csrf.push_str(&String::from_utf8_lossy(&chunk));
            } else if name == file_field {
                size += chunk.len();
                if size > limit.bytes {
                    return Err(WebError::PayloadTooLarge(format!(
                        "berkas terlalu besar (paling besar {})",
                        limit.shown
                    )));
                }
                sink.write_all(&chunk).map_err(WebError::internal)?;
            } else {
                other += chunk.len();
                if other > MAX_OTHER_FIELD_BYTES {
                    return Err(WebError::PayloadTooLarge(format!(
                        "isian formulir {:?} terlalu panjang (paling panjang {} KB)",
                        name.chars().take(40).collect::<String>(),
                        MAX_OTHER_FIELD_BYTES / 1024
                    )));
                }
            }
        }
    }
    if size == 0 {
        return Err(WebError::bad(file_field, missing));
    }
    sink.flush().map_err(WebError::internal)?;
    Ok(csrf)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;
    use actix_web::web::Bytes;

    use super::*;

    fn headers(content_type: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers
    }

    /// Reads `body` as one chunk the way the handlers do, on a runtime of its own.
    fn read(content_type: &'static str, body: &'static [u8]) -> Result<String, WebError> {
        let headers = headers(content_type);
        check_boundary(&headers)?;
        let stream = futures_util::stream::iter([Ok::<_, actix_web::error::PayloadError>(
            Bytes::from_static(body),
        )]);
        let limit = UploadLimit {
            bytes: 1024,
            shown: "1 KB",
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let mut sink = Vec::new();
        runtime.block_on(receive(
            Multipart::new(&headers, stream),
            "berkas",
            limit,
            &mut sink,
            "pilih berkas",
        ))
    }

    /// Found by fuzz/fuzz_targets/multipart.rs: under `boundary=X` the body "\n" made
    /// actix-multipart slice past the line's end and panic. Such a boundary is refused before
    /// the reader sees the body, and at the shortest boundary allowed the lines that were
    /// short enough to panic are a refused form.
    #[test]
    fn fuzz_case_a_one_character_boundary_and_a_bare_line_break() {
        for short in [
            "multipart/form-data; boundary=X",
            "multipart/form-data; boundary=XY",
            "multipart/form-data; boundary=\"a b\"",
        ] {
            let refused = read(short, b"\n").expect_err(short);
            assert!(refused.to_string().contains("terlalu pendek"), "{refused}");
        }
        for body in [&b"\n"[..], b"--\n", b"---\n", b"--XXXX\r\n"] {
            let body: &'static [u8] = body;
            assert!(read("multipart/form-data; boundary=XXXX", body).is_err());
        }
        assert!(check_boundary(&headers("multipart/form-data; boundary=XXXX")).is_ok());
        // No multipart content type at all is the reader's to refuse, as before.
        assert!(check_boundary(&HeaderMap::new()).is_ok());
    }
}
