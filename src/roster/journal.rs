//! An import's record (`db::roster_imports`) and its audit rows, written in the transactions of
//! the chunks they describe. The first chunk creates the record and the audit row "impor
//! dimulai"; every chunk moves the record on; the last one ends it with the audit row "impor
//! selesai". So at any instant, a crash included, the roster holds rows of an import exactly when
//! the trail says that import began, and the record says how many.

use diesel::QueryResult;

use crate::db::audit::{self, AuditEvent};
use crate::db::employees::UpsertCount;
use crate::db::roster_imports::{self, Progress, RosterImport};
use crate::db::{now, Db, DbConnection, DbError};
use crate::domain::{AdminRole, AdminScope, AreaScope};

/// The audit actions of an import, as stored.
pub const STARTED: &str = "impor_daftar_pegawai_dimulai";
pub const RESUMED: &str = "impor_daftar_pegawai_dilanjutkan";
pub const FINISHED: &str = "impor_daftar_pegawai_selesai";
pub const FAILED: &str = "impor_daftar_pegawai_gagal";
pub const AUDIT_ACTIONS: [&str; 4] = [STARTED, RESUMED, FINISHED, FAILED];

/// Who imports a file, as the audit trail names them, and the scope their rows must stay in
/// (`None`: the command line, which may write anywhere).
#[derive(Debug, Clone)]
pub struct Importer {
    pub actor: String,
    pub client_addr: String,
    pub scope: Option<AdminScope>,
}

impl Importer {
    /// The operator at the command line, named as `ikrar admin add` names them.
    pub fn command_line() -> Self {
        let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
        Self {
            actor: format!("cli:{operator}"),
            client_addr: "baris perintah".into(),
            scope: None,
        }
    }

    /// The importer an import was started by, with the scope it had then: a resumed import
    /// writes no row its importer could not have written.
    pub fn of_record(record: &RosterImport) -> Result<Self, String> {
        let scope = match record.role.as_str() {
            "" => None,
            role => {
                let role = AdminRole::parse(role).map_err(|e| e.to_string())?;
                let agency = Some(record.agency.as_str()).filter(|a| !a.is_empty());
                Some(
                    AdminScope::new(role, record.scope_code.area().cloned(), agency)
                        .map_err(|e| e.to_string())?,
                )
            }
        };
        Ok(Self {
            actor: record.actor.clone(),
            client_addr: record.client_addr.clone(),
            scope,
        })
    }

    fn record(
        &self,
        conn: &mut DbConnection,
        action: &str,
        target: &str,
        detail: &str,
    ) -> QueryResult<()> {
        let scope_code = self.scope.as_ref().map_or("", AdminScope::scope_code);
        let agency = self.scope.as_ref().and_then(AdminScope::agency);
        audit::append(
            conn,
            &AuditEvent {
                actor: &self.actor,
                action,
                target,
                scope_code,
                agency: agency.unwrap_or(""),
                client_addr: &self.client_addr,
                detail,
            },
            now(),
        )
        .map(drop)
    }
}

/// One import as it is being written: what its record says once the chunks committed so far are
/// counted.
pub(super) struct Journal<'a> {
    pub id: String,
    pub sha256: String,
    pub importer: &'a Importer,
    pub rows_total: i64,
    /// Rows written by committed chunks; 0 until the first.
    pub done: i64,
    pub total: UpsertCount,
    /// The record exists (the first chunk committed, in this process or before a crash).
    recorded: bool,
    /// The import was stopped and is continued by this process: its next chunk says so.
    resuming: bool,
}

impl<'a> Journal<'a> {
    pub fn new(id: &str, sha256: &str, importer: &'a Importer, rows_total: usize) -> Self {
        Self {
            id: id.to_string(),
            sha256: sha256.to_string(),
            importer,
            rows_total: rows_total as i64,
            done: 0,
            total: UpsertCount::default(),
            recorded: false,
            resuming: false,
        }
    }

    /// An import a crash stopped, continued from where its record stands.
    pub fn resumed(record: &RosterImport, importer: &'a Importer) -> Self {
        Self {
            id: record.id.clone(),
            sha256: record.file_sha256.clone(),
            importer,
            rows_total: record.rows_total,
            done: record.rows_done,
            total: UpsertCount {
                inserted: record.inserted as usize,
                updated: record.updated as usize,
            },
            recorded: true,
            resuming: true,
        }
    }

    /// In the transaction of a chunk of `rows` rows that wrote `written`: the record and the
    /// audit rows that go with it. `false` if another writer moved the record meanwhile: the
    /// chunk must roll back.
    pub fn record_chunk(
        &self,
        conn: &mut DbConnection,
        rows: usize,
        written: UpsertCount,
    ) -> QueryResult<bool> {
        let at = now();
        let by = Progress {
            rows: rows as i64,
            inserted: written.inserted as i64,
            updated: written.updated as i64,
        };
        if !self.recorded {
            let scope = self.importer.scope.as_ref();
            roster_imports::insert(
                conn,
                &RosterImport {
                    id: self.id.clone(),
                    file_sha256: self.sha256.clone(),
                    actor: self.importer.actor.clone(),
                    client_addr: self.importer.client_addr.clone(),
                    role: scope.map_or("", |s| s.role().as_str()).to_string(),
                    scope_code: scope.map_or(AreaScope::National, AdminScope::area_scope),
                    agency: scope.and_then(AdminScope::agency).unwrap_or("").to_string(),
                    rows_total: self.rows_total,
                    rows_done: by.rows,
                    inserted: by.inserted,
                    updated: by.updated,
                    state: roster_imports::RUNNING.into(),
                    started_at: at,
                    progressed_at: at,
                    finished_at: None,
                    note: String::new(),
                },
            )?;
            let detail = format!("berkas SHA-256 {}: {} baris", self.sha256, self.rows_total);
            self.importer.record(conn, STARTED, &self.id, &detail)?;
        } else {
            if !roster_imports::advance(conn, &self.id, self.done, by, at)? {
                return Ok(false);
            }
            if self.resuming {
                let detail = format!(
                    "{} dari {} baris sudah tertulis sebelum prosesnya berhenti; sisanya \
                     ditulis sekarang",
                    self.done, self.rows_total
                );
                self.importer.record(conn, RESUMED, &self.id, &detail)?;
            }
        }
        if self.done + by.rows >= self.rows_total {
            roster_imports::end(conn, &self.id, roster_imports::FINISHED, "", at)?;
            let detail = format!(
                "{} baris: {} baru, {} diperbarui",
                self.rows_total,
                self.total.inserted + written.inserted,
                self.total.updated + written.updated
            );
            self.importer.record(conn, FINISHED, &self.id, &detail)?;
        }
        Ok(true)
    }

    /// After the chunk's transaction committed.
    pub fn committed(&mut self, rows: usize, written: UpsertCount) {
        self.done += rows as i64;
        self.total.inserted += written.inserted;
        self.total.updated += written.updated;
        self.recorded = true;
        self.resuming = false;
    }

    /// Whether the record says the import is complete.
    pub fn finished(&self) -> bool {
        self.recorded && self.done >= self.rows_total
    }

    /// A file of no rows changes nothing, but is recorded like any other.
    pub fn record_empty(&mut self, db: &Db) -> Result<(), DbError> {
        let mut conn = db.write()?;
        crate::db::in_write_transaction(&mut conn, |conn| {
            self.record_chunk(conn, 0, UpsertCount::default()).map(drop)
        })?;
        self.committed(0, UpsertCount::default());
        Ok(())
    }

    /// Ends an import that stopped midway with the reason, and the audit row that says so. The
    /// rows already written stay; importing the file again finishes it.
    pub fn fail(&self, db: &Db, reason: &str) -> Result<(), DbError> {
        if !self.recorded {
            return Ok(());
        }
        let mut conn = db.write()?;
        crate::db::in_write_transaction(&mut conn, |conn| {
            roster_imports::end(conn, &self.id, roster_imports::FAILED, reason, now())?;
            let detail = format!(
                "berhenti setelah {} dari {} baris: {reason}",
                self.done, self.rows_total
            );
            self.importer.record(conn, FAILED, &self.id, &detail)
        })?;
        Ok(())
    }
}
