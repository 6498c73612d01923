use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use diesel::{Connection, PgConnection, RunQueryDsl};
use ikrar::config::Settings;
use ikrar::db::campaigns::{self, Campaign};
use ikrar::db::{now, DatabaseUrl, Db};
use ikrar::domain::{AreaScope, PactDocument};
use ikrar::startup::Application;
use serde_json::Value;

pub use crate::letters::wait_for_letter;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates, for each journey `async fn name(backend: Backend)`, the tests `name::sqlite` and
/// `name::postgres`, so that every journey runs on both databases.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

/// The PostgreSQL server for tests: `IKRAR_TEST_POSTGRES_URL`, or the CI machine's local server.
fn postgres_server() -> String {
    std::env::var("IKRAR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn try_admin_connection() -> Result<PgConnection, diesel::ConnectionError> {
    PgConnection::establish(&format!("{}/postgres", postgres_server()))
}

/// Only called once `require(Tool::Postgres)` said the server answers.
fn admin_connection() -> Option<PgConnection> {
    Some(
        try_admin_connection().unwrap_or_else(|e| {
            panic!("PostgreSQL at {} stopped answering: {e}", postgres_server())
        }),
    )
}

/// Something a journey needs from outside the Rust build. `scripts/test` installs and starts all
/// of them; `IKRAR_TEST_SKIP` (a comma list of the names below) is the only way to leave one out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// The server at `IKRAR_TEST_POSTGRES_URL`: every `::postgres` twin.
    Postgres,
    /// Debian's `chromium`: pages run with their scripts.
    Browser,
    /// Python's pyHanko and cryptography (`IKRAR_TEST_PYTHONPATH`): independent verifiers.
    Pyhanko,
    /// Node.js with the packages of `tests/browser/package.json` (`IKRAR_TEST_NODE_MODULES`).
    Node,
}

impl Tool {
    const ALL: [Tool; 4] = [Tool::Postgres, Tool::Browser, Tool::Pyhanko, Tool::Node];

    /// Its name in `IKRAR_TEST_SKIP`.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Postgres => "postgres",
            Tool::Browser => "browser",
            Tool::Pyhanko => "pyhanko",
            Tool::Node => "node",
        }
    }

    /// Why it can't be used here, with what to install or start; `None` when it can.
    fn missing(self) -> Option<String> {
        match self {
            Tool::Postgres => try_admin_connection().err().map(|e| {
                format!(
                    "PostgreSQL at {} is not reachable ({e}): start it (scripts/test starts the \
                     local cluster) or set IKRAR_TEST_POSTGRES_URL to a server where this user \
                     may create databases",
                    postgres_server()
                )
            }),
            Tool::Browser => {
                let runs = Command::new("chromium")
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success());
                (!runs).then(|| "chromium does not run: apt-get install chromium".to_string())
            }
            Tool::Pyhanko => {
                let out = python3()
                    .args(["-c", "import cryptography, pyhanko, pyhanko_certvalidator"])
                    .output();
                match out {
                    Ok(o) if o.status.success() => None,
                    Ok(o) => Some(format!(
                        "python3 cannot import pyHanko ({}): run scripts/test, or \
                         python3 -m pip install --target {} cryptography pyhanko pyhanko-certvalidator",
                        String::from_utf8_lossy(&o.stderr).trim().lines().last().unwrap_or(""),
                        python_path()
                    )),
                    Err(e) => Some(format!("python3 does not run ({e}): apt-get install python3 python3-pip")),
                }
            }
            Tool::Node => {
                let modules = node_modules();
                if !Command::new("node")
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
                {
                    return Some("node does not run: apt-get install nodejs npm".into());
                }
                let manifest: Value = serde_json::from_str(include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/browser/package.json"
                )))
                .expect("tests/browser/package.json is JSON");
                let absent: Vec<&str> = manifest["dependencies"]
                    .as_object()
                    .into_iter()
                    .flat_map(|d| d.keys())
                    .map(String::as_str)
                    .filter(|name| !modules.join(name).join("package.json").is_file())
                    .collect();
                (!absent.is_empty()).then(|| {
                    format!(
                        "{} not in {}: run scripts/test, or npm ci --prefix target/npm \
                         (after copying tests/browser/package*.json there)",
                        absent.join(", "),
                        modules.display()
                    )
                })
            }
        }
    }
}

/// The names in `IKRAR_TEST_SKIP`; an unknown name fails, so that a typo can't skip nothing
/// silently while the reader believes it skipped something.
fn asked_to_skip(tool: Tool) -> bool {
    let list = std::env::var("IKRAR_TEST_SKIP").unwrap_or_default();
    let names: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    for name in &names {
        assert!(
            Tool::ALL.iter().any(|t| t.name() == *name),
            "IKRAR_TEST_SKIP names {name:?}; known: postgres, browser, pyhanko, node"
        );
    }
    names.contains(&tool.name())
}

/// Whether a test that needs `tool` runs. It is skipped (saying so) only when `IKRAR_TEST_SKIP`
/// names the tool; otherwise a missing tool fails the test with what to install or start, so that
/// a green suite never hides journeys that did not run.
pub fn require(tool: Tool) -> bool {
    /// Each tool is looked for once per test run.
    static CHECKED: [OnceLock<Option<String>>; 4] = [const { OnceLock::new() }; 4];
    if asked_to_skip(tool) {
        eprintln!(
            "skipped: needs {} and IKRAR_TEST_SKIP contains {:?}",
            tool.name(),
            tool.name()
        );
        return false;
    }
    let missing = CHECKED[tool as usize].get_or_init(|| tool.missing());
    if let Some(why) = missing {
        panic!(
            "this test needs {}: {why}. To skip it instead, set IKRAR_TEST_SKIP={}",
            tool.name(),
            tool.name()
        );
    }
    true
}

/// Where the Python packages of the tests are: `IKRAR_TEST_PYTHONPATH`, else `target/python`,
/// where `scripts/test` installs them.
pub fn python_path() -> String {
    std::env::var("IKRAR_TEST_PYTHONPATH")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/python").into())
}

/// `python3` that finds the test's Python packages before any of the machine's.
pub fn python3() -> Command {
    let mut command = Command::new("python3");
    let path = match std::env::var("PYTHONPATH") {
        Ok(existing) if !existing.is_empty() => format!("{}:{existing}", python_path()),
        _ => python_path(),
    };
    command.env("PYTHONPATH", path);
    command
}

/// The `node_modules` folder with the packages of `tests/browser/package.json`:
/// `IKRAR_TEST_NODE_MODULES`, else `target/npm/node_modules`, where `scripts/test` installs them.
pub fn node_modules() -> PathBuf {
    std::env::var_os("IKRAR_TEST_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/target/npm/node_modules").into())
}

/// Storage that is migrated, holds the area reference and has a key, made once per test run per
/// backend and copied into each test: loading 91,000 areas per test would dominate the suite.
struct Template {
    dir: PathBuf,
    /// For PostgreSQL: the database each test clones with `CREATE DATABASE … TEMPLATE`.
    postgres_db: Option<String>,
}

fn prepare_template(backend: Backend) -> Option<Template> {
    let dir =
        std::env::temp_dir().join(format!("ikrar-template-{backend:?}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut settings = Settings::for_data_dir(dir.clone());
    let mut postgres_db = None;
    if backend == Backend::Postgres {
        let mut admin = admin_connection()?;
        // Databases left by earlier runs that were killed before they could drop their own.
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            datname: String,
        }
        let stale: Vec<Name> =
            diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'ikrar_test_%'")
                .load(&mut admin)
                .unwrap();
        // Only those whose test process is gone: other checkouts may be running their suites
        // against the same server at this moment.
        for db in stale {
            let pid = db.datname["ikrar_test_".len()..]
                .trim_start_matches("tpl_")
                .split('_')
                .next()
                .unwrap_or("");
            if !std::path::Path::new("/proc").join(pid).exists() || pid.is_empty() {
                drop_database(&mut admin, &db.datname);
            }
        }
        let name = format!("ikrar_test_tpl_{}", std::process::id());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        settings.database_url = DatabaseUrl::Postgres(format!("{}/{name}", postgres_server()));
        postgres_db = Some(name);
    }
    let (db, _key) = ikrar::startup::open_storage(&settings).expect("template storage");
    if backend == Backend::Sqlite {
        use diesel::connection::SimpleConnection;
        db.write()
            .unwrap()
            .batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }
    drop(db);
    Some(Template { dir, postgres_db })
}

fn template(backend: Backend) -> Option<&'static Template> {
    static SQLITE: OnceLock<Option<Template>> = OnceLock::new();
    static POSTGRES: OnceLock<Option<Template>> = OnceLock::new();
    let cell = if backend == Backend::Sqlite {
        &SQLITE
    } else {
        &POSTGRES
    };
    cell.get_or_init(|| prepare_template(backend)).as_ref()
}

fn drop_database(admin: &mut PgConnection, name: &str) {
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(admin)
        .unwrap();
}

/// Drops a test's PostgreSQL database when the test ends, pass or fail.
pub struct PostgresGuard(pub String);

impl Drop for PostgresGuard {
    fn drop(&mut self) {
        if let Ok(mut admin) = try_admin_connection() {
            drop_database(&mut admin, &self.0);
        }
    }
}

pub struct TestApp {
    pub base_url: String,
    pub dir: tempfile::TempDir,
    pub db: Db,
    pub database_url: String,
    pub campaign_id: String,
    pub document_sha256: String,
    /// Follows no redirects, keeps cookies: a browser whose steps the test checks one by one.
    pub browser: reqwest::Client,
    pub api: reqwest::Client,
    _postgres: Option<PostgresGuard>,
}

/// A server on a random port with a fresh database of the backend; `None` when the test is to
/// be skipped (PostgreSQL named in `IKRAR_TEST_SKIP`); a missing server fails the test.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Like `spawn_app`, with settings changed first (e.g. lower rate limits).
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if backend == Backend::Postgres && !require(Tool::Postgres) {
        return None;
    }
    let template = template(backend)?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        template.dir.join("issuer-key.ed25519"),
        dir.path().join("issuer-key.ed25519"),
    )
    .unwrap();
    let mut settings = Settings::for_data_dir(dir.path().to_path_buf());
    settings.bind = "127.0.0.1:0".into();
    let mut guard = None;
    match &template.postgres_db {
        None => {
            std::fs::copy(
                template.dir.join("ikrar.sqlite3"),
                dir.path().join("ikrar.sqlite3"),
            )
            .unwrap();
        }
        Some(tpl) => {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let name = format!("ikrar_test_{}_{n}", std::process::id());
            let mut admin = admin_connection()?;
            diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {tpl}"))
                .execute(&mut admin)
                .unwrap();
            settings.database_url = DatabaseUrl::Postgres(format!("{}/{name}", postgres_server()));
            guard = Some(PostgresGuard(name));
        }
    }
    configure(&mut settings);
    let database_url = match &settings.database_url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    let app = Application::build(&settings).expect("the app builds");
    let base_url = app.base_url().to_string();
    tokio::spawn(app.run_until_stopped());

    let db = Db::connect(&settings.database_url).unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, ROSTER).unwrap();
    ikrar::roster::import(&db, &roster).expect("the fixture roster imports");
    let campaign_id = create_campaign(&db, "73", now() - 86_400, now() + 30 * 86_400);
    let document_sha256 = PactDocument::default_pact().sha256_hex();
    Some(TestApp {
        base_url,
        dir,
        db,
        database_url,
        campaign_id,
        document_sha256,
        browser: client()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        api: client().build().unwrap(),
        _postgres: guard,
    })
}

/// Starts `ikrar demo` on a random port with `employees` on its roster and returns the running
/// demo with the banner it printed up to "Hentikan dengan Ctrl+C". The rest of its output is
/// read and dropped, as a terminal would: a closed pipe would end the demo at its next line.
pub fn start_demo(data_dir: &std::path::Path, employees: u32) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(["demo", "--data-dir"])
        .arg(data_dir)
        .args([
            "--bind",
            "127.0.0.1:0",
            "--employees",
            &employees.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.contains("Hentikan dengan Ctrl+C") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (child, banner)
}

/// An HTTP client for journeys. It drops a connection idle for 2 s: the server closes idle
/// connections after 5 s (actix's keep-alive), and a request sent on one at that moment fails
/// with "connection closed before message completed", which a slow step (pdftoppm, zbarimg on a
/// busy machine) between two requests made likely.
pub fn client() -> reqwest::ClientBuilder {
    reqwest::Client::builder().pool_idle_timeout(std::time::Duration::from_secs(2))
}

pub fn create_campaign(db: &Db, scope: &str, opens_at: i64, closes_at: i64) -> String {
    let campaign = Campaign {
        id: Campaign::new_id(),
        title: "Pemilu dan Pilkada Serentak 2024".into(),
        scope_code: AreaScope::parse(scope).unwrap(),
        opens_at,
        closes_at,
        created_at: now(),
    };
    campaigns::create(
        &mut db.write().unwrap(),
        &campaign,
        &PactDocument::default_pact(),
    )
    .unwrap();
    campaign.id
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    /// Waits until the node's drain has handled every code request so far (mailed the code or
    /// found nobody to mail), so the outbox shows what the requests sent. Fails after 10 s.
    pub fn codes_settled(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while ikrar::sign_in::code_requests::pending(&self.db).unwrap() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "sign-in code requests still queued after 10 s: is the node's drain running?"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// The code in the newest message to `email`, once the drain has handled the requests so
    /// far; the messages are removed once read.
    pub fn take_code(&self, email: &str) -> Option<String> {
        self.codes_settled();
        let mut found = None;
        for entry in std::fs::read_dir(self.outbox()).ok()?.flatten() {
            // The headers are enough, and other letters (a certificate PDF) can be large.
            let mut head = Vec::with_capacity(4096);
            use std::io::Read;
            std::fs::File::open(entry.path())
                .unwrap()
                .take(4096)
                .read_to_end(&mut head)
                .unwrap();
            let text = String::from_utf8_lossy(&head);
            if text.contains(email) && text.contains("Kode masuk ikrar: ") {
                let at = text
                    .find("Kode masuk ikrar: ")
                    .expect("subject carries the code")
                    + 18;
                found = Some(text[at..at + 6].to_string());
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
        found
    }

    /// Whether nothing was mailed, once the drain has handled the requests so far.
    pub fn outbox_is_empty(&self) -> bool {
        self.codes_settled();
        std::fs::read_dir(self.outbox())
            .map(|mut d| d.next().is_none())
            .unwrap_or(true)
    }

    pub async fn request_code(&self, id: &str) -> reqwest::Response {
        self.api
            .post(self.url("/api/v1/auth/code"))
            .json(&serde_json::json!({ "id": id }))
            .send()
            .await
            .unwrap()
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
        response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn sign(
        &self,
        token: &str,
        campaign_id: &str,
        name: &str,
        sha: &str,
    ) -> reqwest::Response {
        self.api
            .post(self.url(&format!("/api/v1/campaigns/{campaign_id}/signatures")))
            .bearer_auth(token)
            .json(&serde_json::json!({ "full_name": name, "document_sha256": sha, "accept": true }))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and signs the test campaign's current document: (token, the signing answer).
    pub async fn signs(&self, id: &str, email: &str, name: &str) -> (String, Value) {
        let token = self.sign_in(id, email).await;
        let response = self
            .sign(&token, &self.campaign_id, name, &self.document_sha256)
            .await;
        assert!(
            response.status().is_success(),
            "signing failed: {}",
            response.status()
        );
        (token, response.json().await.unwrap())
    }

    /// What `/api/v1/verify/{id}` answers, as JSON.
    pub async fn verdict(&self, id: &str) -> Value {
        self.api
            .get(self.url(&format!("/api/v1/verify/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn me(&self, token: &str) -> Value {
        let response = self
            .api
            .get(self.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
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

    /// The node's storage opened a second time, as a command on the same machine opens it: the
    /// same database and issuer key, with the start-up work (migrations, log backfill) run again.
    pub fn open_storage(&self) -> (Db, ikrar::crypto::IssuerKey) {
        let mut settings = ikrar::config::Settings::for_data_dir(self.dir.path().to_path_buf());
        settings.bind = "127.0.0.1:0".into();
        settings.database_url = DatabaseUrl::parse(&self.database_url).unwrap();
        ikrar::startup::open_storage(&settings).unwrap()
    }

    pub fn count(&self, table: &str) -> i64 {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        diesel::sql_query(sql)
            .get_result::<Count>(&mut *self.db.read().unwrap())
            .unwrap()
            .n
    }
}

/// Reads the QR back from a rendered page of the PDF with independent tools: poppler and zbar.
pub fn read_qr(pdf: &[u8], dpi: u32) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certificate.pdf");
    std::fs::write(&file, pdf).unwrap();
    let png = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args([
            "-r",
            &dpi.to_string(),
            "-png",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
        ])
        .arg(&file)
        .arg(&png)
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(status.success());
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable"])
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
    // pdftotext writes to a file unless told "-" after the input.
    let to_stdout: &[&str] = if program == "pdftotext" { &["-"] } else { &[] };
    let mut command = if program == "python3" {
        python3()
    } else {
        Command::new(program)
    };
    let out = command
        .args(args)
        .arg(&file)
        .args(to_stdout)
        .output()
        .unwrap_or_else(|_| panic!("{program} is installed"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

/// The CSRF token a page puts in its forms; the browser client keeps the matching cookie.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .expect("the page has a form with a CSRF token")
        + marker.len();
    html[start..start + 43].to_string()
}

/// Opens a page with the browser client and returns the CSRF token of its forms.
pub async fn csrf_token(browser: &reqwest::Client, url: &str) -> String {
    let html = browser.get(url).send().await.unwrap().text().await.unwrap();
    csrf_in(&html)
}

/// A browser (cookies kept, redirects not followed) signed in as an admin through the pages:
/// email, emailed code, and the authenticator code if one is given. Returns it with its CSRF token.
pub async fn admin_browser(
    app: &TestApp,
    email: &str,
    totp_secret: Option<&[u8]>,
) -> (reqwest::Client, String) {
    let (b, csrf, _) = admin_sign_in(app, email, totp_secret).await;
    (b, csrf)
}

/// [`admin_browser`] with the answer to the code form, whose `Set-Cookie` carries the session.
pub async fn admin_sign_in(
    app: &TestApp,
    email: &str,
    totp_secret: Option<&[u8]>,
) -> (reqwest::Client, String, reqwest::Response) {
    let b = client()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf = csrf_token(&b, &app.url("/admin/masuk")).await;
    let sent = b
        .post(app.url("/admin/masuk"))
        .form(&[("email", email), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    let code = app.take_code(email).expect("an admin code was mailed");
    let authenticator = totp_secret
        .map(|s| {
            format!(
                "{:06}",
                ikrar::totp::code_at_step(s, ikrar::totp::step_at(now()))
            )
        })
        .unwrap_or_default();
    let signed_in = b
        .post(app.url("/admin/masuk/kode"))
        .form(&[
            ("email", email),
            ("code", &code),
            ("authenticator", &authenticator),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "admin {email} signs in");
    (b, csrf, signed_in)
}

/// Adds an admin straight into the database, as `ikrar admin add` does.
pub fn add_admin(app: &TestApp, email: &str, role: &str, scope: &str, agency: Option<&str>) {
    use ikrar::domain::{AdminRole, AdminScope, EmailAddress, FullName};
    let scope = AdminScope::parse(AdminRole::parse(role).unwrap(), scope, agency).unwrap();
    let admin = ikrar::web::admin::new_admin(
        &EmailAddress::parse(email).unwrap(),
        &FullName::parse("Admin Uji").unwrap(),
        &scope,
        None,
    );
    ikrar::db::admins::insert(&mut app.db.write().unwrap(), &admin).unwrap();
}

/// Runs the `ikrar` binary built with the tests.
pub fn ikrar(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ikrar"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The public address an `ikrar serve` child announces on its first line of output; the rest of
/// its output is drained on a thread so the child never blocks on a full pipe.
pub fn announced_address(child: &mut std::process::Child) -> String {
    use std::io::{BufRead, BufReader};
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let banner = lines.next().unwrap().unwrap();
    std::thread::spawn(move || lines.for_each(drop));
    banner
        .split("alamat publik ")
        .nth(1)
        .expect("the banner names the public address")
        .trim_end_matches(')')
        .to_string()
}
