//! Coverage figures for governors' offices: always equal to a recount from the raw rows.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use ikrar::db::coverage::{self, Tally};
use ikrar::db::employees::{self, Employee, EmployeeRecord};
use ikrar::db::schema;
use ikrar::domain::{AreaCode, CertificateId};
use ikrar::signing::revoke_certificate;
use ikrar::signing::{issue_certificate, IssuerKey, SigningRequest};
use serde_json::Value;

use crate::helpers::*;

crate::on_both_backends!(
    coverage_always_equals_a_recount,
    the_dashboard_drills_down_without_naming_anyone,
    an_admin_exports_who_has_not_signed_as_csv_and_xlsx
);

fn csv(records: &[EmployeeRecord]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(ikrar::roster::COLUMNS).unwrap();
    for r in records {
        w.write_record([
            r.nip.as_deref().unwrap_or(""),
            r.nik.as_str(),
            &r.full_name,
            &r.position,
            &r.agency,
            &r.unit,
            r.employee_type.as_str(),
            r.village_code.as_str(),
            r.email.as_deref().unwrap_or(""),
        ])
        .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// An area's recounted total, by agency and by employee type.
type Recount = (Tally, BTreeMap<String, Tally>, BTreeMap<String, Tally>);

/// Every area at every level (and the nation, ""), recounted from employees and certificates.
fn recount(app: &TestApp, campaign_id: &str) -> BTreeMap<String, Recount> {
    let mut conn = app.db.read().unwrap();
    let roster: Vec<Employee> = employees::in_area(&mut conn, "").unwrap();
    let signed: Vec<i64> = schema::certificates::table
        .filter(schema::certificates::campaign_id.eq(campaign_id))
        .filter(schema::certificates::revoked_at.is_null())
        .select(schema::certificates::employee_id)
        .load(&mut *conn)
        .unwrap();
    let signed: std::collections::HashSet<i64> = signed.into_iter().collect();
    let mut out: BTreeMap<String, Recount> = BTreeMap::new();
    for e in roster {
        let parts: Vec<&str> = e.village_code.split('.').collect();
        let areas =
            std::iter::once(String::new()).chain((1..=parts.len()).map(|n| parts[..n].join(".")));
        for area in areas {
            let entry = out.entry(area).or_default();
            let s = i64::from(signed.contains(&e.id));
            for t in [
                &mut entry.0,
                entry.1.entry(e.agency.clone()).or_default(),
                entry.2.entry(e.employee_type.to_string()).or_default(),
            ] {
                t.roster += 1;
                t.signed += s;
            }
        }
    }
    out
}

async fn coverage_always_equals_a_recount(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = IssuerKey::load_or_create(&app.dir.path().join("issuer-key.ed25519")).unwrap();
    // 240 synthetic employees over villages of three regencies of Sulawesi Selatan.
    let villages: Vec<AreaCode> = {
        let mut conn = app.db.read().unwrap();
        let all = ikrar::db::areas::village_codes(&mut conn).unwrap();
        let mut v: Vec<String> = all
            .into_iter()
            .filter(|c| {
                c.starts_with("73.71.") || c.starts_with("73.72.") || c.starts_with("73.08.")
            })
            .collect();
        v.sort();
        v.into_iter()
            .step_by(7)
            .take(30)
            .map(|c| AreaCode::parse(&c).unwrap())
            .collect()
    };
    let mut generator = ikrar::synth::RosterGenerator::new(11);
    let mut rng = fastrand::Rng::with_seed(5);
    let mut records: Vec<EmployeeRecord> = (0..240)
        .map(|_| generator.employee(&villages[rng.usize(0..villages.len())], 0))
        .collect();
    let file = app.dir.path().join("synthetic.csv");
    std::fs::write(&file, csv(&records)).unwrap();
    ikrar::roster::import(&app.db, &file).unwrap();

    let now = ikrar::db::now();
    let by_nik: HashMap<String, Employee> = employees::in_area(&mut app.db.read().unwrap(), "")
        .unwrap()
        .into_iter()
        .map(|e| (e.nik.to_string(), e))
        .collect();
    let mut standing: Vec<CertificateId> = Vec::new();
    for step in 0..300 {
        match rng.u8(0..10) {
            0..=5 => {
                let r = &records[rng.usize(0..records.len())];
                let employee =
                    employees::find(&mut app.db.read().unwrap(), by_nik[r.nik.as_str()].id)
                        .unwrap()
                        .unwrap();
                let request = SigningRequest {
                    employee: &employee,
                    campaign_id: &app.campaign_id,
                    typed_name: &employee.full_name,
                    document_sha256: &app.document_sha256,
                };
                let issued = issue_certificate(&app.db, &key, &request, now).unwrap();
                if issued.created {
                    standing.push(issued.certificate.id);
                }
            }
            6 | 7 if !standing.is_empty() => {
                let id = standing.swap_remove(rng.usize(0..standing.len()));
                assert!(
                    revoke_certificate(&mut app.db.write().unwrap(), &id, now, "salah orang")
                        .unwrap()
                );
            }
            _ => {
                // A roster move: new village, sometimes a new agency or type, through a re-import.
                let i = rng.usize(0..records.len());
                records[i].village_code = villages[rng.usize(0..villages.len())].clone();
                if step % 3 == 0 {
                    records[i].agency = "Badan Kesatuan Bangsa dan Politik".into();
                }
                std::fs::write(&file, csv(&records[i..=i])).unwrap();
                ikrar::roster::import(&app.db, &file).unwrap();
            }
        }
    }

    let expected = recount(&app, &app.campaign_id);
    assert!(expected.len() > 30, "the mix touched many areas");
    let mut conn = app.db.read().unwrap();
    for (area, (total, by_agency, by_type)) in &expected {
        let got = coverage::area(&mut conn, &app.campaign_id, area).unwrap();
        assert_eq!(&got.total, total, "area {area:?}");
        assert_eq!(&got.by_agency, by_agency, "agencies of {area:?}");
        assert_eq!(&got.by_type, by_type, "types of {area:?}");
        for (child, tally) in &got.children {
            let want = expected.get(child).map(|e| e.0).unwrap_or_default();
            assert_eq!(tally, &want, "child {child:?} of {area:?}");
        }
    }
}

async fn the_dashboard_drills_down_without_naming_anyone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
    assert_eq!(
        app.sign(
            &token,
            &app.campaign_id,
            "Andi Nurul Hidayah, S.Pd.",
            &app.document_sha256
        )
        .await
        .status(),
        201
    );

    let url = |q: &str| app.url(&format!("/api/v1/coverage?campaign={}{q}", app.campaign_id));
    let province: Value = app
        .api
        .get(url(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(province["area"]["code"], "73");
    assert_eq!(province["totals"]["roster"], 3);
    assert_eq!(province["totals"]["signed"], 1);
    assert_eq!(province["totals"]["percent"], 33.3);
    assert_eq!(
        province["children"].as_array().unwrap().len(),
        24,
        "all regencies and cities of Sulawesi Selatan"
    );
    let makassar = province["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "73.71")
        .unwrap();
    assert_eq!(
        (makassar["roster"].as_i64(), makassar["signed"].as_i64()),
        (Some(3), Some(1))
    );
    let types: Vec<(String, i64)> = province["by_employee_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["employee_type"].as_str().unwrap().to_string(),
                t["signed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("PNS".to_string(), 1),
            ("PPPK".to_string(), 0),
            ("PPNPN".to_string(), 0)
        ]
    );
    let text = province.to_string();
    assert!(
        !text.contains("Andi") && !text.contains(ANDI_NIP),
        "aggregates only"
    );

    let village: Value = app
        .api
        .get(url("&area=73.71.01.1001"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(village["breadcrumb"].as_array().unwrap().len(), 5);
    assert_eq!(village["totals"]["signed"], 1);
    assert_eq!(village["daily"][0]["signings"], 1);

    let outside = app.api.get(url("&area=31.71")).send().await.unwrap();
    assert_eq!(outside.status(), 404);
    let malformed = app.api.get(url("&area=73.7")).send().await.unwrap();
    assert_eq!(malformed.status(), 400);

    let page = app
        .api
        .get(app.url(&format!(
            "/cakupan/{}?area=73.71&urut=persen&arah=naik",
            app.campaign_id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Cakupan penandatanganan Kota Makassar") && html.contains("<svg"));
    // Makassar's 3 employees and 1 signature are below the public threshold (5): no count, no
    // percentage that would point at a person.
    assert!(html.contains("&lt; 5") && !html.contains("33,3"), "{html}");
    // The level of every area: in the breadcrumb and on each row.
    assert!(
        html.contains("Sulawesi Selatan</a> <span class=\"level\">Provinsi</span>")
            && html.contains("<span class=\"level\">Kabupaten/Kota</span>")
            && html.contains("</a> <span class=\"level\">Kecamatan</span></th>"),
        "{html}"
    );
    // The sort state is announced, and each header links to the other order without a script.
    assert!(html.contains("aria-sort=\"ascending\"><a href=\"/cakupan/"));
    assert!(html.contains("urut=persen&#38;arah=turun"), "{html}");
    assert_eq!(html.matches("aria-sort=").count(), 8, "areas and agencies");
    assert!(html.contains("layar=proyektor"));
    let projector = app
        .api
        .get(app.url(&format!(
            "/cakupan/{}?area=73.71&layar=proyektor",
            app.campaign_id
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(projector.contains("card wide projector") && projector.contains("Tampilan biasa"));
    let live = app
        .api
        .get(app.url(&format!("/live/{}/73", app.campaign_id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(live.contains("&#60; 5") && !live.contains("33,3") && live.contains("/masuk"));
}

/// An operator who shows exact small figures (`--public-min-count 0`) sees them everywhere, and
/// the partial day is marked.
#[tokio::test]
async fn small_counts_are_shown_when_the_operator_allows_it() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| s.public_min_count = 0).await else {
        return;
    };
    app.signs(ANDI_NIP, "andi@contoh.go.id", "Andi Nurul Hidayah, S.Pd.")
        .await;
    let html = app
        .api
        .get(app.url(&format!("/cakupan/{}?area=73.71", app.campaign_id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("33,3") && !html.contains("&lt; 0"), "{html}");
    assert!(html.contains("hari ini, belum selesai") && html.contains("Hari ini belum selesai"));
    let live = app
        .api
        .get(app.url(&format!("/live/{}/73", app.campaign_id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(live.contains("33,3"));
}

#[tokio::test]
async fn the_live_counter_moves_within_two_seconds_of_a_signature() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| s.public_min_count = 0).await else {
        return;
    };
    let response = app
        .api
        .get(app.url(&format!("/live/{}/73.71/stream", app.campaign_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut events = response;
    let first = String::from_utf8(events.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(first.contains("\"signed\":\"0\""), "{first}");

    let token = app.sign_in(RIZAL_NIP, "rizal@contoh.go.id").await;
    let signed_at = std::time::Instant::now();
    assert_eq!(
        app.sign(
            &token,
            &app.campaign_id,
            "Muhammad Rizal",
            &app.document_sha256
        )
        .await
        .status(),
        201
    );
    let next = tokio::time::timeout(std::time::Duration::from_secs(2), events.chunk())
        .await
        .expect("an event within 2 s");
    let next = String::from_utf8(next.unwrap().unwrap().to_vec()).unwrap();
    assert!(
        next.contains("\"signed\":\"1\"") && next.contains("33,3"),
        "{next}"
    );
    assert!(signed_at.elapsed() < std::time::Duration::from_secs(2));
}

async fn an_admin_exports_who_has_not_signed_as_csv_and_xlsx(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let token = app.sign_in(ANDI_NIP, "andi@contoh.go.id").await;
    assert_eq!(
        app.sign(
            &token,
            &app.campaign_id,
            "Andi Nurul Hidayah, S.Pd.",
            &app.document_sha256
        )
        .await
        .status(),
        201
    );
    let data_dir = app.dir.path().to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "coverage",
            "unsigned",
            "--campaign",
            &app.campaign_id,
            "--data-dir",
            data_dir,
            "--database-url",
            &app.database_url,
        ];
        args.extend_from_slice(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_ikrar"))
            .args(&args)
            .output()
            .unwrap()
    };
    let out = run(&["--area", "73.71"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("nip,nik_tersamar,nama,"));
    assert!(
        csv.contains("Muhammad Rizal")
            && csv.contains("Wa Ode Sitti Hasnah")
            && csv.contains("7371********0003")
    );
    assert!(
        !csv.contains("Andi Nurul") && !csv.contains("Budi Santoso") && !csv.contains(HASNAH_NIK)
    );

    let only_ppnpn =
        String::from_utf8(run(&["--area", "73.71", "--type", "PPNPN"]).stdout).unwrap();
    assert!(only_ppnpn.contains("Wa Ode Sitti Hasnah") && !only_ppnpn.contains("Muhammad Rizal"));
    let bad = run(&["--type", "honorer"]);
    assert_eq!(bad.status.code(), Some(1));

    let xlsx = app.dir.path().join("belum.xlsx");
    assert!(
        run(&["--format", "xlsx", "--output", xlsx.to_str().unwrap()])
            .status
            .success()
    );
    let check = std::process::Command::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); s = z.read('xl/sharedStrings.xml').decode(); print('Muhammad Rizal' in s, '199001012019031002' in s, 'Andi Nurul' in s)"])
        .arg(&xlsx)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).trim(),
        "True True False",
        "the NIP is kept as text"
    );
}
