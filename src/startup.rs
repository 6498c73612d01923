//! Builds a node: storage, keys, mail and the HTTP server on a bound listener.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{web, App, HttpServer};
use anyhow::Context;

use crate::caches::Caches;
use crate::config::Settings;
use crate::db::{areas, Db};
use crate::mail::Mailer;
use crate::signing::{keyring, IssuerKey, Seal};
use crate::transparency::entry::KeyRoles;
use crate::web::AppState;

/// Opens (creating and migrating if needed) the database, loads the area reference on first
/// start, and loads or creates the issuer key.
pub fn open_storage(settings: &Settings) -> anyhow::Result<(Db, IssuerKey)> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "creating the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let db = Db::connect(&settings.database_url).context("opening the database")?;
    let loaded = areas::load_reference(&mut *db.write()?).context("loading the area reference")?;
    if loaded > 0 {
        tracing::info!(areas = loaded, "loaded the Kemendagri area reference");
    }
    let key = IssuerKey::load_or_create(&settings.key_file)?;
    // Until the log has a key of its own, the first key signs for it too (signing::keyring).
    let roles = if settings.log_key_file.exists() {
        KeyRoles::CLAIM
    } else {
        KeyRoles::CLAIM.with(KeyRoles::LOG)
    };
    keyring::register(&mut *db.write()?, &key, roles, crate::db::now())
        .context("registering the issuer key")?;
    keyring::ensure_in_service(&mut *db.read()?, &key, keyring::Role::Claim)?;
    let backfilled = crate::transparency::backfill(&mut *db.write()?).context("filling the log")?;
    if backfilled > 0 {
        tracing::info!(
            entries = backfilled,
            "logged the certificates and revocations that predate the public log"
        );
    }
    Ok((db, key))
}

/// Loads the PDF seal, making a self-issued one on first start, and records its certificate
/// so that uploads of PDFs it sealed are recognised by every node.
pub fn open_seal(settings: &Settings, db: &Db) -> anyhow::Result<Seal> {
    let seal = Seal::load_or_create(
        &settings.seal_key_file,
        &settings.seal_certificate_file,
        &settings.seal_organisation,
    )?;
    crate::db::seals::register(&mut *db.write()?, seal.certificate_row(crate::db::now()))
        .context("registering the seal certificate")?;
    Ok(seal)
}

/// Reads the area names and the shared part of the log's tree into the node's caches (about
/// 0.3 s and 15 MB for three million certificates), then stores the blocks of leaf hashes a log
/// from an earlier version lacks.
fn warm_up(db: &Db, caches: &Caches) {
    let started = std::time::Instant::now();
    let warmed = db.read().and_then(|mut conn| {
        crate::db::areas::preload_names(&mut conn, &caches.area_names)?;
        crate::transparency::remember_proof_nodes(&mut conn, &caches.log)
    });
    match warmed {
        Ok(nodes) => tracing::info!(
            nodes,
            ms = started.elapsed().as_millis() as u64,
            "area names and log tree nodes read ahead of the first scans"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot read ahead for the first scans"),
    }
    let started = std::time::Instant::now();
    match crate::transparency::store_missing_blocks(db) {
        Ok(0) => {}
        Ok(blocks) => tracing::info!(
            blocks,
            ms = started.elapsed().as_millis() as u64,
            "stored the log's earlier blocks of leaf hashes"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot store the log's blocks of leaf hashes"),
    }
}

pub struct Application {
    port: u16,
    base_url: String,
    server: actix_web::dev::Server,
}

impl Application {
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let (db, key) = open_storage(settings)?;
        Self::with_storage(settings, db, key)
    }

    pub fn with_storage(settings: &Settings, db: Db, key: IssuerKey) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let address = listener.local_addr()?;
        let base_url = settings
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"))
            .trim_end_matches('/')
            .to_string();
        let mailer = Mailer::new(&settings.mail, &settings.mail_from)?;
        let seal = Arc::new(open_seal(settings, &db)?);
        let log_key = Arc::new(keyring::load_log_key(
            &mut *db.write()?,
            &settings.log_key_file,
            &key,
            crate::db::now(),
        )?);
        let key = Arc::new(key);
        tokio::spawn(crate::transparency::checkpoint_loop(
            db.clone(),
            log_key.clone(),
            crate::transparency::default_origin(&base_url),
        ));
        // What the node remembers between requests, in one place, owned by the application state.
        let caches = Arc::new(Caches::new());
        tokio::spawn(crate::outbox::drain_loop(
            db.clone(),
            seal.clone(),
            caches.clone(),
            mailer.clone(),
            base_url.clone(),
        ));
        // Every node that serves HTTP drains the sign-in codes its requests queue.
        let code_desk = Arc::new(
            crate::sign_in::CodeDesk::start(
                db.clone(),
                mailer.clone(),
                key.derived_secret("sign-in id hashes"),
                settings.codes_per_id_per_hour,
                settings.helpdesk.clone(),
            )
            .context("starting the sign-in code drain")?,
        );
        // Off the start-up path: what the first scans would otherwise each read for themselves.
        let (warm_db, warm_caches) = (db.clone(), caches.clone());
        std::thread::spawn(move || warm_up(&warm_db, &warm_caches));
        // Imports a crash stopped midway are finished in the background: the node serves
        // meanwhile, and the chunks leave the writer free between them.
        let (resume_db, data_dir) = (db.clone(), settings.data_dir.clone());
        std::thread::spawn(
            move || match crate::roster::resume_unfinished(&resume_db, &data_dir) {
                Ok(0) => {}
                Ok(n) => tracing::info!(imports = n, "finished roster imports that had stopped"),
                Err(e) => tracing::warn!(error = %e, "cannot continue stopped roster imports"),
            },
        );
        let sso = settings
            .sso
            .clone()
            .map(crate::sso::SingleSignOn::new)
            .transpose()?
            .map(Arc::new);
        let search_seal = Arc::new(crate::web::admin::sealed_search::SearchSeal::new(
            key.derived_secret("admin-search"),
        ));
        let state = web::Data::new(AppState {
            db,
            key,
            log_key,
            seal,
            mailer,
            secure_cookies: base_url.starts_with("https://"),
            base_url: base_url.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
            forwarding_header: settings.forwarding_header,
            code_desk,
            address_limits: settings.address_limits,
            revocations: Default::default(),
            caches,
            live: Arc::new(crate::web::live::LiveHub::new(settings.live)),
            small_count_threshold: settings.public_min_count,
            report_url: settings.report_url.clone(),
            data_dir: settings.data_dir.clone(),
            sso,
            search_seal,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(crate::web::error::api_error_shape())
                .wrap(actix_web::middleware::from_fn(
                    crate::web::privacy::no_store_for_personal,
                ))
                .wrap(actix_web::middleware::from_fn(
                    crate::web::security::csrf_cookie,
                ))
                .wrap(crate::web::security::headers())
                .wrap(actix_web::middleware::Compress::default())
                .configure(crate::web::routes)
        })
        .listen(listener)?
        .run();
        Ok(Self {
            port: address.port(),
            base_url,
            server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
