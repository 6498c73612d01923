//! The live counter's feeds: one database poller per (campaign, area), shared by every screen that
//! watches it, and a per-node count of open streams with a cap. A stream that nobody reads any more
//! is noticed by the keep-alive comment it must carry (the write fails), and its feed's poller
//! stops with the last viewer, so abandoned screens cost nothing after a short while.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::watch;

use crate::db::coverage::{self, Tally};
use crate::db::Db;

/// How a node serves live streams (`--live-stream-cap`; the intervals are shortened by tests).
#[derive(Debug, Clone, Copy)]
pub struct LiveSettings {
    /// Open streams this node holds at most; beyond it, 503 with `Retry-After`.
    pub cap: usize,
    /// A comment line sent when nothing changed for this long, so that a gone client is noticed.
    pub keep_alive: Duration,
    /// How often a feed reads the totals (a signature on any node shows within about this).
    pub poll: Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            cap: 1_000,
            keep_alive: Duration::from_secs(15),
            poll: Duration::from_secs(1),
        }
    }
}

/// One (campaign, area) being watched: its latest totals. Viewers hold it; its poller holds only
/// a weak reference and stops when the last viewer drops it.
pub struct Feed {
    totals: watch::Sender<Option<Tally>>,
}

type FeedKey = (String, String);

/// The node's live feeds and open streams.
pub struct LiveHub {
    settings: LiveSettings,
    feeds: Mutex<HashMap<FeedKey, Weak<Feed>>>,
    open: Arc<AtomicUsize>,
}

/// A stream's place under the cap, given back when the stream is dropped (the client left).
pub struct StreamPermit {
    open: Arc<AtomicUsize>,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a viewer's stream holds: its feed, its own view of the totals and its permit.
pub struct Viewer {
    _feed: Arc<Feed>,
    pub totals: watch::Receiver<Option<Tally>>,
    _permit: StreamPermit,
}

impl LiveHub {
    pub fn new(settings: LiveSettings) -> Self {
        Self {
            settings,
            feeds: Mutex::new(HashMap::new()),
            open: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn settings(&self) -> LiveSettings {
        self.settings
    }

    /// Streams open on this node now (reported by `/healthz`).
    pub fn open_streams(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Feeds with a running poller now.
    pub fn running_feeds(&self) -> usize {
        let feeds = self.feeds.lock().expect("feed map lock");
        feeds.values().filter(|f| f.strong_count() > 0).count()
    }

    /// A place under the cap, or `None` when the node holds as many streams as it may.
    pub fn admit(&self) -> Option<StreamPermit> {
        let before = self.open.fetch_add(1, Ordering::SeqCst);
        let permit = StreamPermit {
            open: self.open.clone(),
        };
        (before < self.settings.cap).then_some(permit)
    }

    /// Joins the feed of (campaign, area), starting its poller if nobody watches it yet.
    /// `area_key` is the coverage key ("" for the nation).
    pub fn watch(
        &self,
        db: &Db,
        campaign_id: &str,
        area_key: &str,
        permit: StreamPermit,
    ) -> Viewer {
        let key = (campaign_id.to_string(), area_key.to_string());
        let mut feeds = self.feeds.lock().expect("feed map lock");
        let feed = match feeds.get(&key).and_then(Weak::upgrade) {
            Some(feed) => feed,
            None => {
                let feed = Arc::new(Feed {
                    totals: watch::channel(None).0,
                });
                feeds.retain(|_, f| f.strong_count() > 0);
                feeds.insert(key.clone(), Arc::downgrade(&feed));
                actix_web::rt::spawn(poll(
                    Arc::downgrade(&feed),
                    db.clone(),
                    key,
                    self.settings.poll,
                ));
                feed
            }
        };
        Viewer {
            totals: feed.totals.subscribe(),
            _feed: feed,
            _permit: permit,
        }
    }
}

/// Reads the totals of one feed while anyone watches it, and wakes the viewers when they change.
async fn poll(feed: Weak<Feed>, db: Db, (campaign_id, area_key): FeedKey, every: Duration) {
    let mut first = true;
    loop {
        if !first {
            tokio::time::sleep(every).await;
        }
        first = false;
        if feed.strong_count() == 0 {
            return;
        }
        let (db, id, key) = (db.clone(), campaign_id.clone(), area_key.clone());
        let read = actix_web::web::block(move || -> Result<Tally, crate::db::DbError> {
            coverage::total(&mut *db.read()?, &id, &key)
        })
        .await;
        // A failed read (the database away for a moment) keeps the last totals on the screens.
        let Ok(Ok(totals)) = read else { continue };
        let Some(feed) = feed.upgrade() else { return };
        feed.totals.send_if_modified(|last| {
            let changed = *last != Some(totals);
            *last = Some(totals);
            changed
        });
    }
}
