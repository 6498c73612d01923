//! The employee's journey (sign in with the emailed code, read the pact, tick, sign, download)
//! and an admin's (sign in, the unsigned list, a search in it by NIP, the dashboard and its
//! sort) with the keyboard alone, in Debian's chromium (`tests/browser/keyboard.cjs`).

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn an_employee_and_an_admin_get_through_with_the_keyboard_alone() {
    if !require(Tool::Browser) || !require(Tool::Node) {
        return;
    }
    // SQLite only: what the browser does does not depend on the database backend.
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    add_admin(&app, "admin@sulselprov.go.id", "provinsi", "73", None);
    // The server runs on this test's runtime: let it start before blocking on the browser.
    let health = app.api.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let plan = json!({
        "base": app.base_url,
        "outbox": app.outbox(),
        "campaign": app.campaign_id,
        "employee": { "id": RIZAL_NIP, "email": "rizal@contoh.go.id", "name": "Muhammad Rizal" },
        "admin": { "email": "admin@sulselprov.go.id", "search": ANDI_NIP },
    });
    let file = app.dir.path().join("keyboard-plan.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    let modules = node_modules();
    let out = Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/browser/keyboard.cjs"
        ))
        .arg(&file)
        .env("NODE_PATH", &modules)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "tests/browser/keyboard.cjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("{report}");

    let employee = &report["employee"];
    let steps: Vec<&str> = employee["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(steps[0], "/masuk/kode", "{steps:?}");
    assert!(
        steps[3].starts_with("/sertifikat/"),
        "signing leads to the certificate: {steps:?}"
    );
    assert!(
        steps[4].ends_with(".pdf 200 application/pdf"),
        "the PDF is downloaded: {steps:?}"
    );
    assert!(employee["pdf_bytes"].as_u64().unwrap() > 10_000);
    assert_eq!(app.count("certificates"), 1, "the signature is stored");

    let admin = &report["admin"];
    let steps: Vec<&str> = admin["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(steps[1], "/admin", "{steps:?}");
    assert!(steps[2].ends_with("/belum"), "{steps:?}");
    let unsigned = admin["unsigned_page"].as_str().unwrap();
    assert!(
        unsigned.contains("Andi Nurul Hidayah") && !unsigned.contains("Muhammad Rizal"),
        "Rizal signed, Andi did not: {unsigned}"
    );
    assert!(steps[3].ends_with("/belum"), "{steps:?}");
    let searched = &admin["searched"];
    let found = searched["text"].as_str().unwrap();
    assert!(found.contains("Andi Nurul Hidayah"), "{found}");
    let address = searched["url"].as_str().unwrap();
    assert!(
        address.contains("cari=") && !address.contains(ANDI_NIP),
        "the NIP is not in the address: {address}"
    );
    for link in searched["links"].as_array().unwrap() {
        assert!(!link.as_str().unwrap().contains(ANDI_NIP), "{link}");
    }
    assert!(steps[5].starts_with("/cakupan/"), "{steps:?}");
    assert_eq!(
        admin["sort_state"],
        json!([
            "none",
            "none",
            "none",
            "ascending",
            "ascending",
            "none",
            "none",
            "none"
        ]),
        "{report}"
    );
    assert_eq!(
        report["unseen_focus"],
        json!([]),
        "every control reached by Tab shows its focus"
    );
}
