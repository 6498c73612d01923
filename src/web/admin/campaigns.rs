//! Campaigns in an admin's area: the unsigned list (page, CSV, XLSX) and opening a new campaign.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{audited, campaign_visible, no_such_campaign, SignedInAdmin};
use crate::db::campaigns::{self, Campaign};
use crate::db::employees::{self, UnsignedFilter};
use crate::db::{areas, now};
use crate::domain::{AdminScope, AreaCode, EmployeeType, IndonesianZone, PactDocument};
use crate::export;
use crate::web::pages::{self, render};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::{AppState, PageError, WebError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/kampanye/{id}/belum", web::get().to(unsigned_page))
        .route(
            "/admin/kampanye/{id}/belum.{format}",
            web::get().to(unsigned_file),
        )
        .route("/admin/kampanye/baru", web::get().to(new_campaign_page))
        .route("/admin/kampanye", web::post().to(create_campaign))
        .configure(super::authority::routes);
}

#[derive(Deserialize, Default)]
struct ListQuery {
    area: Option<String>,
    agency: Option<String>,
    #[serde(rename = "type")]
    employee_type: Option<String>,
}

/// What the admin asked for, narrowed to what they may see: an area inside both their scope and
/// the campaign's, and their own agency if they are an agency admin.
fn filter_for(
    scope: &AdminScope,
    campaign: &Campaign,
    query: &ListQuery,
) -> Result<UnsignedFilter, WebError> {
    let area = match query
        .area
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        Some(raw) => {
            let code = AreaCode::parse(raw).map_err(|e| WebError::bad("area", e))?;
            if !scope.covers_area(code.as_str()) {
                return Err(WebError::Forbidden(format!(
                    "Wilayah {code} berada di luar wilayah kewenangan Anda."
                )));
            }
            code.as_str().to_string()
        }
        // The narrower of the two scopes: one always contains the other for a visible campaign.
        None if scope.covers_area(&campaign.scope_code) => campaign.scope_code.clone(),
        None => scope.scope_code().to_string(),
    };
    if !campaign.covers(&area) && !area.is_empty() {
        return Err(WebError::bad(
            "area",
            format!("wilayah {area} berada di luar cakupan kampanye ini"),
        ));
    }
    let asked_agency = query
        .agency
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let agency = match (scope.agency(), asked_agency) {
        (Some(mine), Some(asked)) if mine != asked => {
            return Err(WebError::Forbidden(
                "Instansi tersebut berada di luar kewenangan Anda.".into(),
            ))
        }
        (Some(mine), _) => Some(mine.to_string()),
        (None, asked) => asked.map(str::to_string),
    };
    let employee_type = match query
        .employee_type
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        Some(raw) => Some(
            EmployeeType::parse(raw)
                .map_err(|e| WebError::bad("type", e))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    Ok(UnsignedFilter {
        area_code: area,
        agency,
        employee_type,
    })
}

struct UnsignedList {
    campaign: Campaign,
    filter: UnsignedFilter,
    employees: Vec<employees::Employee>,
    village_names: std::collections::HashMap<String, String>,
}

/// Loads the list and records that this admin looked at it: a list of people is personal data.
async fn load_list(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    me: &SignedInAdmin,
    campaign_id: String,
    query: ListQuery,
    how: &'static str,
) -> Result<UnsignedList, WebError> {
    let scope = me.scope.clone();
    audited(
        state,
        req,
        me,
        "lihat_belum_menandatangani",
        campaign_id.clone(),
        how.to_string(),
        move |conn| {
            let campaign = campaigns::find(conn, &campaign_id)?
                .filter(|c| campaign_visible(&scope, c))
                .ok_or_else(no_such_campaign)?;
            let filter = filter_for(&scope, &campaign, &query)?;
            let employees = employees::unsigned(conn, &campaign.id, &filter)?;
            let village_names = export::village_names(conn, &employees)?;
            Ok(UnsignedList {
                campaign,
                filter,
                employees,
                village_names,
            })
        },
    )
    .await
}

async fn unsigned_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let raw_query = req.query_string().to_string();
    let list = load_list(&state, &req, &me, path.into_inner(), query, "halaman").await?;
    let rows = list
        .employees
        .iter()
        .map(|e| pages::UnsignedRow {
            nip: e.nip.as_deref().unwrap_or("—").to_string(),
            name: e.full_name.clone(),
            agency: e.agency.clone(),
            unit: e.unit.clone(),
            village: list
                .village_names
                .get(e.village_code.as_str())
                .cloned()
                .unwrap_or_else(|| e.village_code.to_string()),
        })
        .collect();
    let suffix = if raw_query.is_empty() {
        String::new()
    } else {
        format!("?{raw_query}")
    };
    render(&pages::AdminUnsigned {
        admin: pages::AdminHeader::of(&me),
        campaign_id: list.campaign.id.clone(),
        campaign_title: list.campaign.title.clone(),
        area: list.filter.area_code.clone(),
        agency: list.filter.agency.clone().unwrap_or_default(),
        count: list.employees.len(),
        rows,
        csv_href: format!("/admin/kampanye/{}/belum.csv{suffix}", list.campaign.id),
        xlsx_href: format!("/admin/kampanye/{}/belum.xlsx{suffix}", list.campaign.id),
    })
}

async fn unsigned_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    path: web::Path<(String, String)>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let (campaign_id, format) = path.into_inner();
    let how = match format.as_str() {
        "csv" => "csv",
        "xlsx" => "xlsx",
        _ => return Err(WebError::NotFound("Format berkas tidak dikenal.".into()).into()),
    };
    let list = load_list(&state, &req, &me, campaign_id, query.into_inner(), how).await?;
    let name = format!(
        "belum-menandatangani-{}-{}.{how}",
        list.campaign.id,
        if list.filter.area_code.is_empty() {
            "nasional"
        } else {
            &list.filter.area_code
        }
    );
    let (content_type, body) = if how == "csv" {
        let mut out = Vec::new();
        export::write_csv(&mut out, &list.employees, &list.village_names)
            .map_err(WebError::internal)?;
        ("text/csv; charset=utf-8", out)
    } else {
        let title = format!("Belum menandatangani: {}", list.campaign.title);
        let bytes = export::xlsx_bytes(&list.employees, &list.village_names, &title)
            .map_err(WebError::internal)?;
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bytes,
        )
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}

async fn new_campaign_page(me: SignedInAdmin, csrf: CsrfToken) -> Result<HttpResponse, PageError> {
    render(&pages::AdminNewCampaign {
        scope: me.scope.scope_code().to_string(),
        admin: pages::AdminHeader::of(&me),
        title: String::new(),
        opens: String::new(),
        closes: String::new(),
        error: None,
        csrf: csrf.0,
    })
}

#[derive(Deserialize)]
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

async fn create_campaign(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    form: web::Form<NewCampaign>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    if me.scope.agency().is_some() {
        return Err(WebError::Forbidden(
            "Admin instansi tidak dapat membuka kampanye; kampanye berlaku untuk seluruh instansi \
             di suatu wilayah. Hubungi admin wilayah Anda."
                .into(),
        )
        .into());
    }
    let title = form.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(WebError::bad("title", "judul wajib diisi, paling banyak 200 karakter").into());
    }
    let scope_code = match form.scope.trim() {
        "" | "ID" => String::new(),
        raw => AreaCode::parse(raw)
            .map_err(|e| WebError::bad("scope", e))?
            .as_str()
            .to_string(),
    };
    if !me.scope.covers_area(&scope_code) {
        return Err(WebError::Forbidden(
            "Wilayah kampanye berada di luar wilayah kewenangan Anda.".into(),
        )
        .into());
    }
    let zone = IndonesianZone::of_province(&scope_code);
    let opens_at = local_instant("opens", &form.opens, zone)?;
    let closes_at = local_instant("closes", &form.closes, zone)?;
    if closes_at <= opens_at {
        return Err(
            WebError::bad("closes", "waktu penutupan harus sesudah waktu pembukaan").into(),
        );
    }
    let campaign = Campaign {
        id: Campaign::new_id(),
        title,
        scope_code,
        opens_at,
        closes_at,
        created_at: now(),
    };
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
            if !campaign.scope_code.is_empty() {
                let code = AreaCode::parse(&campaign.scope_code).expect("parsed above");
                if areas::find(conn, &code)?.is_none() {
                    return Err(WebError::bad(
                        "scope",
                        format!("kode wilayah {code} tidak ada dalam data wilayah Kemendagri"),
                    ));
                }
            }
            campaigns::create(conn, &campaign, &PactDocument::default_pact())?;
            Ok(())
        },
    )
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/admin/kampanye/{id}/belum")))
        .finish())
}
