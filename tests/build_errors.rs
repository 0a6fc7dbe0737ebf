//! Bad input: every case exits 1 with a message naming the file and the line, and leaves
//! the previous output untouched.

mod common;
use common::*;
use std::path::Path;

/// Builds the basic fixture, applies `change`, builds again and checks the failure.
fn expect_failure(change: impl FnOnce(&Path), file: &str, line: usize, needles: &[&str]) {
    let shop = copy_fixture("basic");
    let out = tempfile::tempdir().expect("temp");
    let out_dir = out.path().join("public");
    build_ok(shop.path(), &out_dir);
    let before = tree(&out_dir);
    change(shop.path());
    let (code, stdout, stderr) =
        run(&["build", "--root", shop.path().to_str().unwrap(), "-o", out_dir.to_str().unwrap()]);
    assert_eq!(code, 1, "expected exit 1, got {code}\nstdout: {stdout}\nstderr: {stderr}");
    let place = format!("{file}:{line}");
    assert!(stderr.contains(&place), "message does not name {place}:\n{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "message lacks {n:?}:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(tree(&out_dir), before, "the previous output changed");
    let leftovers: Vec<_> =
        std::fs::read_dir(out.path()).unwrap().filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "temporary folders left behind: {leftovers:?}");
}

fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = read(&path);
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

const CHEF: &str = "products/chef-knife.md";

#[test]
fn malformed_toml() {
    expect_failure(|r| edit(r, CHEF, "sku = \"KN-200\"", "sku = \"KN-200"), CHEF, 3, &["error"]);
}

#[test]
fn unclosed_front_matter() {
    expect_failure(|r| edit(r, CHEF, "weight = -1\n+++", "weight = -1\n"), CHEF, 1, &["closing `+++`"]);
}

#[test]
fn missing_required_field() {
    expect_failure(|r| edit(r, CHEF, "sku = \"KN-200\"\n", ""), CHEF, 2, &["missing field `sku`"]);
}

#[test]
fn unknown_key_with_suggestion() {
    expect_failure(
        |r| edit(r, CHEF, "summary = ", "sumary = "),
        CHEF,
        9,
        &["unknown field `sumary`", "did you mean `summary`?"],
    );
}

#[test]
fn price_with_a_comma() {
    expect_failure(|r| edit(r, CHEF, "\"79.00\"", "\"12,50\""), CHEF, 4, &["decimal separator", "\"12.50\""]);
}

#[test]
fn negative_price() {
    expect_failure(|r| edit(r, CHEF, "\"79.00\"", "\"-3\""), CHEF, 4, &["cannot be negative"]);
}

#[test]
fn price_with_too_many_decimals() {
    expect_failure(|r| edit(r, CHEF, "\"79.00\"", "\"1.999\""), CHEF, 4, &["EUR has 2 decimal places"]);
}

#[test]
fn price_that_is_not_a_number() {
    expect_failure(|r| edit(r, CHEF, "\"79.00\"", "\"abc\""), CHEF, 4, &["not a price"]);
}

#[test]
fn price_as_a_float() {
    expect_failure(|r| edit(r, CHEF, "\"79.00\"", "79.0"), CHEF, 4, &["must be a string", "price = \"79.0\""]);
}

#[test]
fn duplicate_sku() {
    expect_failure(
        |r| edit(r, "products/rain-shell.md", "\"RS-10\"", "\"KN-200\""),
        "products/rain-shell.md",
        3,
        &["SKU `KN-200` is already used by products/chef-knife.md"],
    );
}

#[test]
fn duplicate_slug() {
    expect_failure(
        |r| edit(r, "products/rain-shell.md", "category = ", "slug = \"chef-knife\"\ncategory = "),
        "products/rain-shell.md",
        5,
        &["slug `chef-knife` is already used"],
    );
}

#[test]
fn image_that_does_not_exist() {
    expect_failure(
        |r| edit(r, "products/enamel-mug.md", "\"mug.png\"", "\"mugg.png\""),
        "products/enamel-mug.md",
        7,
        &["image `mugg.png` does not exist", "static/images/mugg.png"],
    );
}

#[test]
fn unknown_availability() {
    expect_failure(
        |r| edit(r, CHEF, "\"preorder\"", "\"pre-order\""),
        CHEF,
        7,
        &["unknown availability `pre-order`", "did you mean \"preorder\"?"],
    );
}

#[test]
fn file_that_is_not_utf8() {
    expect_failure(
        |r| {
            let path = r.join(CHEF);
            let mut bytes = std::fs::read(&path).unwrap();
            let at = bytes.windows(5).position(|w| w == b"Sharp").unwrap();
            bytes[at] = 0xff;
            std::fs::write(path, bytes).unwrap();
        },
        CHEF,
        12,
        &["not valid UTF-8"],
    );
}

#[test]
fn bad_shop_toml_currency_and_cohort_id() {
    expect_failure(
        |r| edit(r, "shop.toml", "currency = \"EUR\"", "currency = \"eur\""),
        "shop.toml",
        4,
        &["unknown currency `eur`", "currency = \"EUR\""],
    );
    expect_failure(
        |r| edit(r, "shop.toml", "id = \"kitchen\"", "id = \"Kitchen Fans\""),
        "shop.toml",
        29,
        &["may only use a-z, 0-9 and -"],
    );
}

#[test]
fn many_problems_are_reported_in_one_run() {
    let shop = copy_fixture("basic");
    edit(shop.path(), CHEF, "\"79.00\"", "\"abc\"");
    edit(shop.path(), "products/rain-shell.md", "summary = ", "sumary = ");
    edit(shop.path(), "products/enamel-mug.md", "\"out_of_stock\"", "\"sold\"");
    let (code, _, stderr) = run(&["build", "--root", shop.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    for place in ["products/chef-knife.md:4", "products/rain-shell.md:8", "products/enamel-mug.md:8"] {
        assert!(stderr.contains(place), "missing {place} in\n{stderr}");
    }
    assert!(stderr.contains("3 problems found"), "{stderr}");
}

#[test]
fn cohort_table_cannot_change_the_price() {
    expect_failure(
        |r| {
            edit(
                r,
                "products/hiking-boot/index.md",
                "badge = \"Trail pick\"",
                "badge = \"Trail pick\"\nprice = \"99.00\"",
            )
        },
        "products/hiking-boot/index.md",
        20,
        &["cohort `outdoor` cannot change `price`", "every cohort sees the same price"],
    );
}

#[test]
fn cohort_table_for_an_unknown_cohort() {
    expect_failure(
        |r| edit(r, "products/hiking-boot/index.md", "[cohort.outdoor]", "[cohort.outdoors]"),
        "products/hiking-boot/index.md",
        17,
        &["there is no cohort `outdoors`", "did you mean [cohort.outdoor]?"],
    );
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, _) = run(&["build", "--no-such-flag"]);
    assert_eq!(code, 2);
    let (code, _, _) = run(&["frobnicate"]);
    assert_eq!(code, 2);
}

#[test]
fn missing_shop_toml_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&["build", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("shop.toml") && stderr.contains("cannot read"), "{stderr}");
}

#[test]
fn a_missing_field_hint_names_the_field() {
    expect_failure(
        |r| edit(r, CHEF, "category = \"kitchen\"\n", ""),
        CHEF,
        2,
        &["missing field `category`", "add it, e.g. category = \"shoes\""],
    );
    expect_failure(
        |r| edit(r, CHEF, "price = \"79.00\"\n", ""),
        CHEF,
        2,
        &["missing field `price`", "add it, e.g. price = \"89.00\""],
    );
}

/// A missing SKU, a bad price and an unknown key in one product, and a wrong type and an
/// unknown key in one page: every one of them in one run.
#[test]
fn every_problem_of_one_file_is_reported_in_one_run() {
    let shop = copy_fixture("basic");
    edit(shop.path(), CHEF, "sku = \"KN-200\"\n", "");
    edit(shop.path(), CHEF, "\"79.00\"", "\"-3\"");
    edit(shop.path(), CHEF, "weight = -1", "weight = -1\ncolour = \"red\"");
    edit(shop.path(), "pages/about.md", "weight = 1", "weight = \"first\"\nin_manu = false");
    let (code, _, stderr) = run(&["build", "--root", shop.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    for needle in [
        "products/chef-knife.md:2: missing field `sku`",
        "add it, e.g. sku = \"TR2-001\"",
        "products/chef-knife.md:3:9: bad price \"-3\"",
        "products/chef-knife.md:10:1: unknown field `colour`",
        "pages/about.md:3:1: `weight` has the wrong type",
        "pages/about.md:4:1: unknown field `in_manu`",
        "did you mean `in_menu`?",
        "5 problems found",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in\n{stderr}");
    }
}

#[test]
fn a_missing_cohort_hero_image_is_an_error() {
    expect_failure(
        |r| edit(r, "shop.toml", "image = \"hero.png\"", "image = \"heroo.png\""),
        "shop.toml",
        26,
        &["hero image `heroo.png` does not exist (looked for static/heroo.png)", "put the image in static/"],
    );
}

#[test]
fn a_missing_favicon_is_an_error_and_a_hostile_one_never_leaves_the_tree() {
    expect_failure(
        |r| edit(r, "shop.toml", "title = \"Test Shop\"", "title = \"Test Shop\"\nfavicon = \"logo.png\""),
        "shop.toml",
        2,
        &["favicon `logo.png` does not exist (looked for static/logo.png)", "put the image in static/"],
    );
    expect_failure(
        |r| edit(r, "shop.toml", "title = \"Test Shop\"", "title = \"Test Shop\"\nfavicon = \"../../</script>.png\""),
        "shop.toml",
        2,
        &["favicon `../../</script>.png` does not exist"],
    );
}

/// Builds the basic fixture after `change` and returns stderr; the build must succeed.
fn warnings_after(change: impl FnOnce(&Path)) -> String {
    let shop = copy_fixture("basic");
    change(shop.path());
    let out = tempfile::tempdir().expect("temp");
    build_ok(shop.path(), &out.path().join("public"))
}

#[test]
fn a_category_next_to_its_plural_is_a_warning_at_build() {
    let stderr = warnings_after(|r| {
        let sock = "+++\ntitle = \"Trail Sock\"\nsku = \"TS-1\"\nprice = \"9.00\"\ncategory = \"shoe\"\n+++\nWarm.\n";
        std::fs::write(r.join("products/trail-sock.md"), sock).unwrap();
    });
    let expected = "warning: products/trail-sock.md:5: category `shoe` is used by this product only, while \
                    products/hiking-boot/index.md uses `shoes`";
    assert!(stderr.contains(expected), "{stderr}");
    assert!(stderr.contains("write category = \"shoes\""), "{stderr}");
    let clean = warnings_after(|_| {});
    assert!(!clean.contains("warning"), "the fixture itself has no warnings:\n{clean}");
}

#[test]
fn a_cohort_interest_no_product_matches_is_a_warning_at_build() {
    let stderr =
        warnings_after(|r| edit(r, "shop.toml", "interests = [\"kitchen\"]", "interests = [\"kitchen\", \"kitchn\"]"));
    let expected = "warning: shop.toml:31: cohort `kitchen` has the interest `kitchn`, which no product's category or tag matches\n  = help: did you mean \"kitchen\"?";
    assert!(stderr.contains(expected), "{stderr}");
}

/// The basic fixture with `templates/product.html` overridden (and, for tera, the plain-tera
/// theme installed); returns (exit code, stderr of build, stdout of check).
fn with_product_template(tera: bool, template: &str) -> (i32, String, String) {
    let shop = copy_fixture("basic");
    if tera {
        copy_dir(&repo().join("tests/themes/plain-tera"), &shop.path().join("themes/plain-tera"));
        edit(shop.path(), "shop.toml", "currency = \"EUR\"", "currency = \"EUR\"\ntheme = \"plain-tera\"");
    }
    std::fs::create_dir_all(shop.path().join("templates")).unwrap();
    std::fs::write(shop.path().join("templates/product.html"), template).unwrap();
    let root = shop.path().to_str().unwrap();
    let (code, _, stderr) = run(&["build", "--root", root]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let (_, check, _) = run(&["check", "--root", root]);
    (code, stderr, check)
}

fn default_product_template() -> String {
    read(&repo().join("themes/default/templates/product.html"))
}

#[test]
fn an_undefined_field_is_named_with_a_suggestion_once_for_all_pages() {
    let template = default_product_template().replacen("{{ product.title }}", "{{ product.titel }}", 1);
    let (code, stderr, check) = with_product_template(false, &template);
    assert_eq!(code, 1, "{stderr}");
    for needle in [
        "error: templates/product.html:3:39: undefined value: `product.titel` is undefined (while rendering 4 pages, e.g. /products/chef-knife/ from products/chef-knife.md)",
        " 3 | <meta property=\"og:title\" content=\"{{ product.titel }}\">\n   |                                       ^",
        "= help: did you mean `product.title`?",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in\n{stderr}");
    }
    assert_eq!(stderr.matches("product.titel` is undefined").count(), 1, "one error for all pages:\n{stderr}");
    assert_eq!(check.matches("product.titel` is undefined").count(), 1, "{check}");
    assert!(check.contains("templates/product.html:3: ") && check.contains("did you mean `product.title`?"), "{check}");
}

#[test]
fn an_unclosed_if_points_at_the_tag_that_opened_it() {
    let template = default_product_template();
    let line = template.lines().position(|l| l.starts_with("{% endif %}")).expect("an endif line") + 1;
    let template = template.replacen("{% endif %}", "", 1);
    let (code, stderr, _) = with_product_template(false, &template);
    assert_eq!(code, 1, "{stderr}");
    let expected = format!("error: templates/product.html:{}:1: `{{% if %}}` is never closed", line - 1);
    assert!(stderr.contains(&expected), "missing {expected:?} in\n{stderr}");
    assert!(stderr.contains("{% if page.image %}") && stderr.contains("  | ^"), "{stderr}");
    assert!(stderr.contains("add `{% endif %}` where the if should end"), "{stderr}");
}

#[test]
fn tera_template_errors_are_named_placed_and_counted() {
    let typo = "{% extends \"base.html\" %}\n{% block head %}{% endblock head %}\n{% block content %}<h1>{{ product.titel }}</h1>{% endblock content %}\n";
    let (code, stderr, _) = with_product_template(true, typo);
    assert_eq!(code, 1, "{stderr}");
    for needle in [
        "error: templates/product.html:3:35: Field `titel` is not defined (`product.titel`) (while rendering 4 pages, e.g. /products/chef-knife/",
        "= help: did you mean `product.title`?",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in\n{stderr}");
    }
    assert_eq!(stderr.matches("Field `titel`").count(), 1, "{stderr}");
    let unclosed = "{% extends \"base.html\" %}\n{% block head %}{% endblock head %}\n{% block content %}\n  {% if product.title %}<h1>{{ product.title }}</h1>\n{% endblock content %}\n";
    let (code, stderr, _) = with_product_template(true, unclosed);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("templates/product.html:4:3: `{% if %}` is never closed"), "{stderr}");
    assert!(stderr.contains(" 4 |   {% if product.title %}"), "{stderr}");
}
