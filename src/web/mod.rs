//! HTTP: the JSON API under `/api/v1`, the pages, and the public verification site.
//! One module per area of the site; handlers parse input into domain types and call the core.

pub mod admin;
mod answers;
mod assets;
mod certificates;
mod charts;
pub mod client_address;
mod coverage;
pub mod error;
mod health;
mod invitations;
mod issuer;
pub mod live;
pub mod log;
mod pact;
pub mod pages;
pub mod privacy;
pub mod security;
mod session;
pub(crate) mod sign_in;
mod sso;
pub mod upload;
mod verify;
mod views;

use std::sync::Arc;

use actix_web::web;

use crate::db::Db;
use crate::mail::Mailer;
use crate::signing::IssuerKey;
pub use error::{PageError, WebError};
pub use session::SignedInEmployee;

pub struct AppState {
    pub db: Db,
    pub key: Arc<IssuerKey>,
    /// Signs the log's checkpoints and the published key list: the claim key itself until the
    /// deployment gives the log a key of its own (`ikrar keys rotate --role log`).
    pub log_key: Arc<IssuerKey>,
    /// Seals every certificate PDF (ECDSA P-256 self-made, or the operator's CA e-seal).
    pub seal: Arc<crate::signing::Seal>,
    pub mailer: Mailer,
    pub base_url: String,
    pub secure_cookies: bool,
    /// The operator's reverse proxies; only their forwarding headers are read (`client_address`).
    pub trusted_proxies: client_address::TrustedProxies,
    /// Which forwarding header those proxies write.
    pub forwarding_header: client_address::ForwardingHeader,
    /// Takes code requests and wakes the node's drain that mails the codes.
    pub code_desk: Arc<crate::sign_in::CodeDesk>,
    pub address_limits: crate::sign_in::AddressLimits,
    /// The log's revocations as this node has read them: every verdict follows the log.
    pub revocations: Arc<crate::verification::LogRevocations>,
    /// What the node remembers between requests (`crate::caches`): made at start-up.
    pub caches: Arc<crate::caches::Caches>,
    /// The live counter's shared feeds and the count of open streams.
    pub live: Arc<live::LiveHub>,
    /// Public coverage pages show counts below this as "< N" (`--public-min-count`).
    pub small_count_threshold: i64,
    /// Where the public reports a neutrality violation (`--report-url`), shown on verify pages.
    pub report_url: Option<String>,
    /// The node's data folder: uploaded roster files are kept there until their import ends.
    pub data_dir: std::path::PathBuf,
    /// The identity provider of "Masuk dengan SSO" (`--sso-issuer`), when configured.
    pub sso: Option<Arc<crate::sso::SingleSignOn>>,
    /// Seals the admins' search terms into their addresses (`admin::sealed_search`).
    pub search_seal: Arc<admin::sealed_search::SearchSeal>,
}

/// Runs a short database read for a public hot path (a QR scan, the session behind a signing).
/// SQLite answers a point read from memory in microseconds, less than handing the work to
/// the blocking pool and back costs in thread wake-ups, so it runs on the worker itself; a
/// PostgreSQL read waits on the network and goes to the blocking pool. Long reads and every write
/// keep using `web::block`.
pub async fn quick_read<T: Send + 'static>(
    db: &Db,
    read: impl FnOnce() -> T + Send + 'static,
) -> Result<T, actix_web::error::BlockingError> {
    if db.url().is_sqlite() {
        Ok(read())
    } else {
        web::block(read).await
    }
}

/// Instants in JSON answers: RFC 3339 in UTC.
pub fn rfc3339(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .unwrap_or_default()
        .to_rfc3339()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(error::json_config())
        .app_data(error::form_config())
        .app_data(error::query_config())
        .app_data(error::path_config())
        // QR scans come first: the router tries routes in order, and each route with a `{…}`
        // segment is a regular expression run against the path.
        .configure(verify::routes)
        .service(health::healthz)
        .configure(assets::routes)
        .configure(sign_in::routes)
        .configure(invitations::routes)
        .configure(sso::routes)
        .configure(pact::routes)
        .configure(certificates::routes)
        .configure(issuer::routes)
        .configure(log::routes)
        .configure(coverage::routes)
        .configure(admin::routes)
        .default_service(web::to(error::not_found));
}
