//! Storage: one diesel schema and one set of queries over SQLite (the embedded default) and
//! PostgreSQL (national scale). The backend is chosen from the database URL's scheme.

pub mod admin_lists;
pub mod admins;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod certificates;
pub mod copy;
pub mod coverage;
pub mod employees;
pub mod fault;
mod fixed;
mod group;
pub mod invitations;
pub mod keys;
pub mod log;
pub mod roster_imports;
mod scans;
pub mod schema;
pub mod seals;
pub mod sso;
mod types;

use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, MultiConnection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use coverage::CountDeltas;
use group::Tails;
pub use group::{Group, Tail};
pub use scans::ScanWork;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL {0:?} is neither postgres://… nor sqlite://… nor a file path")]
    Url(String),
    #[error("cannot open the database pool")]
    Pool(#[from] r2d2::PoolError),
    #[error("cannot migrate the database: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(diesel::result::Error),
    /// The batch's own cause, when it was a passing fault, decides whether the signing is retried.
    #[error("the shared write transaction of a group commit failed; nothing of it was stored")]
    GroupCommit(Option<fault::Unavailable>),
    /// Work queued for a shared database thread (a scan reader) that could not be run.
    #[error("queued work could not reach the database: {0:?}")]
    Unavailable(fault::Unavailable),
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        // Classified on the way in, so that a cut connection is noticed by the pool even when
        // the error is only logged (the checkpoint loop) and never answered.
        fault::notice(&e);
        Self::Query(e)
    }
}

impl DbError {
    /// Whether this is a passing fault of the database rather than a bug or a refusal.
    pub fn unavailable(&self) -> Option<fault::Unavailable> {
        match self {
            Self::Pool(_) => Some(fault::Unavailable::NoConnection),
            Self::Query(e) => fault::of_query(e),
            Self::GroupCommit(cause) => Some(cause.unwrap_or(fault::Unavailable::Busy)),
            Self::Unavailable(cause) => Some(*cause),
            Self::Url(_) | Self::Migration(_) => None,
        }
    }
}

/// Where the data lives, parsed from a URL once so that every connection takes the same path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, DbError> {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Ok(Self::Postgres(raw.to_string()))
        } else if let Some(path) = raw.strip_prefix("sqlite://") {
            Ok(Self::Sqlite(path.to_string()))
        } else if !raw.is_empty() && !raw.contains("://") {
            Ok(Self::Sqlite(raw.to_string()))
        } else {
            Err(DbError::Url(raw.to_string()))
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// Opens connections of the backend the URL names; the derived `establish` would try each backend
/// in turn and could mistake a PostgreSQL outage for a SQLite file name.
#[derive(Debug, Clone)]
pub struct Manager(DatabaseUrl);

/// A pooled connection and the fault generation (`fault::generation`) it was last known to work
/// in. Dereferences to the connection, so callers never see the difference.
pub struct CheckedConnection {
    conn: DbConnection,
    generation: u64,
}

impl std::ops::Deref for CheckedConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for CheckedConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// How long a PostgreSQL connection attempt may take: a server that does not answer (a failover
/// in progress, a dropped route) must not hold a request longer than the pool's checkout time.
const POSTGRES_CONNECT_TIMEOUT_SECS: u32 = 3;

/// The URL as libpq is given it: with a `connect_timeout` unless the operator set one, and
/// without TLS to a server on this machine's loopback unless the operator asked for TLS
/// (`sslmode` in the URL or `PGSSLMODE`). libpq's default, `prefer`, encrypts loopback traffic
/// without checking whom it talks to: that protects nothing that never leaves the kernel, and it
/// cost every round trip a TLS record each way (7% of the node's CPU while it signed, besides the
/// server's share; docs/performance.md). A remote server keeps libpq's default.
fn libpq_url(url: &str, sslmode_in_environment: bool) -> String {
    let given = |key: &str| url.contains(&format!("?{key}=")) || url.contains(&format!("&{key}="));
    let mut settings = Vec::new();
    if !given("connect_timeout") {
        settings.push(format!("connect_timeout={POSTGRES_CONNECT_TIMEOUT_SECS}"));
    }
    let tls_asked = given("sslmode") || sslmode_in_environment;
    if !tls_asked && !given("host") && !given("hostaddr") && names_loopback(url) {
        settings.push("sslmode=disable".into());
    }
    if settings.is_empty() {
        return url.to_string();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", settings.join("&"))
}

/// Whether a `postgres://` URL's host is this machine's loopback interface.
fn names_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Manager {
    fn open(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.0 {
            DatabaseUrl::Postgres(url) => {
                PgConnection::establish(&libpq_url(url, std::env::var_os("PGSSLMODE").is_some()))
                    .map(DbConnection::Postgres)
                    .map_err(r2d2::Error::ConnectionError)
            }
            DatabaseUrl::Sqlite(path) => {
                sqlite_process_settings();
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(
                    // The busy timeout comes first: switching to WAL reads the file, and without
                    // it that read fails at once with "database is locked" whenever another
                    // connection (another node's command, a checkpoint) holds the file.
                    // FULL: a commit returns only once it is on disk, so an acknowledged
                    // signature survives a power cut; group commits keep that affordable.
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = CheckedConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<CheckedConnection, r2d2::Error> {
        let generation = fault::generation();
        Ok(CheckedConnection {
            conn: self.open()?,
            generation,
        })
    }

    /// Runs at every checkout. Only after a lost connection was seen somewhere (a new fault
    /// generation) does a connection get a `SELECT 1`; otherwise this is one atomic read, so the
    /// verification hot path pays no round trip for it.
    fn is_valid(&self, conn: &mut CheckedConnection) -> Result<(), r2d2::Error> {
        let now = fault::generation();
        if conn.generation == now {
            return Ok(());
        }
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)?;
        conn.generation = now;
        Ok(())
    }

    /// A connection returned inside a transaction, or whose transaction manager failed, is not
    /// put back.
    fn has_broken(&self, conn: &mut CheckedConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.conn.is_broken()
    }
}

/// Process-wide SQLite settings, made before the first connection opens.
///
/// SQLite counts every allocation in global statistics guarded by one process-wide mutex, which
/// the two web workers then take turns on for each query. Nothing here reads those statistics.
/// Nor does a connection need its own mutex, which SQLite takes on every call (each bound value,
/// each step): a pooled connection is used by one thread at a time. These settings only take
/// effect before SQLite's first use in the process; later they are refused harmlessly.
///
/// Every connection also gets the query planner's stability guarantee (QPSG). Without it SQLite
/// plans `LIMIT ?` with the bound number in mind and marks the prepared statement stale whenever
/// that parameter is bound again, so each `.first()` query (a certificate, its key, its log
/// entry, the latest checkpoint) was parsed and planned afresh on every call despite diesel's
/// statement cache: a third of a QR scan's CPU. Our plans never depend on a bound value.
fn sqlite_process_settings() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int, SQLITE_CONFIG_MULTITHREAD none;
        // sqlite3_config is called before any connection of this process is opened (or returns
        // SQLITE_MISUSE, changing nothing). sqlite3_auto_extension takes an entry point of
        // exactly the signature below.
        unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0);
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD);
            libsqlite3_sys::sqlite3_auto_extension(Some(plan_without_bound_values));
        }
    });
}

/// Runs inside `sqlite3_open` for each new connection of the process (`sqlite3_auto_extension`).
unsafe extern "C" fn plan_without_bound_values(
    db: *mut libsqlite3_sys::sqlite3,
    _error: *mut *mut std::os::raw::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::os::raw::c_int {
    // SAFETY: `db` is the connection being opened; ENABLE_QPSG takes an int and an optional
    // int pointer for the previous setting.
    unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::os::raw::c_int,
            std::ptr::null_mut::<std::os::raw::c_int>(),
        );
    }
    libsqlite3_sys::SQLITE_OK
}

/// Runs one diesel statement on the concrete backend connection. The multi-backend connection
/// cannot batch-insert, so statements that need to (loading 91,000 areas, a roster file) are built
/// once here and handed to whichever backend is connected; the query code stays single.
///
/// The reads of a QR scan go through here too: through the multi-backend connection a statement
/// has no static id, so diesel writes out its SQL text on every call just to find the prepared
/// statement in its cache (an eighth of a scan's CPU); on the concrete connection the statement's
/// type is the key.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {{
        let conn: &mut $crate::db::DbConnection = $conn;
        match conn {
            $crate::db::DbConnection::Postgres($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    }};
}
pub(crate) use on_backend;

/// A connection checked out of a pool; dereferences to the connection and goes back to its pool
/// when dropped.
pub struct PooledConnection(r2d2::PooledConnection<Manager>);

impl std::ops::Deref for PooledConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.0
    }
}

impl std::ops::DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.0
    }
}

/// How long a request waits for a PostgreSQL connection before it is answered 503.
const CHECKOUT_TIMEOUT_POSTGRES: Duration = Duration::from_secs(3);

/// Connection pools. SQLite allows one writer at a time, so its writes go through a pool of one
/// connection: writers queue in the process instead of failing with "database is locked".
#[derive(Clone)]
pub struct Db {
    url: DatabaseUrl,
    read: r2d2::Pool<Manager>,
    write: r2d2::Pool<Manager>,
    /// The queue of the SQLite group-commit thread, started by the first grouped write.
    grouped: Arc<OnceLock<mpsc::Sender<GroupedWork>>>,
    /// The queue of the PostgreSQL scan readers, started by the first scan (`Db::read_scan`).
    scans: Arc<OnceLock<mpsc::SyncSender<scans::QueuedScan>>>,
}

/// Work queued for the next group commit: it runs inside the shared transaction and returns
/// how to tell its caller the outcome once the commit has (or has not) happened.
type GroupedWork = Box<
    dyn FnOnce(
            &mut DbConnection,
            &mut CountDeltas,
            &mut Tails,
        ) -> Box<dyn FnOnce(BatchOutcome) + Send>
        + Send,
>;

/// Whether a group commit's batch was stored; if not, whether the cause was a passing fault.
type BatchOutcome = Result<(), Option<fault::Unavailable>>;

impl Db {
    pub fn connect(url: &DatabaseUrl) -> Result<Self, DbError> {
        // How long a request waits for a connection before it is answered 503. PostgreSQL can be
        // unreachable, and a request must then fail fast rather than hang; r2d2 also retries a
        // failed connect at most every half of this, which bounds recovery after an outage.
        // SQLite is a file: its writer queue can be long under a signing burst, never down.
        let checkout = match url {
            DatabaseUrl::Postgres(_) => CHECKOUT_TIMEOUT_POSTGRES,
            DatabaseUrl::Sqlite(_) => Duration::from_secs(10),
        };
        let build = |size: u32| {
            // Connections open as load needs them: a pool that opened all of them at start would
            // hold 16 PostgreSQL connections per node and per command-line run.
            r2d2::Pool::builder()
                .max_size(size)
                // No idle minimum: r2d2 would reopen a connection in a background thread each time
                // the last idle one is checked out, and a command-line run that ends while that
                // thread is inside libpq's connect is killed by a signal at exit.
                .min_idle(Some(0))
                // A connection is pinged at checkout only after a lost connection was seen
                // (`Manager::is_valid`); otherwise a checkout runs no query.
                .test_on_check_out(true)
                .connection_timeout(checkout)
                .build(Manager(url.clone()))
        };
        let (read, write) = match url {
            DatabaseUrl::Sqlite(_) => {
                // The writer runs migrations before any reader opens the file.
                let write = build(1)?;
                Self::migrate_with(&mut *write.get()?)?;
                (build(8)?, write)
            }
            DatabaseUrl::Postgres(_) => {
                let pool = build(16)?;
                Self::migrate_with(&mut *pool.get()?)?;
                (pool.clone(), pool)
            }
        };
        Ok(Self {
            url: url.clone(),
            read,
            write,
            grouped: Arc::default(),
            scans: Arc::default(),
        })
    }

    fn migrate_with(conn: &mut DbConnection) -> Result<(), DbError> {
        let result = match conn {
            DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop),
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop),
        };
        result.map_err(|e| DbError::Migration(e.to_string()))
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn read(&self) -> Result<PooledConnection, DbError> {
        Ok(PooledConnection(self.read.get()?))
    }

    /// Whether the database answers, for a load balancer's readiness check: waits at most a
    /// second for a connection, so that an outage is reported rather than waited out.
    pub fn reachable(&self) -> Result<(), DbError> {
        let mut conn = self
            .read
            .get_timeout(Duration::from_secs(1))
            .map_err(DbError::Pool)?;
        conn.batch_execute("SELECT 1")?;
        Ok(())
    }

    /// A connection for a transaction that writes.
    pub fn write(&self) -> Result<PooledConnection, DbError> {
        Ok(PooledConnection(self.write.get()?))
    }

    /// Runs `work` in a write transaction and returns once it is committed.
    ///
    /// SQLite has one writer and every commit waits for the disk (`synchronous = FULL`), so
    /// concurrent callers share commits: one thread per database takes all work queued while it
    /// was committing, runs it in one transaction and commits once; one disk flush makes the
    /// whole batch durable. Pieces run in the batch's transaction itself: a piece that writes
    /// and may be refused after writing takes its own savepoint (`Connection::transaction`), so
    /// that it rolls back alone. The signings' pieces only read (their checks) and leave their
    /// stores to the batch's tail, which needs no savepoint per piece: on PostgreSQL a savepoint
    /// and its release are two more round trips.
    /// Callers only wait for their answer, so a batch costs no hand-over of the writer between
    /// threads. Nobody is told "stored" before the commit.
    ///
    /// PostgreSQL groups the same way, with `POSTGRES_COMMIT_THREADS` threads taking turns on the
    /// queue. A signing there is serialised anyway, on the certificate-number and log-size
    /// counter rows (dense numbers, across nodes), so one transaction per signing held those
    /// rows through its own commit flush, and every other signing of every node waited for it:
    /// 224 signings/s. A batch holds them once for many signings and one flush, and only at its
    /// end: each signing's checks run in its own piece of work, and the batch's certificates are
    /// numbered, stored and logged together in its tail (`signing::issue`), with a few
    /// statements whatever the batch's size. The second thread checks its batch meanwhile.
    ///
    /// Coverage counters that `work` adds to its group's `counts` are summed over the batch and
    /// written once before the commit: a batch of 64 signings moves the nation's and a
    /// province's counter rows once, not 64 times each. Work may also leave its storing to the
    /// batch's end (`Group::tail`), where the stores of the whole batch are done at once.
    pub fn write_grouped<T, E>(
        &self,
        work: impl FnOnce(&mut DbConnection, &mut Group<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<diesel::result::Error> + From<DbError> + Send + 'static,
    {
        let (reply, outcome) = mpsc::sync_channel::<Result<T, E>>(1);
        let job: GroupedWork = Box::new(move |conn, batch_counts, tails| {
            let mut group = tails.group();
            let result = work(conn, &mut group);
            if result.is_ok() {
                batch_counts.absorb(group.counts);
            }
            Box::new(move |committed: BatchOutcome| {
                let _ = reply.send(match (committed, result) {
                    (Ok(()), result) => result,
                    (Err(cause), _) => Err(E::from(DbError::GroupCommit(cause))),
                });
            })
        });
        let queue = self.grouped.get_or_init(|| {
            let (queue, jobs) = mpsc::channel();
            let jobs = Arc::new(Mutex::new(jobs));
            let (threads, checkpointer) = match &self.url {
                DatabaseUrl::Sqlite(_) => (1, start_wal_checkpointer(&self.url)),
                DatabaseUrl::Postgres(_) => (POSTGRES_COMMIT_THREADS, None),
            };
            for _ in 0..threads {
                let (write, jobs, checkpointer) =
                    (self.write.clone(), jobs.clone(), checkpointer.clone());
                std::thread::Builder::new()
                    .name("group-commit".into())
                    .spawn(move || commit_in_groups(&write, &jobs, checkpointer.as_ref()))
                    .expect("the operating system starts a thread");
            }
            queue
        });
        if queue.send(job).is_err() {
            return Err(DbError::GroupCommit(None).into());
        }
        // A dropped reply means the batch was never run (the writer connection could not be had).
        outcome.recv().unwrap_or_else(|_| {
            Err(DbError::GroupCommit(Some(fault::Unavailable::NoConnection)).into())
        })
    }
}

/// Group-commit threads on PostgreSQL. Two: while one batch holds the counter rows through its
/// commit, the next one runs its reads and checks (campaign, eligibility, an existing
/// certificate) and then waits for the rows. More would only wait on the same rows.
const POSTGRES_COMMIT_THREADS: usize = 2;

/// At most this many signings share a transaction: a batch that waited behind a slow commit
/// must not grow without bound and hold the counter rows (and its callers) for long.
const MAX_BATCH: usize = 256;

/// A group-commit thread: each round takes the queued pieces of work (up to `MAX_BATCH`), runs
/// the batch in one transaction and tells each caller its outcome after the commit. It ends
/// with its `Db`, when the last sender of the queue is dropped.
fn commit_in_groups(
    write: &r2d2::Pool<Manager>,
    jobs: &Mutex<mpsc::Receiver<GroupedWork>>,
    checkpointer: Option<&mpsc::SyncSender<()>>,
) {
    while let Some(batch) = take_group(jobs, MAX_BATCH) {
        let Ok(mut conn) = write.get() else {
            // Dropping the batch answers each caller with a group-commit failure.
            continue;
        };
        let mut deliveries = Vec::with_capacity(batch.len());
        let committed = in_write_transaction(&mut conn, |conn| {
            let (mut counts, mut tails) = (CountDeltas::default(), Tails::default());
            deliveries.extend(
                batch
                    .into_iter()
                    .map(|job| job(conn, &mut counts, &mut tails)),
            );
            tails.finish(conn, &mut counts)?;
            counts.write(conn)
        })
        .map_err(|e| {
            tracing::warn!(error = %e, "a group commit failed; its signings are retried or refused");
            fault::of_query(&e)
        });
        for deliver in deliveries {
            deliver(committed);
        }
        if let Some(wake) = checkpointer {
            // Full means a checkpoint is already due; it will copy this batch's pages too.
            let _ = wake.try_send(());
        }
    }
}

/// Waits for the first piece of work on `queue`, then takes whatever else is queued, up to `max`
/// in all; `None` once every sender is gone. The queue is held only while a group is taken, so
/// that another thread (a second commit thread or scan reader) takes the next group meanwhile.
fn take_group<T>(queue: &Mutex<mpsc::Receiver<T>>, max: usize) -> Option<Vec<T>> {
    let queue = queue.lock().ok()?;
    let first = queue.recv().ok()?;
    let mut group = vec![first];
    group.extend(queue.try_iter().take(max - 1));
    Some(group)
}

/// Runs `body` in a transaction that takes SQLite's write lock at `BEGIN IMMEDIATE`. A deferred
/// transaction reads first and asks for the lock at its first write; if another connection (a
/// command run while the node serves) wrote in between, SQLite answers "database is locked" at
/// once, without waiting out the busy timeout. Asking first makes it wait its turn instead.
pub fn in_write_transaction(
    conn: &mut DbConnection,
    body: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<()>,
) -> diesel::QueryResult<()> {
    write_transaction(conn, body)
}

/// [`in_write_transaction`] for a body with its own error type and result.
pub fn write_transaction<T, E: From<diesel::result::Error>>(
    conn: &mut DbConnection,
    body: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(c) = conn else {
        return conn.transaction(body);
    };
    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    let done = body(conn);
    let DbConnection::Sqlite(c) = conn else {
        unreachable!("the body was handed a SQLite connection and cannot swap it")
    };
    match done {
        // On a failed COMMIT diesel rolls back itself.
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(c)?;
            Ok(value)
        }
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(c);
            Err(e)
        }
    }
}

/// Copies committed pages from the write-ahead log into the database file on a thread and
/// connection of its own, woken after each group commit. Otherwise the commit that crosses
/// SQLite's threshold (1,000 pages) does that copy and its disk flush itself, and every
/// signing waiting on that commit waits for it too: the long tail of signing latency. A passive
/// checkpoint never blocks the writer or the readers. `None` if no connection could be opened;
/// the writer then checkpoints as before.
fn start_wal_checkpointer(url: &DatabaseUrl) -> Option<mpsc::SyncSender<()>> {
    let mut conn = Manager(url.clone()).open().ok()?;
    let (wake, woken) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("wal-checkpoint".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
                    tracing::warn!(error = %e, "cannot checkpoint the write-ahead log");
                }
            }
        })
        .ok()?;
    Some(wake)
}

/// Runs several reads against one snapshot of the database. On SQLite each statement outside a
/// transaction takes and drops the file's shared lock and a WAL read mark (four `fcntl` calls),
/// about a tenth of a QR scan's CPU when a scan reads four times; one deferred transaction takes
/// them once. Its `BEGIN` and `COMMIT` are prepared once per connection (`db::fixed`). The reads
/// must not open a transaction of their own. On PostgreSQL the `BEGIN` and `COMMIT` would cost
/// two round trips, so the reads run as they are there.
pub fn in_one_snapshot<T>(
    conn: &mut DbConnection,
    reads: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    use diesel::RunQueryDsl;
    let DbConnection::Sqlite(c) = conn else {
        return reads(conn);
    };
    fixed::Begin.execute(c)?;
    let result = reads(conn);
    let DbConnection::Sqlite(c) = conn else {
        unreachable!("the reads were handed a SQLite connection and cannot swap it")
    };
    let ended = match result {
        Ok(_) => fixed::Commit.execute(c).map(drop),
        Err(_) => Ok(()),
    };
    if result.is_err() || ended.is_err() {
        // Nothing was written; the rollback only ends the snapshot, so that the pooled
        // connection does not go back still inside it.
        let _ = fixed::Rollback.execute(c);
    }
    ended?;
    result
}

/// Adds `by` to a counter row in the caller's transaction and returns its new value. The row
/// stays locked until that transaction ends, so the numbers it hands out are dense and ordered,
/// also across nodes on one PostgreSQL.
pub fn advance_counter(conn: &mut DbConnection, name: &str, by: i64) -> diesel::QueryResult<i64> {
    use diesel::prelude::*;
    use schema::counters;
    if let DbConnection::Postgres(c) = conn {
        // One round trip: the row is locked from here to the commit, and every signing waits.
        return fixed::pg::AdvanceCounter { by, name }.get_result(c);
    }
    on_backend!(conn, |c| fixed::AdvanceCounter { by, name }.execute(c))?;
    on_backend!(conn, |c| counters::table
        .find(name)
        .select(counters::value)
        .first(c))
}

/// Unix seconds now; every stored instant is UTC seconds, the one form both backends share.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A random positive 63-bit id made in Rust, so that no insert needs `RETURNING`.
pub fn random_id() -> i64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    (u64::from_le_bytes(bytes) >> 1) as i64
}

pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::libpq_url;

    #[test]
    fn a_server_on_loopback_is_reached_without_tls_unless_the_operator_asks_for_it() {
        for (given, expected) in [
            (
                "postgres://postgres@127.0.0.1:5432/ikrar",
                "postgres://postgres@127.0.0.1:5432/ikrar?connect_timeout=3&sslmode=disable",
            ),
            (
                "postgresql://u:p@localhost/ikrar?application_name=x",
                "postgresql://u:p@localhost/ikrar?application_name=x&connect_timeout=3&sslmode=disable",
            ),
            (
                "postgres://[::1]:5433/ikrar",
                "postgres://[::1]:5433/ikrar?connect_timeout=3&sslmode=disable",
            ),
            (
                "postgres://127.0.0.1/ikrar?sslmode=require",
                "postgres://127.0.0.1/ikrar?sslmode=require&connect_timeout=3",
            ),
            (
                "postgres://db.pemprov.go.id/ikrar",
                "postgres://db.pemprov.go.id/ikrar?connect_timeout=3",
            ),
            (
                "postgres://10.0.0.5:5432/ikrar?connect_timeout=9",
                "postgres://10.0.0.5:5432/ikrar?connect_timeout=9",
            ),
            (
                "postgres://localhost/ikrar?hostaddr=10.0.0.5",
                "postgres://localhost/ikrar?hostaddr=10.0.0.5&connect_timeout=3",
            ),
            (
                "postgres://localhost/ikrar?host=/run/postgresql",
                "postgres://localhost/ikrar?host=/run/postgresql&connect_timeout=3",
            ),
        ] {
            assert_eq!(libpq_url(given, false), expected, "{given}");
        }
        assert_eq!(
            libpq_url("postgres://127.0.0.1/ikrar", true),
            "postgres://127.0.0.1/ikrar?connect_timeout=3",
            "PGSSLMODE set"
        );
    }
}
