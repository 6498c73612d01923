//! The one error type of request handling, and the one place errors become HTTP answers. Each
//! variant maps to one status; internal causes are logged with their chain and never shown. A
//! passing fault of the database found anywhere in a cause chain (a busy writer, a cut
//! connection, no connection, a full disk: `db::fault`) is answered 503 with `Retry-After`,
//! never 500: nothing about the request was wrong, and the same request succeeds later.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use super::answers::ApiError;
use crate::db::fault::{self, Unavailable};
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{message}")]
    BadRequest {
        field: Option<&'static str>,
        message: String,
    },
    #[error("silakan masuk terlebih dahulu")]
    Unauthorized,
    #[error("{0}")]
    WrongCode(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// An admin page asked for without an admin session: the page sends them to admin sign-in.
    #[error("silakan masuk sebagai admin terlebih dahulu")]
    AdminUnauthorized,
    /// The whole message, naming what was too large and the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The node refuses more of something it holds per client (live streams) for now.
    #[error("{message}")]
    Overloaded {
        message: String,
        retry_after_secs: u32,
    },
    #[error("terjadi gangguan pada server; silakan coba lagi beberapa saat lagi")]
    Internal(#[source] anyhow::Error),
}

impl WebError {
    pub fn bad(field: &'static str, message: impl std::fmt::Display) -> Self {
        Self::BadRequest {
            field: Some(field),
            message: message.to_string(),
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "invalid_input",
            Self::Unauthorized | Self::AdminUnauthorized => "unauthorized",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::WrongCode(_) => "wrong_code",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Overloaded { .. } => "unavailable",
            Self::Internal(_) if self.unavailable().is_some() => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// A passing database fault behind an internal error, wherever in its causes it sits.
    fn unavailable(&self) -> Option<Unavailable> {
        match self {
            Self::Internal(e) => fault::in_chain(e.as_ref()),
            _ => None,
        }
    }

    /// Seconds for `Retry-After` on a 503.
    fn retry_after_secs(&self) -> Option<u32> {
        match self {
            Self::Overloaded {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => self.unavailable().map(Unavailable::retry_after_secs),
        }
    }

    /// What the person is told.
    fn public_message(&self) -> String {
        match self.unavailable() {
            Some(u) => u.message().to_string(),
            None => self.to_string(),
        }
    }

    fn log(&self) {
        if let Self::Internal(e) = self {
            match self.unavailable() {
                Some(u) => {
                    tracing::warn!(error = ?e, fault = ?u, "database unavailable; answered 503")
                }
                None => tracing::error!(error = ?e, "request failed"),
            }
        }
    }

    /// The JSON answer of the API, with the headers every error answer carries.
    pub fn json_response(&self) -> HttpResponse {
        self.log();
        let field = match self {
            Self::BadRequest { field, .. } => *field,
            _ => None,
        };
        let mut answer = HttpResponse::build(self.status_code());
        self.add_headers(&mut answer);
        answer.json(ApiError::new(self.code(), &self.public_message(), field))
    }

    fn add_headers(&self, answer: &mut actix_web::HttpResponseBuilder) {
        if let Some(secs) = self.retry_after_secs() {
            answer.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        // An error answer is about this request only; no cache keeps it.
        answer.insert_header((header::CACHE_CONTROL, "no-store"));
    }
}

impl From<DbError> for WebError {
    fn from(e: DbError) -> Self {
        Self::internal(e)
    }
}

impl From<actix_web::error::BlockingError> for WebError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::AdminUnauthorized | Self::WrongCode(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) if self.unavailable().is_some() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.json_response()
    }
}

/// The same errors, shown to a person as a page instead of JSON.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PageError(#[from] pub WebError);

impl From<DbError> for PageError {
    fn from(e: DbError) -> Self {
        Self(e.into())
    }
}

impl From<actix_web::error::BlockingError> for PageError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self(e.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        let sign_in = match self.0 {
            WebError::Unauthorized => Some("/masuk"),
            WebError::AdminUnauthorized => Some("/admin/masuk"),
            _ => None,
        };
        if let Some(target) = sign_in {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish();
        }
        let page = super::pages::ErrorPage {
            status: self.status_code().as_u16(),
            message: self.0.public_message(),
        };
        let mut answer = super::pages::render_with_status(self.status_code(), &page);
        if let Some(secs) = self.0.retry_after_secs() {
            answer
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        answer
    }
}

/// The largest JSON body the API reads.
pub const JSON_LIMIT_BYTES: usize = 16 * 1024;

/// Whether a request belongs to the JSON API, whose every answer has the JSON error shape.
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Answers a rejection in the shape of the part of the site that was asked: JSON for the API,
/// a page for everything else.
fn rejection(req: &actix_web::HttpRequest, error: WebError) -> actix_web::Error {
    if is_api(req.path()) {
        error.into()
    } else {
        PageError(error).into()
    }
}

/// Turns actix's own JSON rejections into our error shape: 413 over the limit, 400 otherwise.
pub fn json_config() -> actix_web::web::JsonConfig {
    use actix_web::error::JsonPayloadError;
    actix_web::web::JsonConfig::default()
        .limit(JSON_LIMIT_BYTES)
        .error_handler(|err, req| {
            let error = match err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => {
                    WebError::PayloadTooLarge(format!(
                        "isi permintaan terlalu besar (paling besar {} KB)",
                        JSON_LIMIT_BYTES / 1024
                    ))
                }
                JsonPayloadError::ContentType => WebError::BadRequest {
                    field: None,
                    message: "isi permintaan harus JSON (Content-Type: application/json)".into(),
                },
                other => WebError::BadRequest {
                    field: None,
                    message: format!("isi permintaan bukan JSON yang sah: {other}"),
                },
            };
            rejection(req, error)
        })
}

pub fn form_config() -> actix_web::web::FormConfig {
    use actix_web::error::UrlencodedError;
    actix_web::web::FormConfig::default()
        .limit(16 * 1024)
        .error_handler(|err, req| {
            let error = match err {
                UrlencodedError::Overflow { .. } => WebError::PayloadTooLarge(
                    "isian formulir terlalu panjang (paling panjang 16 KB)".into(),
                ),
                other => WebError::BadRequest {
                    field: None,
                    message: format!("isian formulir tidak sah: {other}"),
                },
            };
            rejection(req, error)
        })
}

/// A query string that does not fit the handler's parameters: 400 naming the problem, instead of
/// actix's plain-text "Query deserialize error".
pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default().error_handler(|err, req| {
        let error = match &err {
            actix_web::error::QueryPayloadError::Deserialize(e) => WebError::BadRequest {
                field: None,
                message: format!("parameter alamat tidak sah: {e}"),
            },
            other => WebError::BadRequest {
                field: None,
                message: format!("parameter alamat tidak sah: {other}"),
            },
        };
        rejection(req, error)
    })
}

/// A path segment that does not parse into the handler's type names nothing we have: 404.
pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default()
        .error_handler(|_, req| rejection(req, WebError::NotFound("alamat tidak ditemukan".into())))
}

/// What an unknown address gets: JSON 404 under the API, the error page elsewhere.
pub async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    let error = if is_api(req.path()) {
        WebError::NotFound(format!(
            "tidak ada {} {} di API ini",
            req.method(),
            req.path()
        ))
    } else {
        WebError::NotFound("Halaman tidak ditemukan.".into())
    };
    Err(rejection(&req, error))
}

/// The last guard of the API's error shape: an error answer under `/api/` that did not come from
/// `WebError` (actix's own 405 for a method a route lacks, a payload error of an extractor we do
/// not configure) is rewritten into it. Runs only for error statuses, so answers that succeed
/// pay nothing.
pub fn api_error_shape<B: actix_web::body::MessageBody + 'static>(
) -> actix_web::middleware::ErrorHandlers<B> {
    use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
    ErrorHandlers::new().default_handler(|res: actix_web::dev::ServiceResponse<B>| {
        let is_json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if is_json || !is_api(res.request().path()) {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "alamat tidak ditemukan"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "metode HTTP ini tidak dilayani pada alamat ini",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "isi permintaan terlalu besar"),
            StatusCode::UNAUTHORIZED => ("unauthorized", "silakan masuk terlebih dahulu"),
            StatusCode::FORBIDDEN => ("forbidden", "akses ditolak"),
            StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "terlalu banyak permintaan"),
            StatusCode::SERVICE_UNAVAILABLE => (
                "unavailable",
                "layanan sedang tidak tersedia; silakan coba lagi dalam beberapa saat",
            ),
            s if s.is_client_error() => ("invalid_input", "permintaan tidak sah"),
            _ => (
                "internal",
                "terjadi gangguan pada server; silakan coba lagi beberapa saat lagi",
            ),
        };
        let (req, old) = res.into_parts();
        let mut answer = HttpResponse::build(status);
        for name in [header::RETRY_AFTER, header::ALLOW] {
            if let Some(value) = old.headers().get(&name) {
                answer.insert_header((name, value.clone()));
            }
        }
        answer.insert_header((header::CACHE_CONTROL, "no-store"));
        let answer = answer.json(ApiError::new(code, message, None));
        Ok(ErrorHandlerResponse::Response(
            actix_web::dev::ServiceResponse::new(req, answer).map_into_right_body(),
        ))
    })
}
