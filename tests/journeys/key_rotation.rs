//! An issuer key's life: rotated out (its certificates stay genuine), then found compromised
//! (what it signed after the compromise began is no longer genuine, what it signed before still is).

use std::process::{Command, Output};

use ikrar::config::Settings;
use ikrar::db::DatabaseUrl;
use ikrar::startup::Application;
use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    a_rotated_key_keeps_its_certificates_and_a_revoked_key_loses_the_later_ones
);

fn keys_command(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .arg("keys")
        .args(args)
        .args(["--database-url", &app.database_url])
        .arg("--data-dir")
        .arg(app.dir.path())
        .output()
        .unwrap()
}

async fn keys_document(app: &TestApp) -> Vec<Value> {
    let doc: Value = app
        .api
        .get(app.url("/.well-known/ikrar-keys.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    doc["keys"].as_array().unwrap().clone()
}

async fn verdict(app: &TestApp, id: &str) -> Value {
    app.api
        .get(app.url(&format!("/api/v1/verify/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn settings_of(app: &TestApp) -> Settings {
    let mut settings = Settings::for_data_dir(app.dir.path().to_path_buf());
    settings.bind = "127.0.0.1:0".into();
    settings.database_url = DatabaseUrl::parse(&app.database_url).unwrap();
    settings
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn a_rotated_key_keeps_its_certificates_and_a_revoked_key_loses_the_later_ones(
    backend: Backend,
) {
    let Some(mut app) = spawn_app(backend).await else {
        return;
    };
    let (_, a) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let a_id = a["certificate_id"].as_str().unwrap().to_string();
    let first_key = verdict(&app, &a_id).await["key_id"]
        .as_str()
        .unwrap()
        .to_string();

    // The key still signing cannot be revoked: that would make every new certificate invalid.
    let out = keys_command(
        &app,
        &["revoke", &first_key, "--from", "2024-01-01T00:00:00Z"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keys rotate"));
    // Input errors are named.
    let out = keys_command(&app, &["revoke", "xyz", "--from", "2024-01-01T00:00:00Z"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KEY_ID"));
    let out = keys_command(&app, &["revoke", &first_key, "--from", "kemarin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from"));

    let out = keys_command(&app, &["rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key_file = app.dir.path().join("issuer-key.ed25519");
    let retired_file = app
        .dir
        .path()
        .join(format!("issuer-key.ed25519.retired-{first_key}"));
    #[cfg(unix)]
    {
        assert_eq!(mode(&key_file), 0o600, "the new key file is private");
        assert_eq!(mode(&retired_file), 0o600, "so is the retired one");
    }

    let keys = keys_document(&app).await;
    assert_eq!(keys.len(), 2);
    let old = keys
        .iter()
        .find(|k| k["key_id"] == first_key.as_str())
        .unwrap();
    assert_eq!(old["status"], "retired");
    assert!(old["valid_until"].is_null(), "retiring is not revoking");
    let new = keys
        .iter()
        .find(|k| k["key_id"] != first_key.as_str())
        .unwrap();
    assert_eq!(new["status"], "active");
    let second_key = new["key_id"].as_str().unwrap().to_string();

    // A node started now signs with the new key; the old certificate keeps verifying.
    let node = Application::build(&settings_of(&app)).expect("a node starts with the new key");
    let first_node = std::mem::replace(&mut app.base_url, node.base_url().to_string());
    tokio::spawn(node.run_until_stopped());
    let (_, b) = app
        .signs(RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal")
        .await;
    let b_id = b["certificate_id"].as_str().unwrap().to_string();
    assert_eq!(verdict(&app, &b_id).await["key_id"], second_key.as_str());
    assert_eq!(verdict(&app, &a_id).await["status"], "genuine");

    // A node restarted with the stale key file refuses to start, and says why.
    let mut stale = settings_of(&app);
    stale.key_file = retired_file.clone();
    let refused = Application::build(&stale)
        .err()
        .expect("a retired key is refused");
    assert!(
        format!("{refused:#}").contains("dipensiunkan"),
        "{refused:#}"
    );

    // The first node was never restarted and still signs with the old key: a compromise like
    // this is what revocation is for. Its next certificate is signed a second or more after A.
    app.base_url = first_node;
    let a_signed_at = chrono::DateTime::parse_from_rfc3339(
        verdict(&app, &a_id).await["signed_at"].as_str().unwrap(),
    )
    .unwrap();
    while ikrar::db::now() <= a_signed_at.timestamp() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, c) = app
        .signs(HASNAH_NIK, "hasnah@contoh.go.id", "Wa Ode Sitti Hasnah")
        .await;
    let c_id = c["certificate_id"].as_str().unwrap().to_string();
    assert_eq!(verdict(&app, &c_id).await["key_id"], first_key.as_str());
    assert_eq!(verdict(&app, &c_id).await["status"], "genuine");

    // Compromised from the instant A was signed: A (signed at that instant) stays genuine,
    // C (signed later by the same key) does not; B (new key) is untouched.
    let from = a_signed_at.to_rfc3339();
    let out = keys_command(&app, &["revoke", &first_key, "--from", &from]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("(1 sertifikat)"), "{stdout}");
    assert_eq!(verdict(&app, &a_id).await["status"], "genuine");
    let c_verdict = verdict(&app, &c_id).await;
    assert_eq!(c_verdict["status"], "tampered");
    assert!(c_verdict["problem"].as_str().unwrap().contains("dicabut"));
    assert_eq!(verdict(&app, &b_id).await["status"], "genuine");

    let keys = keys_document(&app).await;
    let old = keys
        .iter()
        .find(|k| k["key_id"] == first_key.as_str())
        .unwrap();
    assert_eq!(old["status"], "revoked");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(old["valid_until"].as_str().unwrap()).unwrap(),
        a_signed_at
    );
    assert!(old["revoked_at"].is_string());

    // The page says it in words.
    let page = app
        .api
        .get(app.url(&format!("/v/{c_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 422);
    assert!(page.text().await.unwrap().contains("dinyatakan bocor"));
}
