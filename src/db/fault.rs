//! Faults of the database that pass by themselves: a writer holding the SQLite file, a
//! PostgreSQL connection cut by a restart or `pg_terminate_backend`, no connection to be had, a
//! full disk. They are told apart here, in one place, so that a signing can be retried inside
//! the node, people are answered 503 with `Retry-After` instead of 500, and the pool replaces
//! connections such a fault may have broken.
//!
//! Neither backend hands diesel a code for every condition: SQLite's busy and full states and
//! PostgreSQL's disk-full reach us as the database's message, so those are read from the text
//! (SQLite's are fixed strings of `sqlite3_errstr`; PostgreSQL's include the errno text).

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::result::{DatabaseErrorKind, Error as QueryError};

/// Why the database cannot take a request right now, although nothing about the request is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Another writer holds the database (SQLite busy or locked, a PostgreSQL deadlock or
    /// serialization failure): the same work succeeds moments later.
    Busy,
    /// An open connection was cut: a server restart, a failover, `pg_terminate_backend`.
    ConnectionLost,
    /// No connection could be had within the pool's checkout time: the server is down,
    /// refuses connections, or every connection is busy.
    NoConnection,
    /// The disk under the database is full: nothing can be written until space is freed.
    DiskFull,
}

impl Unavailable {
    /// What `Retry-After` tells a client, in seconds: soon for a busy writer, a little later for
    /// a server that restarts, much later for a disk that someone has to clear.
    pub fn retry_after_secs(self) -> u32 {
        match self {
            Self::Busy => 1,
            Self::ConnectionLost | Self::NoConnection => 5,
            Self::DiskFull => 60,
        }
    }

    /// Whether trying the same work again at once, inside the node, is likely to succeed.
    pub fn passes_quickly(self) -> bool {
        matches!(self, Self::Busy | Self::ConnectionLost)
    }

    /// What a person is told, in Bahasa Indonesia.
    pub fn message(self) -> &'static str {
        match self {
            Self::Busy => {
                "Server sedang sibuk menyimpan data lain. Silakan coba lagi dalam beberapa detik."
            }
            Self::ConnectionLost | Self::NoConnection => {
                "Basis data sedang tidak dapat dihubungi. Silakan coba lagi dalam beberapa saat."
            }
            Self::DiskFull => {
                "Penyimpanan server sedang penuh sehingga data tidak dapat disimpan. Silakan coba lagi nanti."
            }
        }
    }
}

/// The fault generation: raised each time a lost connection is seen. A pooled connection last
/// checked in an older generation is pinged once at its next checkout and replaced if it is dead;
/// in the same generation, checking out costs one atomic read and no query.
static GENERATION: AtomicU64 = AtomicU64::new(0);

pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

fn connections_suspect() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// Notes a query error where it is first seen: a lost connection makes every pooled connection
/// suspect, since a restart or a failover cuts them all at once.
pub(crate) fn notice(e: &QueryError) {
    if of_query(e) == Some(Unavailable::ConnectionLost) {
        connections_suspect();
    }
}

/// Classifies a query error.
pub fn of_query(e: &QueryError) -> Option<Unavailable> {
    let QueryError::DatabaseError(kind, info) = e else {
        return None;
    };
    match kind {
        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
            return Some(Unavailable::ConnectionLost)
        }
        DatabaseErrorKind::SerializationFailure => return Some(Unavailable::Busy),
        _ => {}
    }
    of_message(info.message())
}

fn of_message(message: &str) -> Option<Unavailable> {
    const BUSY: [&str; 4] = [
        // SQLite: SQLITE_BUSY and SQLITE_LOCKED (shared-cache table locks).
        "database is locked",
        "database table is locked",
        // PostgreSQL: 40P01 and 55P03.
        "deadlock detected",
        "could not obtain lock",
    ];
    const LOST: [&str; 6] = [
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        // 57P03: the server is shutting down, starting up or recovering.
        "the database system is",
    ];
    const FULL: [&str; 3] = [
        // SQLite: SQLITE_FULL.
        "database or disk is full",
        // PostgreSQL 53100 ("could not extend file …: No space left on device").
        "No space left on device",
        "could not extend file",
    ];
    if BUSY.iter().any(|m| message.contains(m)) {
        Some(Unavailable::Busy)
    } else if LOST.iter().any(|m| message.contains(m)) {
        Some(Unavailable::ConnectionLost)
    } else if FULL.iter().any(|m| message.contains(m)) {
        Some(Unavailable::DiskFull)
    } else {
        None
    }
}

/// Finds a passing database fault anywhere in an error's chain of causes: a `DbError`, a diesel
/// error, a pool that had no connection, or a file write that found the disk full.
pub fn in_chain(error: &(dyn std::error::Error + 'static)) -> Option<Unavailable> {
    let mut next = Some(error);
    while let Some(e) = next {
        let found = if let Some(db) = e.downcast_ref::<super::DbError>() {
            db.unavailable()
        } else if let Some(query) = e.downcast_ref::<QueryError>() {
            of_query(query)
        } else if e.downcast_ref::<diesel::r2d2::PoolError>().is_some() {
            Some(Unavailable::NoConnection)
        } else if let Some(io) = e.downcast_ref::<std::io::Error>() {
            (io.kind() == std::io::ErrorKind::StorageFull).then_some(Unavailable::DiskFull)
        } else {
            None
        };
        if found.is_some() {
            return found;
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    /// A real SQLITE_FULL: the file may not grow past its current pages.
    #[test]
    fn a_full_sqlite_database_is_a_disk_full_fault() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute("CREATE TABLE t (x BLOB); PRAGMA max_page_count = 2;")
            .unwrap();
        let e = conn
            .batch_execute("INSERT INTO t VALUES (zeroblob(100000))")
            .unwrap_err();
        assert_eq!(of_query(&e), Some(Unavailable::DiskFull), "{e}");
    }

    /// A real SQLITE_BUSY: a second connection writes while the first holds the write lock and
    /// no busy timeout is set.
    #[test]
    fn a_held_sqlite_writer_is_a_busy_fault() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.sqlite3");
        let path = path.to_str().unwrap();
        let mut first = SqliteConnection::establish(path).unwrap();
        first
            .batch_execute("CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
            .unwrap();
        let mut second = SqliteConnection::establish(path).unwrap();
        let e = second
            .batch_execute("INSERT INTO t VALUES (2)")
            .unwrap_err();
        assert_eq!(of_query(&e), Some(Unavailable::Busy), "{e}");
    }

    #[test]
    fn postgresql_messages_are_classified() {
        assert_eq!(
            of_message("FATAL:  terminating connection due to administrator command"),
            Some(Unavailable::ConnectionLost)
        );
        assert_eq!(
            of_message("could not extend file \"base/16384/16385\": No space left on device"),
            Some(Unavailable::DiskFull)
        );
        assert_eq!(
            of_message("duplicate key value violates unique constraint"),
            None
        );
    }

    #[test]
    fn a_full_disk_under_a_file_write_is_found_in_the_chain() {
        let io = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let wrapped = anyhow::Error::new(io).context("writing the outbox");
        assert_eq!(in_chain(wrapped.as_ref()), Some(Unavailable::DiskFull));
    }
}
