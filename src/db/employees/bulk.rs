//! Loading millions of employees into an empty roster: a first national import, a synthetic
//! nation. Everything happens in the caller's one transaction, so a load lands whole or not at
//! all, and a rolled-back load leaves the schema as it was.
//!
//! Random keys scatter B-tree inserts over whole indexes; once an index outgrows SQLite's page
//! cache, every insert reads pages back from the operating system. So, on SQLite, a bulk load
//! drops the secondary indexes it names and builds them again from their stored definitions at
//! the end (one sort each), and enlarges the connection's page cache for the indexes that must
//! stay: the unique ones, which SQLite keeps as part of their tables. PostgreSQL keeps its indexes
//! (dropping one there locks the table against every reader for the whole load).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::schema::employees;
use crate::db::DbConnection;

/// Page cache of a bulk-loading SQLite connection, in KiB: the unique indexes of 4.7 million
/// employees and their certificates (NIK, NIP, certificate id) fit with room to spare.
const BULK_PAGE_CACHE_KIB: i64 = 1 << 20;

/// A bulk load in progress: the secondary indexes it dropped, to be built again by `finish`.
#[must_use = "the dropped indexes are rebuilt by finish"]
pub struct BulkLoad {
    /// (name, `CREATE INDEX` statement as stored by the migration that made it).
    suspended: Vec<(String, String)>,
}

#[derive(QueryableByName)]
struct StoredIndex {
    #[diesel(sql_type = Text)]
    sql: String,
}

#[derive(QueryableByName)]
struct CacheSize {
    #[diesel(sql_type = BigInt)]
    cache_size: i64,
}

impl BulkLoad {
    /// Starts a bulk load in the caller's transaction if the roster is empty (`None` otherwise:
    /// the caller takes its ordinary path). On SQLite, drops the named secondary indexes; an
    /// index the schema does not have is left alone.
    pub fn begin(conn: &mut DbConnection, suspend: &[&str]) -> QueryResult<Option<Self>> {
        let occupied: bool =
            diesel::select(diesel::dsl::exists(employees::table.select(employees::id)))
                .get_result(conn)?;
        if occupied {
            return Ok(None);
        }
        let mut suspended = Vec::new();
        if let DbConnection::Sqlite(c) = conn {
            for name in suspend {
                let stored: Option<StoredIndex> = diesel::sql_query(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                )
                .bind::<Text, _>(name)
                .get_result(c)
                .optional()?;
                if let Some(index) = stored {
                    c.batch_execute(&format!("DROP INDEX \"{name}\""))?;
                    suspended.push((name.to_string(), index.sql));
                }
            }
        }
        Ok(Some(Self { suspended }))
    }

    /// Builds the dropped indexes again, exactly as the migrations defined them. A unique index
    /// that the loaded rows violate fails here, and the caller's transaction rolls back.
    pub fn finish(self, conn: &mut DbConnection) -> QueryResult<()> {
        for (_, sql) in &self.suspended {
            conn.batch_execute(sql)?;
        }
        Ok(())
    }
}

/// Runs `load` with a page cache large enough for a bulk load (SQLite; PostgreSQL manages its
/// own memory), then gives the connection its own cache size back, whatever the outcome: the
/// connection returns to a pool that serves requests.
pub fn with_bulk_page_cache<T, E>(
    conn: &mut DbConnection,
    load: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let before = match conn {
        DbConnection::Sqlite(c) => {
            let before = diesel::sql_query("PRAGMA cache_size")
                .get_result::<CacheSize>(c)?
                .cache_size;
            c.batch_execute(&format!("PRAGMA cache_size = -{BULK_PAGE_CACHE_KIB}"))?;
            Some(before)
        }
        DbConnection::Postgres(_) => None,
    };
    let outcome = load(conn);
    if let Some(size) = before {
        conn.batch_execute(&format!("PRAGMA cache_size = {size}"))?;
    }
    outcome
}
