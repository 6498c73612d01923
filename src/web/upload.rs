//! Reading a form upload: one file field, streamed into a sink and refused as soon as it passes
//! its limit, and the form's CSRF field, so that upload forms are protected like every other form.
//! Every other field has a limit too, as has the number of fields: a form's body is read only as
//! far as a real form of ours could reach.

use std::io::Write;

use actix_multipart::Multipart;
use futures_util::StreamExt;

use super::security::CSRF_FIELD;
use super::WebError;

/// Fields a form of ours has at most: the file, the CSRF token, a button, and some room.
const MAX_FIELDS: usize = 8;

/// A field other than the file and the CSRF token (none of our upload forms has one that needs
/// more) is read up to this size and refused beyond it.
const MAX_OTHER_FIELD_BYTES: usize = 1024;

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
