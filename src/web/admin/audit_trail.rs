//! Reading the audit trail: the entries inside the admin's scope, newest first, a page at a time,
//! filtered by action, actor and day, with who acted by name and role, what they did in words,
//! and when in the local time of the admin's area.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::views::{self, Choice, FormErrors};
use super::{audited, refused, SignedInAdmin};
use crate::db::audit::{self, AuditQuery};
use crate::db::{admins, DbConnection, DbError};
use crate::domain::{AdminRole, IndonesianZone};
use crate::web::pages::{self, render, render_with_status};
use crate::web::{AppState, PageError, WebError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/audit", web::get().to(trail));
}

/// Entries per page.
const PAGE_ROWS: i64 = 50;

/// Every action the trail records, with its words. A refused attempt is the action's name with
/// `_ditolak`, shown as the same words and "ditolak".
pub const ACTIONS: [(&str, &str); 18] = [
    ("masuk", "Masuk"),
    ("masuk_gagal", "Gagal masuk"),
    ("kode_diminta", "Meminta kode masuk"),
    (
        "lihat_belum_menandatangani",
        "Melihat daftar belum menandatangani",
    ),
    ("lihat_sertifikat", "Melihat sertifikat"),
    ("cari_sertifikat", "Mencari sertifikat"),
    ("cabut_sertifikat", "Mencabut sertifikat"),
    ("buat_kampanye", "Membuka penandatanganan"),
    (
        "ubah_penerbit_kampanye",
        "Mengubah penerbit penandatanganan",
    ),
    ("undang_admin", "Mengundang admin"),
    ("tambah_admin", "Menambahkan admin (baris perintah)"),
    ("aktifkan_autentikator", "Mengaktifkan autentikator"),
    ("unggah_daftar_pegawai", "Mengunggah daftar pegawai"),
    (
        "impor_daftar_pegawai_dimulai",
        "Memulai impor daftar pegawai",
    ),
    (
        "impor_daftar_pegawai_dilanjutkan",
        "Melanjutkan impor daftar pegawai yang terhenti",
    ),
    (
        "impor_daftar_pegawai_selesai",
        "Menyelesaikan impor daftar pegawai",
    ),
    ("impor_daftar_pegawai_gagal", "Impor daftar pegawai gagal"),
    ("lihat_jejak_audit", "Melihat jejak audit"),
];

/// The words of an action as stored, and whether it was refused. An action this list does not
/// know yet is shown as stored rather than hidden.
pub fn action_label(stored: &str) -> (String, bool) {
    let (base, refused) = match stored.strip_suffix("_ditolak") {
        Some(base) => (base, true),
        None => (stored, false),
    };
    let words = ACTIONS
        .iter()
        .find(|(key, _)| *key == base)
        .map_or_else(|| stored.replace('_', " "), |(_, words)| words.to_string());
    (words, refused)
}

#[derive(Deserialize, Default)]
struct TrailQuery {
    tindakan: Option<String>,
    pelaku: Option<String>,
    /// First day shown, `YYYY-MM-DD` in the admin's zone.
    dari: Option<String>,
    /// Last day shown, inclusive.
    sampai: Option<String>,
    sebelum: Option<String>,
}

fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|a| !a.is_empty())
}

/// Midnight of a local day, as Unix seconds.
fn day_start(field: &'static str, raw: &str, zone: IndonesianZone) -> Result<i64, WebError> {
    let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        WebError::bad(
            field,
            format!("\"{raw}\" bukan tanggal yang sah (tttt-bb-hh)"),
        )
    })?;
    Ok(day
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
        - i64::from(zone.offset_hours()) * 3600)
}

fn parse_query(q: &TrailQuery, zone: IndonesianZone) -> Result<AuditQuery, WebError> {
    let action = match given(&q.tindakan) {
        Some(raw) => {
            let base = raw.strip_suffix("_ditolak").unwrap_or(raw);
            if !ACTIONS.iter().any(|(key, _)| *key == base) {
                return Err(WebError::bad("tindakan", "pilih tindakan dari daftar"));
            }
            Some(raw.to_string())
        }
        None => None,
    };
    let actor = given(&q.pelaku).map(|raw| {
        // The audit page shows admins by name and links them by id; an id typed alone is an admin.
        if raw.contains(':') {
            raw.to_string()
        } else {
            format!("admin:{raw}")
        }
    });
    let since = given(&q.dari)
        .map(|d| day_start("dari", d, zone))
        .transpose()?;
    let until = given(&q.sampai)
        .map(|d| day_start("sampai", d, zone).map(|t| t + 86_400))
        .transpose()?;
    let before = given(&q.sebelum)
        .map(|b| {
            b.parse::<i64>().map_err(|_| {
                WebError::bad(
                    "sebelum",
                    "tautan halaman tidak sah; mulai dari halaman pertama",
                )
            })
        })
        .transpose()?;
    Ok(AuditQuery {
        before,
        action,
        actor,
        since,
        until,
    })
}

/// The names and roles of the admins among the actors, looked up once for the page.
fn actor_names(
    conn: &mut DbConnection,
    entries: &[audit::AuditEntry],
) -> Result<std::collections::HashMap<String, (String, String)>, DbError> {
    let mut ids: Vec<String> = entries
        .iter()
        .filter_map(|e| e.actor.strip_prefix("admin:"))
        .map(str::to_string)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(admins::names_of(conn, &ids)?
        .into_iter()
        .map(|(id, name, role)| {
            let role = AdminRole::parse(&role).map_or("Admin", AdminRole::label);
            (format!("admin:{id}"), (name, role.to_string()))
        })
        .collect())
}

fn link(q: &TrailQuery, before: Option<i64>) -> String {
    let mut pairs = Vec::new();
    for (key, value) in [
        ("tindakan", &q.tindakan),
        ("pelaku", &q.pelaku),
        ("dari", &q.dari),
        ("sampai", &q.sampai),
    ] {
        if let Some(v) = given(value) {
            pairs.push(format!("{key}={}", views::query_value(v)));
        }
    }
    if let Some(b) = before {
        pairs.push(format!("sebelum={b}"));
    }
    if pairs.is_empty() {
        "/admin/audit".into()
    } else {
        format!("/admin/audit?{}", pairs.join("&"))
    }
}

fn action_choices(selected: Option<&str>) -> Vec<Choice> {
    ACTIONS
        .iter()
        .flat_map(|(key, words)| {
            [
                (key.to_string(), words.to_string()),
                (format!("{key}_ditolak"), format!("{words} (ditolak)")),
            ]
        })
        .map(|(value, label)| Choice {
            selected: selected == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

async fn trail(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: SignedInAdmin,
    query: web::Query<TrailQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let zone = IndonesianZone::of_province(me.scope.scope_code());
    let mut page = views::AdminAudit {
        admin: pages::AdminHeader::of(&me),
        errors: FormErrors::none(),
        zone: zone.abbreviation(),
        actions: action_choices(given(&q.tindakan)),
        actor: q.pelaku.clone().unwrap_or_default(),
        since: q.dari.clone().unwrap_or_default(),
        until: q.sampai.clone().unwrap_or_default(),
        rows: Vec::new(),
        first_href: None,
        next_href: None,
    };
    let asked = match parse_query(&q, zone) {
        Ok(asked) => asked,
        Err(e) => {
            let e = refused(&state, &req, &me, "lihat_jejak_audit", String::new(), e).await;
            page.errors = FormErrors::from_refusal(&e, "tindakan");
            return Ok(render_with_status(views::status_of(&e), &page));
        }
    };
    let scope = me.scope.clone();
    let before = asked.before;
    let (mut entries, names) = audited(
        &state,
        &req,
        &me,
        "lihat_jejak_audit",
        String::new(),
        String::new(),
        move |conn| {
            let entries = audit::page_within(conn, &scope, &asked, PAGE_ROWS + 1)?;
            let names = actor_names(conn, &entries)?;
            Ok((entries, names))
        },
    )
    .await?;
    let more = entries.len() as i64 > PAGE_ROWS;
    entries.truncate(PAGE_ROWS as usize);
    page.next_href = more
        .then(|| entries.last().map(|e| link(&q, Some(e.seq))))
        .flatten();
    page.first_href = before.map(|_| link(&q, None));
    page.rows = entries
        .into_iter()
        .map(|e| {
            let (action, refused) = action_label(&e.action);
            let (actor, actor_role) = match names.get(&e.actor) {
                Some((name, role)) => (name.clone(), role.clone()),
                None if e.actor.starts_with("pegawai:") => ("Pegawai".to_string(), e.actor.clone()),
                None => (e.actor.clone(), String::new()),
            };
            views::AuditRow {
                seq: e.seq,
                at: zone.format_long(chrono::DateTime::from_timestamp(e.at, 0).unwrap_or_default()),
                actor,
                actor_role,
                action,
                refused,
                target: e.target,
                detail: e.detail,
                client_addr: e.client_addr,
            }
        })
        .collect();
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_as_words_and_refusals_say_so() {
        assert_eq!(
            action_label("cabut_sertifikat_ditolak"),
            ("Mencabut sertifikat".to_string(), true)
        );
        assert_eq!(action_label("masuk"), ("Masuk".to_string(), false));
        for action in crate::roster::AUDIT_ACTIONS {
            assert!(ACTIONS.iter().any(|(key, _)| *key == action), "{action}");
        }
        assert_eq!(
            action_label("baru_sekali"),
            ("baru sekali".to_string(), false)
        );
    }
}
