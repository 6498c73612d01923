//! QR scans, read in groups on PostgreSQL. There a scan's one statement is a round trip to
//! another process, and handing each scan to a blocking thread and waiting on the socket cost the
//! node more than the verification itself. So scans queue for a few reader threads; each takes
//! every scan queued while it was busy, reads their certificates in one statement
//! (`certificates::find_verifiable_many`) and then runs each scan's own work on that connection.
//!
//! A scan's read still starts after the scan arrived, so it sees every revocation committed
//! before: grouping changes how many scans share a statement, never how fresh a verdict is. When
//! scans are few, each group holds one scan and costs what a lone read did.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};

use diesel::r2d2;

use super::certificates::{self, Verifiable};
use super::{fault, in_one_snapshot, take_group, DatabaseUrl, Db, DbConnection, DbError, Manager};
use crate::domain::CertificateId;

/// What a scan does once its certificate is read (or could not be): the rest of the
/// verification, on the connection that read it, since a first scan may still read tree nodes or
/// revocations. It tells its caller the outcome itself.
pub type ScanWork =
    Box<dyn FnOnce(Result<(&mut DbConnection, Option<Verifiable>), DbError>) + Send>;

pub(super) type QueuedScan = (CertificateId, ScanWork);

/// Reader threads on PostgreSQL: while one waits for its group's statement, the other gathers
/// the next group and judges its scans.
const SCAN_READERS: usize = 2;

/// At most this many scans share a statement, so that one group's answers are not held back
/// behind a long statement.
const MAX_GROUP: usize = 128;

/// Scans waiting beyond this are answered 503 at once: a database that stopped answering must
/// not gather an unbounded queue of waiting phones.
const MAX_QUEUED: usize = 4096;

impl Db {
    /// Reads certificate `id` for a scan and hands it to `work`.
    ///
    /// On PostgreSQL the read is queued for the scan readers and this returns at once; `work`
    /// runs on a reader thread. On SQLite, where a statement is a function call and there is
    /// nothing to share, `work` runs here, in one read snapshot with the read.
    pub fn read_scan(&self, id: CertificateId, work: ScanWork) {
        if let DatabaseUrl::Sqlite(_) = self.url {
            return read_here(self, &id, work);
        }
        let queue = self.scans.get_or_init(|| {
            let (queue, scans) = mpsc::sync_channel(MAX_QUEUED);
            let scans = Arc::new(Mutex::new(scans));
            for _ in 0..SCAN_READERS {
                let (read, scans) = (self.read.clone(), scans.clone());
                std::thread::Builder::new()
                    .name("scan-reader".into())
                    .spawn(move || read_scans_in_groups(&read, &scans))
                    .expect("the operating system starts a thread");
            }
            queue
        });
        match queue.try_send((id, work)) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full((_, work))) => {
                work(Err(DbError::Unavailable(fault::Unavailable::Busy)));
            }
            Err(mpsc::TrySendError::Disconnected((_, work))) => {
                work(Err(DbError::Unavailable(fault::Unavailable::NoConnection)));
            }
        }
    }
}

fn read_here(db: &Db, id: &CertificateId, work: ScanWork) {
    let mut conn = match db.read() {
        Ok(conn) => conn,
        Err(e) => return work(Err(e)),
    };
    let mut pending = Some(work);
    let snapshot = in_one_snapshot(&mut conn, |conn| {
        if let Some(work) = pending.take() {
            match certificates::find_verifiable(conn, id) {
                Ok(found) => work(Ok((conn, found))),
                Err(e) => work(Err(e)),
            }
        }
        Ok(())
    });
    // The snapshot could not even begin: the scan is told why instead of never hearing back.
    if let (Err(e), Some(work)) = (snapshot, pending) {
        work(Err(e));
    }
}

/// A scan reader: each round takes the queued scans (up to `MAX_GROUP`), reads them in one
/// statement and runs each scan's work. It ends with its `Db`, when the queue's sender is dropped.
fn read_scans_in_groups(read: &r2d2::Pool<Manager>, scans: &Mutex<mpsc::Receiver<QueuedScan>>) {
    while let Some(group) = take_group(scans, MAX_GROUP) {
        let mut conn = match read.get() {
            Ok(conn) => conn,
            Err(_) => {
                for (_, work) in group {
                    run(
                        work,
                        Err(DbError::Unavailable(fault::Unavailable::NoConnection)),
                    );
                }
                continue;
            }
        };
        let ids: Vec<&CertificateId> = group.iter().map(|(id, _)| id).collect();
        match certificates::find_verifiable_many(&mut conn, &ids) {
            Ok(found) => {
                for ((_, work), found) in group.into_iter().zip(found) {
                    run(work, Ok((&mut *conn, found)));
                }
            }
            // Each scan is told its own error, read alone: a connection cut mid-statement fails
            // each of them fast, and anything else is reported where it happens.
            Err(_) => {
                for (id, work) in group {
                    match certificates::find_verifiable(&mut conn, &id) {
                        Ok(found) => run(work, Ok((&mut *conn, found))),
                        Err(e) => run(work, Err(e)),
                    }
                }
            }
        }
    }
}

/// Runs one scan's work; a scan that panics (a bug) loses its own answer, not the reader.
fn run(work: ScanWork, read: Result<(&mut DbConnection, Option<Verifiable>), DbError>) {
    if catch_unwind(AssertUnwindSafe(|| work(read))).is_err() {
        tracing::error!("a scan's verification panicked; its caller is answered with an error");
    }
}
