//! A small, strict HTTP/1.1 server-side connection, shared by `cohort consent-server` and
//! `cohort serve`: reads one request head and body at a time, with hard bounds on size and
//! time, and writes complete responses.
//!
//! Why not tiny_http (0.12): it exposes no read timeout on the accepted socket, reads header
//! lines without a length bound, and when a request with a large `Content-Length` is dropped
//! unread it drains the body by allocating a buffer of the *declared* size
//! (`vec![0; remaining]`), which a single request turns into an abort. Both servers need only
//! small Content-Length bodies, so this reader is short: a head of at most [`MAX_HEAD`] bytes
//! read before a deadline (else 431 or 408), a body of at most `max_body` bytes read before a
//! deadline (a larger declared body is refused unread and the connection closed),
//! keep-alive and pipelining, `Expect: 100-continue`, and nothing else (`Transfer-Encoding`
//! is refused with 411).

use super::pool::Ticket;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 8 * 1024;
/// Most headers a request may have.
const MAX_HEADERS: usize = 64;

/// How long a client may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Waiting for the first byte of the next request on a kept-alive connection.
    pub idle: Duration,
    /// From the first byte of a request to the end of its body.
    pub request: Duration,
    /// Writing a response.
    pub write: Duration,
}

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct Head {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request target in origin form (`/path?query`).
    pub target: String,
    /// Whether the request is HTTP/1.0.
    pub http10: bool,
    /// (name, value) in the order sent; values trimmed.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn wants_close(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let tokens: Vec<&str> = conn.split(',').map(str::trim).collect();
        if self.http10 { !tokens.contains(&"keep-alive") } else { tokens.contains(&"close") }
    }
}

/// A request refused below the application: the status, a short machine-readable code and a
/// sentence for people. Each server renders it in its own format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// A short machine-readable code.
    pub code: &'static str,
    /// A sentence for people.
    pub message: &'static str,
}

/// What reading the next request gave.
#[derive(Debug)]
pub enum Incoming {
    /// A request; `body` is `None` when the declared body is over the connection's
    /// `max_body` (left unread; the connection must then close).
    Request {
        /// The request line and headers.
        head: Head,
        /// The body, None when over `max_body`.
        body: Option<Vec<u8>>,
        /// Whether the connection stays open after the response.
        keep_alive: bool,
    },
    /// The client closed the connection or stayed idle too long between requests.
    Closed,
    /// The request cannot be served; answer this and close the connection.
    Refused(Refusal),
}

/// One client connection and the bytes already read from it.
pub struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
    timeouts: Timeouts,
    max_body: usize,
    /// Tells the connection pool when this connection waits for its client (and may be
    /// closed to make room) and when it is being answered.
    ticket: Option<Ticket>,
}

enum Fill {
    Data,
    Eof,
    TimedOut,
}

fn refuse(status: u16, code: &'static str, message: &'static str) -> Incoming {
    Incoming::Refused(Refusal { status, code, message })
}

impl Connection {
    /// A connection reading bodies of at most `max_body` bytes; `ticket` is its place in a
    /// [`super::pool::Pool`], if any.
    pub fn new(stream: TcpStream, timeouts: Timeouts, max_body: usize, ticket: Option<Ticket>) -> Connection {
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(timeouts.write));
        Connection { stream, buf: Vec::with_capacity(1024), timeouts, max_body, ticket }
    }

    /// The client's socket.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    fn fill(&mut self, deadline: Instant) -> io::Result<Fill> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Fill::TimedOut);
        }
        self.stream.set_read_timeout(Some(left))?;
        let mut chunk = [0u8; 4096];
        loop {
            return match self.stream.read(&mut chunk) {
                Ok(0) => Ok(Fill::Eof),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    Ok(Fill::Data)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => Ok(Fill::TimedOut),
                Err(e) => Err(e),
            };
        }
    }

    /// Reads the next request, within the size and time bounds. While it waits for the
    /// client the pool may close the connection to make room (it then reads as closed).
    pub fn next_request(&mut self) -> Incoming {
        if let Some(ticket) = &self.ticket {
            ticket.waiting();
        }
        let incoming = self.read_request();
        if let Some(ticket) = &self.ticket {
            ticket.busy();
        }
        incoming
    }

    fn read_request(&mut self) -> Incoming {
        let idle_deadline = Instant::now() + self.timeouts.idle;
        let mut request_deadline: Option<Instant> = None;
        let head_end = loop {
            if let Some(end) = find_head_end(&self.buf) {
                break end;
            }
            if self.buf.len() > MAX_HEAD {
                return refuse(431, "headers_too_large", "The request head is over 8 KiB.");
            }
            if !self.buf.is_empty() && request_deadline.is_none() {
                request_deadline = Some(Instant::now() + self.timeouts.request);
            }
            let deadline = request_deadline.unwrap_or(idle_deadline);
            match self.fill(deadline) {
                Ok(Fill::Data) => {}
                Ok(Fill::Eof) | Err(_) if self.buf.is_empty() => return Incoming::Closed,
                Ok(Fill::TimedOut) if self.buf.is_empty() => return Incoming::Closed,
                Ok(Fill::TimedOut) => {
                    return refuse(408, "request_timeout", "The request was not sent in time.");
                }
                Ok(Fill::Eof) | Err(_) => return Incoming::Closed,
            }
        };
        let request_deadline = request_deadline.unwrap_or(Instant::now() + self.timeouts.request);
        if head_end > MAX_HEAD {
            return refuse(431, "headers_too_large", "The request head is over 8 KiB.");
        }
        let head_bytes: Vec<u8> = self.buf.drain(..head_end).collect();
        let head = match parse_head(&head_bytes) {
            Ok(head) => head,
            Err(message) => return refuse(400, "bad_request", message),
        };
        if head.header("transfer-encoding").is_some() {
            return refuse(
                411,
                "length_required",
                "Transfer-Encoding is not accepted; send the body with a Content-Length.",
            );
        }
        let mut lengths =
            head.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim());
        let length = match lengths.next() {
            None => 0,
            Some(v) => {
                if lengths.any(|other| other != v) {
                    return refuse(400, "bad_request", "Conflicting Content-Length headers.");
                }
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return refuse(400, "bad_request", "Content-Length is not a number.");
                }
                // Any number of digits: a huge value is simply "too large".
                v.parse::<u64>().unwrap_or(u64::MAX)
            }
        };
        let mut keep_alive = !head.wants_close();
        if length > self.max_body as u64 {
            // Refused unread: the connection cannot be reused.
            keep_alive = false;
            return Incoming::Request { head, body: None, keep_alive };
        }
        let length = length as usize;
        if length > self.buf.len()
            && head.header("expect").is_some_and(|e| e.trim().eq_ignore_ascii_case("100-continue"))
        {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        while self.buf.len() < length {
            match self.fill(request_deadline) {
                Ok(Fill::Data) => {}
                Ok(Fill::TimedOut) => {
                    return refuse(408, "request_timeout", "The body was not sent in time.");
                }
                Ok(Fill::Eof) | Err(_) => return Incoming::Closed,
            }
        }
        let body: Vec<u8> = self.buf.drain(..length).collect();
        Incoming::Request { head, body: Some(body), keep_alive }
    }

    /// Before closing a connection whose request was not read to the end: stop writing, then
    /// read and discard what the client is still sending (at most 1 MiB, for at most one
    /// second), so the kernel does not answer the unread bytes with a reset that could destroy
    /// the response before the client reads it.
    /// Meanwhile the connection counts as waiting: the pool may close it to make room.
    pub fn linger(&mut self) {
        if let Some(ticket) = &self.ticket {
            ticket.waiting();
        }
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut discarded = 0usize;
        let mut chunk = [0u8; 8192];
        while discarded < (1 << 20) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                return;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => discarded += n,
            }
        }
    }

    /// Writes a complete response; `close` adds `Connection: close`; `head_only` (for HEAD)
    /// sends the head with the body's length but not the body.
    pub fn respond<'a>(
        &mut self,
        status: u16,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
        body: &[u8],
        close: bool,
        head_only: bool,
    ) -> io::Result<()> {
        let mut out = Vec::with_capacity(256 + body.len());
        out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", status, reason(status)).as_bytes());
        for (name, value) in headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if status != 204 {
            out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        if close {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !head_only && status != 204 {
            out.extend_from_slice(body);
        }
        self.stream.write_all(&out)?;
        self.stream.flush()
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses a head (request line and headers, ending with an empty line) with `httparse`,
/// and adds what these servers require on top: CRLF line ends, an origin-form target,
/// header values without control characters, at most 64 headers.
pub fn parse_head(bytes: &[u8]) -> Result<Head, &'static str> {
    if bytes.contains(&0) {
        return Err("NUL byte in the request head.");
    }
    if !bytes.ends_with(b"\r\n\r\n") {
        return Err("Unterminated request head.");
    }
    // httparse also takes a bare LF as a line end; these servers do not.
    if bytes.iter().enumerate().any(|(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r')) {
        return Err("Header lines must end with CRLF.");
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut slots);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err("Unterminated request head."),
        Err(httparse::Error::TooManyHeaders) => return Err("Too many headers."),
        Err(httparse::Error::Version) => return Err("Only HTTP/1.0 and HTTP/1.1 are spoken here."),
        Err(httparse::Error::HeaderName) => return Err("Malformed header name."),
        Err(httparse::Error::HeaderValue) => return Err("Control character in a header value."),
        Err(httparse::Error::Token) => return Err("Malformed method."),
        Err(_) => return Err("Malformed request line."),
    }
    let (Some(method), Some(target), Some(version)) = (request.method, request.path, request.version) else {
        return Err("Malformed request line.");
    };
    if !is_token(method) {
        return Err("Malformed method.");
    }
    // Origin form only (`/path?query`): absolute form is for proxies, which these are not.
    if !target.starts_with('/') || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("Malformed request target.");
    }
    let mut headers = Vec::with_capacity(request.headers.len());
    for header in request.headers.iter() {
        if !is_token(header.name) {
            return Err("Malformed header name.");
        }
        let value = String::from_utf8_lossy(header.value).trim().to_string();
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err("Control character in a header value.");
        }
        headers.push((header.name.to_string(), value));
    }
    Ok(Head { method: method.to_string(), target: target.to_string(), http10: version == 0, headers })
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::parse_head;

    #[test]
    fn heads() {
        let h = parse_head(b"GET /v1/stats HTTP/1.1\r\nHost: x\r\nOrigin:  https://a.example \r\n\r\n").unwrap();
        assert_eq!(h.method, "GET");
        assert_eq!(h.header("origin"), Some("https://a.example"));
        for bad in [
            &b"GET /x HTTP/2\r\n\r\n"[..],
            b"GET x HTTP/1.1\r\n\r\n",
            b"GET http://h/x HTTP/1.1\r\n\r\n",
            b"GET * HTTP/1.1\r\n\r\n",
            b"GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n",
            b"GET /x HTTP/1.1\r\nA: \0\r\n\r\n",
            b"GET  /x HTTP/1.1\r\n\r\n",
            b"GET /x HTTP/1.1\r\n folded\r\n\r\n",
            b"GET /x HTTP/1.1\nHost: x\r\n\r\n",
            b"GET /x HTTP/1.1\r\nA: b\x01c\r\n\r\n",
        ] {
            assert!(parse_head(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let many: String = (0..=super::MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(parse_head(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()).err(), Some("Too many headers."));
        let h = parse_head(b"POST /a?b=1 HTTP/1.0\r\nContent-Length: 2\r\n\r\n").unwrap();
        assert!(h.http10);
        assert_eq!((h.method.as_str(), h.target.as_str()), ("POST", "/a?b=1"));
    }
}
