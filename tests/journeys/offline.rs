//! A field officer's phone: the verification page checks the QR's signed claim in the browser, and
//! after one visit with signal it still gives a verdict when the server cannot be reached.
//! Headless Chromium (Debian `chromium`) runs the real page, script and service worker.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::helpers::*;

pub struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A node in its own process, so that the test can take it away like a lost signal.
pub fn start_node(app: &TestApp) -> (Node, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &app.database_url,
        ])
        .arg("--data-dir")
        .arg(app.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base_url = announced_address(&mut child);
    (Node(child), base_url)
}

/// The page's DOM after its scripts ran, in a browser profile kept between calls.
fn rendered(profile: &Path, url: &str) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--no-first-run",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .stderr(Stdio::null())
        .output()
        .expect("chromium runs (Debian package chromium)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// SQLite only: the browser side does not depend on the database backend.
#[tokio::test]
async fn the_qr_claim_is_checked_in_the_browser_and_still_without_signal() {
    if !require(Tool::Browser) {
        return;
    }
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let (_, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let verify_url = signed["verify_url"].as_str().unwrap();
    let path_and_claim = verify_url.strip_prefix(&app.base_url).unwrap().to_string();
    let (node, base_url) = start_node(&app);
    let link = format!("{base_url}{path_and_claim}");
    let profile = app.dir.path().join("chromium-profile");

    // The first visit with signal; on a busy machine the service worker may need another visit
    // to finish keeping its copy.
    let mut dom = rendered(&profile, &link);
    for _ in 0..5 {
        if dom.contains(r#"data-luring="siap""#) {
            break;
        }
        dom = rendered(&profile, &link);
    }
    assert!(
        dom.contains(r#"data-luring="siap""#),
        "service worker ready: {dom}"
    );
    assert!(dom.contains(r#"data-hasil="sah""#), "online: {dom}");
    assert!(dom.contains("Andi Nurul Hidayah, S.Pd."));
    assert!(dom.contains("Diperiksa di perangkat ini, tanpa server"));
    assert!(
        dom.contains(r#"data-status="genuine""#),
        "the server's answer: {dom}"
    );
    assert!(
        dom.contains("Tercatat di log publik pada indeks 0"),
        "{dom}"
    );

    // A claim changed by one character fails in the browser already.
    let (head, claim) = link.split_once('#').unwrap();
    let mut forged: Vec<char> = claim.chars().collect();
    let i = forged.len() / 2;
    forged[i] = if forged[i] == '1' { '2' } else { '1' };
    let forged: String = forged.into_iter().collect();
    let dom = rendered(&profile, &format!("{head}#{forged}"));
    assert!(dom.contains(r#"data-hasil="tidak-sah""#), "forged: {dom}");

    // No signal: the server is gone. The page kept by the service worker and the kept keys
    // still give the verdict, and say what could not be checked.
    drop(node);
    let dom = rendered(&profile, &link);
    assert!(dom.contains(r#"data-hasil="sah""#), "offline: {dom}");
    assert!(dom.contains(r#"data-status="luring""#), "{dom}");
    assert!(dom.contains("yang tersimpan sejak"), "{dom}");
    let dom = rendered(&profile, &format!("{head}#{forged}"));
    assert!(
        dom.contains(r#"data-hasil="tidak-sah""#),
        "offline forged: {dom}"
    );
}
