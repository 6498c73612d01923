//! Every page a civil servant, a field officer or an admin opens, in Debian's chromium at 360×800
//! (a phone) and 1280×800 (a laptop), checked by axe-core for serious and critical accessibility
//! violations and, on the phone, for content wider than the screen (`tests/browser/pages.js`).
//!
//! Pages that are clean must stay clean. The ones not yet clean are listed in `KNOWN` with their
//! axe rule ids, so that a new violation anywhere, or a fix that makes an entry obsolete, fails.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::*;

/// (page name, axe rule id) pairs still violated at some width; each one is an open item of
/// issue 19. Text/plain pages (`/log/*`) and JSON are not pages and are left out.
const KNOWN: &[(&str, &str)] = &[];

/// Pages still wider than a 360 px phone.
const KNOWN_OVERFLOW: &[&str] = &[];

/// The value of the cookie `name` that a response sets.
fn set_cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|h| h.to_str().ok())
        .find_map(|h| h.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("the response sets the cookie {name}"))
        .to_string()
}

/// Signs an admin in through the pages and returns the session cookie for the browser.
/// The admin's session cookie, and where their searches lead: each search form posted as the
/// browser does, the typed term sealed into the address the answer sends the browser to.
async fn admin_cookie(
    app: &TestApp,
    email: &str,
    searches: &[(&str, &[(&str, &str)])],
) -> (String, Vec<String>) {
    let (b, csrf, signed_in) = admin_sign_in(app, email, None).await;
    let mut found_at = Vec::new();
    for (action, fields) in searches {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let r = b.post(app.url(action)).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 303, "{action} {fields:?}");
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.contains("cari=") && !location.contains(ANDI_NIP));
        found_at.push(location);
    }
    (set_cookie(&signed_in, "ikrar_admin"), found_at)
}

/// Runs the harness over the plan and returns its report.
fn run_harness(app: &TestApp, plan: &Value) -> Value {
    let file = app.dir.path().join("browser-plan.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    let modules = node_modules();
    let node_path = match std::env::var("NODE_PATH") {
        Ok(p) if !p.is_empty() => format!("{}:{p}", modules.display()),
        _ => modules.display().to_string(),
    };
    let out = Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/browser/pages.js"
        ))
        .arg(&file)
        .env("NODE_PATH", node_path)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "tests/browser/pages.js failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the harness prints a JSON report")
}

#[tokio::test]
async fn every_page_is_accessible_and_fits_a_phone() {
    if !require(Tool::Browser) || !require(Tool::Node) {
        return;
    }
    // SQLite only: what the browser sees does not depend on the database backend.
    // An identity provider is configured (never contacted: it is read on first use), so the
    // sign-in pages show "Masuk dengan SSO" too.
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| {
        s.sso = Some(ikrar::sso::SsoSettings {
            issuer: "http://127.0.0.1:9".into(),
            client_id: "ikrar".into(),
            client_secret: "rahasia".into(),
            nip_claim: "nip".into(),
            scopes: vec!["profile".into()],
            admins: true,
        })
    })
    .await
    else {
        return;
    };
    let (andi, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let certificate = signed["certificate_id"].as_str().unwrap().to_string();
    let rizal = app.sign_in(RIZAL_NIP, "rizal@contoh.go.id").await;
    add_admin(&app, "admin@sulselprov.go.id", "provinsi", "73", None);
    let campaign = &app.campaign_id;
    let unsigned = format!("/admin/kampanye/{campaign}/belum");
    let (admin, found_at) = admin_cookie(
        &app,
        "admin@sulselprov.go.id",
        &[
            (&unsigned, &[("area", "73.71.01"), ("q", "andi")]),
            ("/admin/sertifikat", &[("q", ANDI_NIP)]),
        ],
    )
    .await;

    let cookie =
        |name: &str, value: &str| json!([{ "name": name, "value": value, "url": app.base_url }]);
    let none = json!([]);
    let employee = |token: &str| cookie("ikrar_sesi", token);
    let admin = cookie("ikrar_admin", &admin);
    let pages: Vec<(&str, String, Value)> = vec![
        ("beranda", "/".into(), none.clone()),
        ("masuk", "/masuk".into(), none.clone()),
        (
            "masuk-kode",
            "/masuk/kode".into(),
            cookie("ikrar_masuk", RIZAL_NIP),
        ),
        ("masuk-undangan", "/masuk/undangan".into(), none.clone()),
        (
            "masuk-undangan-kartu",
            "/masuk/undangan?kode=7K3M-Q9TD-2HXW".into(),
            none.clone(),
        ),
        ("pakta-daftar", "/pakta".into(), employee(&rizal)),
        ("pakta", format!("/pakta/{campaign}"), employee(&rizal)),
        (
            "sertifikat",
            format!("/sertifikat/{certificate}"),
            employee(&andi),
        ),
        ("cakupan", format!("/cakupan/{campaign}"), none.clone()),
        (
            "cakupan-makassar",
            format!("/cakupan/{campaign}?area=73.71"),
            none.clone(),
        ),
        (
            "cakupan-proyektor",
            format!("/cakupan/{campaign}?area=73.71&layar=proyektor"),
            none.clone(),
        ),
        (
            "cakupan-urut-instansi",
            format!("/cakupan/{campaign}?urut_instansi=persen&arah_instansi=turun"),
            none.clone(),
        ),
        ("langsung", format!("/live/{campaign}/73"), none.clone()),
        ("periksa", format!("/v/{certificate}"), none.clone()),
        ("unggah", "/v".into(), none.clone()),
        ("periksa-luring", "/v/luring".into(), none.clone()),
        ("admin-masuk", "/admin/masuk".into(), none.clone()),
        (
            "admin-masuk-kode",
            "/admin/masuk/kode".into(),
            cookie("ikrar_admin_masuk", "admin@sulselprov.go.id"),
        ),
        ("admin", "/admin".into(), admin.clone()),
        (
            "admin-kampanye-baru",
            "/admin/kampanye/baru".into(),
            admin.clone(),
        ),
        (
            "admin-belum",
            format!("/admin/kampanye/{campaign}/belum"),
            admin.clone(),
        ),
        (
            "admin-undangan",
            format!("/admin/kampanye/{campaign}/undangan"),
            admin.clone(),
        ),
        (
            "admin-sertifikat-cari",
            "/admin/sertifikat".into(),
            admin.clone(),
        ),
        (
            "admin-sertifikat",
            format!("/admin/sertifikat/{certificate}"),
            admin.clone(),
        ),
        (
            "admin-daftar-pegawai",
            "/admin/daftar-pegawai".into(),
            admin.clone(),
        ),
        ("admin-tim", "/admin/tim".into(), admin.clone()),
        ("admin-audit", "/admin/audit".into(), admin.clone()),
        (
            "admin-autentikator",
            "/admin/autentikator".into(),
            admin.clone(),
        ),
        ("admin-belum-kecamatan", found_at[0].clone(), admin.clone()),
        ("admin-sertifikat-hasil", found_at[1].clone(), admin.clone()),
        (
            "admin-audit-saring",
            "/admin/audit?tindakan=masuk".into(),
            admin.clone(),
        ),
    ];
    let plan = json!({
        "widths": [360, 1280],
        "pages": pages.iter().map(|(name, path, cookies)| json!({
            "name": name, "url": app.url(path), "cookies": cookies,
        })).collect::<Vec<_>>(),
    });
    let report = run_harness(&app, &plan);

    let mut found = BTreeSet::new();
    let mut overflowing = BTreeSet::new();
    let mut lines = Vec::new();
    for page in report["pages"].as_array().unwrap() {
        let name = page["name"].as_str().unwrap();
        let width = page["width"].as_u64().unwrap();
        assert_eq!(page["status"], 200, "{name} answers 200: {page}");
        for v in page["violations"].as_array().unwrap() {
            let rule = v["id"].as_str().unwrap();
            found.insert((name.to_string(), rule.to_string()));
            lines.push(format!(
                "{name} @{width}: {rule} ({}) {}",
                v["impact"].as_str().unwrap(),
                v["targets"]
            ));
        }
        let overflow = page["overflow_px"].as_i64().unwrap();
        if width == 360 && overflow > 0 {
            overflowing.insert(name.to_string());
            lines.push(format!("{name} @360: {overflow} px wider than the screen"));
        }
    }
    eprintln!("{}", lines.join("\n"));
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(p, r)| (p.to_string(), r.to_string()))
        .collect();
    let new: Vec<_> = found.difference(&known).collect();
    let fixed: Vec<_> = known.difference(&found).collect();
    assert!(
        new.is_empty(),
        "serious or critical axe violations: {new:?}\n{}",
        lines.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "no longer violated, remove from KNOWN: {fixed:?}"
    );
    let known_overflow: BTreeSet<String> = KNOWN_OVERFLOW.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        overflowing,
        known_overflow,
        "pages wider than a 360 px phone\n{}",
        lines.join("\n")
    );
}
