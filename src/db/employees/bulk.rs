//! Loading millions of employees into an empty roster: a first national import, a synthetic
//! nation. Everything happens in the caller's one transaction, so a load lands whole or not at
//! all, and a rolled-back load leaves the schema as it was.
//!
//! Random keys scatter B-tree inserts over whole indexes; once an index outgrows SQLite's page
//! cache, every insert reads pages back from the operating system. So, on SQLite, a bulk load
//! drops the indexes it names (unique ones too: their rebuild is then the uniqueness check) and
//! builds them again at the end from their stored definitions, one sort each. PostgreSQL keeps its
//! indexes (dropping one there locks the table against every reader for the whole load).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::schema::employees;
use crate::db::DbConnection;

/// How a SQLite connection is set for one bulk load; PostgreSQL manages its own memory and always
/// checks foreign keys.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Page cache in KiB. It also bounds how much of an index build SQLite sorts in memory at a
    /// time before it merges sorted runs.
    pub page_cache_kib: i64,
    /// Whether SQLite checks each row's foreign keys. Only a loader that has checked every
    /// reference itself, against rows read in the same transaction, turns this off.
    pub foreign_keys: bool,
    /// Helper threads SQLite may use to sort runs while an index is built (`PRAGMA threads`): a
    /// loader that leaves a core idle during its index builds lends it.
    pub sort_threads: u32,
}

impl Settings {
    /// Random inserts into indexes that stay (a synthetic nation's certificate ids and NIPs): the
    /// unique indexes of 4.7 million employees and their certificates fit with room to spare.
    pub const RANDOM_INSERTS: Self = Self {
        page_cache_kib: 1 << 20,
        foreign_keys: true,
        sort_threads: 0,
    };
}

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

    /// Builds those of the named indexes that are still dropped, exactly as the migrations
    /// defined them: a loader builds an index as soon as its table is complete. A unique index
    /// that the loaded rows violate fails here, and the caller's transaction rolls back.
    pub fn restore(&mut self, conn: &mut DbConnection, names: &[&str]) -> QueryResult<()> {
        let (now, later) = std::mem::take(&mut self.suspended)
            .into_iter()
            .partition(|(name, _)| names.contains(&name.as_str()));
        self.suspended = later;
        for (_, sql) in now {
            conn.batch_execute(&sql)?;
        }
        Ok(())
    }

    /// Builds every index still dropped (see `restore`).
    pub fn finish(mut self, conn: &mut DbConnection) -> QueryResult<()> {
        for (_, sql) in std::mem::take(&mut self.suspended) {
            conn.batch_execute(&sql)?;
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    foreign_keys: bool,
}

#[derive(QueryableByName)]
struct Threads {
    #[diesel(sql_type = BigInt)]
    threads: i64,
}

/// Runs `load` with the connection set for a bulk load (SQLite), then gives the connection its
/// own settings back, whatever the outcome: the connection returns to a pool that serves
/// requests. The settings are made outside any transaction, where SQLite takes them.
pub fn with_settings<T, E>(
    conn: &mut DbConnection,
    settings: Settings,
    load: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let before = match conn {
        DbConnection::Sqlite(c) => {
            let cache = diesel::sql_query("PRAGMA cache_size")
                .get_result::<CacheSize>(c)?
                .cache_size;
            let foreign_keys = diesel::sql_query("PRAGMA foreign_keys")
                .get_result::<ForeignKeys>(c)?
                .foreign_keys;
            let threads = diesel::sql_query("PRAGMA threads")
                .get_result::<Threads>(c)?
                .threads;
            c.batch_execute(&format!(
                "PRAGMA cache_size = -{}; PRAGMA foreign_keys = {}; PRAGMA threads = {};",
                settings.page_cache_kib, settings.foreign_keys, settings.sort_threads
            ))?;
            Some(format!(
                "PRAGMA cache_size = {cache}; PRAGMA foreign_keys = {foreign_keys}; \
                 PRAGMA threads = {threads};"
            ))
        }
        DbConnection::Postgres(_) => None,
    };
    let outcome = load(conn);
    if let Some(restore) = before {
        conn.batch_execute(&restore)?;
    }
    outcome
}
