//! `cohort init`: the new shop comes with a `.gitignore` for what builds leave behind, a
//! README with its next steps, the `serve` hint, and no consent endpoint (a plain static
//! site), which its preferences and privacy pages say in words.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

fn init(dir: &Path) -> String {
    let (code, stdout, stderr) = run(&["init", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    stdout
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").args(args).current_dir(dir).output().expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn init_prints_serve_as_the_next_step_and_writes_a_readme() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("my-shop");
    let stdout = init(&shop);
    let next = format!("Next: cohort serve --root {}", shop.display());
    assert!(stdout.lines().any(|l| l == next), "a line {next:?} in:\n{stdout}");
    let readme = read(&shop.join("README.md"));
    for step in ["cohort serve --root .", "cohort check --root .", "cohort build --root .", "cohort hosting --target"] {
        assert!(readme.contains(step), "README.md names `{step}`:\n{readme}");
    }
    assert!(!shop.join("gitignore").exists(), "the starter's gitignore is written with its dot");
}

#[test]
fn init_gitignore_keeps_every_build_output_out_of_git() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("my-shop");
    init(&shop);
    let ignore = read(&shop.join(".gitignore"));
    assert!(ignore.lines().any(|l| l == "/public/"), "{ignore}");
    git(&shop, &["init", "-q"]);
    // Two builds: the second keeps the first as `.public.cohort-old` beside the output.
    build_ok(&shop, &shop.join("public"));
    build_ok(&shop, &shop.join("public"));
    assert!(shop.join(".public.cohort-old").is_dir(), "the second build keeps the previous output");
    let status = git(&shop, &["status", "--porcelain", "--untracked-files=all"]);
    let leaked: Vec<&str> = status.lines().filter(|l| l.contains("public")).collect();
    assert!(leaked.is_empty(), "git sees build output: {leaked:?}");
    assert!(
        status.contains("shop.toml") && status.contains("consent-records/"),
        "sources stay visible to git:\n{status}"
    );
}

#[test]
fn init_shop_keeps_no_receipts_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("my-shop");
    init(&shop);
    let toml = read(&shop.join("shop.toml"));
    assert!(toml.lines().any(|l| l == "consent_endpoint = \"\""), "no endpoint by default:\n{toml}");
    assert!(toml.contains("cohort consent-server"), "the comment says what an endpoint adds:\n{toml}");
    let out = shop.join("public");
    build_ok(&shop, &out);
    let prefs = read(&out.join("preferences/index.html"));
    assert!(prefs.contains("Receipts are not kept for this shop"), "{prefs}");
    assert!(!prefs.contains("Receipt of your choice"), "no receipt line without an endpoint");
    assert!(prefs.contains(r#""e":"""#), "the runtime gets no endpoint, so it posts nothing");
    let privacy = read(&out.join("privacy/index.html"));
    assert!(privacy.contains("This shop keeps no consent records"));
    for promise in ["a receipt of it is recorded", "quoting the receipt number", "deletes the record of your choice"] {
        assert!(!privacy.contains(promise), "the notice promises no receipt ({promise}): {privacy}");
    }
    let (code, stdout, stderr) = run(&["check", "--root", shop.to_str().unwrap()]);
    assert_eq!(code, 0, "the new shop passes its own check:\n{stdout}{stderr}");
}

#[test]
fn a_shop_with_an_endpoint_still_shows_the_receipt() {
    let shop = copy_fixture("tests/browser/fixture-shop");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let prefs = read(&out.join("preferences/index.html"));
    assert!(prefs.contains("Receipt of your choice: <output id=\"cohort-receipt\""), "{prefs}");
    assert!(!prefs.contains("Receipts are not kept"));
    assert!(read(&out.join("privacy/index.html")).contains("a receipt of it is recorded"));
}

#[test]
fn a_shop_without_receipts_does_not_promise_one_in_its_notice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shop = dir.path().join("shop");
    let (code, _, stderr) = run(&["init", shop.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{stderr}");
    let out = dir.path().join("public");
    build_ok(&shop, &out);
    let privacy = read(&out.join("privacy/index.html"));
    assert!(privacy.contains("cohort.consent"), "the notice lists the consent key");
    assert!(!privacy.contains("receipt number"), "a shop that keeps no receipts promises none in its storage table");
}
