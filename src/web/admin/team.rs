//! The admin team: the admins inside one's scope, inviting narrower ones, and turning on the
//! authenticator second factor.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::views::{self, FormErrors};
use super::{audited, refused, see_other_confirmed, SignedInAdmin};
use crate::db::admins::{self, AdminRow};
use crate::db::{is_unique_violation, now};
use crate::domain::{AdminRole, AdminScope, EmailAddress, FullName};
use crate::totp;
use crate::web::pages::{self, render, render_with_status};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::{AppState, PageError, WebError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/tim", web::get().to(team_page))
        .route("/admin/tim", web::post().to(invite))
        .route("/admin/autentikator", web::get().to(authenticator_page))
        .route("/admin/autentikator", web::post().to(enable_authenticator));
}

#[derive(Deserialize)]
struct TeamQuery {
    selesai: Option<String>,
}

/// The team page with what was typed into the invitation form and what to correct in it.
async fn team(
    state: &web::Data<AppState>,
    me: &SignedInAdmin,
    csrf: String,
    confirmation: Option<&'static str>,
    errors: FormErrors,
    input: views::InvitationInput,
) -> Result<views::AdminTeam, WebError> {
    let db = state.db.clone();
    let scope = me.scope.clone();
    let team = web::block(move || admins::within(&mut *db.read()?, &scope)).await??;
    let rows = team
        .into_iter()
        .map(|a| views::TeamRow {
            name: a.full_name,
            email: a.email,
            role: AdminRole::parse(&a.role).map_or("", AdminRole::label),
            scope: match a.scope_code.area() {
                None => "nasional".into(),
                Some(area) => area.to_string(),
            },
            agency: a.agency,
            second_factor: a.totp_secret.is_some(),
        })
        .collect();
    Ok(views::AdminTeam {
        admin: pages::AdminHeader::of(me),
        confirmation,
        errors,
        input,
        rows,
        roles: AdminRole::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        csrf,
    })
}

async fn team_page(
    state: web::Data<AppState>,
    me: SignedInAdmin,
    csrf: CsrfToken,
    query: web::Query<TeamQuery>,
) -> Result<HttpResponse, PageError> {
    let confirmation = views::confirmation(query.selesai.as_deref());
    let page = team(
        &state,
        &me,
        csrf.0,
        confirmation,
        FormErrors::none(),
        views::InvitationInput::default(),
    )
    .await?;
    render(&page)
}

#[derive(Deserialize)]
struct Invitation {
    email: String,
    full_name: String,
    role: String,
    scope: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    csrf: String,
}

/// Adds an admin. Used by `ikrar admin add` and by the invitation form; the form also checks that
/// the new scope lies strictly inside the inviter's.
pub fn new_admin(
    email: &EmailAddress,
    full_name: &FullName,
    scope: &AdminScope,
    invited_by: Option<String>,
) -> AdminRow {
    AdminRow {
        id: AdminRow::new_id(),
        email: email.as_str().to_string(),
        full_name: full_name.as_str().to_string(),
        role: scope.role().as_str().to_string(),
        scope_code: scope.area_scope(),
        agency: scope.agency().unwrap_or("").to_string(),
        totp_secret: None,
        totp_last_step: None,
        invited_by,
        created_at: now(),
        active: true,
    }
}

/// The invited admin as the form describes them, checked against the inviter's scope.
fn checked_invitation(
    me: &SignedInAdmin,
    form: &Invitation,
) -> Result<(EmailAddress, FullName, AdminRole, AdminScope), WebError> {
    let full_name = FullName::parse(&form.full_name).map_err(|e| WebError::bad("full_name", e))?;
    let email = EmailAddress::parse(&form.email).map_err(|e| WebError::bad("email", e))?;
    let role = AdminRole::parse(&form.role).map_err(|e| WebError::bad("role", e))?;
    let agency = Some(form.agency.as_str()).filter(|a| !a.trim().is_empty());
    let scope =
        AdminScope::parse(role, &form.scope, agency).map_err(|e| WebError::bad("scope", e))?;
    if !me.scope.strictly_contains(&scope) {
        return Err(WebError::Forbidden(format!(
            "Anda hanya dapat mengundang admin untuk wilayah atau instansi di bawah kewenangan Anda \
             ({}); {scope} tidak termasuk.",
            me.scope
        )));
    }
    Ok((email, full_name, role, scope))
}

async fn invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    csrf: CsrfToken,
    form: web::Form<Invitation>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    let typed_email = form.email.trim().to_string();
    let outcome = match checked_invitation(&me, &form) {
        Err(e) => Err(refused(&state, &req, &me, "undang_admin", typed_email, e).await),
        Ok((email, full_name, role, scope)) => {
            let admin = new_admin(&email, &full_name, &scope, Some(me.subject()));
            let detail = format!("{} untuk {scope}", role.as_str());
            audited(
                &state,
                &req,
                &me,
                "undang_admin",
                email.as_str().to_string(),
                detail,
                move |conn| match admins::insert(conn, &admin) {
                    Err(e) if is_unique_violation(&e) => Err(WebError::Conflict(
                        "Alamat surel ini sudah terdaftar sebagai admin.".into(),
                    )),
                    other => Ok(other?),
                },
            )
            .await
            .map(|()| (email, full_name, role, scope))
        }
    };
    let (email, full_name, role, scope) = match outcome {
        Ok(invited) => invited,
        Err(e) if views::is_refusal(&e) => {
            let page = team(
                &state,
                &me,
                csrf.0,
                None,
                FormErrors::from_refusal(&e, "scope"),
                views::InvitationInput {
                    full_name: form.full_name,
                    email: form.email,
                    role: form.role,
                    scope: form.scope,
                    agency: form.agency,
                },
            )
            .await?;
            return Ok(render_with_status(views::status_of(&e), &page));
        }
        Err(e) => return Err(e.into()),
    };
    let body = format!(
        "Yth. {name},\n\n{inviter} menambahkan Anda sebagai {role_label} ({scope}) pada ikrar.\n\n\
         Untuk masuk, buka {base}/admin/masuk dan masukkan alamat surel ini; kode masuk akan \
         dikirim ke alamat ini.\n\n-- \nikrar\n",
        name = full_name.as_str(),
        inviter = me.admin.full_name,
        role_label = role.label(),
        base = state.base_url,
    );
    if let Err(e) = state
        .mailer
        .send(email.as_str(), "Anda ditambahkan sebagai admin ikrar", body)
    {
        tracing::error!(error = %e, "could not send an admin invitation");
    }
    Ok(see_other_confirmed("/admin/tim", "diundang"))
}

fn authenticator(me: &SignedInAdmin, csrf: String, error: Option<String>) -> pages::AdminTotp {
    let secret = totp::new_secret();
    let uri = totp::provisioning_uri(&secret, &me.admin.email);
    pages::AdminTotp {
        admin: pages::AdminHeader::of(me),
        enabled: me.admin.authenticator_enabled,
        secret: data_encoding::BASE32_NOPAD.encode(&secret),
        qr_svg: crate::certificate::QrMatrix::encode(&uri)
            .map(|q| q.to_svg())
            .unwrap_or_default(),
        error,
        csrf,
    }
}

async fn authenticator_page(me: SignedInAdmin, csrf: CsrfToken) -> Result<HttpResponse, PageError> {
    render(&authenticator(&me, csrf.0, None))
}

#[derive(Deserialize)]
struct EnableForm {
    secret: String,
    code: String,
    #[serde(default)]
    csrf: String,
}

async fn enable_authenticator(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    csrf: CsrfToken,
    form: web::Form<EnableForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    if me.admin.authenticator_enabled {
        return Err(WebError::Conflict("Autentikator Anda sudah aktif.".into()).into());
    }
    let secret = data_encoding::BASE32_NOPAD
        .decode(form.secret.trim().as_bytes())
        .ok()
        .filter(|s| s.len() == totp::SECRET_LEN)
        .ok_or_else(|| WebError::bad("secret", "kunci rahasia tidak sah; muat ulang halaman"))?;
    let Some(step) = totp::matching_step(&secret, &form.code, now()) else {
        let page = authenticator(
            &me,
            csrf.0,
            Some(
                "Kode tidak cocok. Pindai ulang kode QR ini, lalu ketik kode yang sedang tampil."
                    .into(),
            ),
        );
        return Ok(crate::web::pages::render_with_status(
            actix_web::http::StatusCode::BAD_REQUEST,
            &page,
        ));
    };
    let id = me.admin.id.clone();
    audited(
        &state,
        &req,
        &me,
        "aktifkan_autentikator",
        me.subject(),
        String::new(),
        move |conn| Ok(admins::set_totp(conn, &id, &secret, step)?),
    )
    .await?;
    Ok(see_other_confirmed("/admin", "autentikator"))
}
