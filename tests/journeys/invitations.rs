//! Printed invitation slips for staff without email: an admin prints them (page or command line),
//! an employee scans a slip's QR code or types its code, signs in once and signs the pact. The
//! slips are read back with independent tools: poppler renders and extracts the text, zbar reads
//! the QR codes.

use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    an_employee_signs_in_with_a_printed_slip_and_signs,
    a_reprint_retires_the_old_slip_and_the_new_code_can_be_typed,
    printing_outside_ones_scope_is_refused_and_recorded
);

const HELPDESK: &str = "BKD Kota Makassar, telepon 0411 123456";

/// The slips' codes as printed (`XXXX-XXXX-XXXX`), in the order of the text.
fn printed_codes(pdf: &[u8]) -> Vec<String> {
    let (ok, text) = tool_output("pdftotext", &[], pdf);
    assert!(ok, "pdftotext reads the slips");
    text.split_whitespace()
        .filter(|w| {
            let parts: Vec<&str> = w.split('-').collect();
            parts.len() == 3
                && parts.iter().all(|p| {
                    p.len() == 4
                        && p.bytes()
                            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
                })
        })
        .map(str::to_string)
        .collect()
}

/// Every QR code on the first page, read by zbarimg from a 100-dpi rendering.
fn qr_links(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kartu.pdf");
    std::fs::write(&file, pdf).unwrap();
    let png = dir.path().join("halaman");
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", "100", "-png", "-singlefile", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(&png)
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(status.success());
    let out = std::process::Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(png.with_extension("png"))
        .output()
        .expect("zbarimg (zbar-tools) is installed");
    assert!(out.status.success(), "zbarimg found no QR code");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A fresh browser (cookies kept, redirects not followed), as a phone that has just scanned.
fn phone() -> reqwest::Client {
    client()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Types `code` into `/masuk/undangan` on `browser`; the answer to the form.
async fn enter_code(app: &TestApp, browser: &reqwest::Client, code: &str) -> reqwest::Response {
    let csrf = csrf_token(browser, &app.url("/masuk/undangan")).await;
    browser
        .post(app.url("/masuk/undangan"))
        .form(&[("kode", code), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
}

/// The session token a successful sign-in sets as the `ikrar_sesi` cookie.
fn session_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|h| h.to_str().ok())
        .find_map(|h| h.strip_prefix("ikrar_sesi="))
        .and_then(|rest| rest.split(';').next())
        .expect("the sign-in sets the session cookie")
        .to_string()
}

fn count_where(app: &TestApp, condition: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {condition}"))
        .get_result::<Count>(&mut *app.db.read().unwrap())
        .unwrap()
        .n
}

/// Prints through the admin page as `admin`; the answer to the form.
async fn print_on_page(
    app: &TestApp,
    admin: &reqwest::Client,
    csrf: &str,
    area: &str,
    agency: &str,
) -> reqwest::Response {
    admin
        .post(app.url(&format!("/admin/kampanye/{}/undangan", app.campaign_id)))
        .form(&[
            ("area", area),
            ("agency", agency),
            ("unit", ""),
            ("helpdesk", HELPDESK),
            ("csrf", csrf),
        ])
        .send()
        .await
        .unwrap()
}

async fn an_employee_signs_in_with_a_printed_slip_and_signs(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    add_admin(&app, "bkd@makassarkota.go.id", "kabupaten", "73.71", None);
    let (admin, csrf) = admin_browser(&app, "bkd@makassarkota.go.id", None).await;
    // Rizal has signed already: he gets no slip.
    app.signs(RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal")
        .await;

    let page = admin
        .get(app.url(&format!("/admin/kampanye/{}/undangan", app.campaign_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Cetak kartu undangan"), "{html}");
    assert!(
        html.contains("Kecamatan"),
        "the area picker offers the districts"
    );

    let printed = print_on_page(&app, &admin, &csrf, "73.71", "").await;
    assert_eq!(printed.status(), 200);
    assert_eq!(
        printed.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    let pdf = printed.bytes().await.unwrap().to_vec();
    let (_, text) = tool_output("pdftotext", &[], &pdf);
    for expected in [
        "KARTU UNDANGAN",
        "Andi Nurul Hidayah, S.Pd.",
        "NIP 1985**********2004",
        "Wa Ode Sitti Hasnah",
        "NIK 7371********0003",
        "Berlaku sampai",
        "Bantuan: BKD Kota Makassar, telepon 0411 123456",
        "/masuk/undangan",
    ] {
        assert!(
            text.contains(expected),
            "the slips say {expected:?}:\n{text}"
        );
    }
    assert!(!text.contains("Muhammad Rizal"), "no slip for who signed");
    assert!(!text.contains(ANDI_NIP), "the full NIP is never printed");
    let codes = printed_codes(&pdf);
    assert_eq!(codes.len(), 2, "{text}");
    assert_eq!(count_where(&app, "invitations"), 2);
    assert_eq!(
        count_where(&app, "audit_log WHERE action = 'undangan_dicetak'"),
        1
    );

    // The QR codes, read from the paper as a phone would, hold the same codes as the text.
    let links = qr_links(&pdf);
    assert_eq!(links.len(), 2, "{links:?}");
    let prefix = app.url("/masuk/undangan?kode=");
    for link in &links {
        let code = link
            .strip_prefix(&prefix)
            .expect("the QR opens the slip sign-in");
        assert!(codes.iter().any(|c| c.replace('-', "") == code), "{link}");
    }

    // Opening the link only fills the form in; a link previewer burns nothing.
    let handset = phone();
    let opened = handset.get(&links[0]).send().await.unwrap();
    assert_eq!(opened.status(), 200);
    assert_eq!(opened.headers()["referrer-policy"], "no-referrer");
    let html = opened.text().await.unwrap();
    assert!(html.contains("sudah terisi"), "{html}");
    assert_eq!(count_where(&app, "invitations WHERE used_at IS NULL"), 2);

    let code = links[0].strip_prefix(&prefix).unwrap().to_string();
    let signed_in = enter_code(&app, &handset, &code).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/pakta");
    let token = session_of(&signed_in);
    let me: Value = app.me(&token).await;
    let name = me["employee"]["full_name"].as_str().unwrap().to_string();
    assert!(
        ["Andi Nurul Hidayah, S.Pd.", "Wa Ode Sitti Hasnah"].contains(&name.as_str()),
        "{me}"
    );
    let pact = handset.get(app.url("/pakta")).send().await.unwrap();
    assert_eq!(pact.status(), 200);
    assert!(pact.text().await.unwrap().contains(&name));

    let signed = app
        .sign(&token, &app.campaign_id, &name, &app.document_sha256)
        .await;
    assert!(signed.status().is_success(), "{}", signed.status());
    let certificate: Value = signed.json().await.unwrap();
    let id = certificate["certificate_id"].as_str().unwrap();
    assert_eq!(app.verdict(id).await["status"], "genuine");

    // The trail says how this person proved who they are.
    assert_eq!(
        count_where(
            &app,
            "audit_log WHERE action = 'masuk' AND detail = 'metode=undangan'"
        ),
        1
    );

    // The same code again, on another phone: refused, and nothing opens.
    let again = enter_code(&app, &phone(), &code).await;
    assert_eq!(again.status(), 401);
    let html = again.text().await.unwrap();
    assert!(html.contains("sudah pernah dipakai"), "{html}");
    assert_eq!(
        count_where(
            &app,
            "audit_log WHERE action = 'masuk_gagal' AND target = 'undangan'"
        ),
        1
    );
}

async fn a_reprint_retires_the_old_slip_and_the_new_code_can_be_typed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let data_dir = app.dir.path().to_str().unwrap().to_string();
    let print = |file: &str| {
        let output = app.dir.path().join(file);
        let out = ikrar(&[
            "invitations",
            "print",
            "--campaign",
            &app.campaign_id,
            "--area",
            "73.71.01",
            "--helpdesk",
            HELPDESK,
            "--base-url",
            &app.base_url,
            "--output",
            output.to_str().unwrap(),
            "--database-url",
            &app.database_url,
            "--data-dir",
            &data_dir,
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("1 kartu undangan dicetak"));
        std::fs::read(output).unwrap()
    };
    let first = print("pertama.pdf");
    let second = print("kedua.pdf");
    let old = printed_codes(&first);
    let new = printed_codes(&second);
    assert_eq!((old.len(), new.len()), (1, 1));
    assert_ne!(old, new);
    let links = qr_links(&second);
    assert_eq!(
        links,
        vec![app.url(&format!("/masuk/undangan?kode={}", new[0].replace('-', "")))]
    );
    assert_eq!(
        count_where(
            &app,
            "audit_log WHERE action = 'undangan_dicetak' AND actor LIKE 'cli:%'"
        ),
        2
    );

    // The first slip no longer works once the second is printed.
    let refused = enter_code(&app, &phone(), &old[0]).await;
    assert_eq!(refused.status(), 401);

    // A mistyped code gets a precise message, and the code typed as a person reads it aloud
    // (lower case, spaces, O for zero) works.
    let short = enter_code(&app, &phone(), "ABCD-EFGH").await;
    assert_eq!(short.status(), 400);
    assert!(short
        .text()
        .await
        .unwrap()
        .contains("Kode undangan terdiri atas 12 huruf dan angka; yang Anda ketik berisi 8"));
    let typed = new[0].to_lowercase().replace('-', " ").replace('0', "o");
    let signed_in = enter_code(&app, &phone(), &typed).await;
    assert_eq!(signed_in.status(), 303);
    let token = session_of(&signed_in);
    assert_eq!(
        app.me(&token).await["employee"]["full_name"],
        "Andi Nurul Hidayah, S.Pd."
    );
    let (_, signed) = {
        let response = app
            .sign(
                &token,
                &app.campaign_id,
                "Andi Nurul Hidayah, S.Pd.",
                &app.document_sha256,
            )
            .await;
        assert!(response.status().is_success());
        ((), response.json::<Value>().await.unwrap())
    };
    assert!(signed["certificate_id"].is_string());

    // Andi has signed: a third printing finds nobody in the district.
    let output = app.dir.path().join("ketiga.pdf");
    let out = ikrar(&[
        "invitations",
        "print",
        "--campaign",
        &app.campaign_id,
        "--area",
        "73.71.01",
        "--base-url",
        &app.base_url,
        "--output",
        output.to_str().unwrap(),
        "--database-url",
        &app.database_url,
        "--data-dir",
        &data_dir,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tidak ada pegawai"));
}

async fn printing_outside_ones_scope_is_refused_and_recorded(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let url = app.url(&format!("/admin/kampanye/{}/undangan", app.campaign_id));

    // Nobody signed in: refused, nothing printed.
    let anonymous = phone();
    let csrf = csrf_token(&anonymous, &app.url("/masuk/undangan")).await;
    let response = anonymous
        .post(&url)
        .form(&[("area", "73.71"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // A district admin asks for a neighbouring district.
    add_admin(&app, "camat@mariso.go.id", "kecamatan", "73.71.01", None);
    let (admin, csrf) = admin_browser(&app, "camat@mariso.go.id", None).await;
    let response = print_on_page(&app, &admin, &csrf, "73.71.02", "").await;
    assert_eq!(response.status(), 403);
    let html = response.text().await.unwrap();
    assert!(html.contains("Ada yang perlu diperbaiki"), "{html}");
    assert!(
        html.contains("Wilayah 73.71.02 berada di luar wilayah kewenangan Anda."),
        "{html}"
    );

    // An agency admin asks for another agency.
    add_admin(
        &app,
        "disdik@makassarkota.go.id",
        "instansi",
        "73.71",
        Some("Dinas Pendidikan"),
    );
    let (agency_admin, csrf) = admin_browser(&app, "disdik@makassarkota.go.id", None).await;
    let response = print_on_page(&app, &agency_admin, &csrf, "73.71", "Sekretariat Daerah").await;
    assert_eq!(response.status(), 403);
    // Their own agency prints: Andi only.
    let response = print_on_page(&app, &agency_admin, &csrf, "73.71", "Dinas Pendidikan").await;
    assert_eq!(response.status(), 200);
    let pdf = response.bytes().await.unwrap();
    let (_, text) = tool_output("pdftotext", &[], &pdf);
    assert!(text.contains("Andi Nurul Hidayah"), "{text}");
    assert!(!text.contains("Wa Ode Sitti Hasnah"), "{text}");

    assert_eq!(
        count_where(&app, "audit_log WHERE action = 'undangan_dicetak_ditolak'"),
        2
    );
    assert_eq!(count_where(&app, "invitations"), 1);
}
