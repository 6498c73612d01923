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
    pub mail: MailSettings,
    pub mail_from: String,
    /// Trust `X-Forwarded-For` for the client address (only behind your own reverse proxy).
    pub trusted_proxy: bool,
    pub address_limits: crate::sign_in::AddressLimits,
    /// Where the public reports a neutrality violation; linked from every verify page.
    pub report_url: Option<String>,
}

impl Settings {
    /// Defaults for a data directory: SQLite, the outbox and the key file all live inside it.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Self {
            database_url: DatabaseUrl::Sqlite(data_dir.join("ikrar.sqlite3").display().to_string()),
            bind: "127.0.0.1:8080".into(),
            base_url: None,
            key_file: data_dir.join("issuer-key.ed25519"),
            mail: MailSettings::Outbox(data_dir.join("outbox")),
            mail_from: "ikrar <noreply@ikrar.localhost>".into(),
            trusted_proxy: false,
            address_limits: Default::default(),
            report_url: None,
            data_dir,
        }
    }
}
