//! Live reload: the browser side script (served at `/__cohort/livereload.js`, injected
//! as an external script so the site's Content-Security-Policy needs no change) and the
//! server-sent events hub at `/__cohort/events` that tells every open page about each
//! rebuild, or about the error that stopped it (file, line, column, message) so the script
//! can show an overlay until the next good build.

use crate::build::BuildError;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The tag added before `</body>` of every HTML page served in serve mode.
pub const SCRIPT_TAG: &str = "<script src=\"/__cohort/livereload.js\" defer></script>";

/// Most event-stream connections held open at once; more get 503.
pub const MAX_CLIENTS: usize = 32;

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
        BuildError::Io(e) => vec![json!({"file": "", "line": 0, "column": 0, "message": e, "text": e})],
    }
}

/// An SSE message: `event: NAME` and one `data:` line of JSON.
pub fn event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// Open event streams and the state a new one starts with.
#[derive(Default)]
pub struct Hub {
    clients: Mutex<Vec<SyncSender<String>>>,
    /// The message describing the current state (an error, or none).
    current_error: Mutex<Option<String>>,
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    /// Sends `message` to every open stream, dropping those that went away.
    pub fn broadcast(&self, message: &str) {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients.retain(|c| match c.try_send(message.to_string()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => true,
            Err(TrySendError::Disconnected(_)) => false,
        });
    }

    /// After a good build: tell pages to reload (or swap styles).
    pub fn reload(&self, css_only: bool, changed: &str) {
        *self.current_error.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.broadcast(&event("reload", &json!({"css_only": css_only, "changed": changed})));
    }

    /// After a failed build: pages show the overlay.
    pub fn error(&self, error: &BuildError) {
        let message = event("build-error", &json!({"errors": error_items(error), "text": error.to_string()}));
        *self.current_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(message.clone());
        self.broadcast(&message);
    }

    /// Registers a stream; None when too many are open.
    fn subscribe(&self) -> Option<Receiver<String>> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients.retain(|c| !matches!(c.try_send(": ping\n\n".to_string()), Err(TrySendError::Disconnected(_))));
        if clients.len() >= MAX_CLIENTS {
            return None;
        }
        let (tx, rx) = sync_channel(64);
        let first = self.current_error.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let _ = tx.try_send(first.unwrap_or_else(|| event("hello", &json!({"ok": true}))));
        clients.push(tx);
        Some(rx)
    }

    pub fn client_count(&self) -> usize {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Serves one event stream on `writer` until the client goes away; answers 503 when
    /// too many are open. Runs on its own thread.
    pub fn stream(&self, mut writer: Box<dyn Write + Send>) {
        let Some(rx) = self.subscribe() else {
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

/// Adds [`SCRIPT_TAG`] before the last `</body>` (or at the end when there is none).
pub fn inject(html: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(html);
    let at = text.rfind("</body>").unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + SCRIPT_TAG.len());
    out.push_str(&text[..at]);
    out.push_str(SCRIPT_TAG);
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

    #[test]
    fn injects_before_body_end() {
        assert_eq!(inject(b"<p>x</p></body></html>"), format!("<p>x</p>{SCRIPT_TAG}</body></html>").into_bytes());
    }
}
