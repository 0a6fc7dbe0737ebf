//! `cohort serve`: the development server. It builds the shop into memory, serves it on
//! the loopback address like a static host would ([`http`], with [`site`] holding the
//! files), watches the sources ([`watch`]), rebuilds only what a change affects
//! ([`incremental`]), tells open pages to reload or shows the build error over them
//! ([`livereload`]), and mounts the consent API under `/v1` ([`consent`]).
//!
//! Files on disk are never written: what is served is byte for byte what `cohort build`
//! would write, except that HTML responses get the live-reload script tag on the way out.

pub mod consent;
pub mod http;
pub mod incremental;
pub mod livereload;
pub mod site;
pub mod watch;

use crate::build::BuildOptions;
use crate::net::http::{Connection, Timeouts};
use crate::net::pool::{self, Pool};
use incremental::{Changes, Incremental};
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What `cohort serve` serves and where.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The shop folder.
    pub root: PathBuf,
    /// The address to listen on (127.0.0.1 by default).
    pub bind: String,
    /// 0 picks a free port.
    pub port: u16,
    /// Open a browser on the site.
    pub open: bool,
    /// Time a client has to send one request (head and body); idle keep-alive connections
    /// close after three times that.
    pub read_timeout: Duration,
}

/// Most connections open at once (each has a thread; event streams count too). When all
/// are taken, the one that waited longest for its client is closed to make room.
const MAX_CONNECTIONS: usize = 128;

/// Why `cohort serve` stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServeError {
    /// `--bind` or `--port` cannot be used (exit status 2).
    Usage(String),
    /// Anything else (exit status 1).
    Runtime(String),
}

/// Listens on `bind:port`; `Usage` when the address cannot be used.
fn listen(options: &ServeOptions) -> Result<(TcpListener, SocketAddr), ServeError> {
    let usage = |e: std::io::Error| {
        ServeError::Usage(format!(
            "error: cannot listen on {}:{}: {e}\n  = help: another program may use the port: pick another \
             with -p PORT (-p 0 picks a free one); --bind takes a local address such as 127.0.0.1",
            options.bind, options.port
        ))
    };
    let listener = TcpListener::bind((options.bind.as_str(), options.port)).map_err(usage)?;
    let addr = listener.local_addr().map_err(usage)?;
    Ok((listener, addr))
}

/// Starts the accept loop of [`crate::net::pool`] on its own thread.
fn start_http(listener: TcpListener, handler: Arc<http::Server>, read_timeout: Duration) -> Result<(), String> {
    let timeouts = Timeouts { idle: read_timeout.saturating_mul(3), request: read_timeout, write: read_timeout };
    std::thread::Builder::new()
        .name("cohort-http".into())
        .spawn(move || {
            let pool = Pool::new(MAX_CONNECTIONS);
            let never = AtomicBool::new(false);
            let busy = move |stream: TcpStream| {
                let mut conn = Connection::new(stream, timeouts, 0, None);
                let _ = conn.respond(503, [("Content-Type", "text/plain; charset=utf-8")], b"busy", true, false);
            };
            pool::accept_loop(&listener, &pool, &never, "cohort-http-conn", busy, move |stream, ticket| {
                handler.serve_connection(stream, ticket, timeouts)
            });
        })
        .map(|_| ())
        .map_err(|e| format!("error: cannot start the server thread: {e}"))
}

/// Builds, serves and rebuilds until the process is stopped.
pub fn run(options: &ServeOptions) -> Result<(), ServeError> {
    let root = options
        .root
        .canonicalize()
        .map_err(|e| ServeError::Runtime(format!("error: cannot open {}: {e}", options.root.display())))?;
    if !root.join("shop.toml").is_file() {
        return Err(ServeError::Runtime(format!(
            "error: {} has no shop.toml\n  = help: run `cohort serve --root DIR` with a shop folder, or `cohort init DIR` first",
            root.display()
        )));
    }
    let (listener, addr) = listen(options)?;
    serve_on(options, &root, listener, addr).map_err(ServeError::Runtime)
}

/// Builds, starts the HTTP thread, then watches and rebuilds until the watcher stops.
fn serve_on(options: &ServeOptions, root: &Path, listener: TcpListener, addr: SocketAddr) -> Result<(), String> {
    let root = root.to_path_buf();

    // Watch before the first build, so nothing saved meanwhile is missed.
    let (tx, rx) = channel();
    let mut watcher = watch::SourceWatcher::start(&root, tx).map_err(|e| format!("error: {e}"))?;
    let watch_root = watcher.root().to_path_buf();
    let files = Arc::new(RwLock::new(site::SiteFiles::default()));
    let hub = livereload::Hub::new();
    let build = BuildOptions { root: root.clone(), ..BuildOptions::default() };
    let mut engine = Incremental::new(build, files.clone());
    match engine.build_all() {
        Ok(o) => eprintln!("Built {} pages in {} ms", o.pages, o.elapsed.as_millis()),
        Err(e) => {
            eprintln!("{e}");
            hub.error(&e);
        }
    }
    let endpoint = crate::config::Config::load(&root, None)
        .map(|site| site.config.privacy.consent_endpoint)
        .unwrap_or_else(|_| "/v1".to_string());
    let origins = vec![format!("http://{addr}"), format!("http://localhost:{}", addr.port())];
    let consent = Some(consent::mount(&endpoint, origins).map_err(|e| format!("error: {e}"))?);
    let handler = Arc::new(http::Server { files, hub: hub.clone(), consent });
    start_http(listener, handler, options.read_timeout)?;
    let url = format!("http://{addr}/");
    println!("Serving on http://{addr}");
    let _ = std::io::stdout().flush();
    eprintln!("Watching {} for changes; press Ctrl+C to stop.", root.display());
    if options.open {
        open_browser(&url);
    }

    // Recommendations are computed over the whole catalog; after an edit that keeps the
    // catalog's shape the pages are rendered at once with the previous ones, and fresh ones
    // are computed here on another thread (one at a time) and applied when they arrive.
    let (recs_tx, recs_rx) = channel();
    let mut recs_running = false;
    let mut recs_wanted = false;
    loop {
        while let Ok((generation, recs)) = recs_rx.try_recv() {
            recs_running = false;
            if let Some(result) = engine.apply_recommendations(generation, recs) {
                report(&hub, "recommendations", false, false, result);
            }
        }
        if recs_wanted
            && !recs_running
            && let Some(job) = engine.recommendation_job()
        {
            recs_wanted = false;
            let tx = recs_tx.clone();
            let spawned = std::thread::Builder::new().name("cohort-recommend".into()).spawn(move || {
                let _ = tx.send(job.run());
            });
            recs_running = spawned.is_ok();
        }
        let first = match rx.recv_timeout(Duration::from_millis(if recs_running { 20 } else { 500 })) {
            Ok(first) => first,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let Some(paths) = watch::collect_after(&rx, first) else { break };
        watcher.refresh();
        let changes = Changes::classify(&watch_root, &paths);
        if changes.is_empty() {
            continue;
        }
        let result = engine.rebuild(&changes);
        if let Ok(o) = &result {
            recs_wanted |= o.recommendations_stale;
        }
        report(&hub, &changes.describe(), changes.css_only(), true, result);
    }
    Ok(())
}

/// The terminal line of one rebuild, and the event open pages get.
fn report(
    hub: &livereload::Hub,
    what: &str,
    css_only: bool,
    always_notify: bool,
    result: Result<incremental::Outcome, crate::build::BuildError>,
) {
    match result {
        Ok(o) => {
            eprintln!(
                "[{}] {what} changed: {}{} of {} pages rendered, {} files updated in {} ms{}",
                clock(),
                if o.full { "full render, " } else { "" },
                o.rendered,
                o.pages,
                o.files_changed,
                o.elapsed.as_millis(),
                if o.recommendations_stale { "; recommendations follow" } else { "" }
            );
            if always_notify || o.files_changed > 0 || o.rendered > 0 {
                hub.reload(css_only && o.css_only, what);
            }
        }
        Err(e) => {
            eprintln!("[{}] {what} changed: the build failed; still serving the last good site\n{e}", clock());
            hub.error(&e);
        }
    }
}

/// HH:MM:SS in UTC.
fn clock() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{:02}:{:02}:{:02}", secs / 3600 % 24, secs / 60 % 60, secs % 60)
}

/// Opens `url` with xdg-open (or `open` on macOS) when one is installed.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    if let Err(e) = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("cannot open a browser with {opener} ({e}); open {url} yourself");
    }
}
