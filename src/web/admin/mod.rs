//! The administrators' site under `/admin`. Every handler takes a `SignedInAdmin` and checks its
//! target against the admin's scope before reading anything personal. Outside the scope, a target
//! named by id (a campaign, a certificate) answers 404 exactly as an unknown id does, so the
//! answer reveals nothing; an area or agency the admin asks to act on answers 403.

mod audit_trail;
mod authority;
mod campaigns;
mod certificates;
mod invitations;
mod roster;
pub mod sealed_search;
mod sign_in;
pub(crate) mod team;
mod unsigned;
mod views;

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse};

use super::pages::{self, render};
use super::security::{client_addr, CsrfToken};
use super::{AppState, PageError, WebError};
use crate::db::audit::{self, AuditEvent};
use crate::db::auth::admin_subject;
use crate::db::{campaigns as campaign_db, now, DbConnection, DbError};
use crate::domain::AdminScope;

pub const COOKIE: &str = "ikrar_admin";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(home))
        .configure(sign_in::routes)
        .configure(campaigns::routes)
        .configure(unsigned::routes)
        .configure(invitations::routes)
        .configure(roster::routes)
        .configure(certificates::routes)
        .configure(audit_trail::routes)
        .configure(team::routes);
}

/// An administrator with a live session and a scope that parses.
pub struct SignedInAdmin {
    pub admin: views::AdminView,
    pub scope: AdminScope,
    pub token: String,
}

// Here rather than beside the header in `pages`: the pages module knows nothing of who is signed in.
impl pages::AdminHeader {
    pub fn of(me: &SignedInAdmin) -> Self {
        Self {
            name: me.admin.full_name.clone(),
            role: me.scope.role().label(),
            scope: me.scope.to_string(),
        }
    }
}

impl SignedInAdmin {
    pub fn subject(&self) -> String {
        admin_subject(&self.admin.id)
    }

    /// The admin as the audit trail records them, acting from this request's address.
    pub fn actor(&self, req: &HttpRequest) -> AdminActor {
        AdminActor {
            subject: self.subject(),
            scope_code: self.scope.scope_code().to_string(),
            agency: self.scope.agency().unwrap_or("").to_string(),
            client_addr: client_addr(req),
        }
    }
}

/// Who did something, owned so that it can go with the work to a blocking thread.
pub struct AdminActor {
    subject: String,
    scope_code: String,
    agency: String,
    client_addr: String,
}

impl AdminActor {
    /// Records what this admin did, in the caller's transaction.
    pub fn record(
        &self,
        conn: &mut DbConnection,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), DbError> {
        audit::append(
            conn,
            &AuditEvent {
                actor: &self.subject,
                action,
                target,
                scope_code: &self.scope_code,
                agency: &self.agency,
                client_addr: &self.client_addr,
                detail,
            },
            now(),
        )?;
        Ok(())
    }
}

impl FromRequest for SignedInAdmin {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req.cookie(COOKIE).map(|c| c.value().to_string());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(WebError::AdminUnauthorized.into());
            };
            let lookup = token.clone();
            let admin =
                web::block(move || crate::sign_in::admin_for_token(&state.db, &lookup)).await??;
            let Some((admin, scope)) = admin.and_then(|a| a.scope().map(|s| (a, s))) else {
                return Err(WebError::AdminUnauthorized.into());
            };
            Ok(Self {
                admin: admin.into(),
                scope,
                token,
            })
        })
    }
}

/// The admin session cookie: only sent to `/admin`, never on a request from another site.
pub fn cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(COOKIE, token.to_string())
        .path("/admin")
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(
            crate::sign_in::SESSION_LIFETIME_SECS,
        ))
        .finish()
}

pub fn expired_cookie() -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, "").path("/admin").finish();
    c.make_removal();
    c
}

/// Runs an admin's action with its audit entry in one transaction: both land or neither does.
/// A refusal (outside the scope, wrong input, a conflict) rolls the work back and is recorded
/// as `<action>_ditolak` with its reason, so the trail shows who tried to reach what.
pub async fn audited<T: Send + 'static>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    me: &SignedInAdmin,
    action: &'static str,
    target: String,
    detail: String,
    work: impl FnOnce(&mut DbConnection) -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    use diesel::Connection;
    let db = state.db.clone();
    let actor = me.actor(req);
    web::block(move || {
        let mut conn = db.write()?;
        let outcome = conn.transaction(|conn| {
            let out = work(conn)?;
            actor.record(conn, action, &target, &detail)?;
            Ok(out)
        });
        if let Err(refusal) = &outcome {
            if views::is_refusal(refusal) {
                let refused = format!("{action}_ditolak");
                let why = if detail.is_empty() {
                    refusal.to_string()
                } else {
                    format!("{detail}; {refusal}")
                };
                conn.transaction(|conn| actor.record(conn, &refused, &target, &why))?;
            }
        }
        outcome
    })
    .await?
}

/// Records a refusal found before any work began (a form that does not parse, a scope the admin
/// may not act in) and hands the refusal back to be answered.
pub async fn refused(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    me: &SignedInAdmin,
    action: &'static str,
    target: String,
    refusal: WebError,
) -> WebError {
    let db = state.db.clone();
    let actor = me.actor(req);
    let why = refusal.to_string();
    let recorded = web::block(move || -> Result<(), DbError> {
        actor.record(
            &mut *db.write()?,
            &format!("{action}_ditolak"),
            &target,
            &why,
        )
    })
    .await;
    match recorded {
        Ok(Ok(())) => refusal,
        Ok(Err(e)) => e.into(),
        Err(e) => e.into(),
    }
}

/// A redirect after an action, to a page that confirms it (`views::confirmation`).
pub fn see_other_confirmed(path: &str, done: &str) -> HttpResponse {
    let separator = if path.contains('?') { '&' } else { '?' };
    HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("{path}{separator}selesai={done}"),
        ))
        .finish()
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> Self {
        Self::internal(e)
    }
}

/// Campaigns an admin may look at: those covering their area and those inside it.
pub fn campaign_visible(scope: &AdminScope, campaign: &campaign_db::Campaign) -> bool {
    // A national admin's own area is the nation, which only a national campaign covers.
    let covers_mine = scope
        .area()
        .map_or(campaign.scope_code.is_national(), |area| {
            campaign.covers(area)
        });
    covers_mine || scope.covers_area(campaign.scope_code.as_str())
}

/// The same 404 for a campaign that does not exist and one outside the admin's scope.
pub fn no_such_campaign() -> WebError {
    WebError::NotFound("Penandatanganan tidak ditemukan.".into())
}

#[derive(serde::Deserialize)]
struct HomeQuery {
    selesai: Option<String>,
}

async fn home(
    state: web::Data<AppState>,
    me: SignedInAdmin,
    csrf: CsrfToken,
    query: web::Query<HomeQuery>,
) -> Result<HttpResponse, PageError> {
    let db = state.db.clone();
    let scope = me.scope.clone();
    let campaigns = web::block(move || -> Result<_, DbError> {
        let mut conn = db.read()?;
        Ok(campaign_db::all(&mut conn)?
            .into_iter()
            .filter(|c| campaign_visible(&scope, c))
            .map(|c| views::AdminCampaignItem {
                id: c.id,
                title: c.title,
                scope: match c.scope_code.area() {
                    None => "nasional".into(),
                    Some(area) => area.to_string(),
                },
            })
            .collect::<Vec<_>>())
    })
    .await??;
    render(&views::AdminHome {
        admin: pages::AdminHeader::of(&me),
        confirmation: views::confirmation(query.selesai.as_deref()),
        campaigns,
        can_create_campaign: me.scope.agency().is_none(),
        csrf: csrf.0,
    })
}
pub use team::new_admin;
