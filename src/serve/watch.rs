//! Watching the shop's sources for `cohort serve`.
//!
//! The root is watched on its own (not recursively) so `shop.toml` is seen however an
//! editor saves it (in place, or by writing a temporary file and renaming it over), and so
//! are source folders created later; each source folder (`products/`, `pages/`, `static/`,
//! `templates/`, `themes/`, `data/`) is watched recursively. The output folder,
//! `consent-records/` and everything else at the root are never watched, so a build never
//! triggers itself. Reads are not changes: open and access events (the build itself opens
//! every template) are dropped here, which is why this uses `notify` directly rather than
//! `notify-debouncer-mini` (it cannot tell an open from a write). Batches are debounced by
//! [`collect`]: bursts of saves become one rebuild.

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// The folders whose contents are sources.
pub const SOURCE_DIRS: [&str; 6] = ["products", "pages", "static", "templates", "themes", "data"];

/// How long the debouncer waits for a burst of events to settle.
pub const DEBOUNCE: Duration = Duration::from_millis(15);

/// Watches the shop's sources and reports changed paths.
pub struct SourceWatcher {
    root: PathBuf,
    watcher: RecommendedWatcher,
    watched: HashSet<PathBuf>,
}

impl SourceWatcher {
    /// Starts watching; batches of changed paths (absolute) arrive on `tx`.
    pub fn start(root: &Path, tx: Sender<Vec<PathBuf>>) -> Result<SourceWatcher, String> {
        let root = root.canonicalize().map_err(|e| format!("cannot resolve {}: {e}", root.display()))?;
        let handler = move |result: notify::Result<notify::Event>| {
            if let Ok(event) = result
                && !matches!(event.kind, EventKind::Access(_))
            {
                let _ = tx.send(event.paths);
            }
        };
        let watcher = RecommendedWatcher::new(handler, notify::Config::default())
            .map_err(|e| format!("cannot watch the shop: {e}"))?;
        let mut w = SourceWatcher { root, watcher, watched: HashSet::new() };
        w.watcher
            .watch(&w.root, RecursiveMode::NonRecursive)
            .map_err(|e| format!("cannot watch {}: {e}", w.root.display()))?;
        w.refresh();
        Ok(w)
    }

    /// The canonical root, as event paths start with it.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Watches source folders that exist now and were not watched yet (after one was
    /// created), and forgets those that were deleted.
    pub fn refresh(&mut self) {
        for dir in SOURCE_DIRS {
            let path = self.root.join(dir);
            let exists = path.is_dir();
            let watched = self.watched.contains(&path);
            if exists && !watched {
                if self.watcher.watch(&path, RecursiveMode::Recursive).is_ok() {
                    self.watched.insert(path);
                }
            } else if !exists && watched {
                let _ = self.watcher.unwatch(&path);
                self.watched.remove(&path);
            }
        }
    }
}

/// Waits for the next batch of changed paths: the first event, then whatever follows
/// until [`DEBOUNCE`] passes without one (at most a second, so a storm cannot starve the
/// rebuild). None when the watcher is gone.
pub fn collect(rx: &Receiver<Vec<PathBuf>>) -> Option<Vec<PathBuf>> {
    let first = rx.recv().ok()?;
    collect_after(rx, first)
}

/// As [`collect`], once the first batch arrived.
pub fn collect_after(rx: &Receiver<Vec<PathBuf>>, first: Vec<PathBuf>) -> Option<Vec<PathBuf>> {
    let mut paths = first;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        match rx.recv_timeout(DEBOUNCE) {
            Ok(more) => paths.extend(more),
            Err(RecvTimeoutError::Timeout) => break,
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
    paths.sort();
    paths.dedup();
    Some(paths)
}
