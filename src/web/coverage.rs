//! Public coverage: how far signing has got, for the nation and every area below it, as JSON, as a
//! drill-down dashboard and as a live counter for the big screen at a ceremony.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

mod public;

use self::public::{Choices, Order, SmallCounts, SortKey};
use super::answers;
use super::charts::{self, Bar};
use super::pages::{self, render};
use super::views::CampaignView;
use super::{AppState, PageError, WebError};
use crate::certificate::QrMatrix;
use crate::db::campaigns;
use crate::db::coverage::{self, Tally};
use crate::db::{areas, Db};
use crate::domain::{AreaCode, AreaLevel, EmployeeType, IndonesianZone};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/coverage", web::get().to(api_coverage))
        .route("/cakupan/{campaign_id}", web::get().to(dashboard))
        .route("/live/{campaign_id}/{area}", web::get().to(live_page))
        .route(
            "/live/{campaign_id}/{area}/stream",
            web::get().to(live_stream),
        );
}

/// One child area in a drill-down.
pub struct ChildRow {
    pub code: String,
    pub name: String,
    pub tally: Tally,
}

/// One step of the way down from the nation: the nation's code is "".
pub struct CrumbView {
    pub code: String,
    pub name: String,
    /// The level's label, "Nasional" for the nation.
    pub level: &'static str,
}

/// Coverage of one area for one campaign, with the names a reader needs.
pub struct CoverageView {
    pub campaign: CampaignView,
    /// `None` for the nation.
    pub area: Option<AreaCode>,
    pub area_name: String,
    pub level: &'static str,
    /// From the nation down to the area itself.
    pub breadcrumb: Vec<CrumbView>,
    pub totals: Tally,
    pub children: Vec<ChildRow>,
    pub children_level: Option<&'static str>,
    pub by_agency: Vec<(String, Tally)>,
    pub by_type: Vec<(String, Tally)>,
    /// (day as `coverage::day_of` counts it, signings).
    pub daily: Vec<(i64, i64)>,
}

fn not_found(message: &str) -> WebError {
    WebError::NotFound(message.into())
}

/// Parses the area of a request: absent, empty or "nasional" is the campaign's own scope.
fn requested_area(
    campaign: &CampaignView,
    raw: Option<&str>,
) -> Result<Option<AreaCode>, WebError> {
    let raw = raw
        .map(str::trim)
        .filter(|r| !r.is_empty() && *r != "nasional" && *r != "ID");
    let code = match raw {
        Some(r) => Some(AreaCode::parse(r).map_err(|e| WebError::bad("area", e))?),
        None => campaign.scope.area().cloned(),
    };
    match &code {
        Some(c) if !campaign.covers(c) => Err(not_found(
            "Wilayah ini berada di luar cakupan penandatanganan.",
        )),
        None if !campaign.scope.is_national() => {
            Err(not_found("penandatanganan ini tidak berskala nasional"))
        }
        _ => Ok(code),
    }
}

/// "16 Nov": short enough for a chart axis.
fn date_label(day: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
    ];
    let at = chrono::DateTime::from_timestamp(day * 86_400, 0).unwrap_or_default();
    use chrono::Datelike;
    format!("{} {}", at.day(), MONTHS[at.month0() as usize])
}

pub fn load(db: &Db, campaign_id: &str, area: Option<&str>) -> Result<CoverageView, WebError> {
    let mut conn = db.read()?;
    let campaign: CampaignView = campaigns::find(&mut conn, campaign_id)?
        .ok_or_else(|| not_found("penandatanganan tidak ditemukan"))?
        .into();
    let area = requested_area(&campaign, area)?;
    let mut breadcrumb = vec![CrumbView {
        code: String::new(),
        name: "Indonesia".to_string(),
        level: "Nasional",
    }];
    let (area_name, level) = match &area {
        Some(code) => {
            let lineage = areas::lineage(&mut conn, code)?;
            if lineage.last().map(|a| a.code.as_str()) != Some(code.as_str()) {
                return Err(not_found(
                    "kode wilayah tidak ada dalam data wilayah Kemendagri",
                ));
            }
            breadcrumb.extend(lineage.iter().map(|a| CrumbView {
                code: a.code.clone(),
                name: a.name.clone(),
                level: AreaLevel::from_i32(a.level).map_or("Nasional", AreaLevel::label),
            }));
            (
                lineage.last().map(|a| a.name.clone()).unwrap_or_default(),
                code.level().label(),
            )
        }
        None => ("Indonesia".to_string(), "Nasional"),
    };
    let key = area.as_ref().map(|a| a.as_str()).unwrap_or("");
    let counts = coverage::area(&mut conn, &campaign.id, key)?;
    let children: Vec<ChildRow> = if area
        .as_ref()
        .is_some_and(|a| a.level() == AreaLevel::Village)
    {
        Vec::new()
    } else {
        areas::children(&mut conn, area.as_ref())?
            .into_iter()
            .map(|a| ChildRow {
                tally: counts.children.get(&a.code).copied().unwrap_or_default(),
                code: a.code,
                name: a.name,
            })
            .collect()
    };
    let children_level = match &area {
        None => Some(AreaLevel::Province.label()),
        Some(a) => a.level().child().map(AreaLevel::label),
    };
    let by_type = EmployeeType::ALL
        .iter()
        .map(|t| {
            (
                t.as_str().to_string(),
                counts.by_type.get(t.as_str()).copied().unwrap_or_default(),
            )
        })
        .collect();
    let daily = coverage::daily(&mut conn, &campaign.id, key)?;
    Ok(CoverageView {
        campaign,
        area,
        area_name,
        level,
        breadcrumb,
        totals: counts.total,
        children,
        children_level,
        by_agency: counts.by_agency.into_iter().collect(),
        by_type,
        daily,
    })
}

#[derive(Deserialize)]
struct CoverageQuery {
    campaign: String,
    area: Option<String>,
}

/// Aggregates only: never a name or an id of a person.
async fn api_coverage(
    state: web::Data<AppState>,
    query: web::Query<CoverageQuery>,
) -> Result<HttpResponse, WebError> {
    let db = state.db.clone();
    let query = query.into_inner();
    let view = web::block(move || load(&db, &query.campaign, query.area.as_deref())).await??;
    let answer = answers::Coverage {
        campaign: answers::CampaignRef::of(&view.campaign),
        area: answers::AreaRef {
            code: view.area.as_ref().map(|a| a.as_str()),
            name: &view.area_name,
            level: view.level,
        },
        breadcrumb: view
            .breadcrumb
            .iter()
            .map(|c| answers::Crumb {
                code: &c.code,
                name: &c.name,
            })
            .collect(),
        totals: (&view.totals).into(),
        children: view
            .children
            .iter()
            .map(|c| {
                answers::Named::new(
                    answers::ChildArea {
                        code: &c.code,
                        name: &c.name,
                    },
                    &c.tally,
                )
            })
            .collect(),
        by_agency: view
            .by_agency
            .iter()
            .map(|(agency, t)| answers::Named::new(answers::AgencyName { agency }, t))
            .collect(),
        by_employee_type: view
            .by_type
            .iter()
            .map(|(kind, t)| {
                answers::Named::new(
                    answers::TypeName {
                        employee_type: kind,
                    },
                    t,
                )
            })
            .collect(),
        daily: view
            .daily
            .iter()
            .map(|(d, n)| answers::Day {
                date: date_label(*d),
                signings: *n,
            })
            .collect(),
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(answer))
}

#[derive(Deserialize)]
struct DashboardQuery {
    area: Option<String>,
    /// The areas table: nama (default), pegawai, sudah, persen
    urut: Option<String>,
    /// naik (default) or turun
    arah: Option<String>,
    /// The agencies table, the same keys.
    urut_instansi: Option<String>,
    arah_instansi: Option<String>,
    /// "proyektor": large type filling the screen.
    layar: Option<String>,
}

/// The zone a view is read in: the area's own, or WITA (the middle zone) for the nation.
fn zone_of(area: &str) -> IndonesianZone {
    if area.is_empty() || area == "nasional" {
        IndonesianZone::Wita
    } else {
        IndonesianZone::of_province(area)
    }
}

/// "10.30 WITA", the time shown beside a live figure.
fn clock(area: &str) -> String {
    let long = zone_of(area).format_long(chrono::Utc::now());
    long.rsplit("pukul ").next().unwrap_or_default().to_string()
}

async fn dashboard(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<DashboardQuery>,
) -> Result<HttpResponse, PageError> {
    let db = state.db.clone();
    let campaign_id = path.into_inner();
    let q = query.into_inner();
    let area = q.area.clone();
    let mut view = web::block(move || load(&db, &campaign_id, area.as_deref())).await??;
    let small = SmallCounts::hidden_below(state.small_count_threshold);
    let here = view
        .area
        .as_ref()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    let choices = Choices {
        area: here.clone(),
        areas: Order::parse(q.urut.as_deref(), q.arah.as_deref()),
        agencies: Order::parse(q.urut_instansi.as_deref(), q.arah_instansi.as_deref()),
        projector: q.layar.as_deref() == Some("proyektor"),
    };
    choices
        .areas
        .sort(&mut view.children, small, |c| c.name.as_str(), |c| &c.tally);
    choices
        .agencies
        .sort(&mut view.by_agency, small, |a| a.0.as_str(), |a| &a.1);
    let base = format!("/cakupan/{}", view.campaign.id);
    // A link into another area starts that area's view afresh, in the same screen mode.
    let link = |code: &str| {
        Choices {
            area: code.to_string(),
            areas: Order::parse(None, None),
            agencies: Order::parse(None, None),
            projector: choices.projector,
        }
        .href(&base)
    };
    let headers = |first: &'static str, order: Order, set: fn(&mut Choices, Order)| {
        SortKey::ALL
            .iter()
            .zip([first, "Pegawai", "Sudah", "%"])
            .map(|(&column, label)| {
                let mut next = choices.clone();
                set(&mut next, order.clicked(column));
                pages::SortHeader {
                    label,
                    href: next.href(&base),
                    aria_sort: order.aria(column),
                    numeric: column != SortKey::Name,
                }
            })
            .collect::<Vec<_>>()
    };
    let children_level = view.children_level.unwrap_or("");
    let bars: Vec<Bar> = view
        .children
        .iter()
        .map(|c| Bar {
            label: c.name.clone(),
            percent: small.percent(&c.tally).map(|_| c.tally.percent()),
        })
        .collect();
    let row =
        |name: &str, level: &'static str, t: &Tally, href: Option<String>| pages::CoverageRow {
            name: name.to_string(),
            href,
            level,
            roster: small.count(t.roster),
            signed: small.count(t.signed),
            percent: small.percent(t),
            tone: charts::tone(t.percent()),
        };
    let lowest_first = {
        let mut next = choices.clone();
        next.areas = Order::parse(Some("persen"), Some("naik"));
        next.href(&base)
    };
    let mode_link = {
        let mut next = choices.clone();
        next.projector = !choices.projector;
        next.href(&base)
    };
    let today_partial = view
        .daily
        .last()
        .is_some_and(|(day, _)| *day == coverage::day_of(crate::db::now()));
    let daily: Vec<(String, i64)> = view
        .daily
        .iter()
        .map(|(d, n)| (date_label(*d), *n))
        .collect();
    render(&pages::Coverage {
        campaign_title: view.campaign.title.clone(),
        area_name: view.area_name.clone(),
        level: view.level,
        breadcrumb: view
            .breadcrumb
            .iter()
            .map(|c| pages::Crumb {
                name: c.name.clone(),
                href: link(&c.code),
                level: c.level,
            })
            .collect(),
        total: row(&view.area_name, view.level, &view.totals, None),
        children_level,
        children: view
            .children
            .iter()
            .map(|c| row(&c.name, children_level, &c.tally, Some(link(&c.code))))
            .collect(),
        children_headers: headers(children_level, choices.areas, |c, o| c.areas = o),
        bars_svg: if bars.is_empty() {
            String::new()
        } else {
            charts::bars(&bars)
        },
        by_type: view
            .by_type
            .iter()
            .map(|(k, t)| row(k, "", t, None))
            .collect(),
        by_agency: view
            .by_agency
            .iter()
            .map(|(a, t)| row(a, "", t, None))
            .collect(),
        agency_headers: headers("Instansi", choices.agencies, |c, o| c.agencies = o),
        daily_svg: charts::daily_line(&daily, today_partial),
        today_partial,
        lowest_first,
        live_link: format!(
            "/live/{}/{}",
            view.campaign.id,
            if here.is_empty() { "nasional" } else { &here }
        ),
        projector: choices.projector,
        mode_link,
        small_threshold: state.small_count_threshold,
        as_of: zone_of(&here).format_long(chrono::Utc::now()),
    })
}

async fn live_page(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (campaign_id, area) = path.into_inner();
    let db = state.db.clone();
    let (id, a) = (campaign_id.clone(), area.clone());
    let view = web::block(move || load(&db, &id, Some(&a))).await??;
    let sign_link = format!("{}/masuk", state.base_url);
    let qr = QrMatrix::encode(&sign_link).map_err(WebError::internal)?;
    let small = SmallCounts::hidden_below(state.small_count_threshold);
    let t = view.totals;
    render(&pages::Live {
        campaign_title: view.campaign.title.clone(),
        area_name: view.area_name.clone(),
        signed: small.count(t.signed),
        roster: small.count(t.roster),
        percent: small.percent(&t).unwrap_or_else(|| "–".into()),
        bar_width: format!("{:.1}", small.percent(&t).map_or(0.0, |_| t.percent())),
        stream: format!("/live/{campaign_id}/{area}/stream"),
        sign_link_short: sign_link
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_string(),
        updated: clock(&area),
        qr_svg: qr.to_svg(),
    })
}

/// Server-sent events: the totals, sent at once and then whenever they change. Every screen on
/// the same (campaign, area) shares one poller (`live::LiveHub`); a comment line goes out when
/// nothing changed for a while, so a screen that is gone is noticed and its place released.
async fn live_stream(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let Some(permit) = state.live.admit() else {
        return Err(WebError::Overloaded {
            message: "Terlalu banyak tampilan langsung terbuka di server ini; \
                      halaman akan mencoba lagi sebentar lagi."
                .into(),
            retry_after_secs: 30,
        });
    };
    let (campaign_id, area) = path.into_inner();
    let db = state.db.clone();
    let (id, a) = (campaign_id.clone(), area.clone());
    // The full view once, to refuse an unknown campaign or area; then only the totals.
    let view = web::block(move || load(&db, &id, Some(&a))).await??;
    let key = view
        .area
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    let viewer = state.live.watch(&state.db, &campaign_id, &key, permit);
    let keep_alive = state.live.settings().keep_alive;
    let small = SmallCounts::hidden_below(state.small_count_threshold);
    let stream = futures_util::stream::unfold((viewer, false), move |(mut viewer, sent)| {
        let area = area.clone();
        async move {
            // The current totals first (once the poller has read them), then each change.
            let news = if !sent && viewer.totals.borrow().is_some() {
                true
            } else {
                match tokio::time::timeout(keep_alive, viewer.totals.changed()).await {
                    Ok(Ok(())) => true,
                    Ok(Err(_)) => return None,
                    Err(_) => false,
                }
            };
            let current = *viewer.totals.borrow_and_update();
            let (chunk, sent) = match current {
                Some(t) if news => (
                    format!(
                        "data: {}\n\n",
                        serde_json::json!({
                            "signed": small.count(t.signed),
                            "roster": small.count(t.roster),
                            "percent": small.percent(&t).unwrap_or_else(|| "–".into()),
                            "updated": clock(&area),
                        })
                    ),
                    true,
                ),
                _ => (": tetap terhubung\n\n".to_string(), sent),
            };
            Some((
                Ok::<_, actix_web::Error>(web::Bytes::from(chunk)),
                (viewer, sent),
            ))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        // Compression would hold events back in its buffer.
        .insert_header(actix_web::http::header::ContentEncoding::Identity)
        .streaming(stream))
}
