//! What admin pages show: the page structs of the admin site, the error summary of its forms
//! and the confirmations after an action.

use actix_web::http::StatusCode;
use actix_web::ResponseError;
use askama::Template;

use crate::db::admins::AdminRow;
use crate::web::pages::AdminHeader;
use crate::web::WebError;

/// The signed-in administrator as the admin pages use them. The row's TOTP secret stays behind:
/// pages only need to know whether an authenticator is set up.
#[derive(Debug, Clone)]
pub struct AdminView {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub authenticator_enabled: bool,
}

impl From<AdminRow> for AdminView {
    fn from(row: AdminRow) -> Self {
        Self {
            authenticator_enabled: row.totp_secret.is_some(),
            id: row.id,
            email: row.email,
            full_name: row.full_name,
        }
    }
}

/// One problem with a submitted form, shown in the summary at the top (linking to the field) and
/// next to the field itself.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The problems of one submitted form, in the order of its fields (the GOV.UK error summary).
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    pub fn none() -> Self {
        Self::default()
    }

    /// The form's problem as a refusal gives it: a field's own message goes to that field, any
    /// other refusal (outside the scope, a conflict) to `fallback`, the field the form asks for
    /// first.
    pub fn from_refusal(e: &WebError, fallback: &'static str) -> Self {
        let field = match e {
            WebError::BadRequest { field: Some(f), .. } => f,
            _ => fallback,
        };
        Self(vec![FieldError {
            field,
            message: capitalised(&e.to_string()),
        }])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The message of a field, if it has one.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.of(field).is_some()
    }
}

/// Refusals that a form answers with itself, kept as the admin typed it; anything else (a fault
/// of the server) is answered by the error page.
pub fn is_refusal(e: &WebError) -> bool {
    matches!(
        e,
        WebError::BadRequest { .. }
            | WebError::Forbidden(_)
            | WebError::NotFound(_)
            | WebError::Conflict(_)
    )
}

pub fn status_of(e: &WebError) -> StatusCode {
    e.status_code()
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(chars.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

/// The confirmation a page shows after a redirect (`?selesai=…`): only these fixed texts, so a
/// link cannot make an admin page say anything else.
pub fn confirmation(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "dicabut" => "Sertifikat telah dicabut. Halaman verifikasi kini menyatakannya DICABUT, dan pegawai telah diberi tahu melalui surel bila alamatnya tercatat.",
        "diundang" => "Undangan telah dikirim. Admin baru dapat masuk dengan alamat surel tersebut.",
        "dibuka" => "Penandatanganan telah dibuka. Daftar pegawai yang belum menandatangani tampil di bawah ini.",
        "autentikator" => "Autentikator telah aktif. Mulai sekarang, setiap kali masuk Anda memerlukan kode dari aplikasi autentikator.",
        "penerbit" => "Penerbit dan kop sertifikat telah disimpan.",
        _ => return None,
    })
}

/// A value as it goes into a link's query string: everything but letters, digits and `-._~`
/// percent-encoded.
pub fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A link to one choice of a picker.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct AdminCampaignItem {
    pub id: String,
    pub title: String,
    pub scope: String,
}

#[derive(Template)]
#[template(path = "admin/home.html")]
pub struct AdminHome {
    pub admin: AdminHeader,
    pub confirmation: Option<&'static str>,
    pub campaigns: Vec<AdminCampaignItem>,
    pub can_create_campaign: bool,
    pub csrf: String,
}

pub struct UnsignedRow {
    pub nip: String,
    pub name: String,
    pub agency: String,
    pub unit: String,
    pub village: String,
}

#[derive(Template)]
#[template(path = "admin/unsigned.html")]
pub struct AdminUnsigned {
    pub admin: AdminHeader,
    pub csrf: String,
    pub campaign_id: String,
    pub campaign_title: String,
    pub confirmation: Option<&'static str>,
    pub errors: FormErrors,
    /// The area shown, as code and "Kecamatan X" description; empty code for the nation.
    pub area: String,
    /// Links up the area tree, from the top the admin may see to the parent of `area`.
    pub trail: Vec<Choice>,
    /// The areas one level below, for the drill-down picker.
    pub children: Vec<Choice>,
    pub children_level: &'static str,
    pub agencies: Vec<Choice>,
    pub agency: String,
    pub types: Vec<Choice>,
    pub q: String,
    /// "18.210 pegawai belum menandatangani di wilayah ini" when known without counting rows.
    pub total: Option<String>,
    pub rows: Vec<UnsignedRow>,
    pub first_href: Option<String>,
    pub next_href: Option<String>,
    pub csv_href: String,
    pub xlsx_href: String,
}

#[derive(Template)]
#[template(path = "admin/new_campaign.html")]
pub struct AdminNewCampaign {
    pub admin: AdminHeader,
    pub errors: FormErrors,
    pub title: String,
    pub scope: String,
    pub opens: String,
    pub closes: String,
    pub csrf: String,
}

pub struct CertificateListRow {
    pub id: String,
    pub signer: String,
    pub identity: String,
    pub agency: String,
    pub signed_at: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "admin/certificates.html")]
pub struct AdminCertificates {
    pub admin: AdminHeader,
    pub csrf: String,
    pub errors: FormErrors,
    pub q: String,
    pub rows: Vec<CertificateListRow>,
    pub first_href: Option<String>,
    pub next_href: Option<String>,
}

pub struct AdminCertificateView {
    pub id: String,
    pub serial: i64,
    pub signer: String,
    pub identity: String,
    pub agency: String,
    pub unit: String,
    pub village_code: String,
    pub signed_at: String,
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/certificate.html")]
pub struct AdminCertificate {
    pub admin: AdminHeader,
    pub confirmation: Option<&'static str>,
    pub certificate: AdminCertificateView,
    pub reasons: Vec<(&'static str, &'static str)>,
    pub errors: FormErrors,
    pub reason: String,
    pub note: String,
    pub csrf: String,
}

pub struct TeamRow {
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub scope: String,
    pub agency: String,
    pub second_factor: bool,
}

/// What was typed into the invitation form, shown again when it is refused.
#[derive(Default)]
pub struct InvitationInput {
    pub full_name: String,
    pub email: String,
    pub role: String,
    pub scope: String,
    pub agency: String,
}

#[derive(Template)]
#[template(path = "admin/team.html")]
pub struct AdminTeam {
    pub admin: AdminHeader,
    pub confirmation: Option<&'static str>,
    pub errors: FormErrors,
    pub input: InvitationInput,
    pub rows: Vec<TeamRow>,
    pub roles: Vec<(&'static str, &'static str)>,
    pub csrf: String,
}

pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_role: String,
    pub action: String,
    pub refused: bool,
    pub target: String,
    pub detail: String,
    pub client_addr: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AdminAudit {
    pub admin: AdminHeader,
    pub errors: FormErrors,
    pub zone: &'static str,
    pub actions: Vec<Choice>,
    pub actor: String,
    pub since: String,
    pub until: String,
    pub rows: Vec<AuditRow>,
    pub first_href: Option<String>,
    pub next_href: Option<String>,
}
