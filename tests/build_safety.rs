//! What a build must survive besides bad content (issue 14, items 5 to 11 and 15): a rebuild
//! never leaves a moment without output, an empty catalog never replaces a live shop
//! unasked, a closed pipe ends the process quietly, a huge value or page is cut or refused,
//! and only `cohort build` writes consent records into the sources.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// Item 6: zero products never replace a built site unless `--allow-empty` says so.
#[test]
fn an_empty_catalog_does_not_replace_a_live_shop_unasked() {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let before = tree(&out);
    std::fs::remove_dir_all(shop.path().join("products")).unwrap();
    let (code, _, stderr) = run(&["build", "--root", s(shop.path())]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no products") && stderr.contains("--allow-empty"), "says why and how: {stderr}");
    assert_eq!(tree(&out), before, "the live shop is untouched");
    // An empty products/ folder is the same.
    std::fs::create_dir(shop.path().join("products")).unwrap();
    let (code, _, stderr) = run(&["build", "--root", s(shop.path())]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(tree(&out), before);
    // Asked for, it is done.
    let (code, _, stderr) = run(&["build", "--root", s(shop.path()), "--allow-empty"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!out.join("products/chef-knife/index.html").exists(), "the empty shop replaced the old one");
    // Once emptied on purpose, the empty shop rebuilds without the flag.
    let (code, _, stderr) = run(&["build", "--root", s(shop.path())]);
    assert_eq!(code, 0, "{stderr}");
    // A first build of an empty shop has nothing to protect.
    let fresh = shop.path().join("fresh");
    let (code, _, stderr) = run(&["build", "--root", s(shop.path()), "-o", s(&fresh)]);
    assert_eq!(code, 0, "{stderr}");
}

/// Item 7: every command whose stdout or stderr is closed ends quietly, like `ls | head`:
/// killed by SIGPIPE (status 141 in a shell) or exit 0, never the panic status 101.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let shop = copy_fixture("basic");
    let root = s(shop.path());
    let orders = shop.path().join("orders.csv");
    let mut csv = String::from("order_id,sku\n");
    for o in 0..40 {
        csv.push_str(&format!("{o},KN-200\n{o},MG-001\n"));
    }
    std::fs::write(&orders, csv).unwrap();
    let agg_out = shop.path().join("agg.toml");
    let new_shop = shop.path().join("new-shop");
    let commands: Vec<Vec<&str>> = vec![
        vec!["build", "--root", root],
        vec!["check", "--root", root],
        vec!["hosting", "--target", "nginx", "--root", root],
        vec!["aggregate", "--orders", s(&orders), "--output", s(&agg_out)],
        vec!["--help"],
        vec!["build", "--no-such-flag"],
        vec!["init", s(&new_shop)],
        // Prints once its first build is done; would serve forever if the print went by.
        vec!["serve", "--root", root, "-p", "0"],
    ];
    for args in &commands {
        // Both ends closed before the child writes a byte: every write fails with EPIPE.
        let mut child = Command::new(env!("CARGO_BIN_EXE_cohort"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cohort runs");
        drop(child.stdout.take());
        drop(child.stderr.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().expect("cohort runs") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`cohort {}` did not end within 60 s on a closed pipe", args.join(" "));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let quiet = status.signal() == Some(libc_sigpipe()) || matches!(status.code(), Some(0..=2));
        assert!(quiet, "`cohort {}` on a closed pipe ended with {status:?} (101 is a panic)", args.join(" "));
    }
}

#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}

/// Item 8: a 1 MiB value is cut in the message and in the excerpt, with its length shown.
#[test]
fn a_huge_value_is_cut_in_messages() {
    let shop = copy_fixture("basic");
    let file = shop.path().join("products/chef-knife.md");
    let huge = "a".repeat(1 << 20);
    let text = read(&file).replace("availability = \"preorder\"", &format!("availability = \"{huge}\""));
    std::fs::write(&file, text).unwrap();
    let (code, _, stderr) = run(&["build", "--root", s(shop.path())]);
    assert_eq!(code, 1);
    assert!(stderr.len() < 4096, "stderr is {} bytes:\n{}", stderr.len(), &stderr[..stderr.len().min(600)]);
    assert!(stderr.contains("chef-knife.md:7") && stderr.contains("unknown availability"), "{stderr}");
    assert!(stderr.contains("1048576 bytes"), "the length is shown: {stderr}");
    assert!(stderr.contains("in_stock, out_of_stock, preorder"), "the hint survives: {stderr}");
    let (code, stdout, stderr) = run(&["check", "--root", s(shop.path())]);
    assert_eq!(code, 1);
    assert!(stdout.len() + stderr.len() < 4096, "check printed {} bytes", stdout.len() + stderr.len());
    assert!(stdout.contains("1048576 bytes"), "{stdout}");
}

/// Item 9: a template that blows a page up is refused with the template and page named,
/// without writing gigabytes.
#[test]
fn a_page_that_renders_too_large_is_refused() {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let before = tree(&out);
    std::fs::create_dir_all(shop.path().join("templates")).unwrap();
    std::fs::write(
        shop.path().join("templates/product.html"),
        "{% extends \"base.html\" %}{% block content %}{{ \"a\" * 20000000 }}{% endblock %}",
    )
    .unwrap();
    let (code, _, stderr) = run(&["build", "--root", s(shop.path())]);
    assert_eq!(code, 1, "{}", &stderr[..stderr.len().min(2000)]);
    assert!(stderr.len() < 16 * 1024, "stderr is {} bytes", stderr.len());
    assert!(stderr.contains("product.html"), "names the template: {stderr}");
    assert!(stderr.contains("/products/"), "names the page: {stderr}");
    assert!(stderr.contains("MiB"), "says the limit: {stderr}");
    assert_eq!(tree(&out), before, "the previous output stays");
    // A value far larger still is stopped by the engine's fuel before it is allocated.
    std::fs::write(
        shop.path().join("templates/product.html"),
        "{% extends \"base.html\" %}{% block content %}{{ \"a\" * 100000000 }}{% endblock %}",
    )
    .unwrap();
    let (code, _, stderr) = run(&["build", "--root", s(shop.path())]);
    assert_eq!(code, 1, "{}", &stderr[..stderr.len().min(2000)]);
    assert!(stderr.contains("product.html:1") && stderr.contains("/products/"), "{stderr}");
    assert!(stderr.contains("multiplied"), "says what to look for: {stderr}");
    assert_eq!(tree(&out), before, "the previous output stays");
}

/// Item 11: `check` and `hosting` write nothing into the sources; `build` writes the
/// consent record.
#[test]
fn only_build_writes_consent_records() {
    let shop = copy_fixture("basic");
    let records = shop.path().join("consent-records");
    let (_, _, stderr) = run(&["check", "--root", s(shop.path())]);
    assert!(!records.exists(), "check wrote {}: {stderr}", records.display());
    let (code, _, stderr) = run(&["hosting", "--target", "caddy", "--root", s(shop.path())]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!records.exists(), "hosting wrote {}", records.display());
    {
        // Serving builds the whole site before it prints its address.
        let mut served = cohort()
            .args(["serve", "--root", s(shop.path()), "-p", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cohort serve starts");
        let stdout = served.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            let _ = tx.send(line);
        });
        let first = rx.recv_timeout(std::time::Duration::from_secs(60));
        let _ = served.kill();
        let _ = served.wait();
        assert!(first.is_ok_and(|l| l.starts_with("Serving on")), "serve printed no address");
        assert!(!records.exists(), "serve wrote {}", records.display());
    }
    let tmp = tempfile::tempdir().unwrap();
    build_ok(shop.path(), &tmp.path().join("site"));
    let written: Vec<_> = std::fs::read_dir(records.join("ui")).expect("build writes the record").collect();
    assert_eq!(written.len(), 1);
}

/// Item 15: an unquoted decimal-comma price gets the money hint; a `--root` without
/// shop.toml names the folder and says what to do.
#[test]
fn an_unquoted_comma_price_and_a_wrong_root_get_hints() {
    let shop = copy_fixture("basic");
    let file = shop.path().join("products/chef-knife.md");
    std::fs::write(&file, read(&file).replace("price = \"79.00\"", "price = 12,50")).unwrap();
    let (code, _, stderr) = run(&["build", "--root", s(shop.path())]);
    assert_eq!(code, 1);
    assert!(stderr.contains("chef-knife.md:4"), "{stderr}");
    assert!(stderr.contains("price = \"12.50\""), "the money hint: {stderr}");

    let empty = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&["build", "--root", s(empty.path())]);
    assert_eq!(code, 1);
    assert!(stderr.contains(s(empty.path())), "names the folder: {stderr}");
    assert!(stderr.contains("cohort init") && stderr.contains("--root"), "says what to do: {stderr}");
}

/// Item 5: a rebuild swaps the new output in with no moment in which the output folder (or a
/// page in it) is missing: a reader that stats `public/index.html` in a loop while the shop
/// is rebuilt many times never sees it gone. The replaced tree is still kept and recycled.
#[test]
fn a_rebuild_never_leaves_a_moment_without_output() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let index = out.join("index.html");
    let stop = Arc::new(AtomicBool::new(false));
    let (misses, looks) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let watcher = {
        let (stop, misses, looks, index) = (stop.clone(), misses.clone(), looks.clone(), index.clone());
        std::thread::spawn(move || {
            // Bounded: the test stops it, and it gives up by itself after two minutes.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
                if std::fs::metadata(&index).is_err() {
                    misses.fetch_add(1, Ordering::Relaxed);
                }
                looks.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let chef = shop.path().join("products/chef-knife.md");
    let original = read(&chef);
    for i in 0..40 {
        // Every other build changes a page, so both the recycled and the kept tree turn over.
        let text =
            if i % 2 == 0 { original.replace("Chef's Knife", &format!("Chef's Knife {i}")) } else { original.clone() };
        std::fs::write(&chef, text).unwrap();
        build_ok(shop.path(), &out);
    }
    stop.store(true, Ordering::Relaxed);
    watcher.join().expect("the watcher ends");
    let (misses, looks) = (misses.load(Ordering::Relaxed), looks.load(Ordering::Relaxed));
    assert!(looks > 1000, "the watcher looked only {looks} times");
    assert_eq!(misses, 0, "public/index.html was missing {misses} times in {looks} looks during 40 rebuilds");
    assert!(shop.path().join(".public.cohort-old/index.html").exists(), "the replaced output is kept");
    assert!(!shop.path().join(".public.cohort-tmp").exists(), "no staging folder is left");
    assert_eq!(tree(&out), {
        let fresh = tempfile::tempdir().unwrap();
        build_ok(shop.path(), &fresh.path().join("site"));
        tree(&fresh.path().join("site"))
    });
}

/// Item 5: a build killed at any moment leaves a complete output (the old one or the new
/// one), and the next build recovers from whatever it left beside it.
#[cfg(unix)]
#[test]
fn a_build_killed_at_any_moment_leaves_a_complete_output() {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let start = std::time::Instant::now();
    build_ok(shop.path(), &out);
    let took = start.elapsed().as_micros().max(1000) as u64;
    let chef = shop.path().join("products/chef-knife.md");
    let original = read(&chef);
    for i in 0..24u64 {
        std::fs::write(&chef, original.replace("Chef's Knife", &format!("Chef's Knife {i}"))).unwrap();
        let mut child = cohort()
            .args(["build", "--root", s(shop.path())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cohort runs");
        // Spread the kills over the whole build, the swap at its end included.
        std::thread::sleep(std::time::Duration::from_micros(took * (i % 12 + 1) / 10));
        let _ = child.kill();
        let _ = child.wait();
        assert!(out.join("index.html").is_file(), "a kill after {i} left no output");
        assert!(out.join("products/chef-knife/index.html").is_file(), "a kill after {i} left half an output");
    }
    build_ok(shop.path(), &out);
    let fresh = tempfile::tempdir().unwrap();
    build_ok(shop.path(), &fresh.path().join("site"));
    assert_eq!(tree(&out), tree(&fresh.path().join("site")), "the next build recovered");
}

/// Item 7, the consent server: a closed stdout and stderr do not stop it (its log lines are
/// dropped), and SIGTERM still ends it cleanly (exit 0, not killed by SIGPIPE).
#[cfg(unix)]
#[test]
fn the_consent_server_keeps_serving_with_closed_pipes() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bind = format!("127.0.0.1:{port}");
    let db = dir.path().join("consent.db");
    let mut child = cohort()
        .args(["consent-server", "--db", s(&db), "--bind", &bind, "--allow-origin", "https://shop.example"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cohort runs");
    drop(child.stdout.take());
    drop(child.stderr.take());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answer = loop {
        if let Ok(mut conn) = std::net::TcpStream::connect(&bind) {
            conn.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
            conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut text = String::new();
            let _ = conn.read_to_string(&mut text);
            break text;
        }
        assert!(child.try_wait().unwrap().is_none(), "the server ended on a closed pipe");
        assert!(std::time::Instant::now() < deadline, "the server never listened");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not stop on SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}
