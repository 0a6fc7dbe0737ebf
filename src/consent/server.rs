//! The consent server: listener, one thread per connection (capped), the retention thread,
//! request logging and graceful shutdown.
//!
//! Connections are accepted by the shared layer of [`crate::net`]: a thread each, up to a cap
//! sized to the machine (`64 × cores`, at least 128). When the cap is reached, the connection
//! that has waited longest for its client is closed to make room, so idle or slow clients
//! cannot starve the others; only when every connection is being answered does a newcomer
//! get 503. Each thread reads with the deadlines of [`Timeouts`]. Writes all funnel into the
//! store's single writer thread, which commits them in batches (see [`super::store`]).
//!
//! Logs go to stderr, one line per request: method, path template, status, duration. Never a
//! client address, user agent, receipt or body. The client address is used only by the rate
//! limiter, in memory.
//!
//! SIGTERM or SIGINT: stop accepting, let every request already received finish (its answer
//! is written with `Connection: close`), close idle connections, then stop the store, which
//! checkpoints the WAL into the database file and closes it.

use super::api::{Api, ApiConfig, ApiRequest, ApiResponse, Body, Route};
use super::csp_report::MAX_REPORT_BODY;
use super::days::Day;
use super::limits::RateLimiter;
use super::postgres::PgStore;
use super::store::{SqliteStore, Store};
use crate::net::http::{Connection, Incoming, Refusal, Timeouts};
use crate::net::pool::{self, Pool, Ticket};
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Everything `cohort consent-server` was asked for.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where the records live.
    pub db: StoreLocation,
    /// The address to listen on (`127.0.0.1:0` picks a free port).
    pub bind: String,
    /// How the API is mounted and what it admits.
    pub api: ApiConfig,
    /// Requests per client address per `rate_window`; 0 turns the limit off.
    pub rate_limit: u32,
    /// The window `rate_limit` counts in.
    pub rate_window: Duration,
    /// How long a client may take to send a request and read the answer.
    pub timeouts: Timeouts,
    /// Most connections open at once.
    pub max_connections: usize,
    /// How often expired records are deleted while running.
    pub purge_every: Duration,
}

impl ServerConfig {
    /// The connection cap for this machine.
    pub fn default_max_connections() -> usize {
        let cores = thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        (64 * cores).max(128)
    }
}

/// Which store `--db` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, `postgres://...` or `postgresql://...`.
    Postgres(String),
}

impl StoreLocation {
    /// `postgres://` and `postgresql://` URLs name PostgreSQL; anything else is a SQLite file.
    pub fn from_arg(db: &std::ffi::OsStr) -> StoreLocation {
        match db.to_str() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                StoreLocation::Postgres(url.to_string())
            }
            _ => StoreLocation::Sqlite(PathBuf::from(db)),
        }
    }

    fn open(&self, today: Day) -> Result<Box<dyn Store>, ServerError> {
        match self {
            StoreLocation::Sqlite(path) => match SqliteStore::open(path, today) {
                Ok(store) => Ok(Box::new(store)),
                Err(e) => Err(ServerError::Usage(format!(
                    "error: --db {}: cannot open the consent database ({e})\n  = help: give a SQLite file (created if \
                     missing) in an existing folder this user can write, e.g. --db /var/lib/cohort/consent.sqlite",
                    path.display()
                ))),
            },
            StoreLocation::Postgres(url) => match PgStore::open(url, today) {
                Ok(store) => Ok(Box::new(store)),
                Err(e) => Err(ServerError::Usage(format!(
                    "error: --db {}: cannot use the PostgreSQL database ({e})\n  = help: give a URL of a database \
                     this user may create tables in, e.g. --db postgres://cohort@127.0.0.1:5432/cohort \
                     (a Unix socket: postgres:///cohort?host=/run/postgresql)",
                    redact(url)
                ))),
            },
        }
    }
}

/// A connection URL with its password replaced, for messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or("");
            format!("{scheme}://{name}:***@{host}{tail}")
        }
        _ => url.to_string(),
    }
}

/// Why the server could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerError {
    /// `--db` or `--bind` cannot be used (exit status 2).
    Usage(String),
    /// Anything else (exit status 1).
    Runtime(String),
}

struct Shared {
    api: Api,
    store: Box<dyn Store>,
    limiter: RateLimiter,
    stopping: AtomicBool,
    timeouts: Timeouts,
}

/// The JSON form of a refusal below the API.
fn refusal_response(r: &Refusal) -> ApiResponse {
    ApiResponse::error(r.status, r.code, r.message)
}

fn respond(conn: &mut Connection, response: &ApiResponse, close: bool, head_only: bool) -> std::io::Result<()> {
    let headers = response.headers.iter().map(|(n, v)| (*n, v.as_str()));
    conn.respond(response.status, headers, &response.body, close, head_only)
}

fn bind(bind: &str) -> Result<(TcpListener, SocketAddr), ServerError> {
    let usage = |e: std::io::Error| {
        ServerError::Usage(format!(
            "error: --bind {bind}: cannot listen there ({e})\n  = help: give a local address and a free port, \
             e.g. --bind 127.0.0.1:8787 (port 0 picks a free one)"
        ))
    };
    let addrs: Vec<SocketAddr> = bind.to_socket_addrs().map_err(usage)?.collect();
    let listener = TcpListener::bind(&addrs[..]).map_err(usage)?;
    let local = listener.local_addr().map_err(usage)?;
    Ok((listener, local))
}

/// Runs until SIGTERM or SIGINT. `ready` receives the bound address once listening.
pub fn run(config: ServerConfig, ready: impl FnOnce(SocketAddr)) -> Result<(), ServerError> {
    let store = config.db.open(Day::today())?;
    let (listener, local) = bind(&config.bind)?;
    let runtime = ServerError::Runtime;

    let shared = Arc::new(Shared {
        api: Api::new(config.api.clone()),
        store,
        limiter: RateLimiter::new(config.rate_limit, config.rate_window),
        stopping: AtomicBool::new(false),
        timeouts: config.timeouts,
    });

    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT])
        .map_err(|e| runtime(format!("cannot install signal handlers: {e}")))?;
    let signal_handle = signals.handle();
    let waker = wake_address(local);
    let signal_shared = Arc::clone(&shared);
    let signal_thread = thread::Builder::new()
        .name("consent-signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                signal_shared.stopping.store(true, Ordering::SeqCst);
                // Wake the blocking accept() so the loop sees the flag.
                let _ = TcpStream::connect_timeout(&waker, Duration::from_secs(1));
            }
        })
        .map_err(|e| runtime(format!("cannot start the signal thread: {e}")))?;

    let (purge_stop_tx, purge_stop_rx) = mpsc::channel::<()>();
    let purge_shared = Arc::clone(&shared);
    let purge_every = config.purge_every;
    let purge_thread = thread::Builder::new()
        .name("consent-retention".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = purge_stop_rx.recv_timeout(purge_every) {
                if let Err(e) = purge_shared.store.purge_expired(Day::today()) {
                    log_line(&format!("retention: could not delete expired records: {e}"));
                }
            }
        })
        .map_err(|e| runtime(format!("cannot start the retention thread: {e}")))?;

    ready(local);
    log_line("listening (address on stdout)");

    let pool = Pool::new(config.max_connections);
    let timeouts = config.timeouts;
    let busy = move |stream: TcpStream| {
        let mut conn = Connection::new(stream, timeouts, 0, None);
        let busy = ApiResponse::error(503, "busy", "Too many open connections; try again.");
        let _ = respond(&mut conn, &busy, true, false);
    };
    let conn_shared = Arc::clone(&shared);
    pool::accept_loop(&listener, &pool, &shared.stopping, "consent-conn", busy, move |stream, ticket| {
        serve_connection(&conn_shared, stream, ticket)
    });
    drop(listener);
    log_line("stopping: no new connections; finishing requests in flight");

    // Idle connections end at once, busy ones after writing the answer they already owe.
    pool.close_reads();
    pool.wait_empty(Instant::now() + config.timeouts.request + config.timeouts.write);
    drop(purge_stop_tx);
    let _ = purge_thread.join();
    signal_handle.close();
    let _ = signal_thread.join();
    shared.store.close();
    log_line("stopped: store closed");
    Ok(())
}

fn wake_address(local: SocketAddr) -> SocketAddr {
    let mut addr = local;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr
}

fn serve_connection(shared: &Shared, stream: TcpStream, ticket: Ticket) {
    let peer = stream.peer_addr().ok().map(|a| a.ip());
    // Bodies up to the report limit are read; the consent routes refuse what is over 4 KiB.
    let mut conn = Connection::new(stream, shared.timeouts, MAX_REPORT_BODY, Some(ticket));
    loop {
        let incoming = conn.next_request();
        let started = Instant::now();
        match incoming {
            Incoming::Closed => return,
            Incoming::Refused(refusal) => {
                let response = refusal_response(&refusal);
                let _ = respond(&mut conn, &response, true, false);
                log_request("-", "(unparsed)", response.status, started);
                conn.linger();
                return;
            }
            Incoming::Request { head, body, keep_alive } => {
                let route = shared.api.route(&head.target);
                let limited = match (route, peer) {
                    (Route::Healthz, _) | (_, None) => Ok(()),
                    (_, Some(ip)) => shared.limiter.check(ip, Instant::now()),
                };
                let response = match limited {
                    Err(retry) => ApiResponse::too_many_requests(retry.0.as_secs_f64().ceil() as u64),
                    Ok(()) => {
                        let request = ApiRequest {
                            method: &head.method,
                            target: &head.target,
                            origin: head.header("origin"),
                            content_type: head.header("content-type"),
                            body: match &body {
                                Some(bytes) => Body::Complete(bytes),
                                None => Body::TooLarge,
                            },
                        };
                        shared.api.handle(&request, shared.store.as_ref(), Day::today())
                    }
                };
                let close = !keep_alive || shared.stopping.load(Ordering::SeqCst);
                let written = respond(&mut conn, &response, close, head.method == "HEAD");
                log_request(&head.method, route.template(), response.status, started);
                if close || written.is_err() {
                    if body.is_none() {
                        conn.linger();
                    }
                    let _ = conn.stream().shutdown(Shutdown::Both);
                    return;
                }
            }
        }
    }
}

fn log_request(method: &str, template: &str, status: u16, started: Instant) {
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "OPTIONS" | "PATCH" | "-" => method,
        _ => "OTHER",
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    log_line(&format!("{method} {template} {status} {ms:.1}ms"));
}

fn log_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(format!("consent-server: {line}\n").as_bytes());
}
