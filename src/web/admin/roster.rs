//! Roster upload by an admin: the same checks and the same all-or-nothing rule as
//! `ikrar roster import`, with every row inside the admin's scope, and the row report on the page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::SignedInAdmin;
use crate::db::roster_imports;
use crate::domain::IndonesianZone;
use crate::roster::{self, ImportError};
use crate::web::pages::{self, render, render_with_status};
use crate::web::security::{check_csrf, client_addr, CsrfToken};
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
        running: Vec::new(),
    }
}

async fn upload_page(
    state: web::Data<AppState>,
    me: SignedInAdmin,
    csrf: CsrfToken,
) -> Result<HttpResponse, PageError> {
    let db = state.db.clone();
    let running = web::block(move || -> Result<_, crate::db::DbError> {
        Ok(roster_imports::running(&mut *db.read()?)?)
    })
    .await??;
    let zone = IndonesianZone::of_province(me.scope.scope_code());
    let when =
        |t: i64| zone.format_long(chrono::DateTime::from_timestamp(t, 0).unwrap_or_default());
    let mut p = page(&me, csrf.0);
    p.running = running
        .into_iter()
        .filter(|r| {
            me.scope.covers_area(&r.scope_code) && me.scope.agency().is_none_or(|a| a == r.agency)
        })
        .map(|r| pages::RunningImport {
            started: when(r.started_at),
            progressed: when(r.progressed_at),
            rows_done: r.rows_done,
            rows_total: r.rows_total,
        })
        .collect();
    render(&p)
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
    // Kept in the data folder until the import ends, so that a node continues it after a crash.
    let mut file = roster::KeptFile::create(&state.data_dir).map_err(WebError::internal)?;
    let limit = UploadLimit {
        bytes: MAX_ROSTER_BYTES,
        shown: "64 MB",
    };
    let received = receive(
        payload,
        "berkas",
        limit,
        file.sink(),
        "pilih berkas CSV daftar pegawai",
    );
    let submitted = match received.await {
        Ok(csrf) => csrf,
        Err(e @ (WebError::PayloadTooLarge(_) | WebError::BadRequest { .. })) => {
            file.discard();
            return refuse(actix_web::ResponseError::status_code(&e), e.to_string());
        }
        Err(e) => {
            file.discard();
            return Err(e.into());
        }
    };
    if let Err(e) = check_csrf(&req, &submitted) {
        file.discard();
        return Err(e.into());
    }
    let db = state.db.clone();
    let actor = me.actor(&req);
    let importer = roster::Importer {
        actor: me.subject(),
        client_addr: client_addr(&req),
        scope: Some(me.scope.clone()),
    };
    let outcome = web::block(move || {
        // The import's record and audit rows are written in the transactions of its chunks: a
        // crash leaves the roster and the trail agreeing, and a node finishes the import.
        let outcome = roster::import_kept(&db, file, &importer);
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
        Err(e @ (ImportError::Db(_) | ImportError::Overtaken)) => Err(WebError::internal(e).into()),
    }
}
