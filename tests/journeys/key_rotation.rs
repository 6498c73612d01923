//! A key's life: rotated out (its certificates stay genuine), then found compromised (what it
//! signed at or after the instant the compromise began is no longer genuine, what it signed before
//! still is); and the same timeline as the public log records it, checked by the independent
//! verifier against the signed key list and the log.

use std::process::{Command, Output};

use ikrar::config::Settings;
use ikrar::db::DatabaseUrl;
use ikrar::startup::Application;
use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    a_rotated_key_keeps_its_certificates_and_a_revoked_key_loses_the_later_ones,
    a_key_timeline_is_in_the_log_and_the_signed_key_list_matches_it
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

    // Compromised from the second after A was signed: A (signed before that instant) stays
    // genuine, C (signed at or after it by the same key) does not; B (new key) is untouched.
    let a_signed_at = a_signed_at + chrono::Duration::seconds(1);
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

fn log_key_file(app: &TestApp) -> std::path::PathBuf {
    app.dir.path().join("log-key.ed25519")
}

/// Starts another node on the app's storage (with whatever key files it now holds) and sends the
/// test's requests to it. The earlier nodes keep running, as they would until an operator
/// restarts them.
fn restart(app: &mut TestApp) {
    let node = Application::build(&settings_of(app)).expect("a node starts with the key files");
    app.base_url = node.base_url().to_string();
    tokio::spawn(node.run_until_stopped());
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let r = app.api.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The key list once a published checkpoint covers every entry it reflects.
async fn settled_key_list(app: &TestApp) -> Value {
    for _ in 0..100 {
        let (_, doc) = get_json(app, "/.well-known/ikrar-keys.json").await;
        let size = doc["tree_size"].as_u64().unwrap();
        let r = app
            .api
            .get(app.url("/log/checkpoint"))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            let note = r.text().await.unwrap();
            if note.lines().nth(1).and_then(|s| s.parse::<u64>().ok()) >= Some(size) {
                return doc;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no checkpoint covering the key list within 10 s");
}

/// The key events in the log, as (type byte, roles byte, key id).
async fn key_events(app: &TestApp, size: u64) -> Vec<(u8, u8, String)> {
    let mut events = Vec::new();
    for index in 0..size {
        let (status, e) = get_json(app, &format!("/log/entries/{index}")).await;
        assert_eq!(status, 200);
        if e["kind"] != "key" {
            continue;
        }
        let bytes = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            e["entry"].as_str().unwrap(),
        )
        .unwrap();
        let key_id = data_encoding::HEXLOWER.encode(&bytes[3..11]);
        assert_eq!(e["key_id"], key_id.as_str(), "the entry names its key");
        events.push((bytes[1], bytes[2], key_id));
    }
    events
}

fn independent_verifier(app: &TestApp, keys: &Value, link: &str) -> (bool, String) {
    let file = app.dir.path().join("keys-kept.json");
    std::fs::write(&file, keys.to_string()).unwrap();
    let out = python3()
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/independent_verifier.py"
        ))
        .arg(&file)
        .arg(link)
        .args(["--log", &app.base_url])
        .output()
        .expect("python3 is installed");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn key_named<'a>(keys: &'a Value, key_id: &str) -> &'a Value {
    keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_id"] == key_id)
        .unwrap_or_else(|| panic!("{key_id} is listed: {keys}"))
}

async fn a_key_timeline_is_in_the_log_and_the_signed_key_list_matches_it(backend: Backend) {
    let Some(mut app) = spawn_app(backend).await else {
        return;
    };
    if !require(Tool::Pyhanko) {
        return;
    }
    let (token, a) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let a_id = a["certificate_id"].as_str().unwrap().to_string();
    let a_link = a["verify_url"].as_str().unwrap().to_string();
    let a_signed_at = chrono::DateTime::parse_from_rfc3339(
        verdict(&app, &a_id).await["signed_at"].as_str().unwrap(),
    )
    .unwrap();

    // The first key does both jobs; alone and unchanged, it is not in the log yet.
    let keys = settled_key_list(&app).await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{keys}");
    let genesis = keys["keys"][0]["key_id"].as_str().unwrap().to_string();
    assert_eq!(
        keys["keys"][0]["roles"],
        serde_json::json!(["claim", "log"])
    );
    assert_eq!(keys["log"]["key_id"], genesis.as_str());
    assert!(key_events(&app, keys["tree_size"].as_u64().unwrap())
        .await
        .is_empty());
    let (valid, out) = independent_verifier(&app, &keys, &a_link);
    assert!(valid, "{out}");

    // The log gets a key of its own; the first key goes on signing claims.
    let out = keys_command(&app, &["rotate", "--role", "log"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(unix)]
    assert_eq!(
        mode(&log_key_file(&app)),
        0o600,
        "the log key file is private"
    );
    assert!(app.dir.path().join("issuer-key.ed25519").exists());
    restart(&mut app);
    let keys = settled_key_list(&app).await;
    let log_key = keys["log"]["key_id"].as_str().unwrap().to_string();
    assert_ne!(
        log_key, genesis,
        "the new node signs for the log with the log key"
    );
    assert_eq!(
        key_named(&keys, &log_key)["roles"],
        serde_json::json!(["log"])
    );
    assert_eq!(
        key_named(&keys, &genesis)["active_roles"],
        serde_json::json!(["claim"])
    );
    assert_eq!(key_named(&keys, &genesis)["status"], "active");

    // Then the claim key is rotated, and the first key is found compromised from the very
    // second A was signed: at or after the instant means not genuine, so A is void.
    let out = keys_command(&app, &["rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    restart(&mut app);
    let from = a_signed_at.to_rfc3339();
    let out = keys_command(&app, &["revoke", &genesis, "--from", &from]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("pada atau sesudah") && stdout.contains("(1 sertifikat)"),
        "{stdout}"
    );
    // A later instant would make A genuine again: refused, and nothing is logged.
    let later = (a_signed_at + chrono::Duration::seconds(60)).to_rfc3339();
    let out = keys_command(&app, &["revoke", &genesis, "--from", &later]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tidak dapat dimundurkan"));
    let out = keys_command(&app, &["revoke", &genesis, "--from", &from]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("tidak ada yang berubah"));
    // An earlier instant is a change, and logged.
    let earlier = a_signed_at - chrono::Duration::seconds(3600);
    let out = keys_command(&app, &["revoke", &genesis, "--from", &earlier.to_rfc3339()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (_, b) = app
        .signs(RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal")
        .await;
    let b_link = b["verify_url"].as_str().unwrap().to_string();
    let keys = settled_key_list(&app).await;
    let claim_key = verdict(&app, b["certificate_id"].as_str().unwrap()).await["key_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Every change is in the log, in order: the first key's publication (logged with the first
    // change), its log role given up, the log key published, the first key retired from claims,
    // the new claim key published, and two revocations (the second earlier).
    let (published, retired, revoked) = (3u8, 4u8, 5u8);
    let (claim, log) = (1u8, 2u8);
    let events = key_events(&app, keys["tree_size"].as_u64().unwrap()).await;
    assert_eq!(
        events,
        vec![
            (published, claim | log, genesis.clone()),
            (retired, log, genesis.clone()),
            (published, log, log_key.clone()),
            (retired, claim, genesis.clone()),
            (published, claim, claim_key.clone()),
            (revoked, claim, genesis.clone()),
            (revoked, claim, genesis.clone()),
        ]
    );

    // The signed list says the same: the earliest revocation instant counts.
    let first = key_named(&keys, &genesis);
    assert_eq!(first["status"], "revoked");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(first["valid_until"].as_str().unwrap()).unwrap(),
        earlier
    );
    assert_eq!(key_named(&keys, &claim_key)["status"], "active");
    assert!(keys["signed_note"]
        .as_str()
        .unwrap()
        .starts_with("ikrar-keys/v1\n"));

    // Online, A is not genuine, and its PDF is not sealed afresh.
    let r = app
        .api
        .get(app.url(&format!("/api/v1/verify/{a_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "tampered");
    assert!(
        body["problem"].as_str().unwrap().contains("dicabut"),
        "{body}"
    );
    let r = app
        .api
        .get(app.url(&format!("/api/v1/certificates/{a_id}.pdf")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(!r.bytes().await.unwrap().starts_with(b"%PDF"));

    // Offline and independently: the signed list matches the log (each key event proven under a
    // checkpoint signed by the log key), B is valid and A is refused.
    let (valid, out) = independent_verifier(&app, &keys, &b_link);
    assert!(valid, "{out}");
    assert!(
        out.contains("key list matches the log: 7 key events"),
        "{out}"
    );
    let (valid, out) = independent_verifier(&app, &keys, &a_link);
    assert!(!valid, "{out}");
    assert!(
        out.contains("key list matches the log") && out.contains("revoked from"),
        "{out}"
    );

    // A key list whose note was altered is refused outright.
    let size = keys["tree_size"].as_u64().unwrap();
    let mut forged = keys.clone();
    forged["signed_note"] = keys["signed_note"]
        .as_str()
        .unwrap()
        .replacen(&format!("\n{size}\n"), &format!("\n{}\n", size + 1), 1)
        .into();
    let (valid, out) = independent_verifier(&app, &forged, &b_link);
    assert!(!valid && out.contains("not signed"), "{out}");

    // The seal has its own rotation; `--role seal` is `keys rotate-seal`.
    let out = keys_command(&app, &["rotate", "--role", "seal"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("segel PDF baru"));

    // The audit agrees with the log, and names a key row whose revocation was cleared.
    let audit = std::process::Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(["log", "verify", "--database-url", &app.database_url])
        .arg("--data-dir")
        .arg(app.dir.path())
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    {
        use diesel::prelude::*;
        use ikrar::db::schema::issuer_keys::dsl as k;
        diesel::update(k::issuer_keys.find(&genesis))
            .set((
                k::valid_until.eq(None::<i64>),
                k::revoked_at.eq(None::<i64>),
            ))
            .execute(&mut *app.db.write().unwrap())
            .unwrap();
    }
    let audit = std::process::Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(["log", "verify", "--database-url", &app.database_url])
        .arg("--data-dir")
        .arg(app.dir.path())
        .output()
        .unwrap();
    assert_eq!(audit.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&audit.stderr).contains("tidak berstatus dicabut"),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
}
