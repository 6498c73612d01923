//! The command line: a stable interface that operators and scripts depend on.

mod admin;
#[cfg(feature = "bench")]
mod bench;
#[cfg(feature = "bench")]
mod bench_import;
mod campaign;
mod coverage;
mod db;
mod demo;
mod invitations;
mod keys;
mod log;
mod roster;
mod sso;
#[cfg(feature = "bench")]
mod synth;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Settings;
use crate::db::DatabaseUrl;
use crate::mail::MailSettings;
use crate::web::client_address::{ForwardingHeader, TrustedProxies};

#[derive(Parser)]
#[command(
    name = "ikrar",
    version,
    about = "Penandatanganan Pakta Integritas dan Pernyataan Netralitas ASN"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Start a demo node: synthetic roster of Sulawesi Selatan, an open campaign, 60% signed.
    Demo {
        #[arg(long, default_value = "./ikrar-demo")]
        data_dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Synthetic employees to create on the first run.
        #[arg(long, default_value_t = 50_000)]
        employees: usize,
    },
    /// Serve ikrar for real use (no demo data).
    Serve(ServeArgs),
    /// Manage the roster of employees.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Manage signing campaigns.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCommand),
    /// Coverage reports for area admins.
    #[command(subcommand)]
    Coverage(CoverageCommand),
    #[cfg(feature = "bench")]
    /// Fill an empty database with a synthetic nation: employees over all 38 provinces in
    /// proportion to their civil servants, optionally a share already signed.
    Synth {
        #[arg(long)]
        employees: u64,
        /// Share (0 to 1) who have already signed a national campaign, through the signing code.
        #[arg(long, default_value_t = 0.0)]
        campaign_signed_share: f64,
        #[arg(long, default_value_t = 2024)]
        seed: u64,
        /// Write a roster CSV file (the import format) instead of filling the database.
        #[arg(long)]
        roster_file: Option<PathBuf>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    #[cfg(feature = "bench")]
    /// Benchmark figures measured in process: one certificate rendered on one core, and where
    /// its time goes. HTTP figures come from scripts/bench-http.sh.
    Bench {
        /// A few samples only (a smoke test).
        #[arg(long)]
        quick: bool,
        #[arg(long)]
        samples: Option<usize>,
        /// Also write the benchmark's certificate to this file, to look at.
        #[arg(long)]
        pdf_out: Option<PathBuf>,
    },
    #[cfg(feature = "bench")]
    /// Where a QR scan's time goes, without HTTP: each step of verifying the certificates listed
    /// in a file (one id a line, as `bench-signers --certificates-out` writes), timed on one core.
    BenchScans {
        #[arg(long)]
        certificates: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    #[cfg(feature = "bench")]
    /// Prepare a load test: sign in employees who have not signed the campaign yet and write
    /// `token<TAB>request body` lines for scripts/bench-http.sh.
    BenchSigners {
        #[arg(long)]
        campaign: String,
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        #[arg(long)]
        out: PathBuf,
        /// Also write ids of standing certificates of the campaign, one a line.
        #[arg(long)]
        certificates_out: Option<PathBuf>,
        #[arg(long, default_value_t = 100_000)]
        certificates: usize,
        #[command(flatten)]
        storage: StorageArgs,
    },
    #[cfg(feature = "bench")]
    /// Signing latency (p50, p99) with and without a large roster import running beside it, in a
    /// new SQLite data folder it fills itself: the figures of docs/performance.md.
    BenchImport {
        /// Rows of the roster file imported during the second run.
        #[arg(long, default_value_t = 1_000_000)]
        import_rows: u64,
        /// Employees on the roster beforehand; the signers come from them.
        #[arg(long, default_value_t = 50_000)]
        roster: u64,
        /// Signings per second, in both runs.
        #[arg(long, default_value_t = 50)]
        rate: u32,
        /// Seconds of signing without an import.
        #[arg(long, default_value_t = 30)]
        baseline_secs: u64,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Administrators and their scopes.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The append-only audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Printed invitation slips for employees without an email address.
    #[command(subcommand)]
    Invitations(InvitationsCommand),
    /// Rotate or revoke issuer keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The public append-only log of certificates and revocations.
    #[command(subcommand)]
    Log(LogCommand),
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a new key the key for a role; the old one is retired and what it signed stays
    /// genuine. `claim` (default) signs certificates, `log` signs checkpoints and the key list,
    /// `seal` is `keys rotate-seal`. Nodes pick the new key up when they restart.
    Rotate {
        #[arg(long, default_value = "claim", value_parser = ["claim", "log", "seal"])]
        role: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Replace the self-made PDF seal by a new ECDSA P-256 key and certificate; the old files
    /// are kept beside the new ones and the old seal still checks on uploads.
    RotateSeal {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Make a CA-issued e-seal the PDF seal: a PKCS #12 file (--pkcs12 with a password), or a
    /// PEM private key (--key) with its PEM certificate chain (--chain). RSA >= 2048 or ECDSA P-256.
    ImportSeal {
        #[arg(long, conflicts_with_all = ["key", "chain"], required_unless_present = "key")]
        pkcs12: Option<PathBuf>,
        /// File holding the PKCS #12 password (its first line); or set IKRAR_SEAL_PASSWORD.
        #[arg(long)]
        password_file: Option<PathBuf>,
        #[arg(long, requires = "chain")]
        key: Option<PathBuf>,
        #[arg(long, requires = "key")]
        chain: Option<PathBuf>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Mark a compromised key: certificates it signed at or after --from are no longer genuine.
    /// Logged in the public log; --from can only move earlier.
    Revoke {
        /// The key id (16 hex digits) from /.well-known/ikrar-keys.json.
        key_id: String,
        /// First instant of the compromise, RFC 3339 (e.g. 2024-02-01T00:00:00+08:00).
        #[arg(long)]
        from: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
pub enum LogCommand {
    /// Rebuild the log from the certificate rows and check every entry and published checkpoint;
    /// exit code 1 names the first inconsistency.
    Verify {
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Add an administrator; prints their id. They sign in at /admin/masuk with an emailed code.
    Add {
        #[arg(long)]
        email: String,
        /// Full name as it should appear to other admins.
        #[arg(long)]
        name: String,
        /// national, province, regency, district, village or agency (or nasional, provinsi,
        /// kabupaten, kecamatan, desa, instansi).
        #[arg(long)]
        role: String,
        /// Area code fitting the role (73, 73.71, 73.71.01, 73.71.01.1001), or ID for national.
        #[arg(long)]
        scope: String,
        /// Agency name exactly as on the roster; required for the agency role.
        #[arg(long)]
        agency: Option<String>,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
pub enum InvitationsCommand {
    /// Print cut-out slips (PDF, eight per A4 page) for the unsigned employees of an area,
    /// optionally one agency or unit; each slip's one-time code signs its employee in once.
    /// Printing again retires the employees' earlier slips.
    Print {
        #[arg(long)]
        campaign: String,
        /// Area code inside the campaign (73, 73.71, 73.71.01, 73.71.01.1001).
        #[arg(long)]
        area: String,
        /// Only this agency (exact name as on the roster).
        #[arg(long)]
        agency: Option<String>,
        /// Only this unit (unit kerja, exact name as on the roster).
        #[arg(long)]
        unit: Option<String>,
        /// Helpdesk printed on every slip, e.g. "BKD Kota Makassar, telepon 0411 123456".
        #[arg(long)]
        helpdesk: Option<String>,
        /// Public address the slips' QR codes open, e.g. https://ikrar.sulselprov.go.id
        #[arg(long, env = "IKRAR_BASE_URL")]
        base_url: String,
        #[arg(long)]
        output: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and report the first entry that was altered or removed.
    Verify {
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
pub enum CoverageCommand {
    /// Export the employees of an area who have not signed a campaign yet (CSV or XLSX).
    Unsigned {
        #[arg(long)]
        campaign: String,
        /// Area code; default: the campaign's scope.
        #[arg(long)]
        area: Option<String>,
        /// Only this agency (exact name as on the roster).
        #[arg(long)]
        agency: Option<String>,
        /// Only PNS, PPPK or PPNPN.
        #[arg(long = "type")]
        employee_type: Option<String>,
        /// csv or xlsx
        #[arg(long, default_value = "csv")]
        format: String,
        /// File to write; CSV goes to standard output without it.
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
pub enum DbCommand {
    /// Copy all data into a new, empty database (e.g. a SQLite pilot to PostgreSQL), then check row
    /// counts and that every certificate still verifies.
    Copy {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

#[derive(Args, Clone)]
pub struct StorageArgs {
    /// Folder for the SQLite database, the issuer key and the mail outbox.
    #[arg(long, env = "IKRAR_DATA_DIR", default_value = "./ikrar-data")]
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; default: SQLite inside the data folder.
    #[arg(long, env = "IKRAR_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The issuer's Ed25519 key (hex seed, mode 0600); every node of a deployment shares it.
    #[arg(long, env = "IKRAR_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// The log's own Ed25519 key (hex seed, mode 0600); default DATA_DIR/log-key.ed25519, made
    /// by `ikrar keys rotate --role log`. Without it the key file's key signs for the log too.
    #[arg(long, env = "IKRAR_LOG_KEY_FILE")]
    pub log_key_file: Option<PathBuf>,
    /// The PDF seal's private key (PEM, mode 0600); default DATA_DIR/seal-key.pem, made on
    /// first start. Every node of a deployment shares it.
    #[arg(long, env = "IKRAR_SEAL_KEY")]
    pub seal_key: Option<PathBuf>,
    /// The seal's certificate chain (PEM, leaf first); default DATA_DIR/seal-certificate.pem.
    #[arg(long, env = "IKRAR_SEAL_CERTIFICATE")]
    pub seal_certificate: Option<PathBuf>,
    /// The organisation a self-made seal certificate names (O=…), e.g. "Pemerintah Provinsi
    /// Sulawesi Selatan"; used when the seal files are made.
    #[arg(long, env = "IKRAR_SEAL_ORGANISATION")]
    pub seal_organisation: Option<String>,
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[arg(long, env = "IKRAR_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Public https address printed into QR codes, e.g. https://ikrar.sulselprov.go.id
    #[arg(long, env = "IKRAR_BASE_URL")]
    pub base_url: Option<String>,
    /// SMTP relay; without it, mail is written as .eml files to DATA_DIR/outbox.
    #[arg(long, env = "IKRAR_SMTP_HOST")]
    pub smtp_host: Option<String>,
    #[arg(long, env = "IKRAR_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// starttls, tls or none
    #[arg(long, env = "IKRAR_SMTP_SECURITY", default_value = "starttls")]
    pub smtp_security: String,
    #[arg(long, env = "IKRAR_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    #[arg(long, env = "IKRAR_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    #[arg(
        long,
        env = "IKRAR_MAIL_FROM",
        default_value = "ikrar <noreply@ikrar.localhost>"
    )]
    pub mail_from: String,
    /// Your reverse proxies, CIDR[,CIDR…] (e.g. 10.0.0.0/8,192.168.1.10): the client address is
    /// the rightmost X-Forwarded-For hop that is not one of them, read only from requests these
    /// proxies pass on. Bare, it means `loopback` (a proxy on the same machine).
    #[arg(
        long,
        env = "IKRAR_TRUSTED_PROXY",
        num_args = 0..=1,
        default_missing_value = "loopback",
        value_parser = parse_trusted_proxies
    )]
    pub trusted_proxy: Option<TrustedProxies>,
    /// Read the client address from `Forwarded: for=` (RFC 7239) instead of X-Forwarded-For;
    /// only if your proxy sets that header (and replaces one the client sent).
    #[arg(long, env = "IKRAR_FORWARDED_HEADER", requires = "trusted_proxy")]
    pub forwarded_header: bool,
    /// Who helps people who cannot sign in (shown on the code page, in limit messages and in the
    /// code mail), e.g. "BKD Provinsi Sulawesi Selatan, telepon (0411) 123456, WhatsApp 0812…".
    #[arg(long, env = "IKRAR_HELPDESK")]
    pub helpdesk: Option<String>,
    /// Page where the public reports a neutrality violation (e.g. Bawaslu's), linked from every
    /// verify page.
    #[arg(long, env = "IKRAR_REPORT_URL")]
    pub report_url: Option<String>,
    /// Live counter streams (`/live/…/stream`) this node holds at most; beyond it, 503 with
    /// Retry-After. Each open stream costs one connection and a little memory.
    #[arg(long, env = "IKRAR_LIVE_STREAM_CAP", default_value_t = 1_000)]
    pub live_stream_cap: usize,
    /// Public coverage pages show a count below this as "< N" (and no percentage from it), so
    /// that a village's single employee of an agency is not singled out; 0 shows every count.
    #[arg(long, env = "IKRAR_PUBLIC_MIN_COUNT", default_value_t = 5)]
    pub public_min_count: i64,
    #[command(flatten)]
    pub sso: sso::SsoArgs,
}

#[derive(Subcommand)]
pub enum RosterCommand {
    /// Import employees from CSV (nip,nik,full_name,position,agency,unit,employee_type,village_code,email).
    Import {
        file: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Open a signing campaign for an area; prints its id.
    Create {
        #[arg(long)]
        title: String,
        /// Area code the campaign covers: 73, 73.72, 73.72.01 or 73.72.01.1001; ID for the whole nation.
        #[arg(long)]
        scope: String,
        /// Opening instant, RFC 3339 (e.g. 2024-01-08T08:00:00+08:00).
        #[arg(long)]
        opens: String,
        #[arg(long)]
        closes: String,
        /// Document text file (see assets/documents/README.md); default: the built-in pact.
        #[arg(long)]
        document: Option<PathBuf>,
        #[command(flatten)]
        authority: campaign::AuthorityArgs,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

impl StorageArgs {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings::for_data_dir(self.data_dir.clone());
        if let Some(url) = &self.database_url {
            settings.database_url = DatabaseUrl::parse(url)?;
        }
        if let Some(key) = &self.key_file {
            settings.key_file = key.clone();
        }
        if let Some(key) = &self.log_key_file {
            settings.log_key_file = key.clone();
        }
        if let Some(key) = &self.seal_key {
            settings.seal_key_file = key.clone();
        }
        if let Some(chain) = &self.seal_certificate {
            settings.seal_certificate_file = chain.clone();
        }
        if let Some(organisation) = &self.seal_organisation {
            settings.seal_organisation = organisation.clone();
        }
        Ok(settings)
    }
}

impl StorageArgs {
    /// Why this command must not run here: the data folder holds no SQLite database. A command
    /// that reads or changes a deployment would otherwise make a new, empty one (with its own
    /// issuer key) beside the real one and report success. PostgreSQL databases are not made by
    /// ikrar, so a wrong URL already fails to connect.
    pub fn missing_database(&self) -> Option<String> {
        let url = match &self.database_url {
            Some(raw) => DatabaseUrl::parse(raw).ok()?,
            None => Settings::for_data_dir(self.data_dir.clone()).database_url,
        };
        let DatabaseUrl::Sqlite(path) = url else {
            return None;
        };
        if path == ":memory:" || std::path::Path::new(&path).exists() {
            return None;
        }
        Some(format!(
            "folder data {} belum memuat basis data ({path} tidak ada), jadi perintah ini tidak \
             dijalankan. Tunjuk folder data yang benar dengan --data-dir (atau IKRAR_DATA_DIR), \
             atau buat basis data baru lebih dahulu dengan `ikrar serve --data-dir {}` \
             (atau `ikrar demo` untuk data contoh).",
            self.data_dir.display(),
            self.data_dir.display()
        ))
    }
}

impl Command {
    /// The storage of a command that works on an existing database; `None` for the commands
    /// that may create one (serve, demo, synth) or name their databases by URL (db copy).
    fn existing_storage(&self) -> Option<&StorageArgs> {
        match self {
            Command::Campaign(CampaignCommand::Create { storage, .. })
            | Command::Admin(AdminCommand::Add { storage, .. })
            | Command::Audit(AuditCommand::Verify { storage })
            | Command::Invitations(InvitationsCommand::Print { storage, .. })
            | Command::Keys(KeysCommand::Rotate { storage, .. })
            | Command::Keys(KeysCommand::Revoke { storage, .. })
            | Command::Log(LogCommand::Verify { storage })
            | Command::Coverage(CoverageCommand::Unsigned { storage, .. }) => Some(storage),
            #[cfg(feature = "bench")]
            Command::BenchScans { storage, .. } | Command::BenchSigners { storage, .. } => {
                Some(storage)
            }
            // A roster import may be the first load into a new folder; a seal is files, not rows.
            Command::Roster(_)
            | Command::Keys(KeysCommand::RotateSeal { .. } | KeysCommand::ImportSeal { .. })
            | Command::Demo { .. }
            | Command::Serve(_)
            | Command::Db(_) => None,
            #[cfg(feature = "bench")]
            Command::Synth { .. } | Command::Bench { .. } | Command::BenchImport { .. } => None,
        }
    }
}

/// `--trusted-proxy` and `IKRAR_TRUSTED_PROXY`; `true` and `false` are what the variable held
/// when the flag was a switch.
fn parse_trusted_proxies(raw: &str) -> Result<TrustedProxies, String> {
    match raw.trim() {
        "true" | "1" => TrustedProxies::parse("loopback"),
        "false" | "0" => Ok(TrustedProxies::default()),
        list => TrustedProxies::parse(list),
    }
    .map_err(|e| e.to_string())
}

impl ServeArgs {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = self.storage.settings()?;
        settings.bind = self.bind.clone();
        settings.base_url = self.base_url.clone();
        settings.mail_from = self.mail_from.clone();
        settings.trusted_proxies = self.trusted_proxy.clone().unwrap_or_default();
        if self.forwarded_header {
            settings.forwarding_header = ForwardingHeader::Forwarded;
        }
        if let Some(helpdesk) = self.helpdesk.as_deref().map(str::trim) {
            if !helpdesk.is_empty() {
                settings.helpdesk = helpdesk.to_string();
            }
        }
        settings.report_url = self.report_url.clone().filter(|u| !u.trim().is_empty());
        settings.live.cap = self.live_stream_cap;
        settings.public_min_count = self.public_min_count;
        settings.sso = self.sso.settings()?;
        if let Some(host) = &self.smtp_host {
            settings.mail = MailSettings::Smtp {
                host: host.clone(),
                port: self.smtp_port,
                security: self.smtp_security.clone(),
                username: self.smtp_username.clone(),
                password: self.smtp_password.clone(),
            };
        }
        Ok(settings)
    }
}

/// Runs a command; the exit code is 0 on success, 1 on refused input, 2 on failure.
pub async fn run(cli: Cli) -> i32 {
    if let Some(refusal) = cli
        .command
        .existing_storage()
        .and_then(StorageArgs::missing_database)
    {
        eprintln!("ditolak: {refusal}");
        return 1;
    }
    let outcome = match cli.command {
        Command::Demo {
            data_dir,
            bind,
            employees,
        } => demo::run(data_dir, bind, employees).await,
        Command::Serve(args) => serve(args).await,
        Command::Roster(RosterCommand::Import { file, storage }) => roster::import(&file, &storage),
        Command::Campaign(CampaignCommand::Create {
            title,
            scope,
            opens,
            closes,
            document,
            authority,
            storage,
        }) => campaign::create(
            &title,
            &scope,
            &opens,
            &closes,
            document.as_deref(),
            &authority,
            &storage,
        ),
        Command::Db(DbCommand::Copy { from, to }) => db::copy(&from, &to),
        Command::Admin(AdminCommand::Add {
            email,
            name,
            role,
            scope,
            agency,
            storage,
        }) => admin::add(&email, &name, &role, &scope, agency.as_deref(), &storage),
        Command::Audit(AuditCommand::Verify { storage }) => admin::verify_audit(&storage),
        Command::Invitations(InvitationsCommand::Print {
            campaign,
            area,
            agency,
            unit,
            helpdesk,
            base_url,
            output,
            storage,
        }) => invitations::print(
            &invitations::PrintArgs {
                campaign: &campaign,
                area: &area,
                agency: agency.as_deref(),
                unit: unit.as_deref(),
                helpdesk: helpdesk.as_deref(),
                base_url: &base_url,
                output: &output,
            },
            &storage,
        ),
        Command::Keys(KeysCommand::Rotate { role, storage }) => match role.as_str() {
            "seal" => keys::rotate_seal(&storage),
            "log" => keys::rotate(crate::signing::Role::Log, &storage),
            _ => keys::rotate(crate::signing::Role::Claim, &storage),
        },
        Command::Keys(KeysCommand::RotateSeal { storage }) => keys::rotate_seal(&storage),
        Command::Keys(KeysCommand::ImportSeal {
            pkcs12,
            password_file,
            key,
            chain,
            storage,
        }) => keys::import_seal(
            keys::SealSource::from_args(pkcs12, password_file, key, chain),
            &storage,
        ),
        Command::Keys(KeysCommand::Revoke {
            key_id,
            from,
            storage,
        }) => keys::revoke(&key_id, &from, &storage),
        Command::Log(LogCommand::Verify { storage }) => log::verify(&storage),
        Command::Coverage(CoverageCommand::Unsigned {
            campaign,
            area,
            agency,
            employee_type,
            format,
            output,
            storage,
        }) => coverage::unsigned(
            &campaign,
            area,
            agency,
            employee_type,
            &format,
            output.as_deref(),
            &storage,
        ),
        #[cfg(feature = "bench")]
        Command::Synth {
            employees,
            campaign_signed_share,
            seed,
            roster_file,
            storage,
        } => synth::run(
            employees,
            campaign_signed_share,
            seed,
            roster_file.as_deref(),
            &storage,
        ),
        #[cfg(feature = "bench")]
        Command::Bench {
            quick,
            samples,
            pdf_out,
        } => bench::run(quick, samples, pdf_out.as_deref()),
        #[cfg(feature = "bench")]
        Command::BenchScans {
            certificates,
            storage,
        } => bench::scans(&certificates, &storage),
        #[cfg(feature = "bench")]
        Command::BenchImport {
            import_rows,
            roster,
            rate,
            baseline_secs,
            storage,
        } => bench_import::run(
            &bench_import::BenchImport {
                import_rows,
                roster,
                rate,
                baseline: std::time::Duration::from_secs(baseline_secs),
            },
            &storage,
        ),
        #[cfg(feature = "bench")]
        Command::BenchSigners {
            campaign,
            count,
            out,
            certificates_out,
            certificates,
            storage,
        } => bench::signers(
            &campaign,
            count,
            &out,
            certificates_out.as_deref().map(|p| (p, certificates)),
            &storage,
        ),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("galat: {e:#}");
            2
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<i32> {
    let settings = args.settings()?;
    let app = crate::startup::Application::build(&settings)?;
    println!(
        "ikrar melayani di {} (alamat publik {})",
        settings.bind,
        app.base_url()
    );
    app.run_until_stopped().await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::client_address::TrustedProxies;

    fn proxies(args: &[&str]) -> Result<Option<TrustedProxies>, clap::Error> {
        let cli = Cli::try_parse_from([&["ikrar", "serve"], args].concat())?;
        match cli.command {
            Command::Serve(serve) => Ok(serve.trusted_proxy),
            _ => unreachable!("parsed as serve"),
        }
    }

    #[test]
    fn trusted_proxy_takes_a_list_and_a_bare_flag_means_loopback() {
        assert_eq!(proxies(&[]).unwrap(), None);
        assert_eq!(
            proxies(&["--trusted-proxy"]).unwrap(),
            Some(TrustedProxies::parse("loopback").unwrap())
        );
        assert_eq!(
            proxies(&["--trusted-proxy", "10.0.0.0/8,192.168.1.10"]).unwrap(),
            Some(TrustedProxies::parse("10.0.0.0/8, 192.168.1.10").unwrap())
        );
        let refused = proxies(&["--trusted-proxy", "proxy.local"]).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("bukan alamat IP atau blok CIDR"),
            "{refused}"
        );
    }
}
