//! Plugin mode on real public themes nobody here wrote, vendored with their licences under
//! `tests/sites/`: Hargo (themefisher/hargo-hugo, a Hugo shop theme with a Snipcart cart,
//! a rating widget, Google Fonts and Google Maps; products in its own YAML front matter) and
//! Ananke v2.9.2 with its English and French example site. Each is built with Debian's
//! `hugo`, then the real `cohort personalize` runs on the output. The tests fail, never skip,
//! when `hugo` is missing (`.ci/run` installs it).

mod common;

use common::{copy_fixture, tree};

mod personalize_support;

use personalize_support::{hugo, personalize_glob, read};

/// A copy of the vendored site `name`, built by `hugo`.
fn built(name: &str) -> tempfile::TempDir {
    let dir = copy_fixture(name);
    hugo(dir.path());
    dir
}

/// The slot names and cohort keys of a page's `data-cohort-slot` elements, as text.
fn slots(html: &str) -> Vec<String> {
    html.match_indices("data-cohort-slot=\"")
        .map(|(i, _)| {
            let rest = &html[i..];
            rest[..rest.find('>').unwrap_or(rest.len())].to_string()
        })
        .collect()
}

/// The `Content-Security-Policy` line of `_headers` for every page (`/*`).
fn policy(root: &std::path::Path) -> String {
    let headers = read(root, "_headers");
    headers
        .lines()
        .find_map(|l| l.trim().strip_prefix("Content-Security-Policy: "))
        .unwrap_or_else(|| panic!("no policy in _headers: {headers}"))
        .to_string()
}

/// The sources of one directive of the policy.
fn directive<'a>(policy: &'a str, name: &str) -> Vec<&'a str> {
    policy
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).filter(|r| r.starts_with(' ')))
        .map(|r| r.split_whitespace().collect())
        .unwrap_or_default()
}

#[test]
fn hargo_shop_theme_with_snipcart_is_personalized_in_its_own_fields_and_looks() {
    let dir = built("hargo");
    let root = dir.path();
    let home_before = read(root, "index.html");
    let (code, out, err) = personalize_glob(root, "content/products/*.md");
    assert_eq!(code, 0, "personalize failed:\n{out}\n{err}");

    // The theme's field names: productID is the SKU, priceBefore the compare-at price (empty
    // in some products: none), images a list of tables, type the category.
    let product = read(root, "products/taba-cream.1/index.html");
    let copy = slots(&product).into_iter().find(|s| s.contains("\"copy\"")).expect("the copy slot");
    assert!(copy.contains("data-cohort-keys='{\"skin\":"), "{copy}");
    let home = read(root, "index.html");
    let picks = slots(&home).into_iter().find(|s| s.contains("\"picks\"")).expect("the picks slot");
    assert!(picks.contains("data-cohort-keys='{\"hair\":"), "{picks}");
    // Its default content links the products' pages as Hugo wrote them (Hugo's own links
    // are absolute, Cohort's root-relative).
    assert!(home.contains("href=\"/products/taba-"), "{home}");

    // Each declared origin only in the directives its kinds need.
    let csp = policy(root);
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let script = directive(&csp, "script-src");
    for o in [
        "https://cdn.snipcart.com",
        "https://maps.googleapis.com",
        "https://secure.rating-widget.com",
        "http://js.rating-widget.com",
    ] {
        assert!(script.contains(&o), "script-src lacks {o}: {csp}");
    }
    assert!(!script.contains(&"https://fonts.gstatic.com"), "{csp}");
    let style = directive(&csp, "style-src");
    assert!(style.contains(&"https://fonts.googleapis.com") && style.contains(&"https://cdn.snipcart.com"), "{csp}");
    assert!(style.contains(&"'unsafe-hashes'"), "the theme's style attributes keep applying: {csp}");
    assert!(directive(&csp, "font-src").contains(&"https://fonts.gstatic.com"), "{csp}");
    assert!(directive(&csp, "connect-src").contains(&"https://app.snipcart.com"), "{csp}");
    // The rating widget's inline loader is hashed, and waits for consent (it names its host).
    assert!(
        home.contains("<!-- Product Ratings -->\n<script type=\"text/plain\" data-cohort-purpose=\"functional\">"),
        "{home}"
    );
    let loader =
        home_before.split("<!-- Product Ratings -->").nth(1).and_then(|r| r.split("</script>").next()).expect("loader");
    let hash = cohort::output::csp::inline_script_hashes(&format!("{}</script>", loader.trim_start()));
    assert!(!hash.is_empty() && script.contains(&hash[0].as_str()), "{hash:?} in {csp}");

    // The generated pages wear the site's shell: its head styles, header, footer and language.
    for page in ["privacy/index.html", "preferences/index.html"] {
        let html = read(root, page);
        assert!(
            html.starts_with("<!DOCTYPE html>\n<html lang=\"en\"><head>"),
            "{page}: {}",
            &html[..80.min(html.len())]
        );
        assert!(html.contains("<header class=\"sticky-top navigation\">"), "{page}: the site's header");
        assert!(html.contains("<footer class=\"section pb-0\">"), "{page}: the site's footer");
        assert!(html.contains("/scss/style.min.css\" media=\"screen\">"), "{page}: the site's stylesheet");
        assert!(html.contains("<main id=\"main\" class=\"cohort-page\">"), "{page}: its own content");
        assert!(!html.contains("testimonial-slider"), "{page}: not the home page's content");
        assert_eq!(html.matches("data-cohort-slot=\"picks\"").count(), 0, "{page}: not the home page's slots");
    }
    let privacy = read(root, "privacy/index.html");
    assert!(privacy.contains("<h1>Privacy notice</h1>") && privacy.contains("Snipcart"), "{privacy}");
    assert!(read(root, "preferences/index.html").contains("id=\"cohort-prefs\""));

    // Twice: the same bytes.
    let once = tree(&root.join("public"));
    let (code, out, err) = personalize_glob(root, "content/products/*.md");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 files written, 0 removed"), "{out}");
    assert_eq!(tree(&root.join("public")), once);
}

#[test]
fn hargo_without_its_third_parties_declared_is_refused_untouched() {
    let dir = built("hargo");
    let root = dir.path();
    let toml = std::fs::read_to_string(root.join("shop.toml")).expect("shop.toml");
    let mut kept = String::new();
    let mut skipping = false;
    for line in toml.lines() {
        if line.starts_with("[[privacy.third_parties]]") {
            skipping = true;
        } else if line.starts_with('[') {
            skipping = false;
        }
        if !skipping {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    std::fs::write(root.join("shop.toml"), kept).expect("write shop.toml");
    let before = tree(&root.join("public"));
    let (code, out, err) = personalize_glob(root, "content/products/*.md");
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("https://cdn.snipcart.com"), "{err}");
    assert!(err.contains("https://maps.googleapis.com"), "{err}");
    assert!(err.contains("[[privacy.third_parties]]"), "{err}");
    assert_eq!(tree(&root.join("public")), before, "a refused site is left exactly as it was");
}

#[test]
fn ananke_english_and_french_product_pages_both_get_their_slots() {
    let dir = built("ananke");
    let root = dir.path();
    let (code, out, err) = personalize_glob(root, "content/en/products/*.md");
    assert_eq!(code, 0, "personalize failed:\n{out}\n{err}");
    for (page, title) in [("products/lamp/index.html", "Desk lamp"), ("fr/products/lamp/index.html", "Lampe de bureau")]
    {
        let html = read(root, page);
        let copy =
            slots(&html).into_iter().find(|s| s.contains("\"copy\"")).unwrap_or_else(|| panic!("{page}: copy slot"));
        assert!(copy.contains("data-cohort-keys='{\"kitchen\":"), "{page}: {copy}");
        assert!(html.contains(title), "{page}: the page in its own language");
        assert!(html.contains("\"i\":[\"kitchen\""), "{page}: the product's interests: {html}");
    }
    // The French home page's picks slot is filled too.
    let fr = read(root, "fr/index.html");
    assert!(slots(&fr).iter().any(|s| s.contains("\"picks\"") && s.contains("data-cohort-keys=")), "{fr}");

    // The notice pages in Ananke's shell: its navigation and footer, its main replaced.
    let privacy = read(root, "privacy/index.html");
    assert!(privacy.contains("<html lang=\"en"), "{privacy}");
    assert!(privacy.contains("<nav class=\"pv3 ph3 ph4-ns\" role=\"navigation\">"), "the site's header");
    assert!(
        privacy.contains("<footer class=\"bg-black bottom-0 w-100 pa3\" role=\"contentinfo\">"),
        "the site's footer"
    );
    assert!(
        privacy.contains("<main class=\"pb7\" role=\"main\">\n\n\n<article class=\"content-page privacy\">"),
        "Ananke's main, with the notice"
    );
    assert!(privacy.contains("<h1>Privacy notice</h1>"), "{privacy}");
    assert!(!privacy.contains("data-cohort-slot=\"picks\""), "not the home page's slots");
}
