//! The verify page in headless Chromium at 360×800, as a citizen's phone shows it: for a genuine,
//! a revoked, a tampered and an unknown certificate, online and then with the server gone, the
//! `<h1>` is the verdict, it is on the first screen, nothing positive is visible unless it is ASLI,
//! and axe-core finds no serious or critical violation at 360 and 1280 px.
//!
//! Needs node packages `playwright-core` and `axe-core` in `IKRAR_TEST_NODE_MODULES` (default
//! `target/npm/node_modules`: `npm install --prefix target/npm playwright-core axe-core`) and
//! Debian's `chromium`. Without them the test fails and says so, unless `IKRAR_TEST_SKIP`
//! contains `browser`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use ikrar::domain::CertificateId;
use ikrar::signing::revoke_certificate;
use serde_json::Value;

use crate::helpers::*;
use crate::offline::start_node;

/// The node packages and the browser, or `None` when the test command asked to skip browsers.
pub fn browser_tools() -> Option<PathBuf> {
    let skip = std::env::var("IKRAR_TEST_SKIP").unwrap_or_default();
    if skip.split(',').any(|s| s.trim() == "browser") {
        eprintln!("skipped: IKRAR_TEST_SKIP contains browser");
        return None;
    }
    let modules = std::env::var_os("IKRAR_TEST_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/npm/node_modules")
        });
    for package in ["playwright-core", "axe-core"] {
        assert!(
            modules.join(package).is_dir(),
            "{package} is missing from {}: run `npm install --prefix target/npm playwright-core axe-core` \
             (or set IKRAR_TEST_SKIP=browser to skip browser tests)",
            modules.display()
        );
    }
    let chromium =
        std::env::var("IKRAR_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Command::new(&chromium)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "{chromium} does not run: install Debian's `chromium` (apt-get install chromium), \
         or set IKRAR_TEST_SKIP=browser to skip browser tests"
    );
    Some(modules)
}

fn run_phase(
    modules: &PathBuf,
    phase: &str,
    cases: &PathBuf,
    profile: &PathBuf,
    shots: &PathBuf,
) -> HashMap<String, Value> {
    let out = Command::new("node")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/verdicts.cjs"))
        .args([phase])
        .args([cases, profile, shots])
        .env("IKRAR_TEST_NODE_MODULES", modules)
        .output()
        .expect("node runs (Debian package nodejs)");
    assert!(
        out.status.success(),
        "{phase}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["name"].as_str().unwrap().to_string(), v))
        .collect()
}

/// SQLite only: what the browser shows does not depend on the database backend.
#[tokio::test]
async fn each_verdict_is_the_heading_online_and_offline() {
    let Some(modules) = browser_tools() else {
        return;
    };
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let (_, genuine) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let (_, revoked) = app
        .signs(RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal")
        .await;
    assert!(revoke_certificate(
        &mut app.db.write().unwrap(),
        &CertificateId::parse(revoked["certificate_id"].as_str().unwrap()).unwrap(),
        ikrar::db::now(),
        "data_keliru: catatan admin",
    )
    .unwrap());
    let (node, base_url) = start_node(&app);
    let path_of = |v: &Value| {
        v["verify_url"]
            .as_str()
            .unwrap()
            .strip_prefix(&app.base_url)
            .unwrap()
            .to_string()
    };
    let genuine_link = path_of(&genuine);
    // The genuine link with one character of its signed claim changed.
    let (head, claim) = genuine_link.split_once('#').unwrap();
    let mut forged: Vec<char> = claim.chars().collect();
    let i = forged.len() / 2;
    forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
    let tampered_link = format!("{head}#{}", forged.into_iter().collect::<String>());
    let cases = [
        (
            "asli",
            genuine_link.clone(),
            true,
            "ASLI",
            "TANDA TANGAN COCOK",
        ),
        (
            "dicabut",
            path_of(&revoked),
            true,
            "DICABUT",
            "TANDA TANGAN COCOK",
        ),
        ("tidak-sah", tampered_link, true, "TIDAK SAH", "TIDAK SAH"),
        (
            "tidak-ditemukan",
            "/v/AAAAAAAAAAAAAAAA".to_string(),
            false,
            "TIDAK DITEMUKAN",
            "BELUM DAPAT DIPERIKSA",
        ),
    ];
    let listed: Vec<Value> = cases
        .iter()
        .map(|(name, path, claim, _, _)| {
            serde_json::json!({ "name": name, "url": format!("{base_url}{path}"), "claim": claim })
        })
        .collect();
    let dir = app.dir.path();
    let cases_file = dir.join("cases.json");
    std::fs::write(&cases_file, serde_json::to_string(&listed).unwrap()).unwrap();
    let profile = dir.join("chromium-profile");
    let shots = std::env::var_os("IKRAR_TEST_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("screenshots"));
    std::fs::create_dir_all(&shots).unwrap();

    let online = run_phase(&modules, "online", &cases_file, &profile, &shots);
    drop(node); // no signal
    let offline = run_phase(&modules, "offline", &cases_file, &profile, &shots);

    for (phase, seen, expected) in [("online", &online, 3), ("offline", &offline, 4)] {
        for case in &cases {
            let name = case.0;
            let want = if expected == 3 { case.3 } else { case.4 };
            let v = &seen[name];
            assert_eq!(v["h1"], want, "{phase} {name}: {v}");
            assert_eq!(v["h1_count"], 1, "{phase} {name}: one heading");
            assert!(
                v["h1_bottom"].as_f64().unwrap() <= 800.0,
                "{phase} {name}: the verdict is on the first screen: {v}"
            );
            assert_eq!(v["lang"], "id");
            if want != "ASLI" {
                assert_eq!(
                    v["positive_visible"],
                    serde_json::json!([]),
                    "{phase} {name}: nothing positive under {want}"
                );
            }
            assert_eq!(
                v["violations"],
                serde_json::json!([]),
                "{phase} {name}: axe-core serious or critical violations"
            );
        }
    }
}
