//! The PostgreSQL store, for `cohort consent-server --db postgres://...`: the schema and the
//! guarantees of the SQLite store, so several servers can share one database.
//!
//! - **Same schema.** The `consent` and `csp_violation` tables have the columns of the SQLite
//!   ones (days as `YYYY-MM-DD` text), plus `cohort_schema`, which holds the schema version
//!   (SQLite keeps it in `PRAGMA user_version`). Migrations run under a transaction-level
//!   advisory lock, so servers starting together migrate once.
//! - **A 201 only after commit.** Each session sets `synchronous_commit = on`, so a commit
//!   returns only once its WAL record is flushed to disk (on the primary), whatever the server
//!   default.
//! - **Group commit.** As with SQLite, every write goes through one writer thread per server
//!   that drains a channel and commits the whole batch in one transaction: all inserts of a
//!   batch are one `INSERT ... SELECT FROM unnest(...)`, all deletes one `DELETE ... WHERE
//!   receipt = ANY(...) RETURNING receipt`, so a batch costs a handful of round trips and one
//!   WAL flush whatever its size. A batch that fails (a deadlock, a lost connection) is
//!   answered 503 as a whole, and the writer reconnects for the next one.
//! - **Expiry.** Expired records are deleted at start and by the retention thread.
//!
//! The `postgres` crate is the synchronous face of `tokio-postgres`: each `Client` drives its
//! connection on a small current-thread tokio runtime of its own. That is acceptable here
//! because the server stays thread-per-connection and never sees async code: the runtime is
//! an implementation detail of a handful of database connections (one writer, a few readers),
//! not a model the server must adopt. The alternatives were worse: writing the PostgreSQL wire
//! protocol by hand (authentication, SCRAM, error handling) or `sqlx`, which would bring an
//! async runtime into the server itself.

use super::csp_report::{MAX_COUNTERS_PER_DAY, Violation};
use super::days::Day;
use super::store::{
    PolicyCounts, Record, Store, StoreError, ViolationCount, send_to_writer, tally, violations_kept_from,
};
use postgres::{Client, NoTls};
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Schema steps; step `i` moves the version in `cohort_schema` from `i` to `i + 1`. The same
/// tables and columns as the SQLite [`super::store::MIGRATIONS`].
pub const PG_MIGRATIONS: &[&str] = &[
    "CREATE TABLE consent (
        receipt         TEXT PRIMARY KEY NOT NULL,
        policy_version  TEXT NOT NULL,
        personalization BOOLEAN NOT NULL,
        analytics       BOOLEAN NOT NULL,
        ui              TEXT NOT NULL,
        recorded        TEXT NOT NULL,
        expires         TEXT NOT NULL
    );
    CREATE INDEX consent_expires ON consent (expires);",
    "ALTER TABLE consent ADD COLUMN functional BOOLEAN NOT NULL DEFAULT false;
    ALTER TABLE consent ADD COLUMN marketing BOOLEAN NOT NULL DEFAULT false;",
    "CREATE TABLE csp_violation (
        day       TEXT NOT NULL,
        directive TEXT NOT NULL,
        blocked   TEXT NOT NULL,
        count     BIGINT NOT NULL CHECK (count > 0),
        PRIMARY KEY (day, directive, blocked)
    );",
];

/// The advisory lock key migrations run under ("cohort" in ASCII).
const MIGRATION_LOCK: i64 = 0x636f_686f_7274;
/// Most writes committed in one transaction.
const MAX_BATCH: usize = 1024;
/// How long a cached stats answer is served.
const STATS_TTL: Duration = Duration::from_secs(1);
/// How long the answer of a write probe is reused.
const PROBE_TTL: Duration = Duration::from_secs(1);
/// Reader connections kept open.
const READERS: usize = 8;

type Reply<T> = SyncSender<Result<T, StoreError>>;

enum Op {
    Insert(Record, Reply<()>),
    Delete(String, Reply<bool>),
    Purge(Day, Reply<usize>),
    Violations(Day, Vec<Violation>, Reply<()>),
    Probe(Reply<()>),
}

fn pg_error(e: postgres::Error) -> StoreError {
    // The database's own message (never a request's content: values go as parameters).
    match e.as_db_error() {
        Some(db) => StoreError(format!("PostgreSQL: {} ({})", db.message(), db.code().code())),
        None => StoreError(format!("PostgreSQL: {e}")),
    }
}

fn connect(url: &str) -> Result<Client, StoreError> {
    let mut client = Client::connect(url, NoTls).map_err(pg_error)?;
    client
        .batch_execute("SET synchronous_commit = on; SET application_name = 'cohort consent-server'")
        .map_err(pg_error)?;
    Ok(client)
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(pg_error)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS cohort_schema (version INTEGER NOT NULL)").map_err(pg_error)?;
    let version: i32 = match tx.query_opt("SELECT version FROM cohort_schema", &[]).map_err(pg_error)? {
        Some(row) => row.try_get(0).map_err(pg_error)?,
        None => {
            tx.execute("INSERT INTO cohort_schema (version) VALUES (0)", &[]).map_err(pg_error)?;
            0
        }
    };
    let known = PG_MIGRATIONS.len() as i32;
    if version > known {
        return Err(StoreError(format!(
            "the database has schema version {version}, newer than this cohort knows ({known}); upgrade cohort"
        )));
    }
    for (i, sql) in PG_MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        tx.batch_execute(sql).map_err(pg_error)?;
        tx.execute("UPDATE cohort_schema SET version = $1", &[&(i as i32 + 1)]).map_err(pg_error)?;
    }
    tx.commit().map_err(pg_error)
}

/// The PostgreSQL store: one writer thread (group commit) and a few reader connections.
pub struct PgStore {
    url: String,
    writer: Mutex<Option<SyncSender<Op>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Client>>,
    stats_cache: Mutex<Option<(Instant, Day, Vec<PolicyCounts>)>>,
    probe_cache: Mutex<Option<(Instant, Result<(), StoreError>)>>,
}

impl PgStore {
    /// Connects, migrates, deletes expired records and starts the writer thread.
    pub fn open(url: &str, today: Day) -> Result<PgStore, StoreError> {
        let mut client = connect(url)?;
        migrate(&mut client)?;
        purge(&mut client, today)?;
        let (tx, rx) = mpsc::sync_channel::<Op>(4 * MAX_BATCH);
        let writer_url = url.to_string();
        let probe_receipt = format!("-health-probe-{}", super::api::new_receipt().unwrap_or_default());
        let handle = thread::Builder::new()
            .name("consent-pg-writer".into())
            .spawn(move || writer_loop(client, &writer_url, &probe_receipt, rx))
            .map_err(|e| StoreError(format!("cannot start the writer thread: {e}")))?;
        Ok(PgStore {
            url: url.to_string(),
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(handle)),
            readers: Mutex::new(Vec::new()),
            stats_cache: Mutex::new(None),
            probe_cache: Mutex::new(None),
        })
    }

    fn send<T>(&self, make: impl FnOnce(Reply<T>) -> Op) -> Result<T, StoreError> {
        send_to_writer(&self.writer, make)
    }

    fn with_reader<T>(&self, f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>) -> Result<T, StoreError> {
        let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        let mut client = match pooled {
            Some(client) if !client.is_closed() => client,
            _ => connect(&self.url)?,
        };
        let result = f(&mut client).map_err(pg_error);
        if result.is_ok()
            && let Ok(mut pool) = self.readers.lock()
            && pool.len() < READERS
        {
            pool.push(client);
        }
        result
    }

    fn count_live(&self, today: Day) -> Result<Vec<PolicyCounts>, StoreError> {
        let today = today.to_string();
        self.with_reader(|client| {
            let rows = client.query(
                "SELECT policy_version, count(*), count(*) FILTER (WHERE personalization), \
                 count(*) FILTER (WHERE analytics), count(*) FILTER (WHERE functional), \
                 count(*) FILTER (WHERE marketing) \
                 FROM consent WHERE expires >= $1 GROUP BY policy_version ORDER BY policy_version",
                &[&today],
            )?;
            let n = |row: &postgres::Row, i: usize| -> Result<u64, postgres::Error> {
                Ok(row.try_get::<_, i64>(i)?.max(0) as u64)
            };
            rows.iter()
                .map(|row| {
                    Ok(PolicyCounts {
                        policy_version: row.try_get(0)?,
                        records: n(row, 1)?,
                        personalization: n(row, 2)?,
                        analytics: n(row, 3)?,
                        functional: n(row, 4)?,
                        marketing: n(row, 5)?,
                    })
                })
                .collect()
        })
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        Store::close(self);
    }
}

fn purge(client: &mut Client, today: Day) -> Result<usize, StoreError> {
    let mut tx = client.transaction().map_err(pg_error)?;
    let n = tx.execute("DELETE FROM consent WHERE expires < $1", &[&today.to_string()]).map_err(pg_error)?;
    let m = tx
        .execute("DELETE FROM csp_violation WHERE day < $1", &[&violations_kept_from(today).to_string()])
        .map_err(pg_error)?;
    tx.commit().map_err(pg_error)?;
    Ok((n + m) as usize)
}

fn writer_loop(mut client: Client, url: &str, probe_receipt: &str, rx: Receiver<Op>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        if client.is_closed() {
            match connect(url) {
                Ok(c) => client = c,
                Err(e) => {
                    fail_all(batch, &e);
                    continue;
                }
            }
        }
        commit_batch(&mut client, probe_receipt, batch);
    }
    let _ = client.close();
}

fn fail_all(batch: Vec<Op>, e: &StoreError) {
    for op in batch {
        match op {
            Op::Insert(_, reply) | Op::Violations(_, _, reply) | Op::Probe(reply) => drop(reply.send(Err(e.clone()))),
            Op::Delete(_, reply) => drop(reply.send(Err(e.clone()))),
            Op::Purge(_, reply) => drop(reply.send(Err(e.clone()))),
        }
    }
}

fn commit_batch(client: &mut Client, probe_receipt: &str, batch: Vec<Op>) {
    let mut inserts: Vec<Record> = Vec::new();
    let mut deletes: Vec<String> = Vec::new();
    let mut purges: Vec<Day> = Vec::new();
    let mut violations: Vec<(Day, Vec<Violation>)> = Vec::new();
    let mut probes = 0usize;
    for op in &batch {
        match op {
            Op::Insert(r, _) => inserts.push(r.clone()),
            Op::Delete(receipt, _) => deletes.push(receipt.clone()),
            Op::Purge(day, _) => purges.push(*day),
            Op::Violations(day, v, _) => violations.push((*day, v.clone())),
            Op::Probe(_) => probes += 1,
        }
    }
    let result = (|| -> Result<(Vec<String>, usize), postgres::Error> {
        let mut tx = client.transaction()?;
        if !inserts.is_empty() {
            let col = |f: fn(&Record) -> String| inserts.iter().map(f).collect::<Vec<String>>();
            let flag = |f: fn(&Record) -> bool| inserts.iter().map(f).collect::<Vec<bool>>();
            tx.execute(
                "INSERT INTO consent (receipt, policy_version, personalization, analytics, ui, recorded, expires, \
                 functional, marketing) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::bool[], $5::text[], $6::text[], \
                 $7::text[], $8::bool[], $9::bool[])",
                &[
                    &col(|r| r.receipt.clone()),
                    &col(|r| r.policy_version.clone()),
                    &flag(|r| r.personalization),
                    &flag(|r| r.analytics),
                    &col(|r| r.ui.clone()),
                    &col(|r| r.recorded.to_string()),
                    &col(|r| r.expires.to_string()),
                    &flag(|r| r.functional),
                    &flag(|r| r.marketing),
                ],
            )?;
        }
        let mut deleted = Vec::new();
        if !deletes.is_empty() {
            for row in tx.query("DELETE FROM consent WHERE receipt = ANY($1) RETURNING receipt", &[&deletes])? {
                deleted.push(row.try_get::<_, String>(0)?);
            }
        }
        let mut purged = 0usize;
        for today in &purges {
            purged += tx.execute("DELETE FROM consent WHERE expires < $1", &[&today.to_string()])? as usize;
            purged += tx
                .execute("DELETE FROM csp_violation WHERE day < $1", &[&violations_kept_from(*today).to_string()])?
                as usize;
        }
        for (day, list) in &violations {
            let day = day.to_string();
            for (directive, blocked, n) in tally(list) {
                let known = tx
                    .query_opt(
                        "SELECT 1 FROM csp_violation WHERE day = $1 AND directive = $2 AND blocked = $3",
                        &[&day, &directive, &blocked],
                    )?
                    .is_some();
                let full = !known
                    && tx.query_one("SELECT count(*) FROM csp_violation WHERE day = $1", &[&day])?.get::<_, i64>(0)
                        as u64
                        >= MAX_COUNTERS_PER_DAY;
                let blocked = if full { "other".to_string() } else { blocked };
                tx.execute(
                    "INSERT INTO csp_violation (day, directive, blocked, count) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (day, directive, blocked) DO UPDATE SET count = csp_violation.count + excluded.count",
                    &[&day, &directive, &blocked, &(n as i64)],
                )?;
            }
        }
        if probes > 0 {
            tx.execute(
                "INSERT INTO consent (receipt, policy_version, personalization, analytics, ui, recorded, expires) \
                 VALUES ($1, '-', false, false, '-', '-', '-')",
                &[&probe_receipt],
            )?;
            tx.execute("DELETE FROM consent WHERE receipt = $1", &[&probe_receipt])?;
        }
        tx.commit()?;
        Ok((deleted, purged))
    })();
    match result {
        Ok((deleted, purged)) => {
            for op in batch {
                match op {
                    Op::Insert(_, reply) | Op::Violations(_, _, reply) | Op::Probe(reply) => drop(reply.send(Ok(()))),
                    Op::Delete(receipt, reply) => drop(reply.send(Ok(deleted.contains(&receipt)))),
                    Op::Purge(_, reply) => drop(reply.send(Ok(purged))),
                }
            }
        }
        Err(e) => fail_all(batch, &pg_error(e)),
    }
}

impl Store for PgStore {
    fn insert(&self, record: Record) -> Result<(), StoreError> {
        self.send(|reply| Op::Insert(record, reply))
    }

    fn get(&self, receipt: &str, today: Day) -> Result<Option<Record>, StoreError> {
        let today_text = today.to_string();
        let row = self.with_reader(|client| {
            client.query_opt(
                "SELECT receipt, policy_version, personalization, analytics, ui, recorded, expires, functional, \
                 marketing FROM consent WHERE receipt = $1 AND expires >= $2",
                &[&receipt, &today_text],
            )
        })?;
        let Some(row) = row else { return Ok(None) };
        let day = |i: usize| {
            Day::parse(&row.try_get::<_, String>(i).map_err(pg_error)?)
                .ok_or_else(|| StoreError("a stored day is malformed".into()))
        };
        Ok(Some(Record {
            receipt: row.try_get(0).map_err(pg_error)?,
            policy_version: row.try_get(1).map_err(pg_error)?,
            personalization: row.try_get(2).map_err(pg_error)?,
            analytics: row.try_get(3).map_err(pg_error)?,
            ui: row.try_get(4).map_err(pg_error)?,
            recorded: day(5)?,
            expires: day(6)?,
            functional: row.try_get(7).map_err(pg_error)?,
            marketing: row.try_get(8).map_err(pg_error)?,
        }))
    }

    fn delete(&self, receipt: &str) -> Result<bool, StoreError> {
        self.send(|reply| Op::Delete(receipt.to_string(), reply))
    }

    fn stats(&self, today: Day) -> Result<Vec<PolicyCounts>, StoreError> {
        if let Ok(cache) = self.stats_cache.lock()
            && let Some((at, day, counts)) = cache.as_ref()
            && *day == today
            && at.elapsed() < STATS_TTL
        {
            return Ok(counts.clone());
        }
        let counts = self.count_live(today)?;
        if let Ok(mut cache) = self.stats_cache.lock() {
            *cache = Some((Instant::now(), today, counts.clone()));
        }
        Ok(counts)
    }

    fn writable(&self) -> Result<(), StoreError> {
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

    fn add_violations(&self, day: Day, violations: &[Violation]) -> Result<(), StoreError> {
        if violations.is_empty() {
            return Ok(());
        }
        self.send(|reply| Op::Violations(day, violations.to_vec(), reply))
    }

    fn violations(&self, since: Day) -> Result<Vec<ViolationCount>, StoreError> {
        let since = since.to_string();
        let rows = self.with_reader(|client| {
            client.query(
                "SELECT day, directive, blocked, count FROM csp_violation WHERE day >= $1 \
                 ORDER BY day, directive, blocked",
                &[&since],
            )
        })?;
        rows.iter()
            .map(|row| {
                let day = Day::parse(&row.try_get::<_, String>(0).map_err(pg_error)?)
                    .ok_or_else(|| StoreError("a stored day is malformed".into()))?;
                Ok(ViolationCount {
                    day,
                    directive: row.try_get(1).map_err(pg_error)?,
                    blocked: row.try_get(2).map_err(pg_error)?,
                    count: row.try_get::<_, i64>(3).map_err(pg_error)?.max(0) as u64,
                })
            })
            .collect()
    }

    fn purge_expired(&self, today: Day) -> Result<usize, StoreError> {
        self.send(|reply| Op::Purge(today, reply))
    }

    fn close(&self) {
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
