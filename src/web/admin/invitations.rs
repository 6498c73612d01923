//! Printing invitation slips from the admin site: a form that picks an area (the same drill-down
//! as the unsigned list), an agency, optionally a unit and the helpdesk to print, and answers the
//! PDF. The printing is recorded as `undangan_dicetak`; a refused one (outside the scope, nobody
//! to print for) as `undangan_dicetak_ditolak`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::unsigned::{filter_for, pickers, ListQuery};
use super::views::{is_refusal, status_of, Choice, FormErrors};
use super::{audited, campaign_visible, no_such_campaign, refused, SignedInAdmin};
use crate::db::campaigns::{self, Campaign};
use crate::domain::AdminScope;
use crate::invitations::{self, InvitationError, PrintRequest};
use crate::web::pages::{render_with_status, AdminHeader, ErrorPage};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::{AppState, PageError, WebError};

/// Longest helpdesk line a card prints in full.
const HELPDESK_MAX_CHARS: usize = 120;
const UNIT_MAX_CHARS: usize = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin/kampanye/{id}/undangan",
        web::get().to(invitation_page),
    )
    .route("/admin/kampanye/{id}/undangan", web::post().to(print));
}

#[derive(Template)]
#[template(path = "admin/invitations.html")]
struct AdminInvitations {
    admin: AdminHeader,
    campaign_id: String,
    campaign_title: String,
    errors: FormErrors,
    area: String,
    trail: Vec<Choice>,
    children: Vec<Choice>,
    children_level: &'static str,
    agencies: Vec<Choice>,
    agency: String,
    unit: String,
    helpdesk: String,
    default_helpdesk: &'static str,
    csrf: String,
}

#[derive(Deserialize, Default, Clone)]
struct PrintForm {
    #[serde(default)]
    area: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    helpdesk: String,
    #[serde(default)]
    csrf: String,
}

fn given(raw: &str) -> Option<String> {
    Some(raw.trim().to_string()).filter(|v| !v.is_empty())
}

fn list_query(form: &PrintForm) -> ListQuery {
    ListQuery {
        area: given(&form.area),
        agency: given(&form.agency),
        ..ListQuery::default()
    }
}

/// The form again, with the pickers of the area asked for (or the admin's top area when that one
/// is refused) and the problems found.
async fn form_page(
    state: &web::Data<AppState>,
    me: &SignedInAdmin,
    campaign_id: String,
    form: PrintForm,
    errors: FormErrors,
    status: StatusCode,
    csrf: String,
) -> Result<HttpResponse, PageError> {
    let db = state.db.clone();
    let scope = me.scope.clone();
    let asked = list_query(&form);
    let (campaign, area, found) = web::block(move || -> Result<_, WebError> {
        let mut conn = db.read()?;
        let campaign = visible_campaign(&mut conn, &scope, &campaign_id)?;
        let filter = filter_for(&scope, &campaign, &asked)
            .or_else(|_| filter_for(&scope, &campaign, &ListQuery::default()))?;
        let offered = pickers(&mut conn, &scope, &campaign, &filter, true)?;
        Ok((campaign, filter.area_code.to_string(), offered))
    })
    .await??;
    let page = AdminInvitations {
        admin: AdminHeader::of(me),
        campaign_id: campaign.id,
        campaign_title: campaign.title,
        errors,
        area: if form.area.trim().is_empty() {
            area
        } else {
            form.area.trim().to_string()
        },
        trail: found.trail,
        children: found.children,
        children_level: found.children_level,
        agencies: found.agencies,
        agency: form.agency,
        unit: form.unit,
        helpdesk: form.helpdesk,
        default_helpdesk: invitations::DEFAULT_HELPDESK,
        csrf,
    };
    Ok(render_with_status(status, &page))
}

fn visible_campaign(
    conn: &mut crate::db::DbConnection,
    scope: &AdminScope,
    id: &str,
) -> Result<Campaign, WebError> {
    campaigns::find(conn, id)?
        .filter(|c| campaign_visible(scope, c))
        .ok_or_else(no_such_campaign)
}

#[derive(Deserialize)]
struct PageQuery {
    area: Option<String>,
    agency: Option<String>,
}

async fn invitation_page(
    state: web::Data<AppState>,
    me: SignedInAdmin,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
    csrf: CsrfToken,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let form = PrintForm {
        area: query.area.unwrap_or_default(),
        agency: query.agency.unwrap_or_default(),
        ..PrintForm::default()
    };
    form_page(
        &state,
        &me,
        path.into_inner(),
        form,
        FormErrors::none(),
        StatusCode::OK,
        csrf.0,
    )
    .await
}

/// What the admin typed besides the area and agency, checked.
fn checked_text(form: &PrintForm) -> Result<(Option<String>, String), WebError> {
    let unit = given(&form.unit);
    if unit
        .as_ref()
        .is_some_and(|u| u.chars().count() > UNIT_MAX_CHARS)
    {
        return Err(WebError::bad(
            "unit",
            format!("unit kerja paling banyak {UNIT_MAX_CHARS} karakter"),
        ));
    }
    let helpdesk = given(&form.helpdesk)
        .map(|h| h.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| invitations::DEFAULT_HELPDESK.to_string());
    if helpdesk.chars().count() > HELPDESK_MAX_CHARS {
        return Err(WebError::bad(
            "helpdesk",
            format!(
                "kontak bantuan paling banyak {HELPDESK_MAX_CHARS} karakter agar muat pada kartu"
            ),
        ));
    }
    Ok((unit, helpdesk))
}

fn refusal_of(e: InvitationError) -> WebError {
    match e {
        e @ (InvitationError::NoOne | InvitationError::TooMany) => WebError::bad("area", e),
        e @ InvitationError::Closed => WebError::Conflict(e.to_string()),
        e => WebError::internal(e),
    }
}

async fn print(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: Result<SignedInAdmin, PageError>,
    path: web::Path<String>,
    csrf: CsrfToken,
    form: web::Form<PrintForm>,
) -> Result<HttpResponse, PageError> {
    // Without a session a printing is refused outright (401), not sent to sign-in like a page
    // visit: the form would be lost on the way, and nothing may be printed for nobody.
    let Ok(me) = me else {
        let page = ErrorPage {
            status: 401,
            message: "Silakan masuk sebagai admin terlebih dahulu melalui halaman /admin/masuk, lalu cetak kembali.".into(),
        };
        return Ok(render_with_status(StatusCode::UNAUTHORIZED, &page));
    };
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    let campaign_id = path.into_inner();
    let detail = format!(
        "wilayah={}; instansi={}; unit={}",
        form.area.trim(),
        form.agency.trim(),
        form.unit.trim()
    );
    let (unit, helpdesk) = match checked_text(&form) {
        Ok(checked) => checked,
        Err(e) => {
            let e = refused(
                &state,
                &req,
                &me,
                invitations::PRINTED,
                campaign_id.clone(),
                e,
            )
            .await;
            return answer_refusal(&state, &me, campaign_id, form, e, csrf.0).await;
        }
    };
    let scope = me.scope.clone();
    let asked = list_query(&form);
    let base_url = state.base_url.clone();
    let printed_by = me.subject();
    let target = campaign_id.clone();
    let db = state.db.clone();
    // Drawn from a read connection; only storing the codes takes the writer.
    let drawn = web::block(move || -> Result<_, WebError> {
        let mut conn = db.read()?;
        let campaign = visible_campaign(&mut conn, &scope, &target)?;
        let filter = filter_for(&scope, &campaign, &asked)?;
        let printed = invitations::print(
            &mut conn,
            &PrintRequest {
                campaign: &campaign,
                scope: &scope,
                filter: &filter,
                unit: unit.as_deref(),
                helpdesk: &helpdesk,
                base_url: &base_url,
                printed_by: &printed_by,
            },
        )
        .map_err(refusal_of)?;
        Ok((printed, filter.area_code.to_string()))
    })
    .await?;
    let printed = match drawn {
        Ok((printed, area)) => {
            let count = printed.count;
            audited(
                &state,
                &req,
                &me,
                invitations::PRINTED,
                campaign_id.clone(),
                format!("{detail}; {count} kartu"),
                move |conn| {
                    invitations::store(conn, &printed).map_err(refusal_of)?;
                    Ok((printed, area))
                },
            )
            .await
        }
        Err(e) if is_refusal(&e) => {
            let e = refused(
                &state,
                &req,
                &me,
                invitations::PRINTED,
                campaign_id.clone(),
                e,
            )
            .await;
            Err(e)
        }
        Err(e) => Err(e),
    };
    match printed {
        Ok((printed, area)) => {
            let name = format!(
                "kartu-undangan-{campaign_id}-{}.pdf",
                if area.is_empty() { "nasional" } else { &area }
            );
            Ok(HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header(("X-Ikrar-Kartu", printed.count.to_string()))
                .body(printed.pdf))
        }
        Err(e) => answer_refusal(&state, &me, campaign_id, form, e, csrf.0).await,
    }
}

/// A refusal the form can show is answered with the form and the refusal's status; a campaign
/// the admin may not see, and faults, with the error page.
async fn answer_refusal(
    state: &web::Data<AppState>,
    me: &SignedInAdmin,
    campaign_id: String,
    form: PrintForm,
    e: WebError,
    csrf: String,
) -> Result<HttpResponse, PageError> {
    if !is_refusal(&e) || matches!(e, WebError::NotFound(_)) {
        return Err(e.into());
    }
    let status = status_of(&e);
    let errors = FormErrors::from_refusal(&e, "area");
    form_page(state, me, campaign_id, form, errors, status, csrf).await
}
