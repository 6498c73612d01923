//! One verdict a citizen can trust: it follows the public log even where a database row was
//! altered, the admin's private note never reaches the public, and a certificate that is not
//! genuine is not sealed afresh for its signer.

use diesel::prelude::*;
use ikrar::domain::CertificateId;
use ikrar::signing::revoke_certificate;
use serde_json::Value;

use crate::helpers::*;
use crate::on_both_backends;
use crate::public_log::checkpoint_covering;

on_both_backends!(
    a_revocation_cleared_in_the_database_still_verifies_as_revoked,
    a_certificate_that_is_not_genuine_gets_no_fresh_seal,
    a_certificate_deep_in_the_log_proves_its_inclusion_from_its_stored_block,
    scans_arriving_together_each_get_their_own_verdict_and_see_a_revocation_at_once,
);

const NOTE: &str = "salah ketik jabatan oleh operator Budi";

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.api.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn heading(html: &str) -> String {
    let start = html.find("<h1").expect("the page has an <h1>");
    let open = start + html[start..].find('>').unwrap() + 1;
    let close = open + html[open..].find("</h1>").unwrap();
    html[open..close].trim().to_string()
}

/// Replaces the demo's employees with a synthetic roster of `employees`, `signed_share` of them
/// signed (the synthetic nation fills an empty roster only), through a second opening of the
/// node's storage, as the command would.
fn synthetic_roster(
    app: &TestApp,
    employees: u64,
    signed_share: f64,
    seed: u64,
) -> ikrar::synth::load::Loaded {
    let (db, key) = app.open_storage();
    {
        use ikrar::db::schema::{employees, roster_counts};
        let mut conn = db.write().unwrap();
        diesel::delete(roster_counts::table)
            .execute(&mut *conn)
            .unwrap();
        diesel::delete(employees::table)
            .execute(&mut *conn)
            .unwrap();
    }
    let options = ikrar::synth::load::Options {
        employees,
        signed_share,
        seed,
    };
    ikrar::synth::load::populate(&db, &key, &options, |_, _| {}).unwrap()
}

async fn healthz(app: &TestApp) -> Value {
    let r = app.api.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "the node still serves");
    r.json().await.unwrap()
}

async fn a_revocation_cleared_in_the_database_still_verifies_as_revoked(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, signed) = app
        .signs(RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal")
        .await;
    let id = signed["certificate_id"].as_str().unwrap().to_string();
    assert_eq!(healthz(&app).await["status"], "ok");

    let revoked_at = ikrar::db::now();
    assert!(revoke_certificate(
        &mut app.db.write().unwrap(),
        &CertificateId::parse(&id).unwrap(),
        revoked_at,
        &format!("data_keliru: {NOTE}"),
    )
    .unwrap());
    checkpoint_covering(&app, 2).await;

    // Someone with database access takes the revocation back.
    {
        use ikrar::db::schema::certificates as c;
        diesel::update(c::table.find(&id))
            .set((
                c::revoked_at.eq(None::<i64>),
                c::revocation_reason.eq(None::<String>),
            ))
            .execute(&mut *app.db.write().unwrap())
            .unwrap();
    }

    // The API and the page still say revoked, with the time and category from the log.
    let v = app.verdict(&id).await;
    assert_eq!(v["status"], "revoked", "{v}");
    assert_eq!(v["revocation_reason"], "data_keliru");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(v["revoked_at"].as_str().unwrap())
            .unwrap()
            .timestamp(),
        revoked_at
    );
    assert_eq!(v["log"]["revocation_index"], 1);
    let (status, html) = page(&app, &format!("/v/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(heading(&html), "DICABUT");
    assert!(
        html.contains("Data pegawai pada sertifikat keliru"),
        "{html}"
    );

    // The admin's note is in no public answer, and the log entry carries only the category.
    assert!(!v.to_string().contains("Budi"));
    assert!(!html.contains("Budi"));
    let (_, entry) = page(&app, "/log/entries/1").await;
    let entry: Value = serde_json::from_str(&entry).unwrap();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(entry["entry"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes.len(), 53);
    assert_eq!(bytes[52], 1, "data_keliru");

    // The node says the row contradicts the log.
    let health = healthz(&app).await;
    assert_eq!(health["status"], "log_contradiction", "{health}");
    let found = &health["log_contradictions"][0];
    assert_eq!(found["certificate_id"], id.as_str());
    assert_eq!(found["log_index"], 1);
}

async fn a_certificate_that_is_not_genuine_gets_no_fresh_seal(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (token, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap().to_string();
    assert_eq!(app.pdf(&token, &id).await[..5], *b"%PDF-");

    let download = |path: String| {
        let (api, token) = (app.api.clone(), token.clone());
        async move {
            let r = api.get(path).bearer_auth(token).send().await.unwrap();
            let status = r.status().as_u16();
            let kind = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, kind, r.text().await.unwrap())
        }
    };

    // Revoked: the API explains in JSON, the page route with a page; neither is a PDF.
    assert!(revoke_certificate(
        &mut app.db.write().unwrap(),
        &CertificateId::parse(&id).unwrap(),
        ikrar::db::now(),
        &format!("berhenti_atau_pindah: {NOTE}"),
    )
    .unwrap());
    let (status, kind, body) = download(app.url(&format!("/api/v1/certificates/{id}.pdf"))).await;
    assert_eq!(status, 409, "{body}");
    assert!(kind.starts_with("application/json"), "{kind}");
    assert!(body.contains("sudah dicabut"), "{body}");
    let (status, kind, body) = download(app.url(&format!("/sertifikat/{id}.pdf"))).await;
    assert_eq!(status, 409);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert_eq!(heading(&body), "DICABUT");
    assert!(body.contains("tidak diterbitkan lagi"), "{body}");
    assert!(!body.contains("Budi"));

    // Void: its key revoked from before it was signed (a compromise).
    let (token, signed) = app
        .signs(RIZAL_NIP, "rizal@contoh.go.id", "Muhammad Rizal")
        .await;
    let id = signed["certificate_id"].as_str().unwrap().to_string();
    {
        use ikrar::db::schema::issuer_keys as k;
        diesel::update(k::table)
            .set((
                k::valid_until.eq(Some(ikrar::db::now() - 3_600)),
                k::revoked_at.eq(Some(ikrar::db::now())),
            ))
            .execute(&mut *app.db.write().unwrap())
            .unwrap();
    }
    assert_eq!(app.verdict(&id).await["status"], "tampered");
    let r = app
        .api
        .get(app.url(&format!("/api/v1/certificates/{id}.pdf")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(body.contains("tidak sah"), "{body}");
    assert!(body.contains("dinyatakan bocor"), "{body}");
}

/// A deployment's link for reporting a neutrality violation (`--report-url`) is on the verify
/// page a citizen reaches from the QR. SQLite only: the page does not depend on the backend.
#[tokio::test]
async fn the_verify_page_links_to_the_configured_violation_report() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| {
        s.report_url = Some("https://lapor.example.go.id/netralitas".into())
    })
    .await
    else {
        return;
    };
    let (_, signed) = app
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap();
    let (status, html) = page(&app, &format!("/v/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("href=\"https://lapor.example.go.id/netralitas\"")
            && html.contains("Laporkan dugaan pelanggaran netralitas"),
        "{html}"
    );
    // Without the setting there is no such link.
    let plain = spawn_app(Backend::Sqlite).await.unwrap();
    let (_, signed) = plain
        .signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let id = signed["certificate_id"].as_str().unwrap();
    let (_, html) = page(&plain, &format!("/v/{id}")).await;
    assert!(!html.contains("Laporkan dugaan pelanggaran"), "{html}");
}

/// A scan proves a certificate's inclusion from the stored block of 32 leaf hashes around it (on
/// PostgreSQL read in the same statement as the certificate): a certificate in a full block
/// verifies with its inclusion proven, and one whose stored block was damaged is not genuine.
async fn a_certificate_deep_in_the_log_proves_its_inclusion_from_its_stored_block(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let loaded = synthetic_roster(&app, 160, 0.6, 7);
    assert!(
        loaded.signed >= 70,
        "three full blocks of the log: {loaded:?}"
    );
    checkpoint_covering(&app, loaded.signed as usize).await;

    // The first certificate logged at or after `from`, and its place in the log.
    let logged_from = |from: i64| {
        use ikrar::db::schema::certificates as c;
        c::table
            .filter(c::log_index.ge(from))
            .order(c::log_index)
            .select((c::id, c::log_index.assume_not_null()))
            .first::<(String, i64)>(&mut *app.db.read().unwrap())
            .unwrap()
    };
    for from in [3, 36] {
        let (id, index) = logged_from(from);
        for scan in ["first", "again"] {
            let v = app.verdict(&id).await;
            assert_eq!(v["status"], "genuine", "{scan} scan of {id}: {v}");
            assert_eq!(v["log"]["index"], index);
            assert_eq!(v["log"]["inclusion_verified"], true, "{scan} scan: {v}");
        }
    }

    // Block 1 holds leaves 32 to 63; a certificate there not scanned before now proves nothing.
    {
        use ikrar::db::schema::log_blocks;
        diesel::update(log_blocks::table.find(1_i64))
            .set(log_blocks::leaves.eq(vec![0u8; 1024]))
            .execute(&mut *app.db.write().unwrap())
            .unwrap();
    }
    let (id, index) = logged_from(50);
    assert!(index < 64, "{index}");
    let v = app.verdict(&id).await;
    assert_eq!(v["status"], "tampered", "{v}");
    assert_eq!(v["log"]["inclusion_verified"], false, "{v}");
}

/// Scans that arrive together (on PostgreSQL read in one statement, `Db::read_scan`) are each
/// told about their own certificate: the same id asked several times, ids of no certificate and
/// forged claims among them. A revocation stored a moment before is seen by every scan after it,
/// before any checkpoint covers it.
async fn scans_arriving_together_each_get_their_own_verdict_and_see_a_revocation_at_once(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    synthetic_roster(&app, 120, 0.5, 11);
    let db = &app.db;
    let ids: Vec<(String, i64)> = {
        use ikrar::db::schema::certificates as c;
        c::table
            .order(c::serial)
            .select((c::id, c::serial))
            .load(&mut *db.read().unwrap())
            .unwrap()
    };
    assert!(ids.len() >= 40, "{}", ids.len());
    // Every fifth certificate is revoked just before the scans.
    let now = ikrar::db::now();
    for (id, _) in ids.iter().step_by(5) {
        assert!(revoke_certificate(
            &mut db.write().unwrap(),
            &CertificateId::parse(id).unwrap(),
            now,
            "berhenti_atau_pindah: pindah instansi",
        )
        .unwrap());
    }

    // (path, expected status, expected certificate number)
    let mut asked: Vec<(String, &str, Option<i64>)> = Vec::new();
    for (n, (id, serial)) in ids.iter().enumerate() {
        let expected = if n % 5 == 0 { "revoked" } else { "genuine" };
        // The same certificate asked three times in one burst.
        let times = if n % 7 == 0 { 3 } else { 1 };
        for _ in 0..times {
            asked.push((format!("/api/v1/verify/{id}"), expected, Some(*serial)));
        }
        if n % 9 == 0 {
            asked.push((
                format!("/api/v1/verify/{id}?claim=bukan-klaim-yang-sah"),
                "tampered",
                Some(*serial),
            ));
        }
    }
    for unknown in ["AAAAAAAAAAAAAAAA", "ZZZZZZZZZZZZZZZZ", "bukan-id"] {
        asked.push((format!("/api/v1/verify/{unknown}"), "not_found", None));
    }
    let answers = futures_util::future::join_all(asked.iter().map(|(path, _, _)| async {
        let r = app.api.get(app.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap())
    }))
    .await;
    for ((path, expected, serial), (status, v)) in asked.iter().zip(&answers) {
        assert_eq!(v["status"], *expected, "{path}: {v}");
        let code = match *expected {
            "genuine" | "revoked" => 200,
            "not_found" => 404,
            _ => 422,
        };
        assert_eq!(*status, code, "{path}: {v}");
        assert_eq!(v["certificate_number"].as_i64(), *serial, "{path}: {v}");
        let id = path.trim_start_matches("/api/v1/verify/");
        let id = id.split('?').next().unwrap();
        assert_eq!(v["certificate_id"], id, "{path}: {v}");
    }
    assert!(answers.len() > ids.len() + 10, "{}", answers.len());
}
