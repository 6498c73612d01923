//! What the public log says was revoked, as this node has read it. A certificate's row can be
//! altered in the database; its revocation entry cannot be taken back without every published
//! checkpoint after it failing to verify. So the verdict asks the log, and a row that contradicts
//! it is reported (`/healthz`, the server log) instead of believed.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};

use crate::db::{log, DbConnection, DbError};
use crate::transparency::entry::{self, LoggedRevocation};

/// A revocation entry, where it sits in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationInLog {
    pub index: u64,
    pub revocation: LoggedRevocation,
}

/// A certificate row that disagrees with the public log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Contradiction {
    pub certificate_id: String,
    pub log_index: u64,
    /// In Indonesian, for the operator.
    pub problem: &'static str,
}

const REVOKED_ROW_STANDING: &str =
    "log publik mencatat pencabutan, tetapi baris sertifikat tidak berstatus dicabut";

#[derive(Default)]
struct Read {
    /// Every revocation entry below this index has been read.
    below: u64,
    revoked: HashMap<String, RevocationInLog>,
}

/// The log's revocations known to this node, read in log order as checkpoints cover them, and the
/// contradictions found so far. Owned by the application state; a command line tool makes its own.
#[derive(Default)]
pub struct LogRevocations {
    read: RwLock<Read>,
    contradictions: Mutex<BTreeMap<String, Contradiction>>,
}

impl LogRevocations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the revocation entries appended since the last call, when the log (as a checkpoint
    /// of `size` entries shows it) has grown past what was read. A scan pays for this only when
    /// a new checkpoint appeared since the previous scan (about once a second under signing),
    /// and then reads only the new revocations through their partial index.
    pub fn catch_up(&self, conn: &mut DbConnection, size: u64) -> Result<(), DbError> {
        let from = match self.read.read() {
            Ok(read) if read.below >= size => return Ok(()),
            Ok(read) => read.below,
            Err(_) => 0,
        };
        let rows = log::revocations_from(conn, from)?;
        if let Ok(mut read) = self.read.write() {
            for row in rows {
                if let Some(revocation) = entry::parse_revocation(&row.entry) {
                    let index = row.idx as u64;
                    read.revoked
                        .insert(row.certificate_id, RevocationInLog { index, revocation });
                }
            }
            read.below = read.below.max(size);
        }
        Ok(())
    }

    /// The certificate's revocation as the log states it, if this node has read one.
    pub fn of(&self, certificate_id: &str) -> Option<RevocationInLog> {
        self.read.read().ok()?.revoked.get(certificate_id).copied()
    }

    /// Records that a row contradicts its revocation entry; the first time, also in the
    /// server's log.
    pub fn note_standing_row(&self, certificate_id: &str, log_index: u64) {
        let Ok(mut known) = self.contradictions.lock() else {
            return;
        };
        if known.contains_key(certificate_id) {
            return;
        }
        tracing::error!(
            certificate = certificate_id,
            log_index,
            "{REVOKED_ROW_STANDING}; verified as revoked"
        );
        known.insert(
            certificate_id.to_string(),
            Contradiction {
                certificate_id: certificate_id.to_string(),
                log_index,
                problem: REVOKED_ROW_STANDING,
            },
        );
    }

    /// Looks through every revocation in the log for a row that no longer says revoked (one
    /// statement over the revocations' partial index), and returns all contradictions found so
    /// far, in certificate order.
    pub fn audit(&self, conn: &mut DbConnection) -> Result<Vec<Contradiction>, DbError> {
        for (index, id) in log::revocations_contradicted(conn)? {
            self.note_standing_row(&id, index as u64);
        }
        Ok(self
            .contradictions
            .lock()
            .map(|known| known.values().cloned().collect())
            .unwrap_or_default())
    }
}
