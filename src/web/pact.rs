//! Reading and signing the pact: the employee's campaigns, and the signature itself.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::answers;
use super::pages::{self, render, render_with_status};
use super::security::{check_csrf, CsrfToken};
use super::views::{CampaignView, DocumentView, OwnCertificate};
use super::{rfc3339, AppState, PageError, SignedInEmployee, WebError};
use crate::db::campaigns;
use crate::db::certificates;
use crate::db::employees::Employee;
use crate::db::{areas, now, Db, DbError};
use crate::domain::{IndonesianZone, PactDocument};
use crate::signing::{issue_certificate, IssueError, SigningRequest};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/me", web::get().to(api_me))
        .route(
            "/api/v1/campaigns/{campaign_id}/signatures",
            web::post().to(api_sign),
        )
        .route("/pakta", web::get().to(campaigns_page))
        .route("/pakta/{campaign_id}", web::get().to(sign_page))
        .route("/pakta/{campaign_id}", web::post().to(sign_submit));
}

/// A campaign as one employee sees it.
pub struct SignerCampaign {
    pub campaign: CampaignView,
    pub document: DocumentView,
    pub parsed: PactDocument,
    pub certificate: Option<OwnCertificate>,
    pub open: bool,
}

fn campaigns_for(db: &Db, employee: &Employee) -> Result<Vec<SignerCampaign>, DbError> {
    let mut conn = db.read()?;
    let village = &employee.village_code;
    let at = now();
    let mut views = Vec::new();
    for campaign in campaigns::covering(&mut conn, village)? {
        let document = campaigns::current_document(&mut conn, &campaign.id)?;
        let Ok(parsed) = PactDocument::parse(&document.body) else {
            continue;
        };
        let certificate = certificates::standing(&mut conn, &campaign.id, employee.id)?;
        let open = campaign.is_open_at(at);
        views.push(SignerCampaign {
            campaign: campaign.into(),
            document: document.into(),
            parsed,
            certificate: certificate.map(OwnCertificate::from),
            open,
        });
    }
    Ok(views)
}

async fn api_me(
    state: web::Data<AppState>,
    me: SignedInEmployee,
) -> Result<HttpResponse, WebError> {
    let db = state.db.clone();
    let caches = state.caches.clone();
    let employee = me.employee.clone();
    let (views, area) = web::block(move || -> Result<_, DbError> {
        let views = campaigns_for(&db, &employee)?;
        let area = areas::describe(&mut *db.read()?, &caches.area_names, &employee.village_code)?;
        Ok((views, area))
    })
    .await??;
    let campaigns = views
        .iter()
        .map(|v| answers::MeCampaign {
            id: &v.campaign.id,
            title: &v.campaign.title,
            scope: v.campaign.scope.as_str(),
            opens_at: rfc3339(v.campaign.opens_at),
            closes_at: rfc3339(v.campaign.closes_at),
            open: v.open,
            document: answers::MeDocument {
                version: v.document.version,
                title: v.parsed.title(),
                text: &v.document.body,
                commitments: v.parsed.commitments().collect(),
            },
            document_sha256: &v.document.sha256,
            certificate_id: v.certificate.as_ref().map(|c| c.id.as_str()),
        })
        .collect();
    Ok(HttpResponse::Ok().json(answers::Me {
        employee: answers::MeEmployee::of(&me.employee, area),
        campaigns,
    }))
}

/// Maps refusals of the signing core to what the employee is told.
fn refusal(e: IssueError) -> WebError {
    match e {
        IssueError::CampaignNotFound => WebError::NotFound(e.to_string()),
        IssueError::OutOfScope => WebError::Forbidden(e.to_string()),
        IssueError::NotOpen | IssueError::DocumentOutdated => WebError::Conflict(e.to_string()),
        IssueError::NameMismatch => WebError::bad("full_name", e),
        IssueError::Unprintable { field, .. } => WebError::bad(field, e),
        IssueError::Db(db) => WebError::internal(db),
    }
}

async fn sign(
    state: &web::Data<AppState>,
    employee: Employee,
    campaign_id: String,
    typed_name: String,
    document_sha256: String,
) -> Result<crate::signing::Issued, WebError> {
    let state = state.clone();
    web::block(move || {
        let request = SigningRequest {
            employee: &employee,
            campaign_id: &campaign_id,
            typed_name: &typed_name,
            document_sha256: &document_sha256,
        };
        issue_certificate(&state.db, &state.key, &request, now())
    })
    .await?
    .map_err(refusal)
}

#[derive(Deserialize)]
struct SignBody {
    full_name: String,
    document_sha256: String,
    accept: bool,
}

async fn api_sign(
    state: web::Data<AppState>,
    me: SignedInEmployee,
    path: web::Path<String>,
    body: web::Json<SignBody>,
) -> Result<HttpResponse, WebError> {
    let body = body.into_inner();
    if !body.accept {
        return Err(WebError::bad(
            "accept",
            "Anda harus menyetujui seluruh isi dokumen (accept: true)",
        ));
    }
    let issued = sign(
        &state,
        me.employee,
        path.into_inner(),
        body.full_name,
        body.document_sha256,
    )
    .await?;
    let c = &issued.certificate;
    let verify_url =
        crate::certificate::link_for(&state.base_url, c).map_err(WebError::internal)?;
    let status = if issued.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(answers::Signed {
        certificate_id: &c.id,
        certificate_number: c.serial,
        verify_url,
        pdf_url: format!("{}/api/v1/certificates/{}.pdf", state.base_url, c.id),
    }))
}

async fn campaigns_page(
    state: web::Data<AppState>,
    me: Option<SignedInEmployee>,
    csrf: CsrfToken,
) -> Result<HttpResponse, PageError> {
    let Some(me) = me else {
        return Err(WebError::Unauthorized.into());
    };
    let db = state.db.clone();
    let employee = me.employee.clone();
    let views = web::block(move || campaigns_for(&db, &employee)).await??;
    let zone = IndonesianZone::of_province(&me.employee.village_code);
    let date =
        |at: i64| zone.format_date(chrono::DateTime::from_timestamp(at, 0).unwrap_or_default());
    let items = views
        .iter()
        .map(|v| pages::CampaignItem {
            id: v.campaign.id.clone(),
            title: v.campaign.title.clone(),
            period: format!(
                "{} s.d. {}",
                date(v.campaign.opens_at),
                date(v.campaign.closes_at)
            ),
            open: v.open,
            certificate_id: v.certificate.as_ref().map(|c| c.id.to_string()),
        })
        .collect();
    render(&pages::Campaigns {
        name: me.employee.full_name.clone(),
        items,
        csrf: csrf.0,
    })
}

async fn load_view(
    state: &web::Data<AppState>,
    employee: &Employee,
    campaign_id: &str,
) -> Result<SignerCampaign, PageError> {
    let db = state.db.clone();
    let employee = employee.clone();
    let views = web::block(move || campaigns_for(&db, &employee)).await??;
    views
        .into_iter()
        .find(|v| v.campaign.id == campaign_id)
        .ok_or_else(|| {
            WebError::NotFound(
                "penandatanganan tidak ditemukan atau tidak berlaku untuk Anda".into(),
            )
            .into()
        })
}

fn sign_form(
    view: &SignerCampaign,
    employee: &Employee,
    csrf: &CsrfToken,
    typed: &str,
    error: Option<String>,
    ticked: Vec<usize>,
) -> pages::SignForm {
    pages::SignForm {
        campaign_id: view.campaign.id.clone(),
        campaign_title: view.campaign.title.clone(),
        document_title: view.parsed.title().to_string(),
        blocks: view.parsed.blocks().to_vec(),
        document_sha256: view.document.sha256.clone(),
        roster_name: employee.full_name.clone(),
        typed_name: typed.to_string(),
        open: view.open,
        certificate_id: view.certificate.as_ref().map(|c| c.id.to_string()),
        error,
        ticked,
        csrf: csrf.0.clone(),
    }
}

async fn sign_page(
    state: web::Data<AppState>,
    me: Option<SignedInEmployee>,
    csrf: CsrfToken,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let Some(me) = me else {
        return Err(WebError::Unauthorized.into());
    };
    let view = load_view(&state, &me.employee, &path).await?;
    render(&sign_form(&view, &me.employee, &csrf, "", None, Vec::new()))
}

async fn sign_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: Option<SignedInEmployee>,
    csrf: CsrfToken,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let Some(me) = me else {
        return Err(WebError::Unauthorized.into());
    };
    check_csrf(&req, form.get("csrf").map_or("", String::as_str))?;
    let view = load_view(&state, &me.employee, &path).await?;
    let typed = form.get("full_name").cloned().unwrap_or_default();
    let total = view.parsed.commitments().count();
    let ticked: Vec<usize> = (0..total)
        .filter(|i| form.contains_key(&format!("c{i}")))
        .collect();
    let fail = |status, message: String| {
        Ok(render_with_status(
            status,
            &sign_form(
                &view,
                &me.employee,
                &csrf,
                &typed,
                Some(message),
                ticked.clone(),
            ),
        ))
    };
    if ticked.len() < total {
        let missing: Vec<String> = (0..total)
            .filter(|i| !ticked.contains(i))
            .map(|i| (i + 1).to_string())
            .collect();
        return fail(
            StatusCode::BAD_REQUEST,
            format!(
                "Centang setiap butir pernyataan sebelum menandatangani. Butir yang belum dicentang: {}.",
                missing.join(", ")
            ),
        );
    }
    let sha = form.get("document_sha256").cloned().unwrap_or_default();
    match sign(
        &state,
        me.employee.clone(),
        view.campaign.id.clone(),
        typed.clone(),
        sha,
    )
    .await
    {
        Ok(issued) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/sertifikat/{}", issued.certificate.id),
            ))
            .finish()),
        Err(WebError::Internal(e)) => Err(WebError::Internal(e).into()),
        Err(e) => {
            let status = actix_web::ResponseError::status_code(&e);
            fail(status, e.to_string())
        }
    }
}
