//! Live reload: the browser side script (served at `/__cohort/livereload.js`, injected
//! as an external script so the site's Content-Security-Policy needs no change) and the
//! server-sent events hub at `/__cohort/events` that tells every open page about each
//! rebuild, or about the error that stopped it (file, line, column, message) so the script
//! can show an overlay until the next good build.
//!
//! A reload can be sent while a page is between two streams: it reloaded after the first of
//! two quick saves and its script has not connected again yet. So every page is stamped with
//! the build it was served from (a *build id*: this server's instance and the count of
//! reloads sent), its script opens the stream with that id (`?build=ID`, the `data-events`
//! attribute of the script tag), and a stream whose id is not the current one starts with a
//! reload instead of `hello`. The id is read while the site is locked for the response and
//! bumped only after a rebuild was published, so a page is never stamped newer than what it
//! shows; a page stamped older than what it shows reloads once more, which is harmless.

use crate::build::BuildError;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The event-stream endpoint.
pub const EVENTS: &str = "/__cohort/events";

/// The tag added before `</body>` of every HTML page served in serve mode: the script, and
/// the stream it opens (with the page's build id).
pub fn script_tag(build: &str) -> String {
    format!("<script src=\"/__cohort/livereload.js\" data-events=\"{EVENTS}?build={build}\" defer></script>")
}

/// Messages queued for one stream; a client this far behind is dropped (its script
/// connects again, with its build id, and so still gets the reload it missed).
const QUEUE: usize = 64;

/// Most event-stream connections held open at once; more get 503.
pub const MAX_CLIENTS: usize = 32;

/// The live-reload script served pages load.
pub const SCRIPT: &str = include_str!("livereload.js");

/// One problem of a failed build, as the overlay shows it.
pub fn error_items(error: &BuildError) -> Vec<Value> {
    match error {
        BuildError::Invalid(diags) => diags
            .0
            .iter()
            .map(|d| {
                json!({
                    "file": d.file.display().to_string(),
                    "line": d.line,
                    "column": d.column,
                    "message": d.message,
                    "text": d.to_string(),
                })
            })
            .collect(),
        BuildError::Render(errors) => errors
            .iter()
            .map(|e| {
                let (file, line, column) = e.place();
                json!({"file": file, "line": line, "column": column, "message": e.summary(), "text": e.to_string()})
            })
            .collect(),
        BuildError::Io(e) => {
            let text = e.to_string();
            vec![json!({"file": e.path.display().to_string(), "line": 0, "column": 0, "message": text, "text": text})]
        }
        BuildError::Internal(message) => {
            let text = format!("internal error in Cohort: {message}");
            vec![json!({"file": "", "line": 0, "column": 0, "message": text, "text": text})]
        }
    }
}

/// An SSE message: `event: NAME` and one `data:` line of JSON.
pub fn event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// Open event streams and the state a new one starts with.
pub struct Hub {
    /// Distinguishes this server from an earlier one on the same port, so a page served by
    /// that one reloads when its script reconnects here.
    instance: String,
    clients: Mutex<Clients>,
}

/// The streams and the state they describe, under one lock: a stream registers and reads
/// the current build id in the same step as a reload bumps it and is broadcast, so no
/// reload falls between a stream's first message and its registration.
#[derive(Default)]
struct Clients {
    streams: Vec<SyncSender<String>>,
    /// Reloads sent so far (the second part of the build id).
    reloads: u64,
    /// The message describing the current state (an error, or none).
    current_error: Option<String>,
}

impl Clients {
    /// Sends `message` to every open stream, dropping those that went away or fell behind.
    fn broadcast(&mut self, message: &str) {
        self.streams.retain(|c| c.try_send(message.to_string()).is_ok());
    }
}

impl Default for Hub {
    fn default() -> Hub {
        let mut random = [0u8; 6];
        let instance = match getrandom::fill(&mut random) {
            Ok(()) => random.iter().map(|b| format!("{b:02x}")).collect(),
            // Without randomness: the process and the clock still tell servers apart.
            Err(_) => {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
                format!("{:x}{:x}", std::process::id(), now.map_or(0, |d| d.as_nanos()))
            }
        };
        Hub { instance, clients: Mutex::new(Clients::default()) }
    }
}

impl Hub {
    /// A hub with no streams, for a new server instance.
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    fn lock(&self) -> MutexGuard<'_, Clients> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn id(&self, reloads: u64) -> String {
        format!("{}-{reloads}", self.instance)
    }

    /// The id of the build being served: stamp a page with it while the site is locked for
    /// the response (a rebuild bumps it only after publishing).
    pub fn build_id(&self) -> String {
        self.id(self.lock().reloads)
    }

    /// Sends `message` to every open stream, dropping those that went away.
    pub fn broadcast(&self, message: &str) {
        self.lock().broadcast(message);
    }

    /// After a good build has been published: a new build id, and pages reload (or swap
    /// styles, then open their stream again with the new id).
    pub fn reload(&self, css_only: bool, changed: &str) {
        let mut clients = self.lock();
        clients.reloads += 1;
        clients.current_error = None;
        let build = self.id(clients.reloads);
        let events = format!("{EVENTS}?build={build}");
        clients.broadcast(&event("reload", &json!({"css_only": css_only, "changed": changed, "events": events})));
    }

    /// After a failed build: pages show the overlay.
    pub fn error(&self, error: &BuildError) {
        let message = event("build-error", &json!({"errors": error_items(error), "text": error.to_string()}));
        let mut clients = self.lock();
        clients.current_error = Some(message.clone());
        clients.broadcast(&message);
    }

    /// Registers a stream for a page stamped `build` (None: a client that sent no id);
    /// None when too many are open. Its first message: a reload when the page is older than
    /// the current build, else the current error or `hello`.
    fn subscribe(&self, build: Option<&str>) -> Option<Receiver<String>> {
        let mut clients = self.lock();
        clients.streams.retain(|c| !matches!(c.try_send(": ping\n\n".to_string()), Err(TrySendError::Disconnected(_))));
        if clients.streams.len() >= MAX_CLIENTS {
            return None;
        }
        let (tx, rx) = sync_channel(QUEUE);
        let current = self.id(clients.reloads);
        let first = match (build, &clients.current_error) {
            (Some(b), _) if b != current => event(
                "reload",
                &json!({"css_only": false, "changed": "the site, since this page loaded", "events": format!("{EVENTS}?build={current}")}),
            ),
            (_, Some(error)) => error.clone(),
            (_, None) => event("hello", &json!({"ok": true, "build": current})),
        };
        let _ = tx.try_send(first);
        clients.streams.push(tx);
        Some(rx)
    }

    /// How many event streams are open.
    pub fn client_count(&self) -> usize {
        self.lock().streams.len()
    }

    /// Serves one event stream for the request `target` (`/__cohort/events?build=ID`) on
    /// `writer` until the client goes away; answers 503 when too many are open. Runs on its
    /// own thread.
    pub fn stream(&self, target: &str, mut writer: Box<dyn Write + Send>) {
        let build = target
            .split_once('?')
            .and_then(|(_, query)| query.split('&').find_map(|kv| kv.strip_prefix("build=")))
            .filter(|b| b.len() <= 64);
        let Some(rx) = self.subscribe(build) else {
            let _ = writer.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 25\r\nConnection: close\r\n\r\ntoo many live-reload tabs",
            );
            let _ = writer.flush();
            return;
        };
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n\r\nretry: 1000\n\n";
        if writer.write_all(head.as_bytes()).and_then(|()| writer.flush()).is_err() {
            return;
        }
        loop {
            let message = match rx.recv_timeout(Duration::from_secs(15)) {
                Ok(m) => m,
                // A comment line keeps proxies from closing the stream and finds dead clients.
                Err(RecvTimeoutError::Timeout) => ": keep-alive\n\n".to_string(),
                Err(RecvTimeoutError::Disconnected) => return,
            };
            if writer.write_all(message.as_bytes()).and_then(|()| writer.flush()).is_err() {
                return;
            }
        }
    }
}

/// Adds [`script_tag`] for the page's `build` before the last `</body>` (or at the end
/// when there is none).
pub fn inject(html: &[u8], build: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(html);
    let at = text.rfind("</body>").unwrap_or(text.len());
    let tag = script_tag(build);
    let mut out = String::with_capacity(text.len() + tag.len());
    out.push_str(&text[..at]);
    out.push_str(&tag);
    out.push_str(&text[at..]);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_error_item_carries_its_place() {
        use crate::render::{RenderError, RenderErrorKind};
        use crate::theme::engine::TemplateError;
        let error = TemplateError::new(Some("product.html".into()), "unknown filter").at("a\nb {{ x|nope }}", 6);
        let kind = RenderErrorKind::Template { file: "templates/product.html".into(), error };
        let items = error_items(&BuildError::Render(vec![RenderError::new(kind).on_page("products/x/", "")]));
        assert_eq!(items[0]["file"], "templates/product.html");
        assert_eq!((items[0]["line"].as_u64(), items[0]["column"].as_u64()), (Some(2), Some(5)));
        assert_eq!(items[0]["message"], "unknown filter (while rendering /products/x/)");
    }

    fn first_message(hub: &Hub, build: Option<&str>) -> String {
        hub.subscribe(build).and_then(|rx| rx.try_recv().ok()).unwrap_or_default()
    }

    #[test]
    fn a_stream_for_an_older_build_starts_with_a_reload() {
        let hub = Hub::default();
        let loaded = hub.build_id();
        assert!(first_message(&hub, Some(&loaded)).starts_with("event: hello\n"));
        let open = hub.subscribe(Some(&loaded)).expect("a stream");
        hub.reload(false, "products/a.md");
        // The open stream gets the reload; a page loaded before it, connecting only now,
        // gets one too, with the stream address of the current build.
        assert!(open.try_iter().any(|m| m.starts_with("event: reload\n")));
        let late = first_message(&hub, Some(&loaded));
        assert!(late.starts_with("event: reload\n"), "{late}");
        assert!(late.contains(&format!("?build={}", hub.build_id())), "{late}");
        assert!(first_message(&hub, Some(&hub.build_id())).starts_with("event: hello\n"));
        // A page another server instance served reloads too; a client without an id does not.
        let other = Hub::default().build_id();
        assert!(first_message(&hub, Some(&other)).starts_with("event: reload\n"));
        assert!(first_message(&hub, None).starts_with("event: hello\n"));
        // An error is what a current page starts with.
        hub.error(&BuildError::io("cannot write", "public", std::io::Error::other("disk full")));
        assert!(first_message(&hub, Some(&hub.build_id())).starts_with("event: build-error\n"));
    }

    #[test]
    fn injects_before_body_end() {
        assert_eq!(
            inject(b"<p>x</p></body></html>", "ab-3"),
            b"<p>x</p><script src=\"/__cohort/livereload.js\" data-events=\"/__cohort/events?build=ab-3\" defer></script></body></html>"
        );
    }
}
