//! `[[privacy.third_parties]]`: each declaration says its purpose and the kinds it loads, and
//! the Content-Security-Policy allows each origin (and its companions) only in those directives.

mod common;
use common::*;

fn shop_with(declaration: &str) -> tempfile::TempDir {
    let shop = copy_fixture("basic");
    let path = shop.path().join("shop.toml");
    let mut toml = read(&path);
    toml.push('\n');
    toml.push_str(declaration);
    // A table appended after [[cohorts]] would belong to it: put the declaration in [privacy].
    std::fs::write(&path, move_to_privacy(&toml)).expect("write shop.toml");
    shop
}

/// Moves the trailing `[[privacy.third_parties]]` block above the first `[[cohorts]]`.
fn move_to_privacy(toml: &str) -> String {
    let at = toml.find("\n[[privacy.third_parties]]").expect("declaration");
    let (head, block) = toml.split_at(at);
    match head.find("\n[[cohorts]]") {
        Some(c) => format!("{}{}\n{}", &head[..c], block, &head[c..]),
        None => toml.to_string(),
    }
}

fn build(shop: &tempfile::TempDir) -> (i32, String, String) {
    let out = shop.path().join("public");
    run(&["build", "--root", shop.path().to_str().unwrap(), "-o", out.to_str().unwrap()])
}

fn csp(shop: &tempfile::TempDir) -> String {
    let headers = read(&shop.path().join("public/_headers"));
    let line = headers.lines().find(|l| l.trim_start().starts_with("Content-Security-Policy:")).expect("a CSP");
    line.trim().to_string()
}

fn directive<'a>(policy: &'a str, name: &str) -> &'a str {
    policy.split(';').map(str::trim).find(|d| d.starts_with(&format!("{name} "))).unwrap_or("")
}

#[test]
fn an_origin_appears_only_in_the_directives_of_its_kinds_with_its_companions() {
    let shop = shop_with(
        "[[privacy.third_parties]]\nname = \"Google Fonts\"\norigin = \"https://fonts.googleapis.com\"\ncompanions = [\"https://fonts.gstatic.com\"]\npurpose = \"functional\"\nkinds = [\"style\", \"font\"]\ndescription = \"The shop's typeface\"\n",
    );
    let (code, out, err) = build(&shop);
    assert_eq!(code, 0, "{out}{err}");
    let policy = csp(&shop);
    for d in ["style-src", "font-src"] {
        let v = directive(&policy, d);
        assert!(v.contains("https://fonts.googleapis.com") && v.contains("https://fonts.gstatic.com"), "{d}: {policy}");
    }
    for d in ["script-src", "img-src", "frame-src", "connect-src", "default-src"] {
        assert!(!directive(&policy, d).contains("fonts."), "{d} must not allow the font hosts: {policy}");
    }
    let notice = read(&shop.path().join("public/privacy/index.html"));
    assert!(notice.contains("Google Fonts") && notice.contains("typeface"), "the notice names it");
}

#[test]
fn a_purpose_that_is_not_one_of_the_four_is_an_error_that_lists_them() {
    let shop = shop_with(
        "[[privacy.third_parties]]\norigin = \"https://widgets.example.net\"\npurpose = \"Customer reviews\"\nkinds = [\"script\"]\n",
    );
    let (code, _, err) = build(&shop);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("shop.toml"), "{err}");
    for p in ["necessary", "functional", "analytics", "marketing"] {
        assert!(err.contains(p), "the message lists {p}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_declaration_without_kinds_or_a_necessary_one_without_a_reason_is_an_error() {
    let shop = shop_with(
        "[[privacy.third_parties]]\norigin = \"https://widgets.example.net\"\npurpose = \"functional\"\n\n[[privacy.third_parties]]\norigin = \"https://pay.example.net\"\npurpose = \"necessary\"\nkinds = [\"script\"]\n",
    );
    let (code, _, err) = build(&shop);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not say what it loads") && err.contains("kinds = [\"frame\"]"), "{err}");
    assert!(err.contains("necessary without a reason") && err.contains("reason = "), "{err}");
    assert!(
        err.contains("https://widgets.example.net") && err.contains("https://pay.example.net"),
        "both, in one run: {err}"
    );
}

#[test]
fn a_companion_that_is_not_an_origin_is_an_error() {
    let shop = shop_with(
        "[[privacy.third_parties]]\norigin = \"https://fonts.googleapis.com\"\ncompanions = [\"fonts.gstatic.com\"]\npurpose = \"functional\"\nkinds = [\"font\"]\n",
    );
    let (code, _, err) = build(&shop);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("`fonts.gstatic.com` is not an origin"), "{err}");
}
