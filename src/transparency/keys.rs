//! Key events in the log (docs/log.md, "Key events") and the key list derived from them: what
//! `/.well-known/ikrar-keys.json` publishes, signed by the log key as a signed note that names the
//! log size it reflects. The list is read from the log, not from `issuer_keys`, so that a key's
//! revocation cannot be taken back by editing a row.

use super::checkpoint;
use super::entry::{KeyEvent, KeyEventKind, KeyRoles};
use super::store;
use super::EntryKind;
use crate::crypto::{IssuerKey, KeyId};
use crate::db::keys::{self as db_keys, IssuerKeyRow};
use crate::db::log;
use crate::db::{DbConnection, DbError};

/// The first line of the signed key list: names the format, and keeps the note from ever reading
/// as a checkpoint (whose first line is the log's origin).
pub const KEYS_NOTE_HEADER: &str = "ikrar-keys/v1";

/// Appends a key event in the caller's transaction, unless the same event is already in the
/// log. Returns its index when it was appended.
pub fn log_event(conn: &mut DbConnection, event: &KeyEvent) -> diesel::QueryResult<Option<u64>> {
    let subject = event.subject();
    if log::entry_of(conn, &subject, log::KEY)?.is_some() {
        return Ok(None);
    }
    let at = match event.what {
        KeyEventKind::Published { valid_from } => valid_from,
        KeyEventKind::Retired { at } | KeyEventKind::Revoked { at, .. } => at,
    };
    store::append(conn, EntryKind::Key, &subject, &event.to_entry(), at).map(Some)
}

/// Whether the key's publication is in the log.
pub fn published(conn: &mut DbConnection, key_id: &str) -> diesel::QueryResult<bool> {
    Ok(log::entry_of(conn, &format!("{key_id}/published"), log::KEY)?.is_some())
}

fn event_of(row: &IssuerKeyRow, what: KeyEventKind) -> Option<KeyEvent> {
    Some(KeyEvent {
        what,
        roles: KeyRoles::parse(&row.roles)
            .filter(|r| !r.is_empty())
            .unwrap_or(KeyRoles::CLAIM.with(KeyRoles::LOG)),
        key_id: KeyId::parse_hex(&row.key_id)?.as_bytes().to_owned(),
        public_key: row.public_key.clone().try_into().ok()?,
    })
}

/// Logs the life so far of every key whose publication is not in the log yet, from its row: a
/// key from before key events, or the deployment's first key. A deployment's first key, alone
/// and unchanged, is not logged until the first change to any key (its first rotation or
/// revocation, or a second key): the genesis key is the one that signs the log's checkpoints
/// (docs/log.md). Called in the transaction of every change, before the change's own events, and
/// at start-up. Returns how many events it appended.
pub fn log_unlogged_keys(conn: &mut DbConnection, changing: bool) -> Result<u64, DbError> {
    let rows = db_keys::all(conn)?;
    let genesis_only = rows.len() == 1 && rows[0].status() == db_keys::KeyStatus::Active;
    if !changing && genesis_only && log::key_event_count(conn)? == 0 {
        return Ok(0);
    }
    let mut appended = 0;
    for row in &rows {
        if published(conn, &row.key_id)? {
            continue;
        }
        let mut events = vec![KeyEventKind::Published {
            valid_from: row.valid_from,
        }];
        if let Some(at) = row.retired_at {
            events.push(KeyEventKind::Retired { at });
        }
        if let (Some(from), Some(at)) = (row.valid_until, row.revoked_at) {
            events.push(KeyEventKind::Revoked { from, at });
        }
        for what in events {
            let Some(event) = event_of(row, what) else {
                continue;
            };
            appended += u64::from(log_event(conn, &event)?.is_some());
        }
    }
    Ok(appended)
}

/// The key list for `ikrar-keys.json`: from the key events in the first `size` entries of the
/// log; while the log holds none, the genesis key alone, from its row.
pub fn key_list(conn: &mut DbConnection, size: u64) -> Result<Vec<LoggedKey>, DbError> {
    let logged = logged_keys(conn, size)?;
    if !logged.is_empty() || log::key_event_count(conn)? > 0 {
        return Ok(logged);
    }
    let rows = db_keys::all(conn)?;
    Ok(fold(rows.iter().take(1).filter_map(|row| {
        event_of(
            row,
            KeyEventKind::Published {
                valid_from: row.valid_from,
            },
        )
    })))
}

/// A key as the log's events describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedKey {
    pub key_id: [u8; 8],
    pub public_key: [u8; 32],
    /// Every role it was ever published for: what its signatures may be checked for.
    pub roles: KeyRoles,
    /// The roles it has not given up.
    pub active_roles: KeyRoles,
    pub valid_from: i64,
    /// When it gave up its last role.
    pub retired_at: Option<i64>,
    /// Revoked: whatever it signed at or after this instant is not genuine.
    pub valid_until: Option<i64>,
    /// When the (first) revocation was declared.
    pub revoked_at: Option<i64>,
}

impl LoggedKey {
    pub fn key_id_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.key_id)
    }

    /// `active`, `retired` or `revoked`, as `ikrar-keys.json` says it.
    pub fn status(&self) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.active_roles.is_empty() {
            "retired"
        } else {
            "active"
        }
    }
}

/// Folds events, in log order, into keys in order of first publication. A revocation only ever
/// moves `valid_until` earlier, whatever order the events come in.
pub fn fold(events: impl IntoIterator<Item = KeyEvent>) -> Vec<LoggedKey> {
    let mut keys: Vec<LoggedKey> = Vec::new();
    for event in events {
        let position = keys.iter().position(|k| k.key_id == event.key_id);
        let key = match (position, event.what) {
            (Some(i), _) => &mut keys[i],
            (None, what) => {
                keys.push(LoggedKey {
                    key_id: event.key_id,
                    public_key: event.public_key,
                    roles: KeyRoles::default(),
                    active_roles: KeyRoles::default(),
                    valid_from: match what {
                        KeyEventKind::Published { valid_from } => valid_from,
                        KeyEventKind::Retired { at } | KeyEventKind::Revoked { at, .. } => at,
                    },
                    retired_at: None,
                    valid_until: None,
                    revoked_at: None,
                });
                keys.last_mut().expect("just pushed")
            }
        };
        match event.what {
            KeyEventKind::Published { valid_from } => {
                key.valid_from = key.valid_from.min(valid_from);
                key.roles = key.roles.with(event.roles);
                key.active_roles = key.active_roles.with(event.roles);
                key.retired_at = None;
            }
            KeyEventKind::Retired { at } => {
                key.active_roles = key.active_roles.without(event.roles);
                if key.active_roles.is_empty() {
                    key.retired_at = Some(at);
                }
            }
            KeyEventKind::Revoked { from, at } => {
                key.valid_until = Some(key.valid_until.map_or(from, |u| u.min(from)));
                key.revoked_at = Some(key.revoked_at.map_or(at, |r| r.min(at)));
            }
        }
    }
    keys
}

/// The keys as the first `size` entries of the log describe them.
pub fn logged_keys(conn: &mut DbConnection, size: u64) -> diesel::QueryResult<Vec<LoggedKey>> {
    let rows = log::key_events_below(conn, size)?;
    Ok(fold(rows.iter().filter_map(|r| KeyEvent::parse(&r.entry))))
}

fn instant(at: Option<i64>) -> String {
    at.map_or_else(|| "-".into(), |t| t.to_string())
}

/// The signed text: the header, the log's origin, the log size the list reflects, and one line
/// per key: `key ID ROLES ACTIVE_ROLES PUBLIC_KEY_HEX VALID_FROM RETIRED_AT VALID_UNTIL
/// REVOKED_AT` (roles comma-separated, `-` for none; instants in Unix seconds, `-` for none).
pub fn keys_note_body(origin: &str, size: u64, keys: &[LoggedKey]) -> String {
    let mut text = format!("{KEYS_NOTE_HEADER}\n{origin}\n{size}\n");
    for k in keys {
        let active = match k.active_roles.to_stored() {
            s if s.is_empty() => "-".to_string(),
            s => s,
        };
        text.push_str(&format!(
            "key {} {} {active} {} {} {} {} {}\n",
            k.key_id_hex(),
            k.roles.to_stored(),
            data_encoding::HEXLOWER.encode(&k.public_key),
            k.valid_from,
            instant(k.retired_at),
            instant(k.valid_until),
            instant(k.revoked_at),
        ));
    }
    text
}

/// The key list as a signed note by the log key, under the log's origin as key name (the same
/// verifier key string as the checkpoints').
pub fn sign_keys_note(origin: &str, size: u64, keys: &[LoggedKey], log_key: &IssuerKey) -> String {
    checkpoint::sign_text(origin, &keys_note_body(origin, size, keys), log_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(what: KeyEventKind, roles: KeyRoles, id: u8) -> KeyEvent {
        KeyEvent {
            what,
            roles,
            key_id: [id; 8],
            public_key: [id; 32],
        }
    }

    #[test]
    fn the_list_follows_the_events_and_a_revocation_only_moves_earlier() {
        let both = KeyRoles::CLAIM.with(KeyRoles::LOG);
        let keys = fold([
            event(KeyEventKind::Published { valid_from: 10 }, both, 1),
            event(KeyEventKind::Published { valid_from: 20 }, KeyRoles::LOG, 2),
            event(KeyEventKind::Retired { at: 20 }, KeyRoles::LOG, 1),
            event(KeyEventKind::Revoked { from: 15, at: 30 }, both, 1),
            event(KeyEventKind::Revoked { from: 18, at: 31 }, both, 1),
        ]);
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].roles, both);
        assert_eq!(keys[0].active_roles, KeyRoles::CLAIM);
        assert_eq!(
            (keys[0].valid_until, keys[0].revoked_at),
            (Some(15), Some(30))
        );
        assert_eq!(keys[0].status(), "revoked");
        assert_eq!(keys[1].status(), "active");
        let key = IssuerKey::from_seed([9; 32]);
        let note = sign_keys_note("ikrar.example/log", 5, &keys, &key);
        assert!(note.starts_with(
            "ikrar-keys/v1\nikrar.example/log\n5\nkey 0101010101010101 claim,log claim "
        ));
        assert!(checkpoint::open_text(&note, "ikrar.example/log", key.public().as_bytes()).is_ok());
    }
}
