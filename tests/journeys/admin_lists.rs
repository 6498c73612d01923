//! An admin of a whole province works through long lists: pages that join up, search by NIP, NIK
//! or name whatever the accents, forms that keep what was typed, refused attempts in the audit
//! trail, exports a spreadsheet cannot be tricked by, and one scope rule for lists and checks.

use std::collections::BTreeSet;

use ikrar::db::admin_lists::{self, SearchTerm};
use ikrar::db::employees::UnsignedFilter;
use ikrar::db::now;
use ikrar::domain::{AdminRole, AdminScope};
use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    unsigned_pages_join_up_and_search_ignores_case_and_accents,
    a_refused_form_comes_back_with_its_input_and_each_field_named,
    refused_attempts_are_in_the_audit_trail,
    the_csv_opens_safely_in_a_spreadsheet,
    lists_and_checks_follow_one_scope_rule,
    an_admin_search_by_nip_leaves_no_nip_in_any_address,
);

const EXTRA: usize = 130;
const FORMULA: &str = "=HYPERLINK(\"http://contoh.test\",\"klik\")";

/// 130 more PNS in two villages of Makassar, three of them with names that need folding, one
/// with a formula for a unit.
fn more_employees(app: &TestApp) {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "nip",
        "nik",
        "full_name",
        "position",
        "agency",
        "unit",
        "employee_type",
        "village_code",
        "email",
    ])
    .unwrap();
    for n in 0..EXTRA {
        let name = match n {
            7 => "Désirée Ñoño".to_string(),
            8 => "ÉLISE Müller".to_string(),
            9 => "andi SÉTIAWAN".to_string(),
            // Names take letters only: the number as two letters.
            _ => format!(
                "Pegawai Uji {}{}",
                (b'A' + (n / 26) as u8) as char,
                (b'a' + (n % 26) as u8) as char
            ),
        };
        let unit = if n == 11 { FORMULA } else { "Bagian Umum" };
        let village = if n % 2 == 0 {
            "73.71.01.1001"
        } else {
            "73.71.02.1001"
        };
        w.write_record([
            format!("19900101201501{:04}", 1001 + n),
            format!("73710101019{:05}", 10_001 + n),
            name,
            "Pengadministrasi Umum".into(),
            "Dinas Pendidikan".into(),
            unit.into(),
            "PNS".into(),
            village.into(),
            String::new(),
        ])
        .unwrap();
    }
    let file = app.dir.path().join("tambahan.csv");
    std::fs::write(&file, w.into_inner().unwrap()).unwrap();
    ikrar::roster::import(&app.db, &file).expect("the extra roster imports");
}

/// The rows of an admin table: the text of each cell, HTML entities left as they are.
fn table_rows(html: &str) -> Vec<Vec<String>> {
    let Some(body) = html.split("<tbody>").nth(1) else {
        return Vec::new();
    };
    let body = body.split("</tbody>").next().unwrap();
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|cell| {
                    let text = cell.split("</td>").next().unwrap();
                    // A cell may hold a link: keep its text.
                    match text.find('>') {
                        Some(i) if text.starts_with("<a") => {
                            text[i + 1..].trim_end_matches("</a>").to_string()
                        }
                        _ => text.to_string(),
                    }
                })
                .collect()
        })
        .collect()
}

/// An attribute's value as the browser reads it (the templates write `&` as `&#38;`).
fn unescaped(attribute: &str) -> String {
    attribute.replace("&#38;", "&").replace("&amp;", "&")
}

/// The page's "next page" link, unescaped.
fn next_link(html: &str) -> Option<String> {
    let end = html.find("\" rel=\"next\"")?;
    let start = html[..end].rfind("href=\"")? + 6;
    Some(unescaped(&html[start..end]))
}

async fn page(b: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = b.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The addresses a page links to or posts to, unescaped.
fn links(html: &str) -> Vec<String> {
    ["href=\"", "action=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .map(|rest| unescaped(rest.split('"').next().unwrap()))
        .collect()
}

/// What was typed, as typed or percent-encoded, is nowhere in this address.
fn assert_hidden(address: &str, typed: &str) {
    let typed = typed.trim();
    // A sealed term is random base64: a letter or two of it may match a short term by chance.
    let long = typed.chars().count() >= 4;
    assert!(
        !long || (!address.contains(typed) && !address.contains(&urlencoding(typed))),
        "{typed:?} shows in the address {address}"
    );
    assert!(!address.contains("q="), "no plain search in {address}");
}

/// Searches as the admin's browser does: the form posts and the answer sends the browser on.
/// What was typed shows in no address: not the answer's `Location`, not any link of the page it
/// leads to. Returns the page's status, the page and the address it was found at.
async fn searched(
    b: &reqwest::Client,
    app: &TestApp,
    csrf: &str,
    action: &str,
    filters: &[(&str, &str)],
    typed: &str,
) -> (u16, String, String) {
    let mut form = vec![("q", typed), ("csrf", csrf)];
    form.extend_from_slice(filters);
    let posted = b.post(app.url(action)).form(&form).send().await.unwrap();
    assert_eq!(posted.status(), 303, "the search {typed:?} is sent on");
    let location = posted.headers()["location"].to_str().unwrap().to_string();
    assert_hidden(&location, typed);
    let (status, html) = page(b, app, &location).await;
    for link in links(&html) {
        assert_hidden(&link, typed);
    }
    (status, html, location)
}

async fn unsigned_pages_join_up_and_search_ignores_case_and_accents(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    more_employees(&app);
    add_admin(&app, "bkd@sulselprov.go.id", "provinsi", "73", None);
    let (b, csrf) = admin_browser(&app, "bkd@sulselprov.go.id", None).await;

    // Every page in turn, by its "next" link, while someone signs between two pages.
    let mut seen: Vec<String> = Vec::new();
    let mut next = Some(format!("/admin/kampanye/{}/belum", app.campaign_id));
    let mut pages = 0;
    let mut andi_signed = false;
    while let Some(path) = next {
        let (status, html) = page(&b, &app, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            html.len() < 100_000,
            "a page of 50 rows is {} bytes",
            html.len()
        );
        let rows = table_rows(&html);
        assert!(rows.len() <= 50);
        seen.extend(rows.iter().map(|r| format!("{} {}", r[0], r[1])));
        next = next_link(&html);
        pages += 1;
        if pages == 1 && seen.iter().any(|r| r.contains("Andi Nurul")) {
            // Andi was on the first page already: signing now must not shift the later pages.
            andi_signed = true;
            let token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
            let signed = app
                .sign(
                    &token,
                    &app.campaign_id,
                    "Andi Nurul Hidayah, S.Pd.",
                    &app.document_sha256,
                )
                .await;
            assert!(signed.status().is_success());
        }
    }
    if !andi_signed {
        let token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
        let signed = app
            .sign(
                &token,
                &app.campaign_id,
                "Andi Nurul Hidayah, S.Pd.",
                &app.document_sha256,
            )
            .await;
        assert!(signed.status().is_success());
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no row is shown twice");
    // Andi, Rizal, Hasnah and the new ones; Budi works in Jakarta.
    assert_eq!(
        seen.len(),
        EXTRA + 3,
        "every unsigned employee is shown once"
    );
    assert_eq!(pages, (EXTRA + 3).div_ceil(50));
    assert!(!seen.iter().any(|r| r.contains("Budi")));

    // Search: a name without its accents or case, a NIP and a NIK by their first digits.
    let list = format!("/admin/kampanye/{}/belum", app.campaign_id);
    for (q, expected, not_expected) in [
        ("desiree", "Désirée Ñoño", "Pegawai Uji"),
        ("DÉSIRÉE ñ", "Désirée Ñoño", "Pegawai Uji"),
        ("elise muller", "ÉLISE Müller", "Désirée"),
        ("Andi s", "andi SÉTIAWAN", "Pegawai Uji"),
        ("1990010120150110", "Pegawai Uji Aa", "Wa Ode"),
        ("7371034506", "Wa Ode Sitti Hasnah", "Pegawai Uji"),
    ] {
        let (status, html, _) = searched(&b, &app, &csrf, &list, &[], q).await;
        assert_eq!(status, 200, "{q}");
        let rows = table_rows(&html);
        assert!(
            rows.iter().any(|r| r[1] == expected),
            "{q:?} finds {expected:?}: {rows:?}"
        );
        assert!(
            !rows.iter().any(|r| r[1].contains(not_expected)),
            "{q:?} finds only what starts so"
        );
    }
    let (status, html, _) = searched(&b, &app, &csrf, &list, &[], "x").await;
    assert_eq!(status, 400);
    assert!(html.contains("error-summary") && html.contains("href=\"#q\""));

    // The area picker drills down by links and a select: the province lists its regencies.
    let (_, html) = page(&b, &app, &list).await;
    assert!(html.contains("Kabupaten/Kota") && html.contains("value=\"73.71\""));
    let (_, html) = page(&b, &app, &format!("{list}?area=73.71.02")).await;
    let rows = table_rows(&html);
    assert!(!rows.is_empty() && rows.iter().all(|r| r[1] != "Wa Ode Sitti Hasnah"));
    assert!(html.contains("aria-current=\"page\""));
    // The agency picker offers the agencies of the roster.
    assert!(html.contains("<option value=\"Dinas Pendidikan\""));

    // Certificates: Andi's is found by name and NIP, not by someone else's name.
    let certificates = "/admin/sertifikat";
    let (_, html, _) = searched(&b, &app, &csrf, certificates, &[], "andi nurul").await;
    assert_eq!(table_rows(&html).len(), 1, "{html}");
    let (_, html, _) = searched(&b, &app, &csrf, certificates, &[], "19850330").await;
    assert_eq!(table_rows(&html).len(), 1);
    let (_, html, _) = searched(&b, &app, &csrf, certificates, &[], "budi").await;
    assert!(table_rows(&html).is_empty());
}

async fn an_admin_search_by_nip_leaves_no_nip_in_any_address(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    more_employees(&app);
    app.signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    add_admin(&app, "bkd@sulselprov.go.id", "provinsi", "73", None);
    add_admin(&app, "inspektorat@sulselprov.go.id", "provinsi", "73", None);
    let (b, csrf) = admin_browser(&app, "bkd@sulselprov.go.id", None).await;
    let list = format!("/admin/kampanye/{}/belum", app.campaign_id);

    // The first digits of the 130 new NIPs, with an area and a type: three pages, every link
    // (paging, export, pickers) without the digits, the other filters kept as they were.
    let typed = "19900101201501";
    let filters = [("area", "73.71"), ("type", "PNS")];
    let (status, html, found_at) = searched(&b, &app, &csrf, &list, &filters, typed).await;
    assert_eq!(status, 200, "{html}");
    assert!(found_at.contains("cari=") && found_at.contains("area=73.71&type=PNS"));
    assert!(
        html.contains(&format!("value=\"{typed}\"")),
        "the search box shows what was typed"
    );
    let mut seen = table_rows(&html).len();
    let mut next = next_link(&html);
    let mut pages = 1;
    while let Some(path) = next {
        pages += 1;
        assert!(pages <= 3, "130 rows take three pages: {path}");
        assert_hidden(&path, typed);
        let (status, html) = page(&b, &app, &path).await;
        assert_eq!(status, 200, "{path}");
        links(&html).iter().for_each(|l| assert_hidden(l, typed));
        seen += table_rows(&html).len();
        next = next_link(&html);
    }
    assert_eq!(seen, EXTRA, "every page of the sealed search joins up");
    let csv = links(&html)
        .into_iter()
        .find(|l| l.contains("belum.csv"))
        .expect("an export link");
    let file = b.get(app.url(&csv)).send().await.unwrap();
    assert_eq!(file.status(), 200);
    let text = file.text().await.unwrap();
    assert_eq!(
        text.matches(typed).count(),
        EXTRA,
        "the file holds the search"
    );

    // An old bookmark with a NIK or NIP in it is sent on at once, sealed, to the list or file.
    for old in [
        format!("{list}?q={HASNAH_NIK}"),
        format!("{list}.xlsx?area=73.71&q={ANDI_NIP}"),
        format!("/admin/sertifikat?q={ANDI_NIP}"),
    ] {
        let r = b.get(app.url(&old)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{old}");
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert_hidden(&location, HASNAH_NIK);
        assert_hidden(&location, ANDI_NIP);
        let r = b.get(app.url(&location)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{location}");
    }
    let (_, html) = page(&b, &app, &format!("{list}?q={HASNAH_NIK}")).await;
    assert!(html.is_empty(), "the redirect itself shows nothing");

    // The certificate found by the signer's NIP, the same way.
    let (status, html, certificates) =
        searched(&b, &app, &csrf, "/admin/sertifikat", &[], ANDI_NIP).await;
    assert_eq!(status, 200);
    assert_eq!(table_rows(&html).len(), 1, "{html}");

    // A sealed link opens nothing for another admin, nor once altered: a clear 400, no rows.
    let (other, _) = admin_browser(&app, "inspektorat@sulselprov.go.id", None).await;
    let tampered = found_at.replace("cari=", "cari=A");
    for (who, path) in [
        (&other, found_at.as_str()),
        (&other, certificates.as_str()),
        (&b, tampered.as_str()),
    ] {
        let (status, html) = page(who, &app, path).await;
        assert_eq!(status, 400, "{path}");
        assert!(
            html.contains("tidak sah atau sudah kedaluwarsa"),
            "the admin is told why: {html}"
        );
        assert!(table_rows(&html).is_empty());
    }

    // The form is refused without its CSRF token, and nothing is sealed.
    let r = b
        .post(app.url(&list))
        .form(&[("q", ANDI_NIP)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// A minimal percent-encoding for the test's own queries.
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn a_refused_form_comes_back_with_its_input_and_each_field_named(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    add_admin(&app, "bkd@sulselprov.go.id", "provinsi", "73", None);
    let (b, csrf) = admin_browser(&app, "bkd@sulselprov.go.id", None).await;

    // An invitation with an address that is not one.
    let r = b
        .post(app.url("/admin/tim"))
        .form(&[
            ("full_name", "Rahmawati Said"),
            ("email", "bukan-surel"),
            ("role", "kabupaten"),
            ("scope", "73.71"),
            ("agency", ""),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    for expected in [
        "class=\"error-summary\"",
        "href=\"#email\"",
        "value=\"Rahmawati Said\"",
        "value=\"bukan-surel\"",
        "value=\"73.71\"",
        "<option value=\"kabupaten\" selected>",
        "aria-invalid=\"true\" aria-describedby=\"email-error\"",
        "id=\"email-error\"",
    ] {
        assert!(html.contains(expected), "{expected}");
    }
    assert_eq!(app.count("admins"), 1, "nothing was written");

    // A campaign outside the admin's area: 403, the form as typed.
    let r = b
        .post(app.url("/admin/kampanye"))
        .form(&[
            ("title", "Penandatanganan Jakarta"),
            ("scope", "31.71"),
            ("opens", "2026-12-01T08:00"),
            ("closes", "2026-12-31T16:00"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#scope\"") && html.contains("value=\"Penandatanganan Jakarta\""));
    assert!(html.contains("value=\"2026-12-31T16:00\""));

    // A revocation without a note keeps the chosen reason; then one that succeeds is confirmed.
    let token = app.sign_in(RIZAL_NIP, "rizal@contoh.go.id").await;
    let signed = app
        .sign(
            &token,
            &app.campaign_id,
            "Muhammad Rizal",
            &app.document_sha256,
        )
        .await;
    let id = signed.json::<Value>().await.unwrap()["certificate_id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoke = |note: &'static str| {
        b.post(app.url(&format!("/admin/sertifikat/{id}/cabut")))
            .form(&[
                ("reason", "data_keliru"),
                ("note", note),
                ("csrf", csrf.as_str()),
            ])
            .send()
    };
    let r = revoke("   ").await.unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#note\"") && html.contains("value=\"data_keliru\" checked"));
    let r = revoke("NIP tertukar").await.unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.ends_with("selesai=dicabut"), "{location}");
    let (_, html) = page(&b, &app, &location).await;
    assert!(html.contains("Sertifikat telah dicabut"));

    // An invitation that succeeds is confirmed on the team page.
    let r = b
        .post(app.url("/admin/tim"))
        .form(&[
            ("full_name", "Rahmawati Said"),
            ("email", "rahma@makassarkota.go.id"),
            ("role", "kabupaten"),
            ("scope", "73.71"),
            ("agency", ""),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let (_, html) = page(&b, &app, &location).await;
    assert!(html.contains("Undangan telah dikirim"));
}

async fn refused_attempts_are_in_the_audit_trail(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let jakarta = create_campaign(&app.db, "31", now() - 86_400, now() + 86_400);
    let token = app.sign_in(BUDI_NIP, "budi@contoh.go.id").await;
    let signed = app
        .sign(&token, &jakarta, "Budi Santoso", &app.document_sha256)
        .await;
    let budi = signed.json::<Value>().await.unwrap()["certificate_id"]
        .as_str()
        .unwrap()
        .to_string();
    add_admin(&app, "kota@makassarkota.go.id", "kabupaten", "73.71", None);
    let (b, csrf) = admin_browser(&app, "kota@makassarkota.go.id", None).await;
    let before = app.count("audit_log");

    let (s, _) = page(&b, &app, &format!("/admin/sertifikat/{budi}")).await;
    assert_eq!(s, 404);
    let s = b
        .post(app.url(&format!("/admin/sertifikat/{budi}/cabut")))
        .form(&[
            ("reason", "lainnya"),
            ("note", "uji"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 404);
    let s = b
        .post(app.url("/admin/tim"))
        .form(&[
            ("full_name", "Admin Jakarta"),
            ("email", "jkt@contoh.go.id"),
            ("role", "kabupaten"),
            ("scope", "31.71"),
            ("agency", ""),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 403);
    let s = b
        .post(app.url("/admin/kampanye"))
        .form(&[
            ("title", "Uji"),
            ("scope", "31.71"),
            ("opens", "2026-12-01T08:00"),
            ("closes", "2026-12-31T16:00"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 403);
    let (s, _) = page(
        &b,
        &app,
        &format!("/admin/kampanye/{}/belum?area=31.71", app.campaign_id),
    )
    .await;
    assert_eq!(s, 403);
    assert!(
        app.count("admins") == 1 && app.count("campaigns") == 2,
        "nothing was written"
    );

    let refusals: Vec<(String, String)> = {
        use diesel::prelude::*;
        use ikrar::db::schema::audit_log;
        audit_log::table
            .filter(audit_log::seq.gt(before))
            .filter(audit_log::action.like("%_ditolak"))
            .order(audit_log::seq)
            .select((audit_log::action, audit_log::target))
            .load(&mut *app.db.read().unwrap())
            .unwrap()
    };
    let actions: Vec<&str> = refusals.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "lihat_sertifikat_ditolak",
            "cabut_sertifikat_ditolak",
            "undang_admin_ditolak",
            "buat_kampanye_ditolak",
            "lihat_belum_menandatangani_ditolak",
        ]
    );
    assert_eq!(refusals[0].1, budi);

    // The audit page names the admin, says what they tried in words, and filters the refusals.
    let (s, html) = page(&b, &app, "/admin/audit?tindakan=cabut_sertifikat_ditolak").await;
    assert_eq!(s, 200);
    assert!(html.contains("Admin Uji") && html.contains("Admin kabupaten/kota"));
    assert!(html.contains("Mencabut sertifikat") && html.contains("ditolak"));
    assert!(html.contains("WITA"));
    assert_eq!(html.matches("<li class=\"audit-entry").count(), 1);
    assert!(
        !html.contains("cabut_sertifikat_ditolak</"),
        "no stored action names"
    );
}

async fn the_csv_opens_safely_in_a_spreadsheet(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    more_employees(&app);
    add_admin(&app, "bkd@sulselprov.go.id", "provinsi", "73", None);
    let (b, _) = admin_browser(&app, "bkd@sulselprov.go.id", None).await;
    let r = b
        .get(app.url(&format!("/admin/kampanye/{}/belum.csv", app.campaign_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a UTF-8 byte order mark");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), EXTRA + 3, "the whole list, not one page");
    for record in &records {
        for cell in record.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\r']),
                "a cell a spreadsheet would evaluate: {cell:?}"
            );
        }
        let nip = &record[0];
        assert!(nip.is_empty() || (nip.starts_with('\t') && nip[1..].len() == 18));
    }
    assert!(
        records.iter().any(|r| r[5] == format!("'{FORMULA}")),
        "the formula is kept, as text"
    );
    assert!(records.iter().any(|r| r[2] == *"Désirée Ñoño"));
}

/// Every role's list holds exactly the rows its check allows: the certificates, the unsigned
/// employees of a national campaign and the admins of the team page.
async fn lists_and_checks_follow_one_scope_rule(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let national = create_campaign(&app.db, "", now() - 86_400, now() + 86_400);
    for (nip, email, name) in [
        (ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd."),
        (RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal"),
        (BUDI_NIP, "budi@contoh.go.id", "Budi Santoso"),
    ] {
        let token = app.sign_in(nip, email).await;
        let r = app
            .sign(&token, &national, name, &app.document_sha256)
            .await;
        assert!(r.status().is_success());
    }
    let roles: [(&str, &str, Option<&str>); 7] = [
        ("nasional", "ID", None),
        ("provinsi", "73", None),
        ("kabupaten", "73.71", None),
        ("kecamatan", "73.71.01", None),
        ("desa", "73.71.03.1001", None),
        ("instansi", "73.71", Some("Sekretariat Daerah")),
        ("provinsi", "31", None),
    ];
    for (n, (role, code, agency)) in roles.iter().enumerate() {
        add_admin(&app, &format!("a{n}@contoh.go.id"), role, code, *agency);
    }
    let mut conn = app.db.read().unwrap();
    let all_certificates = admin_lists::certificates_page(
        &mut conn,
        &AdminScope::parse(AdminRole::National, "ID", None).unwrap(),
        None,
        None,
        1_000,
    )
    .unwrap();
    assert_eq!(all_certificates.len(), 3);
    let all_admins = ikrar::db::admins::within(
        &mut conn,
        &AdminScope::parse(AdminRole::National, "ID", None).unwrap(),
    )
    .unwrap();
    let everyone = ikrar::db::employees::in_area(&mut conn, "").unwrap();
    for (role, code, agency) in roles {
        let scope = AdminScope::parse(AdminRole::parse(role).unwrap(), code, agency).unwrap();
        let listed: BTreeSet<String> =
            admin_lists::certificates_page(&mut conn, &scope, None, None, 1_000)
                .unwrap()
                .into_iter()
                .map(|c| c.id.to_string())
                .collect();
        let allowed: BTreeSet<String> = all_certificates
            .iter()
            .filter(|c| scope.covers(&c.village_code, &c.agency))
            .map(|c| c.id.to_string())
            .collect();
        assert_eq!(listed, allowed, "certificates of {role} {code}");

        let team: BTreeSet<String> = ikrar::db::admins::within(&mut conn, &scope)
            .unwrap()
            .into_iter()
            .map(|a| a.email)
            .collect();
        let allowed: BTreeSet<String> = all_admins
            .iter()
            .filter(|a| {
                scope.covers_area(&a.scope_code)
                    && scope.agency().is_none_or(|mine| mine == a.agency)
            })
            .map(|a| a.email.clone())
            .collect();
        assert_eq!(team, allowed, "team of {role} {code}");

        let unsigned: BTreeSet<i64> = admin_lists::unsigned_page(
            &mut conn,
            &national,
            &scope,
            &UnsignedFilter::default(),
            None,
            None,
            1_000,
        )
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
        let signed_ids: BTreeSet<i64> = all_certificates.iter().map(|c| c.employee_id).collect();
        let allowed: BTreeSet<i64> = everyone
            .iter()
            .filter(|e| !signed_ids.contains(&e.id) && scope.covers(&e.village_code, &e.agency))
            .map(|e| e.id)
            .collect();
        assert_eq!(unsigned, allowed, "unsigned of {role} {code}");
    }
    // The search term parses at the edge and refuses what it cannot search for.
    assert!(SearchTerm::parse("1234567890123456789").is_err());
}
