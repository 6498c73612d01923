use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ikrar::config::Settings;
use ikrar::db::campaigns::{self, Campaign};
use ikrar::db::{now, Db};
use ikrar::domain::PactDocument;
use ikrar::startup::Application;
use serde_json::Value;

/// The roster every test starts with: two ASN in Makassar, a PPNPN staff member without NIP,
/// and one PNS in Jakarta (outside the Sulawesi Selatan campaign).
pub const ROSTER: &str = "\
nip,nik,full_name,position,agency,unit,employee_type,village_code,email
198503302010012004,7371015503850001,\"Andi Nurul Hidayah, S.Pd.\",Guru Ahli Muda,Dinas Pendidikan,SMP Negeri 1 Makassar,PNS,73.71.01.1001,andi@contoh.go.id
199001012019031002,7371020101900002,Muhammad Rizal,Penata Kelola Sistem Informasi,Dinas Komunikasi dan Informatika,Bidang Aplikasi,PPPK,73.71.02.1001,rizal@contoh.go.id
,7371034506920003,Wa Ode Sitti Hasnah,Pramu Bakti,Sekretariat Daerah,Bagian Umum,PPNPN,73.71.03.1001,hasnah@contoh.go.id
197912122005011003,3171011212790004,Budi Santoso,Analis Kebijakan Ahli Madya,Sekretariat Daerah,Biro Pemerintahan,PNS,31.71.01.1001,budi@contoh.go.id
";
pub const ANDI_NIP: &str = "198503302010012004";
pub const RIZAL_NIP: &str = "199001012019031002";
pub const HASNAH_NIK: &str = "7371034506920003";
pub const BUDI_NIP: &str = "197912122005011003";

/// A migrated database with the area reference and a key, made once per test run and copied
/// into each test: loading 91,000 areas per test would dominate the suite.
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ikrar-template-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let settings = Settings::for_data_dir(dir.clone());
        let (db, _key) = ikrar::startup::open_storage(&settings).expect("template storage");
        use diesel::connection::SimpleConnection;
        db.write().unwrap().batch_execute("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
        drop(db);
        dir
    })
}

pub struct TestApp {
    pub base_url: String,
    pub dir: tempfile::TempDir,
    pub db: Db,
    pub campaign_id: String,
    pub document_sha256: String,
    /// Follows no redirects, keeps cookies: a browser whose steps the test checks one by one.
    pub browser: reqwest::Client,
    pub api: reqwest::Client,
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    for file in ["ikrar.sqlite3", "issuer-key.ed25519"] {
        std::fs::copy(template().join(file), dir.path().join(file)).unwrap();
    }
    let mut settings = Settings::for_data_dir(dir.path().to_path_buf());
    settings.bind = "127.0.0.1:0".into();
    let app = Application::build(&settings).expect("the app builds");
    let base_url = app.base_url().to_string();
    tokio::spawn(app.run_until_stopped());

    let db = Db::connect(&settings.database_url).unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, ROSTER).unwrap();
    ikrar::roster::import(&db, &roster).expect("the fixture roster imports");
    let campaign_id = create_campaign(&db, "73", now() - 86_400, now() + 30 * 86_400);
    let document_sha256 = PactDocument::default_pact().sha256_hex();
    TestApp {
        base_url,
        dir,
        db,
        campaign_id,
        document_sha256,
        browser: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        api: reqwest::Client::new(),
    }
}

pub fn create_campaign(db: &Db, scope: &str, opens_at: i64, closes_at: i64) -> String {
    let campaign = Campaign {
        id: Campaign::new_id(),
        title: "Pemilu dan Pilkada Serentak 2024".into(),
        scope_code: scope.into(),
        opens_at,
        closes_at,
        created_at: now(),
    };
    campaigns::create(&mut db.write().unwrap(), &campaign, &PactDocument::default_pact()).unwrap();
    campaign.id
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    /// The code in the newest message to `email`; the messages are removed once read.
    pub fn take_code(&self, email: &str) -> Option<String> {
        let mut found = None;
        for entry in std::fs::read_dir(self.outbox()).ok()?.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            if text.contains(email) {
                let at = text.find("Kode masuk ikrar: ").expect("subject carries the code") + 18;
                found = Some(text[at..at + 6].to_string());
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
        found
    }

    pub fn outbox_is_empty(&self) -> bool {
        std::fs::read_dir(self.outbox()).map(|mut d| d.next().is_none()).unwrap_or(true)
    }

    pub async fn request_code(&self, id: &str) -> reqwest::Response {
        self.api.post(self.url("/api/v1/auth/code")).json(&serde_json::json!({ "id": id })).send().await.unwrap()
    }

    /// Signs in through the API with the emailed code; returns the bearer token.
    pub async fn sign_in(&self, id: &str, email: &str) -> String {
        assert_eq!(self.request_code(id).await.status(), 202);
        let code = self.take_code(email).expect("a code was mailed");
        let response = self
            .api
            .post(self.url("/api/v1/auth/session"))
            .json(&serde_json::json!({ "id": id, "code": code }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
    }

    pub async fn sign(&self, token: &str, campaign_id: &str, name: &str, sha: &str) -> reqwest::Response {
        self.api
            .post(self.url(&format!("/api/v1/campaigns/{campaign_id}/signatures")))
            .bearer_auth(token)
            .json(&serde_json::json!({ "full_name": name, "document_sha256": sha, "accept": true }))
            .send()
            .await
            .unwrap()
    }

    pub async fn pdf(&self, token: &str, certificate_id: &str) -> Vec<u8> {
        let response = self
            .api
            .get(self.url(&format!("/api/v1/certificates/{certificate_id}.pdf")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap().to_vec()
    }

    pub fn count(&self, table: &str) -> i64 {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        diesel::sql_query(sql).get_result::<Count>(&mut *self.db.read().unwrap()).unwrap().n
    }
}

/// Reads the QR back from a rendered page of the PDF with independent tools: poppler and zbar.
pub fn read_qr(pdf: &[u8], dpi: u32) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certificate.pdf");
    std::fs::write(&file, pdf).unwrap();
    let png = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png", "-singlefile", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(&png)
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(status.success());
    let out = Command::new("zbarimg")
        .args(["-q", "--raw"])
        .arg(png.with_extension("png"))
        .output()
        .expect("zbarimg (zbar-tools) is installed");
    assert!(out.status.success(), "zbarimg found no QR code");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub fn tool_output(program: &str, args: &[&str], pdf: &[u8]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certificate.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new(program).args(args).arg(&file).output().unwrap_or_else(|_| panic!("{program} is installed"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string())
}
