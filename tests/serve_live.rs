//! `cohort serve` end to end: the real binary on a free loopback port with a copy of the
//! `basic` fixture. Edits show up in every page that shows the product, adding and deleting
//! products updates listings and the sitemap, each rebuild sends a live-reload event, a
//! broken file keeps the last good site and sends the error with its place, and the server
//! answers like a static host (types, folders, 404, `_headers`, cohort cookie routing).

mod serve_support;
use serve_support::*;

const KNIFE: &str = "products/chef-knife.md";

#[test]
fn price_edit_reaches_the_page_listings_and_recommendation_blocks() {
    let shop = basic_shop();
    let s = start(shop.path());
    let events = s.events();
    assert!(events.next_named("hello").is_some(), "the stream starts with hello");
    assert!(s.get("/products/chef-knife/").text().contains("data-price=\"79.00\""));

    edit(shop.path(), KNIFE, "price = \"79.00\"", "price = \"83.25\"");
    let reload = events.next_named("reload").expect("a reload event after the edit");
    assert_eq!(reload["css_only"], false);
    assert!(reload["changed"].as_str().unwrap_or_default().contains("chef-knife.md"), "{reload}");
    let page = s.wait_for("/products/chef-knife/", "the new price", |b| b.contains("€83.25"));
    assert!(!page.contains("79.00"), "the old price is gone from the product page");
    assert!(page.contains("\"price\":\"83.25\""), "JSON-LD has the new price");
    // Listings that show it, and the related block of another product's page.
    for listing in ["/categories/kitchen/", "/tags/kitchen/", "/", "/products/enamel-mug/"] {
        let body = s.get(listing).text();
        assert!(body.contains("data-sku=\"KN-200\" data-price=\"83.25\""), "{listing} shows the new price");
        assert!(!body.contains("data-price=\"79.00\""), "{listing} still shows the old price");
    }
    // The cohort variant of the home page too.
    assert!(s.get("/c/kitchen/").text().contains("83.25"));
    // One terminal line per rebuild (it reaches this process through a pipe: wait for it).
    s.wait_for_line("a line for the rebuild", |l| l.contains("products/chef-knife.md changed:"));
}

#[test]
fn adding_and_deleting_products_updates_listings_and_sitemap() {
    let shop = basic_shop();
    let s = start(shop.path());
    let events = s.events();
    events.next_named("hello");
    std::fs::write(
        shop.path().join("products/camp-stove.md"),
        "+++\ntitle = \"Camp Stove\"\nsku = \"ST-1\"\nprice = \"45.00\"\ncategory = \"camping\"\ntags = [\"outdoor\"]\ndate = 2026-11-20\nsummary = \"Boils a litre in four minutes.\"\n+++\nSmall and loud.\n",
    )
    .unwrap();
    events.next_named("reload").expect("reload after adding");
    let page = s.wait_for("/products/camp-stove/", "the new product", |b| b.contains("Camp Stove"));
    assert!(page.contains("€45.00"));
    assert_eq!(s.get("/categories/camping/").status, 200, "a new category listing");
    assert!(s.get("/tags/outdoor/").text().contains("Camp Stove"));
    let sitemap = s.get("/sitemap.xml").text();
    assert!(sitemap.contains("https://test.example.com/products/camp-stove/"));
    assert!(sitemap.contains("https://test.example.com/categories/camping/"));

    std::fs::remove_file(shop.path().join("products/camp-stove.md")).unwrap();
    events.next_named("reload").expect("reload after deleting");
    s.wait_for("/sitemap.xml", "the product gone from the sitemap", |b| !b.contains("camp-stove"));
    assert_eq!(s.get("/products/camp-stove/").status, 404);
    assert_eq!(s.get("/categories/camping/").status, 404);
    assert!(!s.get("/tags/outdoor/").text().contains("Camp Stove"));
    assert!(!s.get("/").text().contains("Camp Stove"));
}

#[test]
fn a_broken_file_keeps_the_last_good_site_and_reports_file_and_line() {
    let shop = basic_shop();
    let s = start(shop.path());
    let events = s.events();
    events.next_named("hello");
    // An unterminated string on line 3.
    edit(shop.path(), KNIFE, "sku = \"KN-200\"", "sku = \"KN-200");
    let error = events.next_named("build-error").expect("an error event");
    let first = &error["errors"][0];
    assert_eq!(first["file"], "products/chef-knife.md", "{error}");
    assert_eq!(first["line"], 3, "{error}");
    assert!(first["column"].as_u64().unwrap_or(0) > 0, "{error}");
    assert!(error["text"].as_str().unwrap().contains("products/chef-knife.md:3"), "{error}");
    // The last good page is still served.
    let page = s.get("/products/chef-knife/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("KN-200"));
    // A page opened now learns about the error at once (the overlay shows on load)...
    let late = s.events();
    assert!(late.next_named("build-error").is_some(), "a new stream starts with the current error");
    // ... and the script that draws the overlay is served and injected.
    let tag_at = page.text().find("<script src=\"/__cohort/livereload.js\" data-events=\"/__cohort/events?build=");
    assert!(tag_at.is_some_and(|at| page.text()[at..].contains("\" defer></script></body>")), "{}", page.text());
    let script = s.get("/__cohort/livereload.js");
    assert_eq!(script.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert!(script.text().contains("build-error") && script.text().contains("cohort-error-overlay"));

    // Fixing the file clears it.
    edit(shop.path(), KNIFE, "sku = \"KN-200", "sku = \"KN-201\"");
    events.next_named("reload").expect("a reload event after the fix");
    s.wait_for("/products/chef-knife/", "the fixed SKU", |b| b.contains("KN-201"));
    let fresh = s.events();
    let (name, _) = fresh.next().expect("an event");
    assert_eq!(name, "hello", "after a good build a new page gets no overlay");
}

#[test]
fn a_template_error_is_reported_with_its_template_and_line() {
    let shop = basic_shop();
    std::fs::create_dir_all(shop.path().join("templates")).unwrap();
    let s = start(shop.path());
    let events = s.events();
    events.next_named("hello");
    let original = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/404.html"),
    )
    .unwrap();
    std::fs::write(shop.path().join("templates/404.html"), format!("{original}\n{{% if %}}\n")).unwrap();
    let error = events.next_named("build-error").unwrap_or_else(|| panic!("no error event; stderr:\n{}", s.stderr()));
    let text = error.to_string();
    assert!(text.contains("templates/404.html"), "{text}");
    assert!(error["errors"][0]["line"].as_u64().unwrap_or(0) > 0, "{text}");
    assert_eq!(s.get("/nope").status, 404, "the old site is still served");
    std::fs::write(shop.path().join("templates/404.html"), original.replace("</main>", "<p>custom</p></main>"))
        .unwrap();
    events.next_named("reload").expect("reload after the fix");
}

#[test]
fn answers_like_a_static_host() {
    let shop = basic_shop();
    let s = start(shop.path());
    let home = s.get("/");
    assert_eq!(home.status, 200);
    assert_eq!(home.header("content-type"), Some("text/html; charset=utf-8"));
    // The site's _headers apply.
    assert_eq!(home.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(home.header("referrer-policy"), Some("strict-origin-when-cross-origin"));
    assert_eq!(s.get("/style.css").header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(s.get("/hero.png").header("content-type"), Some("image/png"));
    assert_eq!(s.get("/sitemap.xml").header("content-type"), Some("application/xml"));
    let frag = s.get("/__cohort/manifest.json").text();
    let first_fragment = frag.split('"').find(|p| p.starts_with("_cohort/f/")).expect("a fragment").to_string();
    let f = s.get(&format!("/{first_fragment}"));
    assert_eq!(f.header("cache-control"), Some("public, max-age=31536000, immutable"));
    // Folders: index.html, and /dir redirects to /dir/.
    let redirect = s.get("/products/chef-knife?x=1");
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/products/chef-knife/?x=1"));
    // Missing: the site's 404 page with status 404.
    let missing = s.get("/no/such/page/");
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("Page not found"));
    // Cohort routing from _redirects: the cookie picks the variant where one exists.
    let routed = s.get_with("/", "Cookie: other=1; cohort_kitchen=1\r\n");
    assert!(routed.text().contains("data-cohort-shown=\"kitchen\""));
    assert_eq!(untagged(&routed), text_of(&s.get("/__cohort/raw/c/kitchen/index.html")));
    let no_variant = s.get_with("/products/rain-shell/", "Cookie: cohort_kitchen=1\r\n");
    assert_eq!(
        untagged(&no_variant),
        text_of(&s.get("/__cohort/raw/products/rain-shell/index.html")),
        "the default page where no variant exists"
    );
    // Preview: ?cohort= shows the variant, or splices the fragments where there is none.
    assert!(s.get("/?cohort=outdoor").text().contains("data-cohort-shown=\"outdoor\""));
    let boot = s.get("/products/hiking-boot/?cohort=outdoor").text();
    assert!(boot.contains("The boot for wet trails."), "the outdoor copy is spliced in");
    assert!(!s.get("/products/hiking-boot/").text().contains("The boot for wet trails."));
    let cohorts: serde_json::Value = serde_json::from_slice(&s.get("/__cohort/cohorts.json").body).unwrap();
    assert_eq!(cohorts[0]["id"], "outdoor");
    // The host files are not pages.
    assert_eq!(s.get("/_headers").status, 404);
    assert_eq!(s.get("/_redirects").status, 404);
    // Methods.
    let post = raw(s.port, b"POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    assert_eq!(post.status, 405);
}

/// A served page without its live-reload tag.
fn untagged(r: &Resp) -> String {
    without_livereload(&r.text()).unwrap_or_else(|| panic!("no live-reload tag in:\n{}", r.text()))
}

fn text_of(r: &Resp) -> String {
    assert_eq!(r.status, 200);
    r.text()
}

#[test]
fn the_consent_api_is_mounted_under_v1() {
    let shop = basic_shop();
    let s = start(shop.path());
    let origin = format!("http://127.0.0.1:{}", s.port);
    let body = format!(
        "{{\"policy_version\":\"2026-11-01\",\"purposes\":{{\"personalization\":true,\"analytics\":false}},\"ui\":\"{}\"}}",
        "a".repeat(64)
    );
    let post = format!(
        "POST /v1/consent HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {origin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let created = raw(s.port, post.as_bytes());
    assert_eq!(created.status, 201, "{}", created.text());
    let record: serde_json::Value = serde_json::from_slice(&created.body).unwrap();
    let receipt = record["receipt"].as_str().expect("a receipt").to_string();
    assert_eq!(record["purposes"]["personalization"], true);
    let fetched = s.get(&format!("/v1/consent/{receipt}"));
    assert_eq!(fetched.status, 200);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&fetched.body).unwrap()["receipt"], receipt.as_str());
    let delete = format!(
        "DELETE /v1/consent/{receipt} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {origin}\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(raw(s.port, delete.as_bytes()).status, 204);
    assert_eq!(s.get(&format!("/v1/consent/{receipt}")).status, 404);
    assert_eq!(s.get("/healthz").status, 200);
    // Another origin may not record consent.
    let foreign = post.replace(&origin, "https://evil.example");
    assert_eq!(raw(s.port, foreign.as_bytes()).status, 403);
}

/// Two saves of a product file close together (a format-on-save editor, "save all"): the
/// page open in the browser must end on the last version. The page reloads after the
/// first rebuild and loads that version; a browser then spends a while on the page's
/// other requests and scripts before its live-reload script connects again, and the
/// second rebuild's reload can be sent in that time. Here the page connects only once
/// the server serves the last version (the slowest such browser), and its stream must
/// still bring a reload after which the page is the last version.
#[test]
fn saves_50_100_and_150_ms_apart_end_in_a_reload_of_the_last_version() {
    let shop = basic_shop();
    let s = start(shop.path());
    let path = shop.path().join(KNIFE);
    let original = std::fs::read_to_string(&path).expect("read the product");
    for (round, gap) in [50u64, 100, 150].into_iter().enumerate() {
        let (first, last) = (format!("{}.10", 80 + round), format!("{}.20", 80 + round));
        let mut page = s.open_page("/products/chef-knife/");
        let (name, _) = page.next_event().expect("the stream starts with an event");
        assert_eq!(name, "hello", "a page loaded from the current build gets no reload at once");
        write_by_rename(&path, &original.replace("price = \"79.00\"", &format!("price = \"{first}\"")));
        std::thread::sleep(std::time::Duration::from_millis(gap));
        write_by_rename(&path, &original.replace("price = \"79.00\"", &format!("price = \"{last}\"")));
        // The first reload: the page loads whatever is served then, and connects once the
        // server serves the last version.
        loop {
            let (name, data) = page.next_event().unwrap_or_else(|| panic!("no reload after two saves {gap} ms apart"));
            if name == "reload" {
                assert_eq!(data["css_only"], false);
                break;
            }
        }
        page.reload(|_| {
            s.wait_for("/__cohort/raw/products/chef-knife/index.html", "the last price", |b| {
                b.contains(&format!("€{last}"))
            });
        });
        let want = format!("€{last}");
        page.follow_until(&format!("the last price {last} (saves {gap} ms apart)"), |html| html.contains(&want));
        assert!(!page.html.contains(&format!("€{first}")), "the page shows the last version only");
        // Settled: a page loaded now is current and is not told to reload.
        let fresh = s.open_page("/products/chef-knife/");
        assert_eq!(fresh.next_event().map(|(n, _)| n).as_deref(), Some("hello"), "saves {gap} ms apart");
    }
}
