//! Roster imports while the node serves: nobody is told "database is locked", signings go on,
//! every problem is reported with the row number the spreadsheet shows, and an import cut by
//! `kill -9` leaves the roster and the audit trail agreeing, then is finished by a node.

use std::time::{Duration, Instant};

use ikrar::synth::load::{write_roster_file, Options};

use crate::helpers::*;
use ikrar::db::now;
use ikrar::db::roster_imports::{self, RosterImport};

crate::on_both_backends!(a_command_line_import_while_the_node_signs_refuses_nobody);

/// (sign-in id, email, full name) of the synthetic employees of a roster file who have an email.
fn signers(file: &std::path::Path, how_many: usize) -> Vec<(String, String, String)> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    reader
        .records()
        .map(Result::unwrap)
        .filter(|r| !r[8].is_empty())
        .map(|r| {
            let id = if r[0].is_empty() { &r[1] } else { &r[0] };
            (id.to_string(), r[8].to_string(), r[2].to_string())
        })
        .take(how_many)
        .collect()
}

async fn a_command_line_import_while_the_node_signs_refuses_nobody(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let nation = create_campaign(&app.db, "", now() - 86_400, now() + 86_400);
    let first = app.dir.path().join("pertama.csv");
    let options = |employees, seed| Options {
        employees,
        signed_share: 0.0,
        seed,
    };
    write_roster_file(&first, &options(400, 11), |_| {}).unwrap();
    ikrar::roster::import(&app.db, &first).unwrap();
    let big = app.dir.path().join("besar.csv");
    write_roster_file(&big, &options(8_000, 12), |_| {}).unwrap();

    let data_dir = app.dir.path().to_str().unwrap();
    let mut import = std::process::Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(["roster", "import", big.to_str().unwrap()])
        .args(["--data-dir", data_dir, "--database-url", &app.database_url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut signed = 0;
    let mut slowest = Duration::ZERO;
    let mut during_import = 0;
    for (id, email, name) in signers(&first, 400) {
        let before = Instant::now();
        assert_eq!(app.request_code(&id).await.status(), 202, "code for {id}");
        let code = app.take_code(&email).expect("a code was mailed");
        let session = app
            .api
            .post(app.url("/api/v1/auth/session"))
            .json(&serde_json::json!({ "id": id, "code": code }))
            .send()
            .await
            .unwrap();
        assert_eq!(session.status(), 200, "session for {id}");
        let token: serde_json::Value = session.json().await.unwrap();
        let answer = app
            .sign(
                token["token"].as_str().unwrap(),
                &nation,
                &name,
                &app.document_sha256,
            )
            .await;
        let status = answer.status().as_u16();
        let body = answer.text().await.unwrap();
        assert_eq!(status, 201, "{id} signs while the import runs: {body}");
        assert!(!body.contains("locked"), "{body}");
        slowest = slowest.max(before.elapsed());
        signed += 1;
        if import.try_wait().unwrap().is_none() {
            during_import += 1;
        } else if during_import >= 5 {
            break;
        }
    }
    let out = import.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the import succeeds: {stderr}");
    assert!(!stderr.contains("locked"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("8000 baris diimpor: 8000 pegawai baru"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        during_import >= 5,
        "{during_import} of {signed} signings ran while the import did ({:?})",
        started.elapsed()
    );
    assert_eq!(app.count("employees"), 4 + 400 + 8_000);
    eprintln!(
        "{backend:?}: {signed} sign-ins and signings, {during_import} during the import, slowest {slowest:?}"
    );
}

/// Row numbers are the spreadsheet's: the header is row 1, and a cell with a line break inside
/// (an address typed over two lines) is still one row.
#[tokio::test]
async fn problems_are_reported_with_the_row_numbers_a_spreadsheet_shows() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let file = app.dir.path().join("baris.csv");
    std::fs::write(
        &file,
        "nip,nik,full_name,position,agency,unit,employee_type,village_code,email\n\
         198702142012011001,7371011402870005,Syamsul Bahri,Lurah,Kecamatan Mariso,\"Kelurahan\nBontorannu\",PNS,73.71.01.1001,syamsul@contoh.go.id\n\
         198702142012011002,7371011402870006,Rahmawati,Guru Ahli Pertama,Dinas Pendidikan,SD Negeri 1,PNS,73.71.99.9999,rahma@contoh.go.id\n",
    )
    .unwrap();
    let ikrar::roster::ImportError::Rows(rows) = ikrar::roster::import(&app.db, &file).unwrap_err()
    else {
        panic!("the row is refused")
    };
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0].to_string(),
        "baris 3, kolom village_code (\"73.71.99.9999\"): kode desa/kelurahan tidak ada dalam data wilayah Kemendagri"
    );

    // Saved by a spreadsheet on Windows: every line ends with CRLF, and the rows keep their numbers.
    let crlf = app.dir.path().join("windows.csv");
    std::fs::write(
        &crlf,
        "nip,nik,full_name,position,agency,unit,employee_type,village_code,email\r\n\
         198702142012011001,7371011402870005,Syamsul Bahri,Lurah,Kecamatan Mariso,Kelurahan Bontorannu,PNS,73.71.99.9998,syamsul@contoh.go.id\r\n\
         198702142012011002,7371011402870006,Rahmawati,Guru Ahli Pertama,Dinas Pendidikan,SD Negeri 1,PNS,73.71.01.1001,rahma@contoh.go.id\r\n\
         198702142012011003,7371011402870007,Irwan,Guru,Dinas Pendidikan,,PNS,73.71.99.9999,\r\n",
    )
    .unwrap();
    let ikrar::roster::ImportError::Rows(rows) = ikrar::roster::import(&app.db, &crlf).unwrap_err()
    else {
        panic!("the rows are refused")
    };
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 4], "{rows:?}");
}

crate::on_both_backends!(
    an_upload_cut_by_kill_9_leaves_roster_and_trail_agreeing_and_is_finished_after_a_restart,
    a_command_line_import_cut_by_kill_9_is_finished_by_the_node,
);

/// An `ikrar serve` process on the journey's database and data folder, killed when dropped.
struct Node {
    child: std::process::Child,
    base_url: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(app: &TestApp) -> Node {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(["--database-url", &app.database_url])
        .arg("--data-dir")
        .arg(app.dir.path())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base_url = announced_address(&mut child);
    Node { child, base_url }
}

/// A generated roster big enough that its import takes many chunks, and its rows.
fn big_roster(app: &TestApp) -> (std::path::PathBuf, i64) {
    let rows = 20 * ikrar::roster::CHUNK;
    let file = app.dir.path().join("besar.csv");
    let options = Options {
        employees: rows as u64,
        signed_share: 0.0,
        seed: 19,
    };
    write_roster_file(&file, &options, |_| {}).unwrap();
    (file, rows as i64)
}

fn running_import(app: &TestApp) -> Option<RosterImport> {
    roster_imports::running(&mut app.db.read().unwrap())
        .unwrap()
        .into_iter()
        .next()
}

fn import_record(app: &TestApp, id: &str) -> RosterImport {
    roster_imports::find(&mut app.db.read().unwrap(), id)
        .unwrap()
        .expect("the import has its record")
}

/// Waits until the import has written some chunks but not all, then kills its process with
/// SIGKILL (what `kill -9` sends), and returns the import's id.
async fn kill_midway(app: &TestApp, process: &mut std::process::Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(300);
    let id = loop {
        if let Some(import) = running_import(app).filter(|i| i.rows_done > 0) {
            break import.id;
        }
        assert!(
            process.try_wait().unwrap().is_none(),
            "the importing process ended before its import was seen midway"
        );
        assert!(
            Instant::now() < deadline,
            "no chunk was written within 300 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    process.kill().unwrap();
    process.wait().unwrap();
    id
}

/// (action, detail) of the audit rows about one import, in order.
fn trail_of(app: &TestApp, id: &str) -> Vec<(String, String)> {
    use diesel::prelude::*;
    use ikrar::db::schema::audit_log;
    audit_log::table
        .filter(audit_log::target.eq(id))
        .order(audit_log::seq)
        .select((audit_log::action, audit_log::detail))
        .load(&mut *app.db.read().unwrap())
        .unwrap()
}

fn actions(trail: &[(String, String)]) -> Vec<&str> {
    trail.iter().map(|(action, _)| action.as_str()).collect()
}

/// Right after the kill: the roster holds exactly the rows the import's record counts, and the
/// audit trail says the import began (and not that it ended).
fn stopped_midway_and_agreeing(app: &TestApp, id: &str, before: i64, rows: i64) -> RosterImport {
    let record = import_record(app, id);
    assert_eq!(record.state, roster_imports::RUNNING, "{record:?}");
    assert_eq!(record.rows_total, rows);
    assert!(
        record.rows_done > 0 && record.rows_done < rows,
        "stopped midway: {record:?}"
    );
    assert_eq!(
        app.count("employees"),
        before + record.rows_done,
        "the roster holds exactly the rows the record counts"
    );
    let trail = trail_of(app, id);
    assert_eq!(
        actions(&trail),
        ["impor_daftar_pegawai_dimulai"],
        "{trail:?}"
    );
    assert!(
        trail[0].1.contains(&record.file_sha256),
        "the trail names the file by its hash: {trail:?}"
    );
    assert!(
        app.dir
            .path()
            .join(format!("impor-daftar-pegawai/{id}.csv"))
            .exists(),
        "the file is kept until the import ends"
    );
    record
}

/// A node started on the same data folder finishes the import; the trail says so, and stays
/// whole.
async fn finished_by_a_node(app: &TestApp, id: &str, before: i64, rows: i64) {
    let node = start_node(app);
    let deadline = Instant::now() + Duration::from_secs(300);
    let record = loop {
        let record = import_record(app, id);
        if record.state != roster_imports::RUNNING {
            break record;
        }
        assert!(
            Instant::now() < deadline,
            "not finished within 300 s: {record:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(record.state, roster_imports::FINISHED, "{record:?}");
    assert_eq!(record.rows_done, rows);
    assert_eq!((record.inserted, record.updated), (rows, 0), "{record:?}");
    assert_eq!(app.count("employees"), before + rows);
    let trail = trail_of(app, id);
    assert_eq!(
        actions(&trail),
        [
            "impor_daftar_pegawai_dimulai",
            "impor_daftar_pegawai_dilanjutkan",
            "impor_daftar_pegawai_selesai"
        ],
        "{trail:?}"
    );
    assert_eq!(
        trail[2].1,
        format!("{rows} baris: {rows} baru, 0 diperbarui")
    );
    let kept = app
        .dir
        .path()
        .join(format!("impor-daftar-pegawai/{id}.csv"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while kept.exists() {
        assert!(
            Instant::now() < deadline,
            "the kept file is removed once the import ends"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let data_dir = app.dir.path().to_str().unwrap();
    let verify = ikrar(&[
        "audit",
        "verify",
        "--data-dir",
        data_dir,
        "--database-url",
        &app.database_url,
    ]);
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{said}");
    drop(node);
}

async fn an_upload_cut_by_kill_9_leaves_roster_and_trail_agreeing_and_is_finished_after_a_restart(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let before = app.count("employees");
    let (file, rows) = big_roster(&app);
    add_admin(&app, "nasional@contoh.go.id", "national", "ID", None);
    let (browser, csrf) = admin_browser(&app, "nasional@contoh.go.id", None).await;
    let mut node = start_node(&app);
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "berkas",
            reqwest::multipart::Part::bytes(std::fs::read(&file).unwrap()).file_name("besar.csv"),
        );
    let upload = tokio::spawn(
        browser
            .post(format!("{}/admin/daftar-pegawai", node.base_url))
            .multipart(form)
            .send(),
    );
    let id = kill_midway(&app, &mut node.child).await;
    assert!(
        upload.await.unwrap().is_err(),
        "the upload's answer was cut with its node"
    );
    let record = stopped_midway_and_agreeing(&app, &id, before, rows);
    assert!(record.actor.starts_with("admin:"), "{record:?}");

    // Another node on the database (the journey's own) shows the admin the stopped import.
    let page = browser
        .get(app.url("/admin/daftar-pegawai"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Impor yang belum selesai"), "{page}");
    assert!(
        page.contains(&format!("{} dari {rows} baris tertulis", record.rows_done)),
        "{page}"
    );

    finished_by_a_node(&app, &id, before, rows).await;
    let audit_page = browser
        .get(app.url("/admin/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for words in [
        "Memulai impor daftar pegawai",
        "Melanjutkan impor daftar pegawai yang terhenti",
        "Menyelesaikan impor daftar pegawai",
    ] {
        assert!(audit_page.contains(words), "{words}: {audit_page}");
    }
}

async fn a_command_line_import_cut_by_kill_9_is_finished_by_the_node(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let before = app.count("employees");
    let (file, rows) = big_roster(&app);
    let mut import = std::process::Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(["roster", "import", file.to_str().unwrap()])
        .arg("--data-dir")
        .arg(app.dir.path())
        .args(["--database-url", &app.database_url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let id = kill_midway(&app, &mut import).await;
    let record = stopped_midway_and_agreeing(&app, &id, before, rows);
    assert!(record.actor.starts_with("cli:"), "{record:?}");
    finished_by_a_node(&app, &id, before, rows).await;
}
