//! The generator's output on fixture shops: pages, titles, prices, links, JSON-LD, sitemap,
//! drafts, determinism, atomicity, escaping of hostile content, both template engines.

mod common;
use common::*;
use std::path::Path;

#[test]
fn basic_shop_pages_exist_with_titles_prices_and_links() {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    for page in [
        "index.html",
        "products/hiking-boot/index.html",
        "products/enamel-mug/index.html",
        "categories/kitchen/index.html",
        "categories/shoes/index.html",
        "tags/outdoor/index.html",
        "pages/about/index.html",
        "404.html",
        "sitemap.xml",
        "robots.txt",
        ".well-known/gpc.json",
        "style.css",
        "images/mug.png",
        "products/hiking-boot/boot.png",
    ] {
        assert!(out.join(page).is_file(), "{page} missing");
    }
    let boot = read(&out.join("products/hiking-boot/index.html"));
    assert!(boot.contains("<title>Hiking Boot · Test Shop</title>"), "{boot}");
    assert!(boot.contains("<h1>Hiking Boot</h1>"));
    assert!(boot.contains("€129.00") && boot.contains("€149.00"), "price and compare-at price shown");
    assert!(boot.contains("href=\"https://buy.stripe.com/test_boot\""), "buy link");
    // The bundle's photo is published resized (src/images/), its own path still served.
    assert!(boot.contains("<img src=\"/_images/boot-"), "{boot}");
    assert!(boot.contains("alt=\"A brown leather hiking boot\""), "{boot}");
    assert!(out.join("products/hiking-boot/boot.png").is_file());
    assert!(boot.contains("<link rel=\"canonical\" href=\"https://test.example.com/products/hiking-boot/\">"));
    assert!(boot.contains("<meta property=\"product:price:amount\" content=\"129.00\">"));
    assert!(boot.contains("<meta property=\"product:price:currency\" content=\"EUR\">"));
    assert!(
        boot.contains(
            "<meta property=\"og:image\" content=\"https://test.example.com/products/hiking-boot/boot.png\">"
        )
    );
    assert!(boot.contains("<h2 id=\"specifications\">Specifications</h2>"), "heading ids");
    assert!(boot.contains("<table>"), "tables");
    assert!(!boot.contains("<script src=\"http"), "no third-party scripts");

    let ld = jsonld(&boot);
    assert_eq!(ld.len(), 1);
    let p = &ld[0];
    assert_eq!(p["@type"], "Product");
    assert_eq!(p["name"], "Hiking Boot");
    assert_eq!(p["sku"], "HB-001");
    assert_eq!(p["offers"]["price"], "129.00");
    assert_eq!(p["offers"]["priceCurrency"], "EUR");
    assert_eq!(p["offers"]["availability"], "https://schema.org/InStock");
    assert_eq!(p["image"][0], "https://test.example.com/products/hiking-boot/boot.png");

    let mug = read(&out.join("products/enamel-mug/index.html"));
    assert_eq!(jsonld(&mug)[0]["offers"]["availability"], "https://schema.org/OutOfStock");
    assert!(
        mug.contains("A mug that survives the campfire and the dishwasher."),
        "summary falls back to the first paragraph"
    );
    assert_eq!(jsonld(&mug)[0]["description"], "A mug that survives the campfire and the dishwasher.");
    assert!(!mug.contains("Buy now"), "no buy button without buy_url");

    let kitchen = read(&out.join("categories/kitchen/index.html"));
    let first_knife = kitchen.find("Chef&#39;s Knife").expect("knife listed");
    let first_mug = kitchen.find("Enamel Mug").expect("mug listed");
    assert!(first_knife < first_mug, "weight -1 sorts first");
    assert!(kitchen.contains("href=\"/products/enamel-mug/\""));
    for link in attribute_values(&read(&out.join("index.html")), "href") {
        if let Some(path) = link.strip_prefix('/') {
            let file =
                if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path.to_string() };
            assert!(out.join(&file).is_file(), "home links to {link}, which does not exist");
        }
    }
}

fn attribute_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| html[i + needle.len()..].split('"').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn sitemap_lists_every_default_page_and_no_draft() {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let sitemap = read(&out.join("sitemap.xml"));
    for url in [
        "https://test.example.com/",
        "https://test.example.com/products/hiking-boot/",
        "https://test.example.com/products/chef-knife/",
        "https://test.example.com/categories/outerwear/",
        "https://test.example.com/tags/hiking/",
        "https://test.example.com/pages/shipping/",
    ] {
        assert!(sitemap.contains(&format!("<loc>{url}</loc>")), "{url} not in sitemap");
    }
    let every_page: Vec<String> = tree(&out)
        .keys()
        .filter(|p| p.ends_with("index.html") && !p.starts_with("c/") && !p.starts_with("preferences/"))
        .map(|p| format!("https://test.example.com/{}", p.trim_end_matches("index.html")))
        .collect();
    for url in &every_page {
        assert!(sitemap.contains(&format!("<loc>{url}</loc>")), "{url} is a page but not in the sitemap");
    }
    assert_eq!(sitemap.matches("<loc>").count(), every_page.len());
    assert!(!sitemap.contains("/c/") && !sitemap.contains("_cohort"));
    assert!(!sitemap.contains("secret-prototype"));
    assert!(!out.join("products/secret-prototype").exists(), "drafts are not built by default");
    let robots = read(&out.join("robots.txt"));
    assert!(robots.contains("Disallow: /c/") && robots.contains("Disallow: /_cohort/"));
    assert!(robots.contains("Sitemap: https://test.example.com/sitemap.xml"));

    let (code, _, err) = run(&[
        "build",
        "--root",
        shop.path().to_str().unwrap(),
        "--drafts",
        "-o",
        shop.path().join("with-drafts").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(shop.path().join("with-drafts/products/secret-prototype/index.html").is_file(), "--drafts builds drafts");
}

#[test]
fn builds_are_deterministic() {
    let shop = copy_fixture("basic");
    let a = shop.path().join("a");
    let b = shop.path().join("b");
    build_ok(shop.path(), &a);
    let (code, _, err) =
        run(&["build", "--root", shop.path().to_str().unwrap(), "-o", b.to_str().unwrap(), "--jobs", "1"]);
    assert_eq!(code, 0, "{err}");
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(tb[path] == *bytes, "{path} differs between two builds");
    }
}

#[test]
fn a_failed_build_leaves_the_previous_output_untouched() {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let before = tree(&out);
    // A template error is found only while rendering, after some pages may be written.
    std::fs::create_dir_all(shop.path().join("templates")).unwrap();
    std::fs::write(
        shop.path().join("templates/product.html"),
        "{% extends \"base.html\" %}{% block content %}{{ product.nope.deeper }}{% endblock %}",
    )
    .unwrap();
    let (code, _, stderr) = run(&["build", "--root", shop.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("product.html"), "names the template: {stderr}");
    assert!(stderr.contains("while rendering 4 pages, e.g. /products/"), "names the pages: {stderr}");
    assert_eq!(tree(&out), before);
    assert!(!shop.path().join(".public.cohort-tmp").exists(), "staging folder removed");
}

#[test]
fn hostile_content_is_escaped_everywhere() {
    let shop = copy_fixture("basic");
    let evil = "</script><script>alert(1)</script> \"quoted\" & 'single' Ünïcødé 雪";
    std::fs::write(
        shop.path().join("products/evil.md"),
        format!(
            "+++\ntitle = {t}\nsku = \"EV-1\"\nprice = \"5.00\"\ncategory = \"kitchen\"\ntags = [{t}, \"ok\"]\nsummary = {t}\n+++\nBody.\n",
            t = toml_string(evil)
        ),
    )
    .unwrap();
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    for (path, bytes) in tree(&out) {
        if path.ends_with(".html") {
            let html = String::from_utf8(bytes).unwrap();
            assert!(!html.contains("<script>alert(1)"), "{path} lets the script through");
            assert!(!html.contains("\"quoted\" &"), "{path} has unescaped quotes");
        }
    }
    let page = read(&out.join("products/evil/index.html"));
    assert!(page.contains("&lt;&#x2f;script&gt;") || page.contains("&lt;/script&gt;"), "title escaped in HTML");
    assert!(page.contains("Ünïcødé 雪"), "Unicode kept");
    let ld = jsonld(&page);
    assert_eq!(ld[0]["name"], evil, "JSON-LD parses and round-trips the title");
    assert_eq!(ld[0]["description"], evil);
    let tag_page = out
        .join("tags")
        .read_dir()
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().contains("alert"));
    assert!(tag_page.is_some(), "the hostile tag gets a slugified listing");
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn a_tera_theme_renders_the_same_data() {
    let shop = copy_fixture("basic");
    copy_dir(&repo().join("tests/themes/plain-tera"), &shop.path().join("themes/plain-tera"));
    let toml = read(&shop.path().join("shop.toml"))
        .replace("currency = \"EUR\"", "currency = \"EUR\"\ntheme = \"plain-tera\"");
    std::fs::write(shop.path().join("shop.toml"), toml).unwrap();
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let boot = read(&out.join("products/hiking-boot/index.html"));
    assert!(boot.contains("<h1>Hiking Boot</h1>"), "{boot}");
    assert!(boot.contains("€129.00"));
    assert_eq!(jsonld(&boot)[0]["sku"], "HB-001");
    let home = read(&out.join("index.html"));
    assert!(home.contains("data-cohort-slot=\"picks\""), "slots work in tera: {home}");
    assert!(out.join("c/outdoor/index.html").is_file());
    assert!(read(&out.join("categories/kitchen/index.html")).contains("Enamel Mug"));
}

#[test]
fn init_creates_a_shop_that_builds() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("my-shop");
    let (code, stdout, stderr) = run(&["init", shop.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(shop.join("shop.toml").is_file());
    let out = shop.join("public");
    build_ok(&shop, &out);
    assert!(out.join("index.html").is_file());
    assert!(read(&out.join("products/cast-iron-skillet/index.html")).contains("€49.00"));
    let (code, _, stderr) = run(&["init", shop.to_str().unwrap()]);
    assert_eq!(code, 1, "init refuses a non-empty folder");
    assert!(stderr.contains("not empty"));
}

#[test]
fn base_url_override_and_subpath() {
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    let (code, _, err) = run(&["build", "--root", shop.path().to_str().unwrap(), "-u", "https://x.example.org/shop/"]);
    assert_eq!(code, 0, "{err}");
    let boot = read(&out.join("products/hiking-boot/index.html"));
    assert!(boot.contains("href=\"https://x.example.org/shop/products/hiking-boot/\""), "canonical under the sub-path");
    assert!(boot.contains("href=\"/shop/style.css\""), "links carry the sub-path");
    assert!(read(&out.join("sitemap.xml")).contains("<loc>https://x.example.org/shop/pages/about/</loc>"));
    let _ = Path::new("");
}

#[test]
fn a_rebuild_keeps_unchanged_files_and_replaces_changed_ones() {
    use std::os::unix::fs::MetadataExt;
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    build_ok(shop.path(), &out);
    let meta = |rel: &str| std::fs::metadata(out.join(rel)).unwrap();
    let (about_before, style_before) = (meta("pages/about/index.html"), meta("style.css"));
    let knife_before = meta("products/chef-knife/index.html");
    let knife = shop.path().join("products/chef-knife.md");
    let text = read(&knife);
    let edited = text.replacen("price = \"79.00\"", "price = \"81.00\"", 1);
    assert_ne!(text, edited, "the fixture's knife price");
    std::fs::write(&knife, edited).unwrap();
    build_ok(shop.path(), &out);

    // The same file (inode) where nothing changed; a new one where the bytes changed.
    let (about_after, style_after) = (meta("pages/about/index.html"), meta("style.css"));
    assert_eq!((about_after.ino(), about_after.mtime()), (about_before.ino(), about_before.mtime()), "page kept");
    assert_eq!(style_after.ino(), style_before.ino(), "static file kept");
    assert_eq!(about_after.nlink(), 2, "shared with the kept previous output, nothing copied");
    assert_ne!(meta("products/chef-knife/index.html").ino(), knife_before.ino(), "changed page written anew");
    assert!(read(&out.join("products/chef-knife/index.html")).contains("€81.00"));
    assert!(read(&out.join("categories/kitchen/index.html")).contains("€81.00"), "listing written again");

    // The result is exactly a fresh build of the same files.
    let fresh = tempfile::tempdir().unwrap();
    build_ok(shop.path(), &fresh.path().join("site"));
    assert_eq!(tree(&out), tree(&fresh.path().join("site")));
    // Beside the output: only the kept previous output and the image cache, which git ignores.
    let mut leftovers: Vec<_> = std::fs::read_dir(shop.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("cohort-"))
        .collect();
    leftovers.sort();
    assert_eq!(leftovers, [".cohort-cache", ".public.cohort-old"]);
    let kept = shop.path().join(".public.cohort-old");
    assert!(read(&kept.join("products/chef-knife/index.html")).contains("€79.00"), "the previous output");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").args(args).current_dir(shop.path()).output().expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    git(&["init", "-q"]);
    let status = git(&["status", "--porcelain", "--untracked-files=all"]);
    assert!(!status.contains("cohort-old"), "git ignores the kept output: {status}");
    assert!(!status.contains(".cohort-cache"), "git ignores the image cache: {status}");
    assert!(status.contains("public/index.html"), "but not the output: {status}");
}

#[test]
fn a_recycled_output_tree_ends_exactly_as_a_fresh_build() {
    use std::os::unix::fs::MetadataExt;
    let shop = copy_fixture("basic");
    let out = shop.path().join("public");
    let kept = shop.path().join(".public.cohort-old");
    build_ok(shop.path(), &out);
    build_ok(shop.path(), &out);
    assert!(kept.join("index.html").is_file(), "the second build keeps the first's output");

    // Whatever the kept tree holds, the next build's output is exactly a fresh build's.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("precious.txt"), "keep me").unwrap();
    std::fs::write(kept.join("stray.html"), "not part of the site").unwrap();
    std::fs::remove_dir_all(kept.join("tags")).unwrap();
    std::os::unix::fs::symlink(outside.path(), kept.join("tags")).unwrap();
    std::fs::remove_dir_all(kept.join("categories")).unwrap();
    std::fs::write(kept.join("categories"), "a file where a folder goes").unwrap();
    std::fs::remove_file(kept.join("robots.txt")).unwrap();
    std::fs::create_dir_all(kept.join("robots.txt/inner")).unwrap();
    std::fs::write(kept.join("products/chef-knife/index.html"), "truncated").unwrap();
    std::fs::create_dir_all(kept.join("old/deep/folder")).unwrap();
    // A file a merchant dropped into the live output is not part of the next build either.
    std::fs::write(out.join("dropped.html"), "by hand").unwrap();
    let live_about = std::fs::metadata(out.join("pages/about/index.html")).unwrap();

    let knife = shop.path().join("products/chef-knife.md");
    let text = read(&knife);
    std::fs::write(&knife, text.replacen("price = \"79.00\"", "price = \"83.00\"", 1)).unwrap();
    build_ok(shop.path(), &out);

    let fresh = tempfile::tempdir().unwrap();
    build_ok(shop.path(), &fresh.path().join("site"));
    assert_eq!(tree(&out), tree(&fresh.path().join("site")));
    assert_eq!(read(&outside.path().join("precious.txt")), "keep me", "the link was not followed");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1, "nothing written through the link");
    assert!(!std::fs::symlink_metadata(out.join("tags")).unwrap().file_type().is_symlink());
    assert!(!out.join("old").exists() && !out.join("stray.html").exists() && !out.join("dropped.html").exists());
    assert!(!out.join(".gitignore").exists() && !out.join("CACHEDIR.TAG").exists(), "markers stay in the kept tree");
    // The page that did not change is the same file as before (same inode, same time).
    let about = std::fs::metadata(out.join("pages/about/index.html")).unwrap();
    assert_eq!((about.ino(), about.mtime()), (live_about.ino(), live_about.mtime()));

    // A failed build keeps the live output as it was, and the one after it is right again.
    let before = tree(&out);
    std::fs::create_dir_all(shop.path().join("templates")).unwrap();
    let broken = shop.path().join("templates/product.html");
    std::fs::write(&broken, "{% extends \"base.html\" %}{% block content %}{{ product.nope.deeper }}{% endblock %}")
        .unwrap();
    let (code, _, stderr) = run(&["build", "--root", shop.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(tree(&out), before);
    std::fs::remove_file(&broken).unwrap();
    std::fs::write(&knife, text).unwrap();
    build_ok(shop.path(), &out);
    let fresh = tempfile::tempdir().unwrap();
    build_ok(shop.path(), &fresh.path().join("site"));
    assert_eq!(tree(&out), tree(&fresh.path().join("site")));
}

/// The page numbers a listing's pagination links to, with "…" for a gap, in page order.
fn pagination_numbers(html: &str) -> Vec<String> {
    let start = html.find("<nav class=\"pagination\"").expect("a pagination nav");
    let nav = &html[start..start + html[start..].find("</nav>").expect("closed nav")];
    let mut out = Vec::new();
    for item in nav.split("<li>").skip(1) {
        if item.contains("class=\"gap\"") {
            out.push("…".to_string());
        } else if !item.contains("rel=\"prev\"") && !item.contains("rel=\"next\"") {
            let text = &item[item.find('>').expect("a link") + 1..];
            out.push(text[..text.find('<').expect("closed link")].to_string());
        }
    }
    out
}

#[test]
fn pagination_shows_a_window_of_pages_however_long_the_listing() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo().join("example-shop"), dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join("public"));
    let toml = std::fs::read_to_string(dir.path().join("shop.toml")).expect("shop.toml");
    std::fs::write(dir.path().join("shop.toml"), format!("paginate_by = 1\n{toml}")).expect("write shop.toml");
    let out = dir.path().join("public");
    build_ok(dir.path(), &out);
    // 11 published products are tagged "outdoor": 11 pages of one product.
    let page = |n: usize| {
        let path =
            if n == 1 { "tags/outdoor/index.html".to_string() } else { format!("tags/outdoor/page/{n}/index.html") };
        pagination_numbers(&read(&out.join(path)))
    };
    assert_eq!(page(1), ["1", "2", "3", "…", "11"]);
    assert_eq!(page(4), ["1", "2", "3", "4", "5", "6", "…", "11"]);
    assert_eq!(page(6), ["1", "…", "4", "5", "6", "7", "8", "…", "11"]);
    assert_eq!(page(11), ["1", "…", "9", "10", "11"]);
    let six = read(&out.join("tags/outdoor/page/6/index.html"));
    assert!(
        six.contains("<a href=\"/tags/outdoor/page/6/\" aria-current=\"page\">6</a>"),
        "the current page is marked"
    );
    assert!(six.contains("href=\"/tags/outdoor/\">1</a>"), "page 1 is the listing's own address");
}

/// The example shop with one product per listing page and `extra` added to `[personalization]`.
fn paginated_example_shop(extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo().join("example-shop"), dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join("public"));
    let toml = std::fs::read_to_string(dir.path().join("shop.toml")).expect("shop.toml");
    let toml = toml.replacen("[personalization]\n", &format!("[personalization]\n{extra}"), 1);
    std::fs::write(dir.path().join("shop.toml"), format!("paginate_by = 1\n{toml}")).expect("write shop.toml");
    let out = dir.path().join("public");
    build_ok(dir.path(), &out);
    (dir, out)
}

#[test]
fn only_the_first_page_of_a_category_gets_full_page_variants_unless_asked() {
    let (_dir, out) = paginated_example_shop("");
    // Four knives: four pages. The workshop cohort reorders the listing.
    assert!(out.join("categories/knives/page/4/index.html").is_file());
    assert!(out.join("c/workshop/categories/knives/index.html").is_file(), "page 1 has its variant");
    assert!(!out.join("c/workshop/categories/knives/page").exists(), "later pages have none");
    let two = read(&out.join("categories/knives/page/2/index.html"));
    assert!(two.contains(r#""workshop":""#), "page 2 is personalized by its fragments: {two}");
    let redirects = read(&out.join("_redirects"));
    assert!(redirects.contains("/categories/knives/ /c/workshop/categories/knives/ "), "{redirects}");
    assert!(!redirects.contains("/page/"), "no rule for a page without variants: {redirects}");

    let (_dir, out) = paginated_example_shop("variant_pages = 0\n");
    assert!(out.join("c/workshop/categories/knives/page/2/index.html").is_file(), "0: every page");
    let redirects = read(&out.join("_redirects"));
    assert!(redirects.contains("/categories/knives/page/2/ /c/workshop/categories/knives/page/2/ "), "{redirects}");
}

/// Each product's card is rendered with the theme's card template once per build and taken
/// from the cache everywhere else it appears (listings, each cohort's grids, recommendation
/// blocks): the build's progress line counts both. A card the cache stopped recognizing
/// renders the same bytes, so only these counts show it (at 100,000 products it was a fifth
/// of the template time).
#[test]
fn each_product_card_is_rendered_once_per_build() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo().join("example-shop"), dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join("public"));
    let out = dir.path().join("site");
    let o = cohort()
        .args(["build", "--root", dir.path().to_str().unwrap(), "-o", out.to_str().unwrap()])
        .env("COHORT_BUILD_TIMINGS", "1")
        .output()
        .expect("run cohort");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let counts = stderr
        .lines()
        .find_map(|l| {
            l.split_once(" product cards rendered, ").map(|(head, tail)| (head.to_string(), tail.to_string()))
        })
        .unwrap_or_else(|| panic!("no card counts in the progress lines: {stderr}"));
    let rendered: usize = counts.0.rsplit('(').next().and_then(|n| n.parse().ok()).expect("rendered count");
    let reused: usize = counts.1.split(' ').next().and_then(|n| n.parse().ok()).expect("reused count");
    // The products whose cards the output shows, anywhere (pages, variants, fragments).
    let mut shown = std::collections::BTreeSet::new();
    for (path, bytes) in tree(&out) {
        if !path.ends_with(".html") {
            continue;
        }
        let html = String::from_utf8_lossy(&bytes);
        for (at, _) in html.match_indices("<article class=\"card\" data-sku=\"") {
            let rest = &html[at + 32..];
            shown.insert(rest[..rest.find('"').unwrap_or(0)].to_string());
        }
    }
    assert!(shown.len() > 10, "the example shop shows cards: {shown:?}");
    assert_eq!(rendered, shown.len(), "one render per product shown ({reused} reused)");
    // Cohort variants reuse the default page around their slots, so the output holds more
    // cards than the build asked for; listings and grids alone ask for each card many times.
    assert!(reused > 5 * rendered, "{rendered} rendered, {reused} reused");
}
