//! No way out of the site folder: hostile request targets sent raw over TcpStream (so no
//! client normalizes them) get exactly the status the path rules give them (403 for an
//! attempt to leave the site, 404 for what the site does not hold, 400 for what is not a
//! request target), and never the bytes of a file outside the site, including through a
//! symlink in `static/` that points outside the shop. The same server serves the files
//! next to them, so a server refusing everything fails here too.

mod serve_support;
use serve_support::*;

const SECRET: &str = "TOP-SECRET-4711";

fn get_raw(port: u16, target: &str) -> Resp {
    let req = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    raw(port, req.as_bytes())
}

#[test]
fn hostile_paths_get_403_or_404_and_never_a_file_outside() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), SECRET).unwrap();
    let shop = basic_shop();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), shop.path().join("static/leak.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), shop.path().join("static/outside")).unwrap();
    // The links do lead to the secret: a server following them would leak it.
    assert_eq!(std::fs::read_to_string(shop.path().join("static/outside/secret.txt")).unwrap(), SECRET);
    let s = start(shop.path());

    let long_dirs = format!("/{}", "a/".repeat(2000));
    let many_dots = format!("/{}", "%2e%2e/".repeat(50));
    let cases: Vec<(&str, u16)> = vec![
        ("/../../../../etc/passwd", 403),
        ("/..", 403),
        ("/products/../../etc/passwd", 403),
        ("/%2e%2e/%2e%2e/etc/passwd", 403),
        ("/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", 403),
        ("/..%2f..%2fetc%2fpasswd", 403),
        ("/%252e%252e/etc/passwd", 404),
        ("/..\\..\\etc\\passwd", 403),
        ("/%5c..%5c..%5cetc%5cpasswd", 403),
        ("/index.html%00.png", 403),
        ("/%00", 403),
        ("/.%2e/shop.toml", 403),
        ("/./shop.toml", 403),
        ("/shop.toml", 404),
        ("/products/chef-knife.md", 404),
        ("/leak.txt", 404),
        ("/outside/secret.txt", 404),
        (&long_dirs, 404),
        (&many_dots, 403),
        ("/%c0%ae%c0%ae/etc/passwd", 404),
        ("//etc/passwd", 404),
        ("/__cohort/raw/../shop.toml", 403),
        ("/__cohort/raw/%2e%2e/shop.toml", 403),
        ("/__cohort/raw/leak.txt", 404),
        ("/C:/Windows/win.ini", 404),
        // Absolute form is for proxies: not a request target here.
        ("http://127.0.0.1/../etc/passwd", 400),
    ];
    let mut wrong = Vec::new();
    for (target, expected) in &cases {
        let r = get_raw(s.port, target);
        let body = r.text();
        assert!(!body.contains(SECRET), "{target} leaked the secret");
        assert!(!body.contains("root:x:0"), "{target} served /etc/passwd");
        assert!(!body.contains("[[cohorts]]"), "{target} served shop.toml");
        if r.status != *expected {
            wrong.push(format!("{target}: {} (expected {expected})", r.status));
        }
    }
    assert!(wrong.is_empty(), "statuses differ from the path rules:\n{}", wrong.join("\n"));
    // A NUL byte in the request line itself.
    let r = raw(s.port, b"GET /index.html\0/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 400, "NUL in the request line");

    // The neighbours of the refused paths are served: the site, its static files (also
    // percent-encoded and through the raw route), so the refusals above are the path rules.
    // (A source image's own path serves its published copy: resized, without metadata.)
    let png = get_raw(s.port, "/images/mug.png").body;
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "the published PNG");
    for target in ["/images/mug.png", "/images/%6dug.png", "/__cohort/raw/images/mug.png"] {
        let r = get_raw(s.port, target);
        assert_eq!(r.status, 200, "{target}");
        assert_eq!(r.body, png, "{target} serves the published file's bytes");
    }
    let home = get_raw(s.port, "/");
    assert_eq!(home.status, 200);
    assert!(home.text().contains("</html>"));
    assert_eq!(get_raw(s.port, "/products/chef-knife/").status, 200);
}
