//! The offline bundle inside every certificate PDF (`ikrar-bukti.json`), checked without the
//! server by `tests/offline_bundle_check.py` (written from docs/certificate-format.md), while
//! pyHanko still finds the seal intact over the whole file; and the seal's signing time after a
//! seal rotation.

use std::path::Path;
use std::process::Command;

use ikrar::config::Settings;
use ikrar::db::DatabaseUrl;
use ikrar::startup::Application;
use serde_json::Value;

use crate::helpers::*;
use crate::pdf_signature::pyhanko;

crate::on_both_backends!(
    a_fresh_pdf_carries_an_offline_bundle_that_checks_without_the_server,
    a_certificate_sealed_again_after_a_seal_rotation_is_timed_within_the_new_seal,
);

/// Every Ed25519 public key `/.well-known/ikrar-keys.json` publishes, whatever its role: the
/// trust anchors the checker is given, fetched before the check as a verifier would keep them.
async fn published_keys(app: &TestApp) -> Vec<String> {
    let text = app
        .api
        .get(app.url("/.well-known/ikrar-keys.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut keys = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("\"public_key_hex\"") {
        rest = &rest[at + "\"public_key_hex\"".len()..];
        let value = rest.split('"').nth(1).unwrap();
        keys.push(value.to_string());
    }
    assert!(!keys.is_empty(), "no public keys in {text}");
    keys
}

/// Runs the independent checker on a PDF (or, with `json`, on a bundle file); `None` when
/// pyHanko, whose PDF reader it uses, is skipped.
fn bundle_check(file: &Path, json: bool, keys: &[String]) -> Option<(bool, Value)> {
    if !require(Tool::Pyhanko) {
        return None;
    }
    let mut command = python3();
    command.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/offline_bundle_check.py"
    ));
    if json {
        command.arg("--json");
    }
    let out = command.arg(file).args(keys).output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "the bundle check printed no report: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Some((out.status.success(), report))
}

/// The attached file as qpdf, a third PDF reader, extracts it.
fn attachment(pdf: &Path) -> Vec<u8> {
    let out = Command::new("qpdf")
        .arg("--show-attachment=ikrar-bukti.json")
        .arg(pdf)
        .output()
        .expect("qpdf is installed (apt-get install -y qpdf)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

async fn a_fresh_pdf_carries_an_offline_bundle_that_checks_without_the_server(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (token, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap();
    let pdf = app.pdf(&token, id).await;
    assert_eq!(
        pdf,
        app.pdf(&token, id).await,
        "the same checkpoint, the same bytes"
    );
    let keys = published_keys(&app).await;
    let anchor_pem = app
        .api
        .get(app.url("/.well-known/ikrar-seal.pem"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let latest = app
        .api
        .get(app.url("/log/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (file, anchor) = (dir.path().join("cert.pdf"), dir.path().join("seal.pem"));
    std::fs::write(&file, &pdf).unwrap();
    std::fs::write(&anchor, anchor_pem).unwrap();

    let bundle: Value = serde_json::from_slice(&attachment(&file)).unwrap();
    assert_eq!(bundle["format"], "ikrar-bukti/1");
    assert_eq!(bundle["certificate_id"], id);
    assert_eq!(bundle["log"]["checkpoint"], latest.as_str());
    let link = read_qr(&pdf, 150);
    assert_eq!(
        link.split_once('#').unwrap().1,
        bundle["qr_claim"].as_str().unwrap(),
        "the bundle's claim is the QR's"
    );

    // The seal is appended after the attachment and covers it.
    if let Some((ok, report)) = pyhanko(&pdf, &[&anchor]) {
        assert!(ok, "pyHanko refused the sealed PDF: {report}");
        assert_eq!(report["coverage"], "ENTIRE_FILE", "{report}");
    }
    let Some((ok, report)) = bundle_check(&file, false, &keys) else {
        return;
    };
    assert!(ok, "the independent checker refused the bundle: {report}");
    for finding in [
        "in_af",
        "qr_claim_matches",
        "claim_signature",
        "entry_matches_claim",
        "checkpoint_signature",
        "inclusion",
    ] {
        assert_eq!(report[finding], true, "{finding}: {report}");
    }
    assert_eq!(report["af_relationship"], "/Supplement", "{report}");
    assert_eq!(report["tree_size"], bundle["log"]["tree_size"], "{report}");

    // Each part is bound: a changed index, entry, claim or checkpoint, or a stranger's key, fails.
    let json = dir.path().join("bukti.json");
    let refused = |changed: &Value, keys: &[String]| {
        std::fs::write(&json, serde_json::to_vec(changed).unwrap()).unwrap();
        let (ok, report) = bundle_check(&json, true, keys).unwrap();
        assert!(!ok, "accepted a changed bundle: {report}");
        report["error"].as_str().unwrap().to_string()
    };
    std::fs::write(&json, serde_json::to_vec(&bundle).unwrap()).unwrap();
    assert!(bundle_check(&json, true, &keys).unwrap().0);
    let mut changed = bundle.clone();
    changed["log"]["index"] = (bundle["log"]["index"].as_u64().unwrap() + 1).into();
    assert!(refused(&changed, &keys).contains("inclusion proof"));
    let mut changed = bundle.clone();
    changed["log"]["tree_size"] = (bundle["log"]["tree_size"].as_u64().unwrap() + 1).into();
    assert!(refused(&changed, &keys).contains("inclusion proof"));
    let mut changed = bundle.clone();
    let checkpoint = bundle["log"]["checkpoint"].as_str().unwrap();
    let size_line = checkpoint.lines().nth(1).unwrap();
    changed["log"]["checkpoint"] = checkpoint
        .replacen(
            &format!("\n{size_line}\n"),
            &format!("\n{}\n", size_line.parse::<u64>().unwrap() + 1),
            1,
        )
        .into();
    assert!(refused(&changed, &keys).contains("checkpoint"));
    let mut changed = bundle.clone();
    let entry = bundle["log"]["entry"].as_str().unwrap();
    let flipped = if entry.starts_with('A') { "B" } else { "A" };
    changed["log"]["entry"] = format!("{flipped}{}", &entry[1..]).into();
    assert!(refused(&changed, &keys).contains("entry"));
    let stranger = ikrar::signing::IssuerKey::from_seed([9; 32]);
    let stranger = vec![data_encoding::HEXLOWER.encode(stranger.public().as_bytes())];
    assert!(refused(&bundle, &stranger).contains("trusted key"));
}

async fn a_certificate_sealed_again_after_a_seal_rotation_is_timed_within_the_new_seal(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (token, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap();
    let signed_at = app.verdict(id).await["signed_at"]
        .as_str()
        .map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp())
        .unwrap();
    // The new seal is made at least two seconds after the signing.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let out = ikrar(&[
        "keys",
        "rotate-seal",
        "--data-dir",
        app.dir.path().to_str().unwrap(),
        "--database-url",
        app.database_url.as_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seal = ikrar::signing::Seal::load(
        &app.dir.path().join("seal-key.pem"),
        &app.dir.path().join("seal-certificate.pem"),
    )
    .unwrap();
    assert!(seal.not_before() > signed_at);

    // A node started with the new seal: the certificate is still genuine, and sealed afresh.
    let mut settings = Settings::for_data_dir(app.dir.path().to_path_buf());
    settings.bind = "127.0.0.1:0".into();
    settings.database_url = DatabaseUrl::parse(&app.database_url).unwrap();
    let node = Application::build(&settings).unwrap();
    let node_url = node.base_url().to_string();
    tokio::spawn(node.run_until_stopped());
    let response = app
        .api
        .get(format!("{node_url}/api/v1/certificates/{id}.pdf"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let pdf = response.bytes().await.unwrap().to_vec();
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("seal.pem");
    std::fs::write(&anchor, seal.chain_pem()).unwrap();
    let file = dir.path().join("cert.pdf");
    std::fs::write(&file, &pdf).unwrap();
    // The bundle rides along after the rotation too.
    let bundle: Value = serde_json::from_slice(&attachment(&file)).unwrap();
    assert_eq!(bundle["certificate_id"], id);

    let Some((ok, report)) = pyhanko(&pdf, &[&anchor]) else {
        return;
    };
    assert!(ok, "pyHanko refused the re-sealed PDF: {report}");
    let reported = report["signer_reported_time"].as_str().unwrap();
    let reported = chrono::DateTime::parse_from_rfc3339(reported)
        .unwrap()
        .timestamp();
    assert_eq!(
        reported,
        seal.not_before(),
        "the signing time is the new seal's start, not the certificate's earlier signing: {report}"
    );
    let m = pdf.windows(4).rposition(|w| w == b"/M(D").unwrap();
    let claimed = std::str::from_utf8(&pdf[m + 5..m + 19]).unwrap();
    assert_eq!(
        chrono::NaiveDateTime::parse_from_str(claimed, "%Y%m%d%H%M%S")
            .unwrap()
            .and_utc()
            .timestamp(),
        seal.not_before(),
        "the signature dictionary's /M says the same"
    );
}
