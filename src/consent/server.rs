//! The consent server: listener, one thread per connection (capped), the retention thread,
//! request logging and graceful shutdown.
//!
//! Connections get a thread each, up to a cap sized to the machine (`64 × cores`, at least
//! 128); beyond it a new connection is answered 503 and closed. Each thread reads with the
//! deadlines of [`super::http::Timeouts`], so a slow or stalled client holds only its own
//! thread, and only until its deadline. Writes all funnel into the store's single writer
//! thread, which commits them in batches (see [`super::store`]).
//!
//! Logs go to stderr, one line per request: method, path template, status, duration. Never a
//! client address, user agent, receipt or body. The client address is used only by the rate
//! limiter, in memory.
//!
//! SIGTERM or SIGINT: stop accepting, let every request already received finish (its answer
//! is written with `Connection: close`), close idle connections, then stop the store, which
//! checkpoints the WAL into the database file and closes it.

use super::api::{Api, ApiConfig, ApiRequest, ApiResponse, Body, Route};
use super::days::Day;
use super::http::{Connection, Incoming, Timeouts};
use super::limits::RateLimiter;
use super::store::SqliteStore;
use std::collections::HashMap;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Everything `cohort consent-server` was asked for.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub db: PathBuf,
    pub bind: String,
    pub api: ApiConfig,
    /// Requests per client address per `rate_window`; 0 turns the limit off.
    pub rate_limit: u32,
    pub rate_window: Duration,
    pub timeouts: Timeouts,
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

struct Shared {
    api: Api,
    store: SqliteStore,
    limiter: RateLimiter,
    stopping: AtomicBool,
    next_id: AtomicU64,
    /// Open connections (a clone of each stream, to close idle ones at shutdown).
    open: Mutex<HashMap<u64, TcpStream>>,
    closed: Condvar,
    timeouts: Timeouts,
}

/// Runs until SIGTERM or SIGINT. `ready` receives the bound address once listening.
pub fn run(config: ServerConfig, ready: impl FnOnce(SocketAddr)) -> Result<(), String> {
    let store = SqliteStore::open(&config.db, Day::today())
        .map_err(|e| format!("cannot open the consent database {}: {e}", config.db.display()))?;
    let addrs: Vec<SocketAddr> =
        config.bind.to_socket_addrs().map_err(|e| format!("--bind {}: {e}", config.bind))?.collect();
    let listener = TcpListener::bind(&addrs[..]).map_err(|e| format!("--bind {}: {e}", config.bind))?;
    let local = listener.local_addr().map_err(|e| format!("--bind {}: {e}", config.bind))?;

    let shared = Arc::new(Shared {
        api: Api::new(config.api.clone()),
        store,
        limiter: RateLimiter::new(config.rate_limit, config.rate_window),
        stopping: AtomicBool::new(false),
        next_id: AtomicU64::new(0),
        open: Mutex::new(HashMap::new()),
        closed: Condvar::new(),
        timeouts: config.timeouts,
    });

    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
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
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;

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
        .map_err(|e| format!("cannot start the retention thread: {e}"))?;

    ready(local);
    log_line("listening (address on stdout)");

    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let admitted = match (shared.open.lock(), stream.try_clone()) {
            (Ok(mut open), Ok(clone)) if open.len() < config.max_connections => {
                open.insert(id, clone);
                true
            }
            _ => false,
        };
        if !admitted {
            let mut conn = Connection::new(stream, config.timeouts);
            let busy = ApiResponse::error(503, "busy", "Too many open connections; try again.");
            let _ = conn.respond(&busy, true, false);
            continue;
        }
        let conn_shared = Arc::clone(&shared);
        let spawned = thread::Builder::new().stack_size(256 * 1024).spawn(move || {
            serve_connection(&conn_shared, stream);
            if let Ok(mut open) = conn_shared.open.lock() {
                open.remove(&id);
            }
            conn_shared.closed.notify_all();
        });
        if spawned.is_err()
            && let Ok(mut open) = shared.open.lock()
        {
            open.remove(&id);
        }
    }
    drop(listener);
    log_line("stopping: no new connections; finishing requests in flight");

    // Close the read side of every connection: idle ones end at once, busy ones end after
    // writing the answer to the request they already received.
    if let Ok(open) = shared.open.lock() {
        for stream in open.values() {
            let _ = stream.shutdown(Shutdown::Read);
        }
    }
    let give_up = Instant::now() + config.timeouts.request + config.timeouts.write;
    if let Ok(mut open) = shared.open.lock() {
        while !open.is_empty() {
            let left = give_up.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match shared.closed.wait_timeout(open, left) {
                Ok((guard, _)) => open = guard,
                Err(_) => break,
            }
        }
    }
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

fn serve_connection(shared: &Shared, stream: TcpStream) {
    let peer = stream.peer_addr().ok().map(|a| a.ip());
    let mut conn = Connection::new(stream, shared.timeouts);
    loop {
        let incoming = conn.next_request();
        let started = Instant::now();
        match incoming {
            Incoming::Closed => return,
            Incoming::Refused(response) => {
                let _ = conn.respond(&response, true, false);
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
                        shared.api.handle(&request, &shared.store, Day::today())
                    }
                };
                let close = !keep_alive || shared.stopping.load(Ordering::SeqCst);
                let written = conn.respond(&response, close, head.method == "HEAD");
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
