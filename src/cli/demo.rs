//! `ikrar demo`: a province's pilot on one machine in one command.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use diesel::Connection;

use crate::config::Settings;
use crate::db::campaigns::{self, Campaign};
use crate::db::employees::{self, Employee};
use crate::db::{areas, certificates, now, Db};
use crate::domain::{
    AdminRole, AdminScope, AreaCode, AreaScope, AuthorityLogo, EmailAddress, FullName,
    IssuingAuthority, PactDocument,
};
use crate::signing::issue::Batch;
use crate::signing::IssuerKey;
use crate::startup::{open_storage, Application};
use crate::synth::RosterGenerator;

const PROVINCE: &str = "73";
const CAMPAIGN_TITLE: &str = "Pemilu dan Pilkada Serentak 2024";
const SIGNED_SHARE: f64 = 0.6;
/// The demo's provincial administrator; the address only ever reaches the outbox folder.
const ADMIN_EMAIL: &str = "admin.bkd@contoh.go.id";
const ADMIN_NAME: &str = "Admin Demo BKD Sulawesi Selatan";

/// The demo's issuing authority: the province's personnel agency, with a plain shield drawn for
/// the demo as its logo (no official emblem).
pub fn authority() -> IssuingAuthority {
    let logo = AuthorityLogo::parse(include_bytes!("../../assets/logo/kop-demo.png"))
        .expect("the demo logo is a valid PNG");
    IssuingAuthority::parse(
        "Pemerintah Provinsi Sulawesi Selatan",
        "Badan Kepegawaian Daerah",
        "Jalan Urip Sumoharjo Nomor 269, Makassar, Sulawesi Selatan 90231",
        "Makassar",
        Some(logo),
    )
    .expect("the demo authority's fields are valid")
}

pub async fn run(data_dir: PathBuf, bind: String, employee_count: usize) -> anyhow::Result<i32> {
    let started = Instant::now();
    let mut settings = Settings::for_data_dir(data_dir);
    settings.bind = bind;
    let prepared = settings.clone();
    let (db, key, facts) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let (db, key) = open_storage(&prepared)?;
        let facts = seed(&db, &key, employee_count)?;
        Ok((db, key, facts))
    })
    .await??;
    let app = Application::with_storage(&settings, db, key)?;
    let outbox = settings.data_dir.join("outbox");
    println!();
    println!(
        "ikrar demo siap dalam {:.1} detik.",
        started.elapsed().as_secs_f64()
    );
    println!("  Buka di peramban:   {}/", app.base_url());
    println!(
        "  Penandatanganan:    {} (id {})",
        CAMPAIGN_TITLE, facts.campaign_id
    );
    println!(
        "  Daftar pegawai:     {} pegawai, {} sudah menandatangani",
        facts.employees, facts.signed
    );
    if let Some(e) = &facts.unsigned {
        println!(
            "  Coba masuk dengan NIP yang belum menandatangani: {} ({})",
            e.nip.as_deref().unwrap_or(""),
            e.full_name
        );
    }
    println!(
        "  Admin provinsi:     masuk di {}/admin/masuk dengan surel {ADMIN_EMAIL}",
        app.base_url()
    );
    println!(
        "  Kode masuk (pegawai dan admin) dikirim sebagai berkas .eml ke: {}",
        outbox.display()
    );
    println!("  Hentikan dengan Ctrl+C; menjalankan ulang memakai data yang sama.");
    println!();
    app.run_until_stopped().await?;
    Ok(0)
}

struct DemoFacts {
    campaign_id: String,
    employees: i64,
    signed: i64,
    unsigned: Option<Employee>,
}

/// Fills an empty database with the demo; a database that already has a roster is left alone.
fn seed(db: &Db, key: &IssuerKey, employee_count: usize) -> anyhow::Result<DemoFacts> {
    let mut conn = db.write()?;
    if employees::count(&mut conn)? == 0 {
        let at = now();
        let campaign = Campaign {
            id: Campaign::new_id(),
            title: CAMPAIGN_TITLE.into(),
            scope_code: AreaScope::parse(PROVINCE)?,
            opens_at: at - 7 * 86_400,
            closes_at: at + 90 * 86_400,
            created_at: at - 7 * 86_400,
        };
        let document = PactDocument::default_pact();
        campaigns::create_with_authority(&mut conn, &campaign, &document, Some(&authority()))?;

        // Villages of every regency and city of the province, so that each gets employees.
        let mut by_regency: BTreeMap<String, Vec<AreaCode>> = BTreeMap::new();
        for village in areas::villages(&mut conn)?
            .into_iter()
            .filter(|c| c.starts_with("73."))
        {
            by_regency
                .entry(village[..5].to_string())
                .or_default()
                .push(village);
        }
        let regencies: Vec<Vec<AreaCode>> = by_regency.into_values().collect();
        let mut generator = RosterGenerator::new(2024);
        let mut rng = fastrand::Rng::with_seed(73);
        conn.transaction(|conn| {
            let mut counts = crate::db::coverage::CountDeltas::default();
            let mut batch = Vec::with_capacity(1_000);
            for i in 0..employee_count {
                let villages = &regencies[i % regencies.len()];
                batch.push(generator.employee(&villages[rng.usize(0..villages.len())], at));
                if batch.len() == 1_000 || i + 1 == employee_count {
                    let _ = employees::upsert_batch(conn, &batch, &mut counts, |_| true)?;
                    batch.clear();
                }
            }
            // Signatures issued as a signing issues them (one batch), spread over the week the
            // campaign ran.
            let roster: Vec<Employee> = employees::in_area(conn, PROVINCE)?;
            let sha = document.sha256_hex();
            let mut batch = Batch::numbered_from(certificates::reserve_serials(conn, 0)?);
            for employee in &roster {
                if rng.f64() < SIGNED_SHARE {
                    let signed_at = campaign.opens_at + rng.i64(0..7 * 86_400);
                    batch.sign(key, employee, &campaign.id, &sha, signed_at);
                }
            }
            batch.store(conn, &mut counts)?;
            counts.write(conn)?;
            Ok::<_, anyhow::Error>(())
        })?;
    }
    ensure_admin(&mut conn)?;
    let campaign = campaigns::all(&mut conn)?
        .into_iter()
        .find(|c| c.title == CAMPAIGN_TITLE)
        .ok_or_else(|| anyhow::anyhow!("the data folder has a roster but no demo campaign"))?;
    Ok(DemoFacts {
        employees: employees::count(&mut conn)?,
        signed: certificates::count(&mut conn)?,
        unsigned: employees::first_unsigned(&mut conn, &campaign.id)?,
        campaign_id: campaign.id,
    })
}

/// The provincial admin a newcomer signs in as (emailed code only, no authenticator), made once.
fn ensure_admin(conn: &mut crate::db::DbConnection) -> anyhow::Result<()> {
    if crate::db::admins::find_by_email(conn, ADMIN_EMAIL)?.is_some() {
        return Ok(());
    }
    let email = EmailAddress::parse(ADMIN_EMAIL).expect("the demo address is valid");
    let name = FullName::parse(ADMIN_NAME).expect("the demo name is valid");
    let scope = AdminScope::parse(AdminRole::Province, PROVINCE, None)
        .expect("the demo province is a valid scope");
    let admin = crate::web::admin::new_admin(&email, &name, &scope, None);
    super::admin::insert_recorded(conn, &admin, &scope, "cli:demo")?;
    Ok(())
}
