//! Opening a new campaign in an admin's area; its unsigned list is in `unsigned`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::views::{self, FormErrors};
use super::{audited, refused, see_other_confirmed, SignedInAdmin};
use crate::db::campaigns::{self, Campaign};
use crate::db::{areas, now};
use crate::domain::{AdminScope, AreaCode, AreaScope, IndonesianZone, PactDocument};
use crate::web::pages::{self, render, render_with_status};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::{AppState, PageError, WebError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/kampanye/baru", web::get().to(new_campaign_page))
        .route("/admin/kampanye", web::post().to(create_campaign))
        .configure(super::authority::routes);
}

fn form_page(me: &SignedInAdmin, csrf: String) -> views::AdminNewCampaign {
    let scope = me.scope.scope_code();
    views::AdminNewCampaign {
        admin: pages::AdminHeader::of(me),
        errors: FormErrors::none(),
        title: String::new(),
        scope: if scope.is_empty() {
            "ID".into()
        } else {
            scope.to_string()
        },
        opens: String::new(),
        closes: String::new(),
        csrf,
    }
}

async fn new_campaign_page(me: SignedInAdmin, csrf: CsrfToken) -> Result<HttpResponse, PageError> {
    render(&form_page(&me, csrf.0))
}

#[derive(Deserialize, Clone)]
struct NewCampaign {
    title: String,
    scope: String,
    opens: String,
    closes: String,
    #[serde(default)]
    csrf: String,
}

/// `datetime-local` values are read in the local time of the campaign's area (WIB, WITA, WIT).
fn local_instant(field: &'static str, raw: &str, zone: IndonesianZone) -> Result<i64, WebError> {
    let naive = chrono::NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M")
        .map_err(|_| WebError::bad(field, format!("\"{raw}\" bukan tanggal dan jam yang sah")))?;
    Ok(naive.and_utc().timestamp() - i64::from(zone.offset_hours()) * 3600)
}

/// The campaign the form describes, checked against the admin's scope; nothing is written yet.
fn checked_campaign(scope: &AdminScope, form: &NewCampaign) -> Result<Campaign, WebError> {
    if scope.agency().is_some() {
        return Err(WebError::Forbidden(
            "Admin instansi tidak dapat membuka penandatanganan; penandatanganan berlaku untuk seluruh instansi \
             di suatu wilayah. Hubungi admin wilayah Anda."
                .into(),
        ));
    }
    let title = form.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(WebError::bad(
            "title",
            "judul wajib diisi, paling banyak 200 karakter",
        ));
    }
    let campaign_scope = match form.scope.trim() {
        "" | "ID" => AreaScope::National,
        raw => AreaScope::Area(AreaCode::parse(raw).map_err(|e| WebError::bad("scope", e))?),
    };
    if !scope.covers_area(campaign_scope.as_str()) {
        return Err(WebError::Forbidden(
            "Wilayah penandatanganan berada di luar wilayah kewenangan Anda.".into(),
        ));
    }
    let zone = IndonesianZone::of_province(campaign_scope.as_str());
    let opens_at = local_instant("opens", &form.opens, zone)?;
    let closes_at = local_instant("closes", &form.closes, zone)?;
    if closes_at <= opens_at {
        return Err(WebError::bad(
            "closes",
            "waktu penutupan harus sesudah waktu pembukaan",
        ));
    }
    Ok(Campaign {
        id: Campaign::new_id(),
        title,
        scope_code: campaign_scope,
        opens_at,
        closes_at,
        created_at: now(),
    })
}

async fn create_campaign(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    csrf: CsrfToken,
    form: web::Form<NewCampaign>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    let outcome = match checked_campaign(&me.scope, &form) {
        Err(refusal) => {
            Err(refused(&state, &req, &me, "buat_kampanye", String::new(), refusal).await)
        }
        Ok(campaign) => {
            let id = campaign.id.clone();
            let detail = format!("wilayah {}", campaign.scope_code);
            audited(
                &state,
                &req,
                &me,
                "buat_kampanye",
                id.clone(),
                detail,
                move |conn| {
                    if let Some(code) = campaign.scope_code.area() {
                        if areas::find(conn, code)?.is_none() {
                            return Err(WebError::bad(
                                "scope",
                                format!(
                                    "kode wilayah {code} tidak ada dalam data wilayah Kemendagri"
                                ),
                            ));
                        }
                    }
                    campaigns::create(conn, &campaign, &PactDocument::default_pact())?;
                    Ok(())
                },
            )
            .await
            .map(|()| id)
        }
    };
    match outcome {
        Ok(id) => Ok(see_other_confirmed(
            &format!("/admin/kampanye/{id}/belum"),
            "dibuka",
        )),
        // The form again, as typed, with what to correct.
        Err(e) if views::is_refusal(&e) => {
            let mut page = form_page(&me, csrf.0);
            page.errors = FormErrors::from_refusal(&e, "scope");
            page.title = form.title;
            page.scope = form.scope;
            page.opens = form.opens;
            page.closes = form.closes;
            Ok(render_with_status(views::status_of(&e), &page))
        }
        Err(e) => Err(e.into()),
    }
}
