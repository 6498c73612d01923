//! The one error type of request handling. Each variant maps to one status; internal causes are
//! logged with their chain and never shown.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

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
    #[error("berkas terlalu besar (paling besar {0})")]
    PayloadTooLarge(&'static str),
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
            Self::Internal(_) => "internal",
        }
    }

    fn log(&self) {
        if let Self::Internal(e) = self {
            tracing::error!(error = ?e, "request failed");
        }
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
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let field = match self {
            Self::BadRequest { field, .. } => *field,
            _ => None,
        };
        HttpResponse::build(self.status_code()).json(serde_json::json!({
            "error": { "code": self.code(), "message": self.to_string(), "field": field }
        }))
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
            message: self.0.to_string(),
        };
        super::pages::render_with_status(self.status_code(), &page)
    }
}

/// Turns actix's own JSON, form and path rejections into our error shape.
pub fn json_config() -> actix_web::web::JsonConfig {
    actix_web::web::JsonConfig::default()
        .limit(16 * 1024)
        .error_handler(|err, _| {
            WebError::BadRequest {
                field: None,
                message: format!("isi permintaan bukan JSON yang sah: {err}"),
            }
            .into()
        })
}

pub fn form_config() -> actix_web::web::FormConfig {
    actix_web::web::FormConfig::default()
        .limit(16 * 1024)
        .error_handler(|err, _| {
            PageError(WebError::BadRequest {
                field: None,
                message: format!("isian formulir tidak sah: {err}"),
            })
            .into()
        })
}
