//! Where consent records live: SQLite through rusqlite, in WAL mode with `synchronous=FULL`.
//!
//! Durability without one fsync per request: every write goes through a single writer thread
//! that drains a channel, runs the whole batch in one transaction, commits (one fsync of the
//! WAL), and only then answers each waiting request. A 201 therefore always follows a durable
//! commit, and throughput grows with concurrency instead of being capped by fsync latency.
//! Reads use a small pool of separate connections (WAL lets them run beside the writer).
//!
//! The schema carries a version in `PRAGMA user_version`; [`MIGRATIONS`] lists the steps and
//! each runs once, in its own transaction. A record holds exactly the fields of [`Record`].

use super::csp_report::{MAX_COUNTERS_PER_DAY, VIOLATION_RETENTION_DAYS, Violation};
use super::days::Day;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// One consent receipt. Nothing else about the visitor exists anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 32 lower-case hex digits, random: the visitor's proof of the choice.
    pub receipt: String,
    /// The policy version agreed to.
    pub policy_version: String,
    /// Consent to Cohort's own personalization.
    pub personalization: bool,
    /// Consent to functional third parties.
    pub functional: bool,
    /// Consent to analytics.
    pub analytics: bool,
    /// Consent to marketing.
    pub marketing: bool,
    /// The sha256 of what the visitor was shown.
    pub ui: String,
    /// The day it was recorded (a day, not a time).
    pub recorded: Day,
    /// The last day it is kept (deleted once that day is past).
    pub expires: Day,
}

/// Counts of live records for one policy version (exact; the API applies k).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCounts {
    /// The policy version.
    pub policy_version: String,
    /// Live records for it.
    pub records: u64,
    /// Of those, how many agreed to personalization.
    pub personalization: u64,
    /// ... to functional third parties.
    pub functional: u64,
    /// ... to analytics.
    pub analytics: u64,
    /// ... to marketing.
    pub marketing: u64,
}

/// One day's count of CSP violations for one directive and blocked origin (exact; the API
/// applies k).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViolationCount {
    /// The UTC day the reports arrived.
    pub day: Day,
    /// The effective directive, one of [`super::csp_report::DIRECTIVES`].
    pub directive: String,
    /// The reduced blocked origin or keyword (see [`super::csp_report::reduce_blocked`]).
    pub blocked: String,
    /// How many violations were reported.
    pub count: u64,
}

/// The store could not answer: the API turns this into 503.
#[derive(Debug, Clone)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

/// What the API needs from a store. Implementations must be durable before `insert` returns.
pub trait Store: Send + Sync {
    /// Saves a new record durably.
    fn insert(&self, record: Record) -> Result<(), StoreError>;
    /// The live (not expired on `today`) record with this receipt.
    fn get(&self, receipt: &str, today: Day) -> Result<Option<Record>, StoreError>;
    /// Deletes a record durably; `false` if there was none.
    fn delete(&self, receipt: &str) -> Result<bool, StoreError>;
    /// Counts of live records per policy version, sorted by version.
    fn stats(&self, today: Day) -> Result<Vec<PolicyCounts>, StoreError>;
    /// Whether a write can be committed now (what `/healthz` reports).
    fn writable(&self) -> Result<(), StoreError>;
    /// Adds one to the counter of `day` for each violation, durably. A new counter beyond
    /// [`MAX_COUNTERS_PER_DAY`] for that day is counted under the origin `other`.
    fn add_violations(&self, day: Day, violations: &[Violation]) -> Result<(), StoreError>;
    /// Violation counters of `since` and later days, sorted by day, directive and origin.
    fn violations(&self, since: Day) -> Result<Vec<ViolationCount>, StoreError>;
    /// Deletes records whose expiry day is before `today` (and violation counts older than
    /// [`VIOLATION_RETENTION_DAYS`]); returns how many rows went.
    fn purge_expired(&self, today: Day) -> Result<usize, StoreError>;
    /// Stops writing after the writes already queued and closes every connection. Later
    /// writes fail with [`StoreError`].
    fn close(&self);
}

/// Schema steps; step `i` moves `user_version` from `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    "CREATE TABLE consent (
        receipt        TEXT PRIMARY KEY NOT NULL,
        policy_version TEXT NOT NULL,
        personalization INTEGER NOT NULL CHECK (personalization IN (0, 1)),
        analytics      INTEGER NOT NULL CHECK (analytics IN (0, 1)),
        ui             TEXT NOT NULL,
        recorded       TEXT NOT NULL,
        expires        TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX consent_expires ON consent (expires);",
    "ALTER TABLE consent ADD COLUMN functional INTEGER NOT NULL DEFAULT 0 CHECK (functional IN (0, 1));
    ALTER TABLE consent ADD COLUMN marketing INTEGER NOT NULL DEFAULT 0 CHECK (marketing IN (0, 1));",
    "CREATE TABLE csp_violation (
        day       TEXT NOT NULL,
        directive TEXT NOT NULL,
        blocked   TEXT NOT NULL,
        count     INTEGER NOT NULL CHECK (count > 0),
        PRIMARY KEY (day, directive, blocked)
    ) WITHOUT ROWID;",
];

/// How long a writer waits for a lock held by another process before the request gets 503.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);
/// Most writes committed in one transaction.
const MAX_BATCH: usize = 1024;
/// How long a cached stats answer is served.
const STATS_TTL: Duration = Duration::from_secs(1);
/// How long the answer of a write probe is reused.
const PROBE_TTL: Duration = Duration::from_secs(1);
/// The receipt of the row a write probe inserts and deletes in one transaction: not a
/// receipt's shape, so no request can name it.
const PROBE_RECEIPT: &str = "-health-probe-";

type Reply<T> = SyncSender<Result<T, StoreError>>;

/// Hands `make`'s operation to a store's writer thread and waits for its answer (the writer
/// replies after the commit): the one queue discipline of the SQLite and PostgreSQL stores.
pub(super) fn send_to_writer<O, T>(
    writer: &Mutex<Option<SyncSender<O>>>,
    make: impl FnOnce(SyncSender<Result<T, StoreError>>) -> O,
) -> Result<T, StoreError> {
    let (reply_tx, reply_rx) = mpsc::sync_channel(1);
    let sender = writer
        .lock()
        .map_err(|_| StoreError("store lock poisoned".into()))?
        .clone()
        .ok_or_else(|| StoreError("the store is closed".into()))?;
    let mut op = make(reply_tx);
    loop {
        match sender.try_send(op) {
            Ok(()) => break,
            Err(TrySendError::Full(back)) => {
                op = back;
                thread::sleep(Duration::from_millis(1));
            }
            Err(TrySendError::Disconnected(_)) => return Err(StoreError("the writer thread has stopped".into())),
        }
    }
    reply_rx.recv().map_err(|_| StoreError("the writer thread has stopped".into()))?
}

enum Op {
    Insert(Record, Reply<()>),
    Delete(String, Reply<bool>),
    Purge(Day, Reply<usize>),
    Violations(Day, Vec<Violation>, Reply<()>),
    /// Inserts and deletes a row in the batch's transaction: the commit succeeds only if
    /// the store can write (disk space, permissions, locks).
    Probe(Reply<()>),
}

/// The SQLite store. Cloning is cheap; all clones share one writer thread.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Option<SyncSender<Op>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    stats_cache: Mutex<Option<(Instant, Day, Vec<PolicyCounts>)>>,
    stats_refreshing: AtomicBool,
    probe_cache: Mutex<Option<(Instant, Result<(), StoreError>)>>,
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError(format!(
            "the database has schema version {version}, newer than this cohort knows ({known}); \
             upgrade cohort"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Record, String, String)> {
    let recorded: String = row.get(5)?;
    let expires: String = row.get(6)?;
    Ok((
        Record {
            receipt: row.get(0)?,
            policy_version: row.get(1)?,
            personalization: row.get(2)?,
            analytics: row.get(3)?,
            ui: row.get(4)?,
            functional: row.get(7)?,
            marketing: row.get(8)?,
            recorded: Day(0),
            expires: Day(0),
        },
        recorded,
        expires,
    ))
}

impl SqliteStore {
    /// Opens (creating if needed) the database, migrates it, deletes expired records and
    /// starts the writer thread.
    pub fn open(path: &Path, today: Day) -> Result<SqliteStore, StoreError> {
        let mut conn = open_connection(path)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError(format!("could not switch the database to WAL (got {mode})")));
        }
        migrate(&mut conn)?;
        conn.execute("DELETE FROM consent WHERE expires < ?1", params![today.to_string()])?;
        conn.execute("DELETE FROM csp_violation WHERE day < ?1", params![violations_kept_from(today).to_string()])?;
        let (tx, rx) = mpsc::sync_channel::<Op>(4 * MAX_BATCH);
        let handle = thread::Builder::new()
            .name("consent-writer".into())
            .spawn(move || writer_loop(conn, rx))
            .map_err(|e| StoreError(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(handle)),
            readers: Mutex::new(Vec::new()),
            stats_cache: Mutex::new(None),
            stats_refreshing: AtomicBool::new(false),
            probe_cache: Mutex::new(None),
        })
    }

    fn send<T>(&self, make: impl FnOnce(Reply<T>) -> Op) -> Result<T, StoreError> {
        send_to_writer(&self.writer, make)
    }

    /// Deletes records whose expiry day is before `today`; returns how many.
    pub fn purge_expired(&self, today: Day) -> Result<usize, StoreError> {
        self.send(|reply| Op::Purge(today, reply))
    }

    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.path)?,
        };
        let result = f(&conn);
        if result.is_ok()
            && let Ok(mut pool) = self.readers.lock()
            && pool.len() < 16
        {
            pool.push(conn);
        }
        result
    }

    /// Stops the writer after the writes already queued, checkpoints the WAL into the main
    /// file and closes every connection. Later writes fail with [`StoreError`].
    pub fn close(&self) {
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
        if let Ok(mut pool) = self.readers.lock() {
            pool.clear();
        }
        let handle = self.writer_thread.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn writer_loop(mut conn: Connection, rx: Receiver<Op>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch);
    }
    // Every sender is gone: shut down cleanly, folding the WAL back into the database file.
    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
    let _ = conn.close();
}

enum Outcome {
    Unit(Reply<()>, Result<(), StoreError>),
    Bool(Reply<bool>, Result<bool, StoreError>),
    Count(Reply<usize>, Result<usize, StoreError>),
}

fn commit_batch(conn: &mut Connection, batch: Vec<Op>) {
    let mut outcomes = Vec::with_capacity(batch.len());
    let committed = (|| -> Result<(), StoreError> {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO consent (receipt, policy_version, personalization, analytics, ui, \
                 recorded, expires, functional, marketing) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM consent WHERE receipt = ?1")?;
            let mut purge = tx.prepare_cached("DELETE FROM consent WHERE expires < ?1")?;
            let mut purge_violations = tx.prepare_cached("DELETE FROM csp_violation WHERE day < ?1")?;
            let mut probe = tx.prepare_cached(
                "INSERT INTO consent (receipt, policy_version, personalization, analytics, ui, \
                 recorded, expires) VALUES (?1, '-', 0, 0, '-', '-', '-')",
            )?;
            for op in batch {
                outcomes.push(match op {
                    Op::Insert(r, reply) => {
                        let res = insert
                            .execute(params![
                                r.receipt,
                                r.policy_version,
                                r.personalization,
                                r.analytics,
                                r.ui,
                                r.recorded.to_string(),
                                r.expires.to_string(),
                                r.functional,
                                r.marketing
                            ])
                            .map(|_| ())
                            .map_err(StoreError::from);
                        Outcome::Unit(reply, res)
                    }
                    Op::Delete(receipt, reply) => {
                        let res = delete.execute(params![receipt]).map(|n| n > 0);
                        Outcome::Bool(reply, res.map_err(StoreError::from))
                    }
                    Op::Purge(today, reply) => {
                        let res = purge.execute(params![today.to_string()]).and_then(|n| {
                            purge_violations.execute(params![violations_kept_from(today).to_string()]).map(|m| n + m)
                        });
                        Outcome::Count(reply, res.map_err(StoreError::from))
                    }
                    Op::Violations(day, violations, reply) => {
                        Outcome::Unit(reply, count_violations(&tx, day, &violations))
                    }
                    Op::Probe(reply) => {
                        let res =
                            probe.execute(params![PROBE_RECEIPT]).and_then(|_| delete.execute(params![PROBE_RECEIPT]));
                        Outcome::Unit(reply, res.map(|_| ()).map_err(StoreError::from))
                    }
                });
            }
        }
        tx.commit()?;
        Ok(())
    })();
    match committed {
        Ok(()) => {
            for outcome in outcomes {
                match outcome {
                    Outcome::Unit(reply, res) => drop(reply.send(res)),
                    Outcome::Bool(reply, res) => drop(reply.send(res)),
                    Outcome::Count(reply, res) => drop(reply.send(res)),
                }
            }
        }
        Err(e) => {
            // Nothing of the batch is durable: every waiter hears so. Ops not yet reached
            // (the batch failed at BEGIN) were dropped with their reply senders, which their
            // waiters see as a stopped writer; answer the rest explicitly.
            for outcome in outcomes {
                match outcome {
                    Outcome::Unit(reply, _) => drop(reply.send(Err(e.clone()))),
                    Outcome::Bool(reply, _) => drop(reply.send(Err(e.clone()))),
                    Outcome::Count(reply, _) => drop(reply.send(Err(e.clone()))),
                }
            }
        }
    }
}

impl Store for SqliteStore {
    fn insert(&self, record: Record) -> Result<(), StoreError> {
        self.send(|reply| Op::Insert(record, reply))
    }

    fn get(&self, receipt: &str, today: Day) -> Result<Option<Record>, StoreError> {
        let found = self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT receipt, policy_version, personalization, analytics, ui, recorded, \
                 expires, functional, marketing FROM consent WHERE receipt = ?1 AND expires >= ?2",
            )?;
            Ok(stmt.query_row(params![receipt, today.to_string()], row_to_record).optional()?)
        })?;
        match found {
            None => Ok(None),
            Some((mut record, recorded, expires)) => {
                record.recorded =
                    Day::parse(&recorded).ok_or_else(|| StoreError("a stored day is malformed".into()))?;
                record.expires = Day::parse(&expires).ok_or_else(|| StoreError("a stored day is malformed".into()))?;
                Ok(Some(record))
            }
        }
    }

    fn delete(&self, receipt: &str) -> Result<bool, StoreError> {
        self.send(|reply| Op::Delete(receipt.to_string(), reply))
    }

    fn stats(&self, today: Day) -> Result<Vec<PolicyCounts>, StoreError> {
        // Fresh cache: serve it. Stale cache while another thread recomputes: serve the stale
        // answer rather than have every request run the same scan at once.
        let mut stale = None;
        if let Ok(cache) = self.stats_cache.lock()
            && let Some((at, day, counts)) = cache.as_ref()
            && *day == today
        {
            if at.elapsed() < STATS_TTL {
                return Ok(counts.clone());
            }
            stale = Some(counts.clone());
        }
        let leader = self.stats_refreshing.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok();
        if !leader && let Some(counts) = stale {
            return Ok(counts);
        }
        let counts = self.count_live(today);
        if leader {
            self.stats_refreshing.store(false, Ordering::Release);
        }
        let counts = counts?;
        if let Ok(mut cache) = self.stats_cache.lock() {
            *cache = Some((Instant::now(), today, counts.clone()));
        }
        Ok(counts)
    }

    fn writable(&self) -> Result<(), StoreError> {
        self.probe()
    }

    fn add_violations(&self, day: Day, violations: &[Violation]) -> Result<(), StoreError> {
        if violations.is_empty() {
            return Ok(());
        }
        self.send(|reply| Op::Violations(day, violations.to_vec(), reply))
    }

    fn purge_expired(&self, today: Day) -> Result<usize, StoreError> {
        SqliteStore::purge_expired(self, today)
    }

    fn close(&self) {
        SqliteStore::close(self);
    }

    fn violations(&self, since: Day) -> Result<Vec<ViolationCount>, StoreError> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT day, directive, blocked, count FROM csp_violation WHERE day >= ?1 \
                 ORDER BY day, directive, blocked",
            )?;
            let rows = stmt.query_map(params![since.to_string()], |row| {
                Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?, row.get::<_, i64>(3)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (day, directive, blocked, count) = row?;
                let day = Day::parse(&day).ok_or_else(|| StoreError("a stored day is malformed".into()))?;
                out.push(ViolationCount { day, directive, blocked, count: count.max(0) as u64 });
            }
            Ok(out)
        })
    }
}

/// The first day whose violation counts are still kept on `today`.
pub fn violations_kept_from(today: Day) -> Day {
    Day(today.0 - i64::from(VIOLATION_RETENTION_DAYS))
}

/// Violations folded into (directive, blocked) → count, sorted.
pub fn tally(violations: &[Violation]) -> Vec<(String, String, u64)> {
    let mut map = std::collections::BTreeMap::<(&str, &str), u64>::new();
    for v in violations {
        *map.entry((v.directive.as_str(), v.blocked.as_str())).or_default() += 1;
    }
    map.into_iter().map(|((d, b), n)| (d.to_string(), b.to_string(), n)).collect()
}

fn count_violations(tx: &rusqlite::Transaction<'_>, day: Day, violations: &[Violation]) -> Result<(), StoreError> {
    let day = day.to_string();
    let mut exists =
        tx.prepare_cached("SELECT 1 FROM csp_violation WHERE day = ?1 AND directive = ?2 AND blocked = ?3")?;
    let mut counters = tx.prepare_cached("SELECT count(*) FROM csp_violation WHERE day = ?1")?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO csp_violation (day, directive, blocked, count) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (day, directive, blocked) DO UPDATE SET count = count + excluded.count",
    )?;
    for (directive, blocked, n) in tally(violations) {
        let known = exists.exists(params![day, directive, blocked])?;
        let full =
            !known && counters.query_row(params![day], |r| r.get::<_, i64>(0))?.max(0) as u64 >= MAX_COUNTERS_PER_DAY;
        let blocked = if full { "other".to_string() } else { blocked };
        upsert.execute(params![day, directive, blocked, n as i64])?;
    }
    Ok(())
}

impl SqliteStore {
    /// A write probe through the writer thread, its answer reused for [`PROBE_TTL`].
    fn probe(&self) -> Result<(), StoreError> {
        if let Ok(cache) = self.probe_cache.lock()
            && let Some((at, result)) = cache.as_ref()
            && at.elapsed() < PROBE_TTL
        {
            return result.clone();
        }
        let result = self.send(Op::Probe);
        if let Ok(mut cache) = self.probe_cache.lock() {
            *cache = Some((Instant::now(), result.clone()));
        }
        result
    }

    fn count_live(&self, today: Day) -> Result<Vec<PolicyCounts>, StoreError> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT policy_version, count(*), sum(personalization), sum(analytics), sum(functional), \
                 sum(marketing) \
                 FROM consent WHERE expires >= ?1 GROUP BY policy_version ORDER BY policy_version",
            )?;
            let rows = stmt.query_map(params![today.to_string()], |row| {
                Ok(PolicyCounts {
                    policy_version: row.get(0)?,
                    records: row.get::<_, i64>(1)?.max(0) as u64,
                    personalization: row.get::<_, Option<i64>>(2)?.unwrap_or(0).max(0) as u64,
                    analytics: row.get::<_, Option<i64>>(3)?.unwrap_or(0).max(0) as u64,
                    functional: row.get::<_, Option<i64>>(4)?.unwrap_or(0).max(0) as u64,
                    marketing: row.get::<_, Option<i64>>(5)?.unwrap_or(0).max(0) as u64,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

/// Shared handle used by the server's threads.
pub type SharedStore = Arc<SqliteStore>;
