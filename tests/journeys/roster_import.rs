//! Roster imports while the node serves: nobody is told "database is locked", signings go on,
//! and every problem is reported with the row number the spreadsheet shows.

use std::time::{Duration, Instant};

use ikrar::synth::load::{write_roster_file, Options};

use crate::helpers::*;
use ikrar::db::now;

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
