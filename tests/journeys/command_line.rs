//! The operator's commands, run as the real binary.

use crate::helpers::*;

crate::on_both_backends!(
    a_bad_roster_file_is_reported_row_by_row_and_nothing_is_imported,
    importing_again_updates_employees_instead_of_duplicating_them,
    a_campaign_is_created_from_the_command_line
);

async fn a_bad_roster_file_is_reported_row_by_row_and_nothing_is_imported(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let before = app.count("employees");
    let data_dir = app.dir.path().to_str().unwrap();
    let file = app.dir.path().join("buruk.csv");
    std::fs::write(
        &file,
        "nip,nik,full_name,position,agency,unit,employee_type,village_code,email\n\
         198702142012011001,7371011402870005,Syamsul Bahri,Lurah,Kecamatan Mariso,Kelurahan Bontorannu,PNS,73.71.01.1001,syamsul@contoh.go.id\n\
         198702142012011002,7371011402870006,Rahmawati,Guru Ahli Pertama,Dinas Pendidikan,SD Negeri 1,PNS,73.71.99.9999,rahma@contoh.go.id\n\
         198713142012011003,7371011402870007,Irwan,Pengadministrasi Umum,Sekretariat Daerah,Bagian Umum,PNS,73.71.01.1001,irwan@\n\
         198702142012011001,7371011402870008,Kembar,Pramu Bakti,Sekretariat Daerah,,PNS,73.71.01.1001,\n\
         ,7371011402870009,Tanpa NIP,Guru,Dinas Pendidikan,,PPPK,73.71.01.1001,\n\
         1,2,3\n",
    )
    .unwrap();
    let out = ikrar(&[
        "roster",
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        data_dir,
        "--database-url",
        &app.database_url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "baris 3, kolom village_code (\"73.71.99.9999\"): kode desa/kelurahan tidak ada",
        "baris 4, kolom nip (\"198713142012011003\"): tanggal lahir pada NIP (19871314)",
        "baris 4, kolom email (\"irwan@\")",
        "baris 5, kolom nip (\"198702142012011001\"): NIP ini sudah muncul pada baris 2",
        "baris 6, kolom nip (\"\"): NIP wajib diisi untuk PNS dan PPPK",
        "baris 7, kolom (baris)",
        "6 baris bermasalah; tidak ada data yang diimpor",
    ] {
        assert!(report.contains(expected), "{expected:?} not in:\n{report}");
    }
    assert_eq!(app.count("employees"), before, "nothing was imported");
}

async fn importing_again_updates_employees_instead_of_duplicating_them(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let data_dir = app.dir.path().to_str().unwrap();
    let file = app.dir.path().join("ulang.csv");
    std::fs::write(&file, ROSTER.replace("Guru Ahli Muda", "Guru Ahli Madya")).unwrap();
    let out = ikrar(&[
        "roster",
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        data_dir,
        "--database-url",
        &app.database_url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("4 baris diimpor: 0 pegawai baru, 4 diperbarui"));
    assert_eq!(app.count("employees"), 4);
    let token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
    let me = app.me(&token).await;
    assert_eq!(me["employee"]["position"], "Guru Ahli Madya");
}

async fn a_campaign_is_created_from_the_command_line(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let data_dir = app.dir.path().to_str().unwrap();
    let out = ikrar(&[
        "campaign",
        "create",
        "--title",
        "Pilkada Kota Makassar 2024",
        "--scope",
        "73.71",
        "--opens",
        "2024-11-01T08:00:00+08:00",
        "--closes",
        "2024-11-27T08:00:00+08:00",
        "--data-dir",
        data_dir,
        "--database-url",
        &app.database_url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(ikrar::db::campaigns::find(&mut app.db.read().unwrap(), &id)
        .unwrap()
        .is_some());

    let out = ikrar(&[
        "campaign",
        "create",
        "--title",
        "X",
        "--scope",
        "73.99",
        "--opens",
        "2024-11-01T08:00:00+08:00",
        "--closes",
        "2024-11-27T08:00:00+08:00",
        "--data-dir",
        data_dir,
        "--database-url",
        &app.database_url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kode wilayah 73.99 tidak ada"));
    let out = ikrar(&[
        "campaign",
        "create",
        "--title",
        "X",
        "--scope",
        "73",
        "--opens",
        "kemarin",
        "--closes",
        "2024-11-27T08:00:00+08:00",
        "--data-dir",
        data_dir,
        "--database-url",
        &app.database_url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--opens \"kemarin\" bukan waktu RFC 3339")
    );
}

#[test]
fn the_demo_starts_serves_and_restarts_on_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("demo");
    let start = || crate::helpers::start_demo(&data_dir, 3000);
    let (mut child, banner) = start();
    assert!(banner.contains("3000 pegawai"), "{banner}");
    let signed: usize = banner
        .split(", ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1500..2100).contains(&signed), "about 60% signed: {signed}");
    let url = banner
        .lines()
        .find(|l| l.contains("Buka di peramban"))
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    let nip = banner
        .lines()
        .find(|l| l.contains("Coba masuk"))
        .unwrap()
        .split(": ")
        .nth(1)
        .unwrap()[..18]
        .to_string();
    let health = reqwest::blocking::get(format!("{url}healthz")).unwrap();
    assert_eq!(health.status(), 200);
    let client = reqwest::blocking::Client::new();
    let sent = client
        .post(format!("{url}api/v1/auth/code"))
        .json(&serde_json::json!({ "id": nip }))
        .send()
        .unwrap();
    assert_eq!(sent.status(), 202);
    crate::helpers::wait_for_letter(&data_dir.join("outbox"), "Kode masuk ikrar: ");
    assert_eq!(
        std::fs::read_dir(data_dir.join("outbox")).unwrap().count(),
        1,
        "the code arrived in the outbox"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut again, banner) = start();
    assert!(
        banner.contains("3000 pegawai"),
        "the second run reuses the data: {banner}"
    );
    again.kill().unwrap();
    again.wait().unwrap();
}

#[tokio::test]
async fn a_sqlite_pilot_moves_to_postgresql_and_every_certificate_still_verifies() {
    let Some(pilot) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let Some(national) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let token = pilot.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
    assert_eq!(
        pilot
            .sign(
                &token,
                &pilot.campaign_id,
                "Andi Nurul Hidayah, S.Pd.",
                &pilot.document_sha256
            )
            .await
            .status(),
        201
    );

    // The province named its issuing authority and printed slips for staff without email: both
    // must arrive, or the certificates lose their authority and the slips in people's hands die.
    let authority = ikrar::domain::IssuingAuthority::parse(
        "Pemerintah Provinsi Sulawesi Selatan",
        "Badan Kepegawaian Daerah",
        "Jalan Urip Sumoharjo Nomor 269, Makassar",
        "Makassar",
        None,
    )
    .unwrap();
    ikrar::db::campaigns::revise_authority(
        &mut pilot.db.write().unwrap(),
        &pilot.campaign_id,
        &authority,
    )
    .unwrap();
    let slips = pilot.dir.path().join("slips.pdf");
    let printed = ikrar(&[
        "invitations",
        "print",
        "--campaign",
        &pilot.campaign_id,
        "--area",
        "73",
        "--base-url",
        &pilot.base_url,
        "--output",
        slips.to_str().unwrap(),
        "--database-url",
        &pilot.database_url,
        "--data-dir",
        pilot.dir.path().to_str().unwrap(),
    ]);
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let live_slips: i64 = {
        use diesel::prelude::*;
        use ikrar::db::schema::invitations::dsl as i;
        i::invitations
            .count()
            .get_result(&mut *pilot.db.read().unwrap())
            .unwrap()
    };
    assert!(live_slips > 0);

    // The spawned PostgreSQL app already holds a roster: the copy refuses to mix data.
    let refused = ikrar(&[
        "db",
        "copy",
        "--from",
        &pilot.database_url,
        "--to",
        &national.database_url,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not empty"));

    let empty = format!("{}_copy", national.database_url);
    let name = empty.rsplit('/').next().unwrap().to_string();
    let mut admin = <diesel::PgConnection as diesel::Connection>::establish(&format!(
        "{}/postgres",
        national.database_url.rsplit_once('/').unwrap().0
    ))
    .unwrap();
    use diesel::RunQueryDsl;
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let _drop = PostgresGuard(name);
    let out = ikrar(&["db", "copy", "--from", &pilot.database_url, "--to", &empty]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("employees: 4 baris")
            && stdout.contains("areas: 91600 baris")
            && stdout.contains("roster_counts: "),
        "{stdout}"
    );
    assert!(stdout.contains("1 sertifikat terverifikasi"), "{stdout}");
    assert!(
        stdout.contains(&format!("invitations: {live_slips} baris"))
            && stdout.contains("seal_certificates: 1 baris")
            && stdout.contains("campaign_authorities: 1 baris"),
        "{stdout}"
    );
    let copied = ikrar::db::Db::connect(&ikrar::db::DatabaseUrl::parse(&empty).unwrap()).unwrap();
    let names = |db: &ikrar::db::Db| {
        ikrar::db::campaigns::authority_names(&mut db.read().unwrap(), &pilot.campaign_id).unwrap()
    };
    assert_eq!(names(&copied), names(&pilot.db));
    assert_eq!(names(&copied).len(), 1);

    // Every certificate keeps its place in the log: without it each scan of the copy would
    // search the log's entries first.
    let places = |db: &ikrar::db::Db| {
        use diesel::prelude::*;
        use ikrar::db::schema::certificates as c;
        c::table
            .order(c::id)
            .select((c::id, c::log_index))
            .load::<(String, Option<i64>)>(&mut *db.read().unwrap())
            .unwrap()
    };
    let logged = places(&pilot.db);
    assert!(
        !logged.is_empty() && logged.iter().all(|(_, index)| index.is_some()),
        "{logged:?}"
    );
    assert_eq!(places(&copied), logged);
}
