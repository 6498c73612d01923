//! The pages, rendered on the server from `templates/` (no script needed to sign).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

use super::{PageError, WebError};
use crate::domain::Block;

pub fn render_with_status(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Terjadi gangguan pada server; silakan coba lagi beberapa saat lagi.")
        }
    }
}

pub fn render(page: &impl Template) -> Result<HttpResponse, PageError> {
    let html = page
        .render()
        .map_err(|e| PageError(WebError::internal(e)))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct Home;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignIn {
    pub id: String,
    pub error: Option<String>,
    pub csrf: String,
    /// Offer "Masuk dengan SSO" (an identity provider is configured).
    pub sso: bool,
}

#[derive(Template)]
#[template(path = "enter_code.html")]
pub struct EnterCode {
    pub id: String,
    pub notice: String,
    /// Who helps when no code arrives (`--helpdesk`), shown on every state of the page.
    pub helpdesk: String,
    pub error: Option<String>,
    pub csrf: String,
}

pub struct CampaignItem {
    pub id: String,
    pub title: String,
    pub period: String,
    pub open: bool,
    pub certificate_id: Option<String>,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
pub struct Campaigns {
    pub name: String,
    pub items: Vec<CampaignItem>,
    pub csrf: String,
}

/// A document block flattened for the template; commitments carry their checkbox index.
pub struct FormBlock {
    pub kind: &'static str,
    pub text: String,
    pub index: usize,
}

#[derive(Template)]
#[template(path = "sign_form.html")]
pub struct SignForm {
    pub campaign_id: String,
    pub campaign_title: String,
    pub document_title: String,
    pub blocks: Vec<Block>,
    pub document_sha256: String,
    pub roster_name: String,
    pub typed_name: String,
    pub open: bool,
    pub certificate_id: Option<String>,
    pub error: Option<String>,
    /// Commitments already ticked, kept when the form comes back with an error.
    pub ticked: Vec<usize>,
    pub csrf: String,
}

impl SignForm {
    pub fn form_blocks(&self) -> Vec<FormBlock> {
        let mut n = 0;
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Heading(t) => FormBlock {
                    kind: "heading",
                    text: t.clone(),
                    index: 0,
                },
                Block::Paragraph(t) => FormBlock {
                    kind: "paragraph",
                    text: t.clone(),
                    index: 0,
                },
                Block::Commitment(t) => {
                    n += 1;
                    FormBlock {
                        kind: "commitment",
                        text: t.clone(),
                        index: n - 1,
                    }
                }
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "certificate_issued.html")]
pub struct CertificateIssued {
    pub id: String,
    pub serial: String,
    pub name: String,
    pub id_label: String,
    pub id_value: String,
    pub signed_at: String,
    pub verify_path: String,
    pub link: String,
    pub qr_svg: String,
}

/// What a citizen reads under the verdict, and the technical facts kept behind a disclosure.
pub struct VerifyDetails {
    pub serial: String,
    pub name: String,
    pub id_label: String,
    pub id_value: String,
    pub position: String,
    pub agency: String,
    pub work_area: String,
    /// The title of the signed document (the campaign's title).
    pub document_title: String,
    /// The issuing authority, once campaigns name one.
    pub issuing_authority: Option<String>,
    /// In the work area's own zone: "Rabu, 15 November 2023 pukul 10.30 WITA".
    pub signed_at: String,
    pub revoked_on: Option<String>,
    /// The public category only; the admin's note is never shown.
    pub revocation_reason: Option<String>,
    pub document_sha256: String,
    pub key_id: String,
    /// The certificate's place in the public log and how its inclusion proof fared.
    pub log: String,
}

/// The verification page kept by the service worker for use without signal.
#[derive(Template)]
#[template(path = "verify_offline.html")]
pub struct VerifyOffline {
    pub report_url: Option<String>,
}

/// One verdict: the server's, as the page's heading, in its colour.
#[derive(Template)]
#[template(path = "verify.html")]
pub struct Verify {
    pub id: String,
    /// `genuine`, `revoked`, `tampered` or `not_found`: the colour and what periksa.js reads.
    pub verdict: String,
    /// ASLI, DICABUT, TIDAK SAH or TIDAK DITEMUKAN.
    pub heading: String,
    pub problem: Option<String>,
    pub checked_claim: bool,
    pub uploaded: bool,
    pub details: Option<VerifyDetails>,
    pub report_url: Option<String>,
    /// Why the signer's PDF download was refused, when this page answers one.
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "upload.html")]
pub struct Upload {
    pub error: Option<String>,
    pub csrf: String,
}

pub struct CoverageRow {
    pub name: String,
    pub href: Option<String>,
    /// "Kecamatan", …, for area rows; empty for other groupings.
    pub level: &'static str,
    /// Exact counts, or "< 5" on public pages where a count is small enough to point at a person.
    pub roster: String,
    pub signed: String,
    /// `None` where a count behind it is hidden.
    pub percent: Option<String>,
    pub tone: &'static str,
}

/// A sortable column's header: its link (works without script) and its `aria-sort`.
pub struct SortHeader {
    pub label: &'static str,
    pub href: String,
    pub aria_sort: &'static str,
    pub numeric: bool,
}

/// One step of the coverage breadcrumb.
pub struct Crumb {
    pub name: String,
    pub href: String,
    pub level: &'static str,
}

#[derive(Template)]
#[template(path = "coverage.html")]
pub struct Coverage {
    pub campaign_title: String,
    pub area_name: String,
    pub level: &'static str,
    /// From the nation down to the area itself.
    pub breadcrumb: Vec<Crumb>,
    pub total: CoverageRow,
    pub children_level: &'static str,
    pub children: Vec<CoverageRow>,
    pub children_headers: Vec<SortHeader>,
    pub bars_svg: String,
    pub by_type: Vec<CoverageRow>,
    pub by_agency: Vec<CoverageRow>,
    pub agency_headers: Vec<SortHeader>,
    pub daily_svg: String,
    /// The last day of the series is today, so its figure is still growing.
    pub today_partial: bool,
    pub lowest_first: String,
    pub live_link: String,
    /// Large type filling the screen, for a projector (`?layar=proyektor`).
    pub projector: bool,
    /// The same page in the other mode.
    pub mode_link: String,
    /// Counts below this are shown as "< N".
    pub small_threshold: i64,
    /// "23 November 2026 pukul 10.30 WITA"
    pub as_of: String,
}

#[derive(Template)]
#[template(path = "live.html")]
pub struct Live {
    pub campaign_title: String,
    pub area_name: String,
    pub signed: String,
    pub roster: String,
    pub percent: String,
    /// The percentage with a decimal point, for CSS.
    pub bar_width: String,
    pub stream: String,
    pub sign_link_short: String,
    /// "10.30 WITA"
    pub updated: String,
    pub qr_svg: String,
}

/// The strip at the top of every admin page: who is signed in and for which scope.
pub struct AdminHeader {
    pub name: String,
    pub role: &'static str,
    pub scope: String,
}

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
pub struct AdminSignIn {
    pub email: String,
    pub error: Option<String>,
    pub csrf: String,
    /// Offer "Masuk dengan SSO" (configured, and allowed for admins).
    pub sso: bool,
}

#[derive(Template)]
#[template(path = "admin/code.html")]
pub struct AdminCode {
    pub email: String,
    pub notice: String,
    pub error: Option<String>,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "admin/roster.html")]
pub struct AdminRoster {
    pub admin: AdminHeader,
    pub scope: String,
    pub columns: String,
    pub report: Option<crate::roster::ImportReport>,
    pub problems: Vec<String>,
    pub problem_count: usize,
    pub error: Option<String>,
    pub csrf: String,
    /// Imports inside the admin's scope not finished yet: being written, or stopped by a crash
    /// and waiting for a node to continue them.
    pub running: Vec<RunningImport>,
}

/// An unfinished roster import as the upload page shows it.
pub struct RunningImport {
    pub started: String,
    pub progressed: String,
    pub rows_done: i64,
    pub rows_total: i64,
}

#[derive(Template)]
#[template(path = "admin/totp.html")]
pub struct AdminTotp {
    pub admin: AdminHeader,
    pub enabled: bool,
    pub secret: String,
    pub qr_svg: String,
    pub error: Option<String>,
    pub csrf: String,
}
