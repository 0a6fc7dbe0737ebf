//! `cohort serve` under hostile clients (issue 14, item 1): the development server has the
//! limits of the consent server, from the connection layer both share. A huge declared
//! body is refused with 413 without being read (it used to abort the process), requests
//! whose body never comes hold only their own connection and end with 408 (four of them used
//! to block every worker), an endless header line is cut off with 431 (it used to be
//! buffered whole), idle connections beyond the cap do not keep others out, and a bind
//! address that cannot be used is a usage error.

mod serve_support;
use serve_support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    s
}

/// Reads until the status line is complete and returns the status.
fn status_of(stream: &mut TcpStream) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf).split(' ').nth(1)?.parse().ok()
}

/// Sends `request` and reads until the server closes the connection; the status, if any.
fn status_until_close(port: u16, request: &[u8]) -> Option<u16> {
    let mut c = connect(port);
    c.write_all(request).ok()?;
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).split(' ').nth(1)?.parse().ok()
}

#[test]
fn a_huge_content_length_gets_413_and_the_server_keeps_serving() {
    let shop = basic_shop();
    let s = start(shop.path());
    for target in ["/v1/consent", "/", "/products/"] {
        let req = format!(
            "POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n"
        );
        // Read to the end: the connection closes (the body is never read), the server stays.
        assert_eq!(status_until_close(s.port, req.as_bytes()), Some(413), "{target}");
        let r = s.get("/");
        assert_eq!(r.status, 200, "after {target}; stderr:\n{}", s.stderr());
    }
    let huge = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n";
    assert_eq!(status_until_close(s.port, huge), Some(413));
    assert_eq!(s.get("/").status, 200, "the server still answers; stderr:\n{}", s.stderr());
}

/// Connections that sent a request head declaring a body of `length` bytes, and one byte.
fn stalled_posts(port: u16, n: usize, length: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut c = connect(port);
            let head = format!(
                "POST /v1/consent HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{"
            );
            c.write_all(head.as_bytes()).expect("write");
            c
        })
        .collect()
}

#[test]
fn bodies_that_never_come_block_nobody() {
    let shop = basic_shop();
    let s = start(shop.path());
    // Bodies under the 4 KiB limit but too long to be read ahead with the head.
    let _stalled = stalled_posts(s.port, 12, 2000);
    // With every stalled request connected, others are answered at once.
    for _ in 0..10 {
        assert_eq!(s.get("/").status, 200);
    }
}

#[test]
fn bodies_that_never_come_end_with_408() {
    let shop = basic_shop();
    let s = start_with(shop.path(), &["--read-timeout", "1"]);
    let mut stalled = stalled_posts(s.port, 6, 2000);
    stalled.extend(stalled_posts(s.port, 6, 100));
    // A head that never ends is cut off the same way.
    let mut partial = connect(s.port);
    partial.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").expect("write");
    stalled.push(partial);
    let started = Instant::now();
    for c in &mut stalled {
        assert_eq!(status_of(c), Some(408));
    }
    assert!(started.elapsed() < Duration::from_secs(10), "408s came after {:?}", started.elapsed());
    assert_eq!(s.get("/").status, 200);
}

#[test]
fn an_endless_header_line_gets_431() {
    let shop = basic_shop();
    let s = start(shop.path());
    let mut c = connect(s.port);
    let mut writer = c.try_clone().expect("clone");
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ");
        let line = vec![b'a'; 64 * 1024];
        // Up to 4 MiB; the server stops reading long before.
        for _ in 0..64 {
            if writer.write_all(&line).is_err() {
                break;
            }
        }
    });
    assert_eq!(status_of(&mut c), Some(431));
    drop(c);
    let _ = sender.join();
    // A head just under the limit is fine.
    let pad = "p".repeat(7000);
    let r = s.get_with("/", &format!("X-Pad: {pad}\r\n"));
    assert_eq!(r.status, 200);
    let r = s.get_with("/", &format!("X-Pad: {pad}\r\nX-More: {pad}\r\n"));
    assert_eq!(r.status, 431);
}

#[test]
fn idle_connections_beyond_the_cap_do_not_keep_requests_out() {
    let shop = basic_shop();
    let s = start(shop.path());
    // The cap of `cohort serve` is 128 connections.
    let idle: Vec<TcpStream> = (0..400).filter_map(|_| TcpStream::connect(("127.0.0.1", s.port)).ok()).collect();
    assert!(idle.len() > 200, "could open only {} connections", idle.len());
    for _ in 0..5 {
        let r = s.get("/");
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // A live-reload stream (a busy connection) survives the idle crowd.
    let events = s.events();
    assert!(events.next_named("hello").is_some());
    let more: Vec<TcpStream> = (0..200).filter_map(|_| TcpStream::connect(("127.0.0.1", s.port)).ok()).collect();
    assert!(!more.is_empty());
    assert_eq!(s.get("/").status, 200);
    drop(idle);
}

#[test]
fn head_requests_get_the_head_only() {
    let shop = basic_shop();
    let s = start(shop.path());
    for target in ["/", "/healthz"] {
        let req = format!("HEAD {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let r = raw(s.port, req.as_bytes());
        assert_eq!(r.status, 200, "HEAD {target}");
        assert!(r.body.is_empty(), "HEAD {target} sent a body");
        let length: usize = r.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        assert_eq!(length, s.get(target).body.len(), "HEAD {target} gives the length of GET");
    }
}

#[test]
fn a_bind_address_that_cannot_be_used_exits_2() {
    let shop = basic_shop();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    for (bind, port) in [("256.0.0.1", "0"), ("not an address", "0"), ("127.0.0.1", port.as_str())] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cohort"))
            .args(["serve", "--root", shop.path().to_str().expect("utf8"), "--bind", bind, "-p", port])
            .output()
            .expect("run cohort");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--bind {bind} -p {port}: {stderr}");
        assert!(stderr.contains("cannot listen on"), "{stderr}");
    }
}
