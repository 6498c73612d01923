//! The benchmark's tools, run as the real binary at a small size: a synthetic nation in the
//! database and as a roster file, and the in-process benchmark.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use diesel::prelude::*;
use ikrar::db::schema::{certificates, employees};
use ikrar::db::{coverage, DatabaseUrl, Db};
use ikrar::verification::{self, Evidence, LogRevocations, Verdict};

use crate::helpers::*;

crate::on_both_backends!(
    a_synthetic_nation_is_only_poured_into_an_empty_roster,
    a_national_campaign_is_created_from_the_command_line
);

fn ikrar(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn succeeded(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn a_synthetic_nation_is_only_poured_into_an_empty_roster(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let before = app.count("employees");
    let out = ikrar(&[
        "synth",
        "--employees",
        "100",
        "--data-dir",
        app.dir.path().to_str().unwrap(),
        "--database-url",
        &app.database_url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("daftar pegawai sudah berisi 4 pegawai"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(app.count("employees"), before, "nothing was added");
}

/// A national campaign's scope is the nation's own area row (code ""), so it is a valid scope.
async fn a_national_campaign_is_created_from_the_command_line(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let stdout = succeeded(&ikrar(&[
        "campaign",
        "create",
        "--title",
        "Pemilu 2024",
        "--scope",
        "ID",
        "--opens",
        "2024-01-08T08:00:00+07:00",
        "--closes",
        "2024-02-14T08:00:00+07:00",
        "--data-dir",
        app.dir.path().to_str().unwrap(),
        "--database-url",
        &app.database_url,
    ]));
    let id = stdout.trim();
    let campaign = ikrar::db::campaigns::find(&mut app.db.read().unwrap(), id)
        .unwrap()
        .expect("the campaign is stored");
    assert_eq!(campaign.scope_code.as_str(), "");
    let village = |code| ikrar::domain::AreaCode::parse(code).unwrap();
    assert!(
        campaign.covers(&village("31.71.01.1001")) && campaign.covers(&village("73.71.01.1001"))
    );
}

#[test]
fn a_synthetic_nation_spans_the_provinces_and_its_signatures_verify() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let out = ikrar(&[
        "synth",
        "--employees",
        "3000",
        "--campaign-signed-share",
        "1.5",
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(out.status.code(), Some(1), "a share above 1 is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--campaign-signed-share"));

    let stdout = succeeded(&ikrar(&[
        "synth",
        "--employees",
        "3000",
        "--campaign-signed-share",
        "0.6",
        "--data-dir",
        data_dir,
    ]));
    assert!(stdout.contains("3000 pegawai sintetis"), "{stdout}");
    let campaign = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Penandatanganan nasional: "))
        .expect("the campaign id is printed")
        .to_string();

    let db = Db::connect(&DatabaseUrl::Sqlite(
        dir.path().join("ikrar.sqlite3").display().to_string(),
    ))
    .unwrap();
    let mut conn = db.read().unwrap();
    let villages: Vec<String> = employees::table
        .select(employees::village_code)
        .load(&mut *conn)
        .unwrap();
    let provinces: BTreeSet<&str> = villages.iter().map(|v| &v[..2]).collect();
    assert!(provinces.len() >= 30, "{provinces:?}");
    let java = villages
        .iter()
        .filter(|v| ["32", "33", "35"].contains(&&v[..2]))
        .count();
    assert!(
        (700..1100).contains(&java),
        "West, Central and East Java hold about 28% of the PNS: {java}"
    );

    // The counters equal a recount, at the top and in a province.
    let signed: i64 = certificates::table.count().get_result(&mut *conn).unwrap();
    assert!((1600..2000).contains(&signed), "about 60% signed: {signed}");
    let nation = coverage::area(&mut conn, &campaign, "").unwrap();
    assert_eq!(nation.total.roster, 3000);
    assert_eq!(nation.total.signed, signed);
    assert_eq!(
        nation.children.values().map(|t| t.roster).sum::<i64>(),
        3000
    );
    let in_east_java = villages.iter().filter(|v| v.starts_with("35.")).count() as i64;
    assert_eq!(
        coverage::area(&mut conn, &campaign, "35")
            .unwrap()
            .total
            .roster,
        in_east_java
    );

    // Signed by the real signing code: every certificate verifies, serials are 1..=n.
    let ids: Vec<(String, i64)> = certificates::table
        .select((certificates::id, certificates::serial))
        .load(&mut *conn)
        .unwrap();
    let serials: BTreeSet<i64> = ids.iter().map(|(_, s)| *s).collect();
    assert_eq!(serials, (1..=signed).collect());
    let revocations = LogRevocations::new();
    let caches = ikrar::caches::Caches::new();
    for (id, _) in ids.iter().step_by(97) {
        let v = verification::verify_in(
            &mut conn,
            &revocations,
            &caches,
            id,
            Evidence::Id,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(v.verdict, Verdict::Genuine, "{id}");
    }
    drop(conn);

    // Where a scan's time goes, step by step, on these certificates.
    let listed = dir.path().join("ids");
    let lines: Vec<&str> = ids.iter().take(200).map(|(id, _)| id.as_str()).collect();
    std::fs::write(&listed, lines.join("\n")).unwrap();
    let stdout = succeeded(&ikrar(&[
        "bench-scans",
        "--certificates",
        listed.to_str().unwrap(),
        "--data-dir",
        data_dir,
    ]));
    assert!(stdout.starts_with("200 certificates; "), "{stdout}");
    for row in ["| first | whole scan |", "| second | log check |"] {
        assert!(stdout.contains(row), "{stdout}");
    }
}

#[test]
fn a_generated_roster_file_imports_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nasional.csv");
    let stdout = succeeded(&ikrar(&[
        "synth",
        "--employees",
        "2500",
        "--roster-file",
        file.to_str().unwrap(),
    ]));
    assert!(stdout.contains("2500 pegawai sintetis ditulis"), "{stdout}");
    let stdout = succeeded(&ikrar(&[
        "roster",
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]));
    assert!(
        stdout.contains("2500 baris diimpor: 2500 pegawai baru, 0 diperbarui"),
        "{stdout}"
    );
}

#[test]
fn the_benchmark_prints_its_table_and_the_machine() {
    let stdout = succeeded(&ikrar(&["bench", "--quick"]));
    assert!(stdout.contains("mesin: "), "{stdout}");
    assert!(
        stdout.contains("| render one certificate (claim signed, QR, PDF bytes), one core |"),
        "{stdout}"
    );
    assert!(stdout.contains("QR code of the link"), "{stdout}");
}

/// `type, name, table, sql` of every schema object of a SQLite database, sorted by name.
fn sqlite_schema(db: &Db) -> Vec<(String, String, String, Option<String>)> {
    #[derive(diesel::QueryableByName)]
    struct Object {
        #[diesel(sql_type = diesel::sql_types::Text)]
        r#type: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        tbl_name: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        sql: Option<String>,
    }
    let mut conn = db.read().unwrap();
    let ikrar::db::DbConnection::Sqlite(c) = &mut *conn else {
        panic!("a SQLite database")
    };
    diesel::sql_query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
        .load::<Object>(c)
        .unwrap()
        .into_iter()
        .map(|o| (o.r#type, o.name, o.tbl_name, o.sql))
        .collect()
}

fn open_sqlite(dir: &std::path::Path) -> Db {
    Db::connect(&DatabaseUrl::Sqlite(
        dir.join("ikrar.sqlite3").display().to_string(),
    ))
    .unwrap()
}

/// Every counter row of the roster and of the campaign, as stored and as recounted from the
/// employees and their standing certificates: (campaign or "", area, agency, type) -> count.
type Counters = BTreeMap<(String, String, String, String), i64>;

fn stored_and_recounted(db: &Db, campaign: &str) -> (Counters, Counters) {
    use ikrar::db::schema::{roster_counts, signed_counts};
    let mut conn = db.read().unwrap();
    let mut stored = Counters::new();
    let roster: Vec<(String, String, String, i64)> = roster_counts::table
        .select((
            roster_counts::area_code,
            roster_counts::agency,
            roster_counts::employee_type,
            roster_counts::employees,
        ))
        .load(&mut *conn)
        .unwrap();
    for (area, agency, kind, n) in roster {
        stored.insert((String::new(), area, agency, kind), n);
    }
    let signed: Vec<(String, String, String, i64)> = signed_counts::table
        .filter(signed_counts::campaign_id.eq(campaign))
        .select((
            signed_counts::area_code,
            signed_counts::agency,
            signed_counts::employee_type,
            signed_counts::signed,
        ))
        .load(&mut *conn)
        .unwrap();
    for (area, agency, kind, n) in signed {
        stored.insert((campaign.to_string(), area, agency, kind), n);
    }
    stored.retain(|_, n| *n != 0);

    let signers: BTreeSet<i64> = certificates::table
        .filter(certificates::campaign_id.eq(campaign))
        .filter(certificates::revoked_at.is_null())
        .select(certificates::employee_id)
        .load(&mut *conn)
        .unwrap()
        .into_iter()
        .collect();
    let mut recounted = Counters::new();
    for e in ikrar::db::employees::in_area(&mut conn, "").unwrap() {
        let parts: Vec<&str> = e.village_code.split('.').collect();
        let areas =
            std::iter::once(String::new()).chain((1..=parts.len()).map(|n| parts[..n].join(".")));
        for area in areas {
            let mut groups = vec![String::new()];
            if signers.contains(&e.id) {
                groups.push(campaign.to_string());
            }
            for group in groups {
                *recounted
                    .entry((
                        group,
                        area.clone(),
                        e.agency.clone(),
                        e.employee_type.to_string(),
                    ))
                    .or_default() += 1;
            }
        }
    }
    (stored, recounted)
}

/// A first load (a roster file into an empty roster, or a synthetic nation) drops secondary
/// indexes for speed and builds them again: afterwards the schema is the migrated one to the
/// byte, and every counter equals a recount.
#[test]
fn a_bulk_loaded_database_has_the_migrated_schema_and_exact_counters() {
    let fresh = tempfile::tempdir().unwrap();
    succeeded(&ikrar(&[
        "synth",
        "--employees",
        "0",
        "--data-dir",
        fresh.path().to_str().unwrap(),
    ]));
    let migrated = sqlite_schema(&open_sqlite(fresh.path()));
    assert!(migrated
        .iter()
        .any(|(_, name, _, _)| name == "employees_village_code"));

    let imported = tempfile::tempdir().unwrap();
    let file = imported.path().join("nasional.csv");
    succeeded(&ikrar(&[
        "synth",
        "--employees",
        "2000",
        "--roster-file",
        file.to_str().unwrap(),
    ]));
    succeeded(&ikrar(&[
        "synth",
        "--employees",
        "0",
        "--data-dir",
        imported.path().to_str().unwrap(),
    ]));
    let stdout = succeeded(&ikrar(&[
        "roster",
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        imported.path().to_str().unwrap(),
    ]));
    assert!(
        stdout.contains("2000 baris diimpor: 2000 pegawai baru"),
        "{stdout}"
    );
    let db = open_sqlite(imported.path());
    assert_eq!(sqlite_schema(&db), migrated);
    let (stored, recounted) = stored_and_recounted(&db, "");
    assert_eq!(stored, recounted);

    let nation = tempfile::tempdir().unwrap();
    let stdout = succeeded(&ikrar(&[
        "synth",
        "--employees",
        "2000",
        "--campaign-signed-share",
        "0.5",
        "--data-dir",
        nation.path().to_str().unwrap(),
    ]));
    let campaign = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Penandatanganan nasional: "))
        .expect("the campaign id is printed")
        .to_string();
    let db = open_sqlite(nation.path());
    assert_eq!(sqlite_schema(&db), migrated);
    let (stored, recounted) = stored_and_recounted(&db, &campaign);
    assert!(stored.keys().any(|(c, ..)| c == &campaign));
    assert_eq!(stored, recounted);
    let verify = succeeded(&ikrar(&[
        "log",
        "verify",
        "--data-dir",
        nation.path().to_str().unwrap(),
    ]));
    assert!(verify.contains("log konsisten"), "{verify}");
}

/// A bad file into an empty roster takes the one-pass load, which stops at the first problem:
/// the report is still the full, row-by-row one, nothing is written, and the indexes the load
/// dropped are back.
#[test]
fn a_bad_first_load_is_reported_row_by_row_and_leaves_the_roster_empty() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    succeeded(&ikrar(&[
        "synth",
        "--employees",
        "0",
        "--data-dir",
        data_dir,
    ]));
    let migrated = sqlite_schema(&open_sqlite(dir.path()));
    let header = "nip,nik,full_name,position,agency,unit,employee_type,village_code,email\n";
    let good = "198702142012011001,7371011402870005,Syamsul Bahri,Lurah,Kecamatan Mariso,Kelurahan Bontorannu,PNS,73.71.01.1001,syamsul@contoh.go.id\n\
                198702142012011002,7371011402870006,Rahmawati,Guru Ahli Pertama,Dinas Pendidikan,SD Negeri 1,PNS,73.71.01.1001,rahma@contoh.go.id\n";
    for (rows, expected) in [
        (
            // The same NIK twice: only the unique index notices, after both rows are written.
            "198702142012011003,7371011402870005,Kembar,Pramu Bakti,Sekretariat Daerah,,PNS,73.71.01.1001,\n",
            "baris 4, kolom nik (\"7371011402870005\"): NIK ini sudah muncul pada baris 2",
        ),
        (
            "198702142012011004,7371011402870008,Irwan,Guru,Dinas Pendidikan,,PNS,73.71.99.9999,\n",
            "baris 4, kolom village_code (\"73.71.99.9999\"): kode desa/kelurahan tidak ada",
        ),
    ] {
        let file = dir.path().join("buruk.csv");
        std::fs::write(&file, format!("{header}{good}{rows}")).unwrap();
        let out = ikrar(&[
            "roster",
            "import",
            file.to_str().unwrap(),
            "--data-dir",
            data_dir,
        ]);
        assert_eq!(out.status.code(), Some(1));
        let report = String::from_utf8_lossy(&out.stderr);
        assert!(report.contains(expected), "{expected:?} not in:\n{report}");
        assert!(report.contains("1 baris bermasalah"), "{report}");
        let db = open_sqlite(dir.path());
        let employees: i64 = employees::table
            .count()
            .get_result(&mut *db.read().unwrap())
            .unwrap();
        assert_eq!(employees, 0, "nothing was imported");
        assert_eq!(sqlite_schema(&db), migrated);
    }
}
