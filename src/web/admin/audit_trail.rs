//! Reading the audit trail: the newest entries inside the admin's scope.

use actix_web::{web, HttpRequest, HttpResponse};

use super::{audited, SignedInAdmin};
use crate::db::audit;
use crate::web::pages::{self, render};
use crate::web::{rfc3339, AppState, PageError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/audit", web::get().to(trail));
}

const SHOWN: i64 = 200;

async fn trail(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
) -> Result<HttpResponse, PageError> {
    let scope = me.scope.clone();
    let entries = audited(
        &state,
        &req,
        &me,
        "lihat_jejak_audit",
        String::new(),
        String::new(),
        move |conn| {
            Ok(audit::recent_within(
                conn,
                scope.scope_code(),
                scope.agency(),
                SHOWN,
            )?)
        },
    )
    .await?;
    let rows = entries
        .into_iter()
        .map(|e| pages::AuditRow {
            seq: e.seq,
            at: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            client_addr: e.client_addr,
        })
        .collect();
    render(&pages::AdminAudit {
        admin: pages::AdminHeader::of(&me),
        rows,
    })
}
