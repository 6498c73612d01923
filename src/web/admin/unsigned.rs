//! "Belum menandatangani": the employees of a campaign who have not signed, a page at a time,
//! narrowed by an area picked level by level, an agency picked from the roster, the employee type
//! and a search by NIP, NIK or name; and the same list as CSV and XLSX files.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::sealed_search::{self, must_be_sealed};
use super::views::{self, Choice, FormErrors};
use super::{audited, campaign_visible, no_such_campaign, SignedInAdmin};
use crate::db::admin_lists::{self, EmployeeCursor, SearchTerm};
use crate::db::campaigns::{self, Campaign};
use crate::db::employees::{Employee, UnsignedFilter};
use crate::db::{areas, coverage, DbConnection};
use crate::domain::{AdminScope, AreaCode, AreaRange, AreaScope, EmployeeType};
use crate::export;
use crate::web::pages::{render, render_with_status, AdminHeader};
use crate::web::security::{check_csrf, CsrfToken};
use crate::web::{AppState, PageError, WebError};

/// Rows per page: a phone shows them without lag, and the page stays far below 100 KB.
const PAGE_ROWS: i64 = 50;
/// Rows read per query while writing a file: the whole list, without holding it all twice.
const FILE_CHUNK: i64 = 5_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/kampanye/{id}/belum", web::get().to(unsigned_page))
        .route("/admin/kampanye/{id}/belum", web::post().to(search))
        .route(
            "/admin/kampanye/{id}/belum.{format}",
            web::get().to(unsigned_file),
        );
}

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub(super) area: Option<String>,
    pub(super) agency: Option<String>,
    #[serde(rename = "type")]
    pub(super) employee_type: Option<String>,
    pub(super) q: Option<String>,
    /// The search term sealed (`sealed_search`), so that a NIP or NIK never shows in the address.
    pub(super) cari: Option<String>,
    /// Where the previous page ended (`EmployeeCursor`).
    pub(super) setelah: Option<String>,
    pub(super) selesai: Option<String>,
}

fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|a| !a.is_empty())
}

/// The area the list starts from: the narrower of the admin's scope and the campaign's (one
/// always contains the other for a campaign the admin may see).
fn top_area(scope: &AdminScope, campaign: &Campaign) -> AreaScope {
    if scope.covers_area(campaign.scope_code.as_str()) {
        campaign.scope_code.clone()
    } else {
        AreaScope::from(scope.area().cloned())
    }
}

/// What the admin asked for, narrowed to what they may see: an area inside both their scope and
/// the campaign's, and their own agency if they are an agency admin.
pub(super) fn filter_for(
    scope: &AdminScope,
    campaign: &Campaign,
    query: &ListQuery,
) -> Result<UnsignedFilter, WebError> {
    let area = match given(&query.area) {
        Some(raw) => {
            let code = AreaCode::parse(raw).map_err(|e| WebError::bad("area", e))?;
            if !scope.covers_area(code.as_str()) {
                return Err(WebError::Forbidden(format!(
                    "Wilayah {code} berada di luar wilayah kewenangan Anda."
                )));
            }
            AreaScope::Area(code)
        }
        None => top_area(scope, campaign),
    };
    if area.area().is_some_and(|code| !campaign.covers(code)) {
        return Err(WebError::bad(
            "area",
            format!("wilayah {area} berada di luar cakupan penandatanganan ini"),
        ));
    }
    let agency = match (scope.agency(), given(&query.agency)) {
        (Some(mine), Some(asked)) if mine != asked => {
            return Err(WebError::Forbidden(
                "Instansi tersebut berada di luar kewenangan Anda.".into(),
            ))
        }
        (Some(mine), _) => Some(mine.to_string()),
        (None, asked) => asked.map(str::to_string),
    };
    let employee_type = match given(&query.employee_type) {
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

/// The whole request, checked: the filter, the search and where the page starts.
struct Asked {
    filter: UnsignedFilter,
    search: Option<SearchTerm>,
    cursor: Option<EmployeeCursor>,
}

fn asked(scope: &AdminScope, campaign: &Campaign, query: &ListQuery) -> Result<Asked, WebError> {
    let filter = filter_for(scope, campaign, query)?;
    let search =
        SearchTerm::parse(query.q.as_deref().unwrap_or("")).map_err(|e| WebError::bad("q", e))?;
    let cursor = match given(&query.setelah) {
        Some(raw) => Some(EmployeeCursor::decode(raw).ok_or_else(|| {
            WebError::bad(
                "setelah",
                "tautan halaman tidak sah; mulai dari halaman pertama",
            )
        })?),
        None => None,
    };
    Ok(Asked {
        filter,
        search,
        cursor,
    })
}

/// What the page needs besides the rows: pickers and the area's own count.
pub(super) struct Pickers {
    pub(super) trail: Vec<Choice>,
    pub(super) children: Vec<Choice>,
    pub(super) children_level: &'static str,
    pub(super) agencies: Vec<Choice>,
    total: Option<String>,
}

/// "Kecamatan Mariso"; a regency's reference name already says "Kabupaten …" or "Kota …".
fn area_label(level: i32, name: &str) -> String {
    if name.starts_with("Kabupaten ") || name.starts_with("Kota ") {
        return name.to_string();
    }
    let level = crate::domain::AreaLevel::from_i32(level).map_or("", |l| l.label());
    format!("{level} {name}")
}

pub(super) fn pickers(
    conn: &mut DbConnection,
    scope: &AdminScope,
    campaign: &Campaign,
    filter: &UnsignedFilter,
    filtered: bool,
) -> Result<Pickers, WebError> {
    let top = top_area(scope, campaign);
    let current = filter.area_code.area().cloned();
    let mut trail = vec![Choice {
        value: top.to_string(),
        label: match top.area() {
            Some(code) => areas::find(conn, code)?
                .map_or_else(|| code.to_string(), |a| area_label(a.level, &a.name)),
            None => "Seluruh Indonesia".into(),
        },
        selected: filter.area_code == top,
    }];
    if let Some(code) = &current {
        for area in areas::lineage(conn, code)? {
            // The reference's codes are well-formed, so their range is exact (`AreaRange`).
            let inside_top = top
                .area()
                .is_none_or(|t| AreaRange::of(t).holds(&area.code) && t.as_str() != area.code);
            if inside_top {
                trail.push(Choice {
                    selected: area.code == filter.area_code.as_str(),
                    label: area_label(area.level, &area.name),
                    value: area.code,
                });
            }
        }
    }
    let below = areas::children(conn, current.as_ref())?;
    let children_level = current
        .as_ref()
        .map_or(Some(crate::domain::AreaLevel::Province), |c| {
            c.level().child()
        })
        .map_or("", |l| l.label());
    // Reference codes are well-formed, so the campaign's range covers exactly what it does.
    let scope_range = campaign.scope_code.area().map(AreaRange::of);
    let children = below
        .into_iter()
        .filter(|a| scope_range.as_ref().is_none_or(|r| r.holds(&a.code)))
        .map(|a| Choice {
            label: a.name,
            value: a.code,
            selected: false,
        })
        .collect();
    let agencies = match scope.agency() {
        Some(mine) => vec![Choice {
            value: mine.to_string(),
            label: mine.to_string(),
            selected: true,
        }],
        None => admin_lists::agencies_in(conn, &filter.area_code)?
            .into_iter()
            .map(|a| Choice {
                selected: filter.agency.as_deref() == Some(a.as_str()),
                label: a.clone(),
                value: a,
            })
            .collect(),
    };
    // The area's own counters answer at once; with any other filter the count would mean
    // counting rows, which is what paging avoids.
    let total = if filtered || scope.agency().is_some() {
        None
    } else {
        let t = coverage::total(conn, &campaign.id, &filter.area_code)?;
        Some(format!(
            "{} dari {} pegawai di wilayah ini belum menandatangani.",
            crate::web::charts::thousands(t.roster - t.signed),
            crate::web::charts::thousands(t.roster)
        ))
    };
    Ok(Pickers {
        trail,
        children,
        children_level,
        agencies,
        total,
    })
}

/// The query string of the list with `setelah` replaced (or dropped), for the paging links.
fn href(campaign_id: &str, query: &ListQuery, after: Option<&str>, file: Option<&str>) -> String {
    let mut pairs: Vec<String> = Vec::new();
    for (key, value) in [
        ("area", &query.area),
        ("agency", &query.agency),
        ("type", &query.employee_type),
        // A sealed term replaces the typed one; `q` only stays for a name without digits.
        if query.cari.is_some() {
            (sealed_search::PARAM, &query.cari)
        } else {
            ("q", &query.q)
        },
    ] {
        if let Some(v) = given(value) {
            pairs.push(format!("{key}={}", super::views::query_value(v)));
        }
    }
    if let Some(after) = after {
        pairs.push(format!("setelah={}", super::views::query_value(after)));
    }
    let query = pairs.join("&");
    let path = match file {
        Some(ext) => format!("/admin/kampanye/{campaign_id}/belum.{ext}"),
        None => format!("/admin/kampanye/{campaign_id}/belum"),
    };
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

fn row(e: &Employee, names: &std::collections::HashMap<String, String>) -> views::UnsignedRow {
    views::UnsignedRow {
        nip: e.nip.as_deref().unwrap_or("—").to_string(),
        name: e.full_name.clone(),
        agency: e.agency.clone(),
        unit: e.unit.clone(),
        village: names
            .get(e.village_code.as_str())
            .cloned()
            .unwrap_or_else(|| e.village_code.to_string()),
    }
}

#[derive(Deserialize)]
struct SearchForm {
    area: Option<String>,
    agency: Option<String>,
    #[serde(rename = "type")]
    employee_type: Option<String>,
    q: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// A redirect within the list. The campaign id comes from the address as typed: one that could
/// not be a campaign's answers as an unknown campaign does, rather than go into a header.
fn see_other(
    campaign_id: &str,
    query: &ListQuery,
    file: Option<&str>,
) -> Result<HttpResponse, WebError> {
    if campaign_id.is_empty()
        || !campaign_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(no_such_campaign());
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, href(campaign_id, query, None, file)))
        .finish())
}

/// The search form posts here so that what was typed stays out of the address: the answer sends
/// the browser to the list with the term sealed and the other filters as they were.
async fn search(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    path: web::Path<String>,
    form: web::Form<SearchForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    check_csrf(&req, &form.csrf)?;
    let term = given(&form.q).map(str::to_string);
    let query = ListQuery {
        area: form.area,
        agency: form.agency,
        employee_type: form.employee_type,
        cari: term.map(|t| state.search_seal.seal(&me.admin.id, &t, crate::db::now())),
        ..ListQuery::default()
    };
    Ok(see_other(&path.into_inner(), &query, None)?)
}

/// Where a request that shows a NIP or NIK in its address goes instead: the same list with the
/// term sealed. Otherwise the sealed term, if any, is opened into `q` for the list to use.
fn unseal(
    state: &AppState,
    me: &SignedInAdmin,
    campaign_id: &str,
    query: &mut ListQuery,
    file: Option<&str>,
) -> Result<Option<HttpResponse>, WebError> {
    if let Some(typed) = given(&query.q).filter(|q| must_be_sealed(q)) {
        let sealed = state
            .search_seal
            .seal(&me.admin.id, typed, crate::db::now());
        let query = ListQuery {
            q: None,
            cari: Some(sealed),
            setelah: None,
            ..query.clone()
        };
        return see_other(campaign_id, &query, file).map(Some);
    }
    if let Some(token) = given(&query.cari) {
        query.q = Some(
            state
                .search_seal
                .open(&me.admin.id, token, crate::db::now())?,
        );
    }
    Ok(None)
}

async fn unsigned_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    csrf: CsrfToken,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let mut query = query.into_inner();
    let campaign_id = path.into_inner();
    let unsealed = match unseal(&state, &me, &campaign_id, &mut query, None) {
        Ok(Some(elsewhere)) => return Ok(elsewhere),
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    let scope = me.scope.clone();
    let q = query.clone();
    // The list is personal data: looking at it is recorded, and so is a refused filter.
    let loaded = match unsealed {
        // A sealed term that does not open is only a stale link: nothing to record.
        Err(e) => Err(e),
        Ok(()) => {
            audited(
                &state,
                &req,
                &me,
                "lihat_belum_menandatangani",
                campaign_id.clone(),
                "halaman".into(),
                move |conn| {
                    let campaign = campaigns::find(conn, &campaign_id)?
                        .filter(|c| campaign_visible(&scope, c))
                        .ok_or_else(no_such_campaign)?;
                    let asked = asked(&scope, &campaign, &q)?;
                    let mut employees = admin_lists::unsigned_page(
                        conn,
                        &campaign.id,
                        &scope,
                        &asked.filter,
                        asked.search.as_ref(),
                        asked.cursor.as_ref(),
                        PAGE_ROWS + 1,
                    )?;
                    let more = employees.len() as i64 > PAGE_ROWS;
                    employees.truncate(PAGE_ROWS as usize);
                    let names = export::village_names(conn, &employees)?;
                    let filtered = asked.filter.agency.is_some()
                        || asked.filter.employee_type.is_some()
                        || asked.search.is_some();
                    let pickers = pickers(conn, &scope, &campaign, &asked.filter, filtered)?;
                    Ok((campaign, asked, employees, more, names, pickers))
                },
            )
            .await
        }
    };
    let header = AdminHeader::of(&me);
    let (campaign, asked, employees, more, names, pickers) = match loaded {
        Ok(loaded) => loaded,
        // A filter that is refused shows the form again with what was typed, and no rows.
        Err(e @ (WebError::BadRequest { .. } | WebError::Forbidden(_))) => {
            let page = views::AdminUnsigned {
                admin: header,
                campaign_id: path_id(&req),
                campaign_title: String::new(),
                confirmation: None,
                errors: FormErrors::from_refusal(&e, "area"),
                area: given(&query.area).unwrap_or("").to_string(),
                trail: Vec::new(),
                children: Vec::new(),
                children_level: "",
                agencies: Vec::new(),
                agency: given(&query.agency).unwrap_or("").to_string(),
                types: types(given(&query.employee_type)),
                q: query.q.clone().unwrap_or_default(),
                total: None,
                rows: Vec::new(),
                first_href: Some(href(&path_id(&req), &ListQuery::default(), None, None)),
                next_href: None,
                csv_href: String::new(),
                xlsx_href: String::new(),
                csrf: csrf.0,
            };
            return Ok(render_with_status(views::status_of(&e), &page));
        }
        Err(e) => return Err(e.into()),
    };
    let rows = employees.iter().map(|e| row(e, &names)).collect();
    let next_href = more.then(|| {
        let last = employees.last().expect("a full page has a last row");
        let cursor = EmployeeCursor {
            village_code: last.village_code.to_string(),
            id: last.id,
        };
        href(&campaign.id, &query, Some(&cursor.encode()), None)
    });
    render(&views::AdminUnsigned {
        admin: header,
        campaign_id: campaign.id.clone(),
        campaign_title: campaign.title.clone(),
        confirmation: views::confirmation(query.selesai.as_deref()),
        errors: FormErrors::none(),
        area: asked.filter.area_code.to_string(),
        trail: pickers.trail,
        children: pickers.children,
        children_level: pickers.children_level,
        agencies: pickers.agencies,
        agency: asked.filter.agency.clone().unwrap_or_default(),
        types: types(asked.filter.employee_type.as_deref()),
        q: query.q.clone().unwrap_or_default(),
        total: pickers.total,
        rows,
        first_href: asked
            .cursor
            .is_some()
            .then(|| href(&campaign.id, &query, None, None)),
        next_href,
        csv_href: href(&campaign.id, &query, None, Some("csv")),
        xlsx_href: href(&campaign.id, &query, None, Some("xlsx")),
        csrf: csrf.0,
    })
}

fn path_id(req: &HttpRequest) -> String {
    req.match_info().get("id").unwrap_or("").to_string()
}

fn types(selected: Option<&str>) -> Vec<Choice> {
    EmployeeType::ALL
        .iter()
        .map(|t| Choice {
            value: t.as_str().to_string(),
            label: t.as_str().to_string(),
            selected: selected.is_some_and(|s| s.eq_ignore_ascii_case(t.as_str())),
        })
        .collect()
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
    let mut q = query.into_inner();
    if let Some(elsewhere) = unseal(&state, &me, &campaign_id, &mut q, Some(how))? {
        return Ok(elsewhere);
    }
    let scope = me.scope.clone();
    let (campaign, filter, employees, names) = audited(
        &state,
        &req,
        &me,
        "lihat_belum_menandatangani",
        campaign_id.clone(),
        how.to_string(),
        move |conn| {
            let campaign = campaigns::find(conn, &campaign_id)?
                .filter(|c| campaign_visible(&scope, c))
                .ok_or_else(no_such_campaign)?;
            let asked = asked(&scope, &campaign, &q)?;
            // The whole list, read in chunks through the same scoped, keyset query as the page.
            let mut all: Vec<Employee> = Vec::new();
            let mut cursor = asked.cursor.clone();
            loop {
                let chunk = admin_lists::unsigned_page(
                    conn,
                    &campaign.id,
                    &scope,
                    &asked.filter,
                    asked.search.as_ref(),
                    cursor.as_ref(),
                    FILE_CHUNK,
                )?;
                let full = chunk.len() as i64 == FILE_CHUNK;
                cursor = chunk.last().map(|e| EmployeeCursor {
                    village_code: e.village_code.to_string(),
                    id: e.id,
                });
                all.extend(chunk);
                if !full {
                    break;
                }
            }
            let names = export::village_names(conn, &all)?;
            Ok((campaign, asked.filter, all, names))
        },
    )
    .await?;
    let name = format!(
        "belum-menandatangani-{}-{}.{how}",
        campaign.id,
        if filter.area_code.is_empty() {
            "nasional"
        } else {
            filter.area_code.as_str()
        }
    );
    let (content_type, body) = if how == "csv" {
        let mut out = Vec::new();
        export::write_csv_file(&mut out, &employees, &names).map_err(WebError::internal)?;
        ("text/csv; charset=utf-8", out)
    } else {
        let title = format!("Belum menandatangani: {}", campaign.title);
        let bytes = export::xlsx_bytes(&employees, &names, &title).map_err(WebError::internal)?;
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
