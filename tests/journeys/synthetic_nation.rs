//! The benchmark's tools, run as the real binary at a small size: a synthetic nation in the
//! database and as a roster file, and the in-process benchmark.

use std::collections::BTreeSet;
use std::process::Command;

use diesel::prelude::*;
use ikrar::db::schema::{certificates, employees};
use ikrar::db::{coverage, DatabaseUrl, Db};
use ikrar::signing::{verify_certificate, Verdict};

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
    assert_eq!(campaign.scope_code, "");
    assert!(campaign.covers("31.71.01.1001") && campaign.covers("73.71.01.1001"));
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
        .find_map(|l| l.strip_prefix("Kampanye nasional: "))
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
    for (id, _) in ids.iter().step_by(97) {
        let v = verify_certificate(&mut conn, id, None).unwrap();
        assert_eq!(v.verdict, Verdict::Genuine, "{id}");
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
