//! The life of the Ed25519 keys, each change made to `issuer_keys` in one transaction with its
//! event in the public log (docs/log.md, "Key events"): a key is published for its roles,
//! rotated out, or revoked from an instant on. Two roles: the claim key signs certificates'
//! claims; the log key signs checkpoints and the published key list. A deployment's first key
//! does both until `ikrar keys rotate --role log` gives the log a key of its own.

use diesel::Connection;

use super::IssuerKey;
use crate::db::keys::{self, IssuerKeyRow, KeyStatus};
use crate::db::{DbConnection, DbError};
use crate::transparency::entry::{KeyEvent, KeyEventKind, KeyRoles};
use crate::transparency::keys::{log_event, log_unlogged_keys};

/// The job a key is loaded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Claim,
    Log,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claim => "claim",
            Self::Log => "log",
        }
    }

    fn roles(self) -> KeyRoles {
        match self {
            Self::Claim => KeyRoles::CLAIM,
            Self::Log => KeyRoles::LOG,
        }
    }

    /// In the operator's words.
    fn named(self) -> &'static str {
        match self {
            Self::Claim => "kunci penerbit (klaim)",
            Self::Log => "kunci log",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyStandingError {
    #[error("{role} {key_id} sudah {status} (berkas kunci node ini usang); salin berkas kunci yang berlaku dari node tempat `ikrar keys rotate` dijalankan")]
    NotSigning {
        role: &'static str,
        key_id: String,
        status: &'static str,
    },
    #[error("kunci {key_id} tidak bertugas sebagai {role}; salin berkas kunci log yang berlaku (log-key.ed25519) dari node tempat `ikrar keys rotate --role log` dijalankan")]
    WrongRole { role: &'static str, key_id: String },
    // Not transparent: the DbError stays in the cause chain, where `db::fault` finds it.
    #[error("{0}")]
    Db(#[from] DbError),
}

fn event(key: &IssuerKey, roles: KeyRoles, what: KeyEventKind) -> KeyEvent {
    KeyEvent {
        what,
        roles,
        key_id: *key.id().as_bytes(),
        public_key: key.public().to_bytes(),
    }
}

fn roles_of(row: &IssuerKeyRow) -> KeyRoles {
    KeyRoles::parse(&row.roles).unwrap_or_default()
}

/// Records a key the first time a node starts with it, for `roles`; its publication is logged
/// unless it is the deployment's first key (`transparency::keys::log_unlogged_keys`).
pub fn register(
    conn: &mut DbConnection,
    key: &IssuerKey,
    roles: KeyRoles,
    at: i64,
) -> Result<(), DbError> {
    let id = key.id().to_hex();
    if keys::find(conn, &id)?.is_some() {
        return Ok(());
    }
    conn.transaction(|conn| {
        crate::db::log::lock_size(conn)?;
        if keys::register(conn, &id, key.public().as_bytes(), &roles.to_stored(), at)? {
            log_unlogged_keys(conn, false)?;
        }
        Ok(())
    })
}

/// A node signs only with a key in service for the role: a node started with a stale key file
/// would otherwise sign under a key the issuer has given up.
pub fn ensure_in_service(
    conn: &mut DbConnection,
    key: &IssuerKey,
    role: Role,
) -> Result<(), KeyStandingError> {
    let key_id = key.id().to_hex();
    let Some(row) = keys::find(conn, &key_id)? else {
        return Ok(());
    };
    let status = match row.status() {
        KeyStatus::Active if row.does(role.as_str()) => return Ok(()),
        KeyStatus::Active => {
            return Err(KeyStandingError::WrongRole {
                role: role.named(),
                key_id,
            })
        }
        KeyStatus::Retired => "dipensiunkan",
        KeyStatus::Revoked => "dicabut",
    };
    Err(KeyStandingError::NotSigning {
        role: role.named(),
        key_id,
        status,
    })
}

/// Makes `new` the key for `role` in place of `old`, from `at`, in one transaction with its
/// events. A claim key that also signs for the log hands both jobs to its successor; a log key
/// rotated out of a key that also signs claims leaves it the claim key.
pub fn rotate(
    conn: &mut DbConnection,
    role: Role,
    old: &IssuerKey,
    new: &IssuerKey,
    at: i64,
) -> Result<(), DbError> {
    conn.transaction(|conn| {
        crate::db::log::lock_size(conn)?;
        let (old_id, new_id) = (old.id().to_hex(), new.id().to_hex());
        // A key a node never started with is registered as doing both jobs, like a first key.
        let both = KeyRoles::CLAIM.with(KeyRoles::LOG);
        keys::register(
            conn,
            &old_id,
            old.public().as_bytes(),
            &both.to_stored(),
            at,
        )?;
        log_unlogged_keys(conn, true)?;
        let old_row =
            keys::find(conn, &old_id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
        let old_roles = roles_of(&old_row);
        let (given_up, new_roles) = match role {
            Role::Claim => (old_roles, old_roles.with(KeyRoles::CLAIM)),
            Role::Log => (KeyRoles::LOG, KeyRoles::LOG),
        };
        keys::register(
            conn,
            &new_id,
            new.public().as_bytes(),
            &new_roles.to_stored(),
            at,
        )?;
        keys::set_valid_from(conn, &new_id, at)?;
        let kept = old_roles.without(given_up);
        if kept.is_empty() {
            keys::set_retired(conn, &old_id, at)?;
        } else {
            keys::set_roles(conn, &old_id, &kept.to_stored())?;
        }
        let retired = if given_up.is_empty() {
            role.roles()
        } else {
            given_up
        };
        log_event(conn, &event(old, retired, KeyEventKind::Retired { at }))?;
        log_event(
            conn,
            &event(new, new_roles, KeyEventKind::Published { valid_from: at }),
        )?;
        Ok(())
    })
}

/// What `keys revoke` did.
#[derive(Debug, Clone)]
pub enum Revocation {
    UnknownKey,
    /// The key is revoked from an earlier instant already; a later one would make what it
    /// signed in between genuine again.
    Later {
        current: i64,
    },
    /// Revoked from this very instant already: nothing changed, nothing logged.
    Unchanged(IssuerKeyRow),
    /// Revoked from `from` (first time, or earlier than before), and logged.
    Revoked(IssuerKeyRow),
}

/// Marks a key compromised: whatever it signed at or after `from` is not genuine. The instant
/// only ever moves earlier; every change is logged in the same transaction.
pub fn revoke(
    conn: &mut DbConnection,
    key_id: &str,
    from: i64,
    at: i64,
) -> Result<Revocation, DbError> {
    conn.transaction(|conn| {
        crate::db::log::lock_size(conn)?;
        let Some(row) = keys::find(conn, key_id)? else {
            return Ok(Revocation::UnknownKey);
        };
        match row.valid_until {
            Some(current) if from > current => return Ok(Revocation::Later { current }),
            Some(current) if from == current => return Ok(Revocation::Unchanged(row)),
            _ => {}
        }
        log_unlogged_keys(conn, true)?;
        let declared = row.revoked_at.unwrap_or(at);
        keys::set_revoked(conn, key_id, from, declared)?;
        let roles = Some(roles_of(&row))
            .filter(|r| !r.is_empty())
            .unwrap_or(KeyRoles::CLAIM);
        let event = KeyEvent {
            what: KeyEventKind::Revoked { from, at },
            roles,
            key_id: super::KeyId::parse_hex(key_id)
                .map(|k| *k.as_bytes())
                .unwrap_or_default(),
            public_key: row.public_key.clone().try_into().unwrap_or([0; 32]),
        };
        log_event(conn, &event)?;
        let row = keys::find(conn, key_id)?.unwrap_or(row);
        Ok(Revocation::Revoked(row))
    })
}

/// The key that signs for the log on this node: the log key file's once it exists (registered
/// and logged the first time), else the claim key, as long as that key still does both jobs.
pub fn load_log_key(
    conn: &mut DbConnection,
    log_key_file: &std::path::Path,
    claim_key: &IssuerKey,
    at: i64,
) -> Result<IssuerKey, LogKeyError> {
    let key = if log_key_file.exists() {
        let key = IssuerKey::load(log_key_file)?;
        register(conn, &key, KeyRoles::LOG, at)?;
        key
    } else {
        claim_key.clone()
    };
    ensure_in_service(conn, &key, Role::Log)?;
    Ok(key)
}

#[derive(Debug, thiserror::Error)]
pub enum LogKeyError {
    #[error(transparent)]
    File(#[from] super::KeyError),
    #[error(transparent)]
    Standing(#[from] KeyStandingError),
    #[error("{0}")]
    Db(#[from] DbError),
}
