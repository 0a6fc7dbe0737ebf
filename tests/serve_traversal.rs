//! No way out of the site folder: hostile request targets sent raw over TcpStream (so no
//! client normalizes them) get 403 or 404, and never the bytes of a file outside the site,
//! including through a symlink in `static/` that points outside the shop.

mod serve_support;
use serve_support::*;

#[test]
fn hostile_paths_get_403_or_404_and_never_a_file_outside() {
    let outside = tempfile::tempdir().unwrap();
    let secret = "TOP-SECRET-4711";
    std::fs::write(outside.path().join("secret.txt"), secret).unwrap();
    let shop = basic_shop();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), shop.path().join("static/leak.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), shop.path().join("static/outside")).unwrap();
    let s = start(shop.path());
    let targets: Vec<String> = vec![
        "/../../../../etc/passwd".into(),
        "/..".into(),
        "/products/../../etc/passwd".into(),
        "/%2e%2e/%2e%2e/etc/passwd".into(),
        "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd".into(),
        "/..%2f..%2fetc%2fpasswd".into(),
        "/%252e%252e/etc/passwd".into(),
        "/..\\..\\etc\\passwd".into(),
        "/%5c..%5c..%5cetc%5cpasswd".into(),
        "/index.html%00.png".into(),
        "/%00".into(),
        "/.%2e/shop.toml".into(),
        "/./shop.toml".into(),
        "/shop.toml".into(),
        "/products/chef-knife.md".into(),
        "/leak.txt".into(),
        "/outside/secret.txt".into(),
        format!("/{}", "a/".repeat(2000)),
        format!("/{}", "%2e%2e/".repeat(50)),
        "/%c0%ae%c0%ae/etc/passwd".into(),
        "//etc/passwd".into(),
        "/__cohort/raw/../shop.toml".into(),
        "/__cohort/raw/%2e%2e/shop.toml".into(),
        "/__cohort/raw/leak.txt".into(),
        "http://127.0.0.1/../etc/passwd".into(),
        "/C:/Windows/win.ini".into(),
    ];
    assert!(targets.len() >= 15);
    for target in &targets {
        let req = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let r = raw(s.port, req.as_bytes());
        assert!(r.status == 403 || r.status == 404, "{target} got {}", r.status);
        let body = r.text();
        assert!(!body.contains(secret), "{target} leaked the secret");
        assert!(!body.contains("root:x:0"), "{target} served /etc/passwd");
        assert!(!body.contains("[[cohorts]]"), "{target} served shop.toml");
    }
    // A NUL byte in the request line itself.
    let r = raw(s.port, b"GET /index.html\0/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(matches!(r.status, 400 | 403 | 404), "NUL got {}", r.status);
    // The site itself still answers.
    assert_eq!(s.get("/").status, 200);
}
