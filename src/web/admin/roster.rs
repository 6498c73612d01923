//! Roster upload by an admin: the same checks and the same all-or-nothing rule as
//! `ikrar roster import`, with every row inside the admin's scope, and the row report on the page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::SignedInAdmin;
use crate::roster::{self, ImportError};
use crate::web::pages::{self, render, render_with_status};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::upload::{receive, Form, UploadLimit};
use crate::web::{AppState, PageError, WebError};

/// A province's roster is tens of megabytes; larger files go through the command line.
pub const MAX_ROSTER_BYTES: usize = 64 * 1024 * 1024;
/// Rows shown on the page; the count says how many there were in all.
const SHOWN_PROBLEMS: usize = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/daftar-pegawai", web::get().to(upload_page))
        .route("/admin/daftar-pegawai", web::post().to(upload));
}

fn page(me: &SignedInAdmin, csrf: String) -> pages::AdminRoster {
    pages::AdminRoster {
        admin: pages::AdminHeader::of(me),
        scope: me.scope.to_string(),
        columns: roster::COLUMNS.join(","),
        report: None,
        problems: Vec::new(),
        problem_count: 0,
        error: None,
        csrf,
    }
}

async fn upload_page(me: SignedInAdmin, csrf: CsrfToken) -> Result<HttpResponse, PageError> {
    render(&page(&me, csrf.0))
}

async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    csrf: CsrfToken,
    Form(payload): Form,
) -> Result<HttpResponse, PageError> {
    let refuse = |status: StatusCode, error: String| {
        let mut p = page(&me, csrf.0.clone());
        p.error = Some(error);
        Ok(render_with_status(status, &p))
    };
    let mut file = tempfile::NamedTempFile::new().map_err(WebError::internal)?;
    let limit = UploadLimit {
        bytes: MAX_ROSTER_BYTES,
        shown: "64 MB",
    };
    let received = receive(
        payload,
        "berkas",
        limit,
        &mut file,
        "pilih berkas CSV daftar pegawai",
    );
    let submitted = match received.await {
        Ok(csrf) => csrf,
        Err(e @ (WebError::PayloadTooLarge(_) | WebError::BadRequest { .. })) => {
            return refuse(actix_web::ResponseError::status_code(&e), e.to_string())
        }
        Err(e) => return Err(e.into()),
    };
    check_csrf(&req, &submitted)?;
    let db = state.db.clone();
    let scope = me.scope.clone();
    let actor = me.actor(&req);
    let outcome = web::block(move || {
        // The audit row is written in the transaction that makes the import visible: a crash
        // leaves both the roster and the trail as they were, or both changed.
        let record = |conn: &mut crate::db::DbConnection, r: &roster::ImportReport| {
            let detail = format!(
                "{} baris: {} baru, {} diperbarui",
                r.rows, r.inserted, r.updated
            );
            actor.record(conn, "unggah_daftar_pegawai", "", &detail)
        };
        let outcome = roster::import_within(&db, file.path(), Some(&scope), Some(&record));
        // Refused uploads are recorded too: they show who tried to write where.
        if let Err(e @ (ImportError::Rows(_) | ImportError::Header { .. } | ImportError::Io(_))) =
            &outcome
        {
            let detail = format!("ditolak: {e}");
            actor.record(
                &mut *db.write()?,
                "unggah_daftar_pegawai_ditolak",
                "",
                &detail,
            )?;
        }
        Ok::<_, crate::db::DbError>(outcome)
    })
    .await??;
    match outcome {
        Ok(report) => {
            let mut p = page(&me, csrf.0.clone());
            p.report = Some(report);
            render(&p)
        }
        Err(ImportError::Rows(rows)) => {
            let mut p = page(&me, csrf.0.clone());
            p.problem_count = rows.len();
            p.problems = rows
                .into_iter()
                .take(SHOWN_PROBLEMS)
                .map(|r| r.to_string())
                .collect();
            p.error = Some(format!(
                "{} baris bermasalah; tidak ada data yang diimpor. Perbaiki baris berikut, lalu unggah \
                 kembali seluruh berkas.",
                p.problem_count
            ));
            Ok(render_with_status(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(e @ (ImportError::Header { .. } | ImportError::Io(_))) => {
            refuse(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
        Err(ImportError::Db(e)) => Err(WebError::internal(e).into()),
    }
}
