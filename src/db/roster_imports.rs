//! The record of each roster import: who imports which file (by its SHA-256) within which scope,
//! and how far its chunks got. Every chunk moves the record on in the chunk's own transaction, so
//! the record never says more or less than the roster holds; a node that finds an import still
//! running with nobody at it continues from `rows_done`.

use diesel::prelude::*;

use super::schema::roster_imports;
use super::DbConnection;
use crate::domain::AreaScope;

/// States as stored.
pub const RUNNING: &str = "berjalan";
pub const FINISHED: &str = "selesai";
pub const FAILED: &str = "gagal";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = roster_imports)]
pub struct RosterImport {
    pub id: String,
    pub file_sha256: String,
    /// As the audit trail names them: `admin:<id>` or `cli:<operator>`.
    pub actor: String,
    pub client_addr: String,
    /// The importing admin's role; `""` for the command line, which has no scope.
    pub role: String,
    /// The importing admin's area; the nation for the command line.
    pub scope_code: AreaScope,
    pub agency: String,
    pub rows_total: i64,
    pub rows_done: i64,
    pub inserted: i64,
    pub updated: i64,
    pub state: String,
    pub started_at: i64,
    pub progressed_at: i64,
    pub finished_at: Option<i64>,
    /// Why an import failed; empty otherwise.
    pub note: String,
}

/// What one chunk added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub rows: i64,
    pub inserted: i64,
    pub updated: i64,
}

pub fn insert(conn: &mut DbConnection, row: &RosterImport) -> QueryResult<()> {
    diesel::insert_into(roster_imports::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Adds a chunk to a running import, in the chunk's transaction, if the record still stands at
/// `from_done`. `false` means someone else moved it meanwhile (two writers at one import): the
/// caller rolls its chunk back.
pub fn advance(
    conn: &mut DbConnection,
    id: &str,
    from_done: i64,
    by: Progress,
    at: i64,
) -> QueryResult<bool> {
    use roster_imports::dsl as r;
    let changed = diesel::update(
        r::roster_imports
            .filter(r::id.eq(id))
            .filter(r::rows_done.eq(from_done))
            .filter(r::state.eq(RUNNING)),
    )
    .set((
        r::rows_done.eq(r::rows_done + by.rows),
        r::inserted.eq(r::inserted + by.inserted),
        r::updated.eq(r::updated + by.updated),
        r::progressed_at.eq(at),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Ends a running import as `FINISHED` or `FAILED`.
pub fn end(
    conn: &mut DbConnection,
    id: &str,
    state: &'static str,
    note: &str,
    at: i64,
) -> QueryResult<()> {
    use roster_imports::dsl as r;
    diesel::update(
        r::roster_imports
            .filter(r::id.eq(id))
            .filter(r::state.eq(RUNNING)),
    )
    .set((
        r::state.eq(state),
        r::note.eq(note),
        r::finished_at.eq(Some(at)),
        r::progressed_at.eq(at),
    ))
    .execute(conn)
    .map(drop)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<RosterImport>> {
    roster_imports::table
        .find(id)
        .select(RosterImport::as_select())
        .first(conn)
        .optional()
}

/// Imports not finished yet, oldest first: being written now, or stopped by a crash.
pub fn running(conn: &mut DbConnection) -> QueryResult<Vec<RosterImport>> {
    roster_imports::table
        .filter(roster_imports::state.eq(RUNNING))
        .order(roster_imports::started_at)
        .select(RosterImport::as_select())
        .load(conn)
}
