//! Settings of a running node, gathered from flags and environment by the command line.

use std::path::PathBuf;

use crate::db::DatabaseUrl;
use crate::mail::MailSettings;

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    /// `host:port`; port 0 picks a free port (tests).
    pub bind: String,
    /// Public address printed into QR codes; defaults to `http://{bind}` for local use.
    pub base_url: Option<String>,
    pub key_file: PathBuf,
    /// The log key (signs checkpoints and the key list), once `ikrar keys rotate --role log` has
    /// made one; until this file exists the key file's key signs for the log too.
    pub log_key_file: PathBuf,
    /// The PDF seal's private key (PEM, mode 0600); shared by every node like the key file.
    pub seal_key_file: PathBuf,
    /// The seal's certificate chain (PEM, leaf first).
    pub seal_certificate_file: PathBuf,
    /// The organisation a self-made seal certificate names (O=…), when the files are created.
    pub seal_organisation: String,
    pub mail: MailSettings,
    pub mail_from: String,
    /// The reverse proxies whose forwarding header names the client (`--trusted-proxy`).
    pub trusted_proxies: crate::web::client_address::TrustedProxies,
    /// Read `Forwarded` instead of `X-Forwarded-For` (`--forwarded-header`).
    pub forwarding_header: crate::web::client_address::ForwardingHeader,
    /// Who helps people who cannot sign in, shown on the code page, in limit messages and mails.
    pub helpdesk: String,
    /// Codes one submitted id (NIP, NIK or admin email), known or not, may ask for per hour.
    pub codes_per_id_per_hour: i64,
    pub address_limits: crate::sign_in::AddressLimits,
    /// Where the public reports a neutrality violation; linked from every verify page.
    pub report_url: Option<String>,
    /// Live counter streams: the per-node cap and the keep-alive interval.
    pub live: crate::web::live::LiveSettings,
    /// Public coverage pages show a count below this as "< N", so no one is singled out.
    pub public_min_count: i64,
    /// The identity provider for "Masuk dengan SSO"; without it the button is not shown.
    pub sso: Option<crate::sso::SsoSettings>,
}

impl Settings {
    /// Defaults for a data directory: SQLite, the outbox, the key file and the seal all live inside it.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Self {
            database_url: DatabaseUrl::Sqlite(data_dir.join("ikrar.sqlite3").display().to_string()),
            bind: "127.0.0.1:8080".into(),
            base_url: None,
            key_file: data_dir.join("issuer-key.ed25519"),
            log_key_file: data_dir.join("log-key.ed25519"),
            seal_key_file: data_dir.join("seal-key.pem"),
            seal_certificate_file: data_dir.join("seal-certificate.pem"),
            seal_organisation: crate::signing::seal::DEFAULT_ORGANISATION.into(),
            mail: MailSettings::Outbox(data_dir.join("outbox")),
            mail_from: "ikrar <noreply@ikrar.localhost>".into(),
            trusted_proxies: Default::default(),
            forwarding_header: Default::default(),
            helpdesk: crate::sign_in::code_requests::DEFAULT_HELPDESK.into(),
            codes_per_id_per_hour: crate::sign_in::code_requests::CODES_PER_ID_PER_HOUR,
            address_limits: Default::default(),
            report_url: None,
            live: Default::default(),
            public_min_count: 5,
            sso: None,
            data_dir,
        }
    }
}
