//! `[checkout]` on the real binary: bad input is a build error with file, line and fix (all
//! of them in one run); the Foxy secret never reaches the output; `links` sells through
//! `buy_url` alone, without a cart script; the cart script stays within its gzipped budget,
//! has no eval and keeps one storage key; the price guard stops a checkout field whose price
//! is not the product's.

mod common;
use common::*;
use std::path::Path;

/// Appends `checkout` to the basic fixture's shop.toml and builds with `env`; returns (exit
/// code, stderr, the line where `[checkout]` starts, the output folder).
fn build_with(
    checkout: &str,
    env: &[(&str, &str)],
    change: impl FnOnce(&Path),
) -> (i32, String, usize, tempfile::TempDir) {
    let shop = copy_fixture("basic");
    let toml = shop.path().join("shop.toml");
    let text = read(&toml);
    let line = text.lines().count() + 2;
    std::fs::write(&toml, format!("{text}\n{checkout}")).unwrap();
    change(shop.path());
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("public");
    let mut cmd = cohort();
    cmd.args(["build", "--root", shop.path().to_str().unwrap(), "-o", out_dir.to_str().unwrap()]);
    cmd.env_remove("COHORT_TEST_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (output.status.code().unwrap_or(-1), stderr, line, out)
}

fn fails(checkout: &str, env: &[(&str, &str)], needles: &[&str]) -> String {
    let (code, stderr, _, _) = build_with(checkout, env, |_| {});
    assert_eq!(code, 1, "expected exit 1:\n{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "message lacks {n:?}:\n{stderr}");
    }
    stderr
}

#[test]
fn an_unknown_provider_is_placed_with_a_suggestion() {
    let (code, stderr, line, _) = build_with("[checkout]\nprovider = \"paypall\"\n", &[], |_| {});
    assert_eq!(code, 1);
    assert!(stderr.contains(&format!("shop.toml:{}:", line + 1)), "{stderr}");
    assert!(stderr.contains("unknown checkout provider `paypall`"), "{stderr}");
    assert!(stderr.contains("did you mean provider = \"paypal\"?"), "{stderr}");
}

#[test]
fn missing_accounts_and_secrets_are_errors_with_their_fix() {
    fails("[checkout]\nprovider = \"paypal\"\n", &[], &["provider \"paypal\" needs `business`", "add business = "]);
    fails("[checkout]\nprovider = \"snipcart\"\n", &[], &["needs `public_api_key`"]);
    // Both Foxy settings missing: both reported in one run.
    fails("[checkout]\nprovider = \"foxy\"\n", &[], &["needs `store`", "needs `secret_env`"]);
    let (code, stderr, line, _) = build_with(
        "[checkout]\nprovider = \"foxy\"\nstore = \"x.foxycart.com\"\nsecret_env = \"COHORT_TEST_SECRET\"\n",
        &[],
        |_| {},
    );
    assert_eq!(code, 1);
    assert!(stderr.contains(&format!("shop.toml:{}:", line + 3)), "{stderr}");
    assert!(stderr.contains("COHORT_TEST_SECRET that holds the Foxy secret is not set"), "{stderr}");
    fails(
        "[checkout]\nprovider = \"foxy\"\nstore = \"https://x.foxycart.com/\"\nsecret_env = \"my secret\"\n",
        &[],
        &["is not a store domain", "is not an environment variable name"],
    );
    fails(
        "[checkout]\nprovider = \"snipcart\"\npublic_api_key = \"k\"\nbusiness = \"a@b.c\"\n",
        &[],
        &["`business` is a setting of provider \"paypal\", not of \"snipcart\""],
    );
}

#[test]
fn a_currency_paypal_does_not_take_is_an_error() {
    let (code, stderr, _, _) = build_with("[checkout]\nprovider = \"paypal\"\nbusiness = \"a@b.c\"\n", &[], |root| {
        let toml = root.join("shop.toml");
        std::fs::write(&toml, read(&toml).replace("currency = \"EUR\"", "currency = \"INR\"")).unwrap();
    });
    assert_eq!(code, 1);
    assert!(stderr.contains("PayPal does not take the shop's currency INR"), "{stderr}");
}

#[test]
fn links_needs_a_buy_url_per_product_and_writes_no_cart() {
    let (code, stderr, _, _) = build_with("[checkout]\nprovider = \"links\"\n", &[], |_| {});
    assert_eq!(code, 1);
    // chef-knife.md has no buy_url: its sku line (3) is named.
    assert!(stderr.contains("products/chef-knife.md:3:"), "{stderr}");
    assert!(stderr.contains("has no buy_url, and provider \"links\" sells through links only"), "{stderr}");
    assert!(stderr.contains("buy.stripe.com"), "{stderr}");

    let (code, stderr, _, out) = build_with("[checkout]\nprovider = \"links\"\n", &[], |root| {
        for entry in walkdir::WalkDir::new(root.join("products")).into_iter().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "md") {
                let text = read(path);
                if !text.contains("buy_url") {
                    std::fs::write(
                        path,
                        text.replacen("\nsku = ", "\nbuy_url = \"https://buy.stripe.com/test_1\"\nsku = ", 1),
                    )
                    .unwrap();
                }
            }
        }
    });
    assert_eq!(code, 0, "{stderr}");
    let site = out.path().join("public");
    assert!(!site.join("cohort-cart.js").exists(), "links has no cart script");
    assert!(!site.join("cart/index.html").exists(), "links has no cart page");
    let page = read(&site.join("products/chef-knife/index.html"));
    assert!(page.contains("href=\"https://buy.stripe.com/test_1\""), "a Buy now link");
    assert!(!page.contains("cohort-cart.js") && !page.contains("data-cart-add"));
}

#[test]
fn paypal_takes_whole_forint() {
    let (code, stderr, _, _) = build_with("[checkout]\nprovider = \"paypal\"\nbusiness = \"a@b.c\"\n", &[], |root| {
        let toml = root.join("shop.toml");
        std::fs::write(&toml, read(&toml).replace("currency = \"EUR\"", "currency = \"HUF\"")).unwrap();
        let f = root.join("products/chef-knife.md");
        std::fs::write(&f, read(&f).replace("price = \"79.00\"", "price = \"79.50\"")).unwrap();
    });
    assert_eq!(code, 1);
    assert!(stderr.contains("products/chef-knife.md:4:"), "{stderr}");
    assert!(stderr.contains("in fractions of a HUF, which PayPal does not take"), "{stderr}");
}

#[test]
fn a_paypal_item_at_zero_is_an_error() {
    let (code, stderr, _, _) = build_with("[checkout]\nprovider = \"paypal\"\nbusiness = \"a@b.c\"\n", &[], |root| {
        let f = root.join("products/chef-knife.md");
        std::fs::write(&f, read(&f).replace("price = \"79.00\"", "price = \"0\"")).unwrap();
    });
    assert_eq!(code, 1);
    assert!(stderr.contains("products/chef-knife.md:4:"), "{stderr}");
    assert!(stderr.contains("has no price (0), which PayPal refuses"), "{stderr}");
}

#[test]
fn foxy_signs_at_build_time_and_never_writes_the_secret() {
    let secret = "s3cr3t-for-the-test-0d9";
    let (code, stderr, _, out) = build_with(
        "[checkout]\nprovider = \"foxy\"\nstore = \"x.foxycart.com\"\nsecret_env = \"COHORT_TEST_SECRET\"\n",
        &[("COHORT_TEST_SECRET", secret)],
        |_| {},
    );
    assert_eq!(code, 0, "{stderr}");
    let site = out.path().join("public");
    for (rel, bytes) in tree(&site) {
        assert!(!String::from_utf8_lossy(&bytes).contains(secret), "{rel} holds the secret");
    }
    let page = read(&site.join("products/chef-knife/index.html"));
    let mac = cohort::checkout::hmac_sha256(secret.as_bytes(), b"KN-200price79.00");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert!(page.contains(&format!("name=\"price||{hex}\" value=\"79.00\"")), "signed price field");
    assert!(page.contains("action=\"https://x.foxycart.com/cart\""));
    let headers = read(&site.join("_headers"));
    assert!(headers.contains("form-action 'self' https://x.foxycart.com"), "{headers}");
    assert!(site.join("cohort-cart.js").exists());
}

#[test]
fn the_cart_script_is_within_budget_without_eval_and_keeps_one_key() {
    let size = cohort::checkout::gzipped_size();
    println!(
        "cohort-cart.js: {} bytes, {size} bytes gzipped (budget {})",
        cohort::checkout::script().len(),
        cohort::checkout::GZIP_BUDGET
    );
    assert!(size <= cohort::checkout::GZIP_BUDGET, "cohort-cart.js is {size} bytes gzipped");
    let script = cohort::checkout::script();
    for banned in [
        "eval(",
        "new Function",
        "innerHTML",
        "document.cookie",
        "sessionStorage",
        "indexedDB",
        "fetch(",
        "XMLHttpRequest",
        "sendBeacon",
    ] {
        assert!(!script.contains(banned), "the cart script uses {banned}");
    }
    // One key, and nothing written but through write(): setItem appears once, with KEY.
    assert_eq!(script.matches("localStorage.setItem(").count(), 1);
    assert!(script.contains("localStorage.setItem(KEY,"));
    assert!(script.contains("var KEY = \"cohort.cart\";") || script.contains("var KEY=\"cohort.cart\";"));
}

#[test]
fn the_guard_refuses_a_checkout_price_that_is_not_the_page_price() {
    let shop = copy_fixture("basic");
    let toml = shop.path().join("shop.toml");
    std::fs::write(&toml, format!("{}\n[checkout]\nprovider = \"paypal\"\nbusiness = \"a@b.c\"\n", read(&toml)))
        .unwrap();
    let shop =
        cohort::content::Shop::load(shop.path(), &cohort::content::LoadOptions { drafts: false, base_url: None })
            .expect("loads");
    let guard = cohort::cohorts::invariance::Reference::new(&shop);
    let good = r#"<form data-cart-add data-sku="KN-200" data-price="79.00"><input type="hidden" name="amount" value="79.00" data-sku="KN-200"></form>"#;
    assert_eq!(guard.check(good), Ok(()));
    let bad = good.replace("value=\"79.00\"", "value=\"1.00\"");
    assert!(guard.check(&bad).unwrap_err().contains("sends the price \"1.00\""));
    let snip = r#"<form data-item-id="KN-200" data-item-price="79.00"></form>"#;
    assert_eq!(guard.check(snip), Ok(()));
    assert!(guard.check(&snip.replace("79.00", "70.00")).unwrap_err().contains("data-item-price"));
}

#[test]
fn the_shop_init_writes_can_sell_once_a_provider_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("shop");
    let (code, _, stderr) = run(&["init", shop.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let toml = shop.join("shop.toml");
    let text = read(&toml);
    assert!(text.contains("# [checkout]\n# provider = \"paypal\""), "init writes a commented [checkout]");
    let text = text
        .replace("# [checkout]\n", "[checkout]\n")
        .replace("# provider = \"paypal\"", "provider = \"paypal\"")
        .replace("# business = ", "business = ");
    std::fs::write(&toml, text).unwrap();
    let out = dir.path().join("public");
    build_ok(&shop, &out);
    let mut products = 0;
    for entry in std::fs::read_dir(out.join("products")).unwrap().flatten() {
        let page = read(&entry.path().join("index.html"));
        assert!(page.contains("data-cart-add") && page.contains("name=\"cmd\" value=\"_cart\""), "{:?}", entry.path());
        products += 1;
    }
    assert!(products >= 3);
    assert!(out.join("cart/index.html").exists() && out.join("cohort-cart.js").exists());
}
