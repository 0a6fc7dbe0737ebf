//! Plugin mode on a real Hugo site: `tests/sites/hugo-shop` is built with Debian's `hugo`
//! into a temporary folder, then `cohort personalize` (the real binary) runs on the output.
//! The tests fail, never skip, when `hugo` is missing (`.ci/run` installs it).

mod common;

use common::{copy_fixture, tree};
use std::collections::BTreeMap;

mod personalize_support;

use personalize_support::{built_site, hugo, personalize, read};

/// The `data-cohort-keys` maps of a page, in order: (slot name, {cohort: hash}).
fn slot_keys(html: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    for (i, _) in html.match_indices("data-cohort-slot=\"") {
        let rest = &html[i + "data-cohort-slot=\"".len()..];
        let name = rest.split('"').next().unwrap_or_default().to_string();
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        let keys = tag
            .split_once("data-cohort-keys='")
            .and_then(|(_, v)| v.split('\'').next())
            .map(|json| serde_json::from_str::<BTreeMap<String, String>>(json).expect("keys are JSON"))
            .unwrap_or_default();
        out.push((name, keys));
    }
    out
}

/// The page without the blocks personalize injects (each between its marker comments: the
/// banner after `<body>`, the configuration and runtime before `</body>`).
fn without_block(html: &str) -> String {
    assert!(html.contains("<!--cohort:begin-->"), "the injected block");
    let mut out = String::new();
    let mut rest = html;
    while let Some(b) = rest.find("<!--cohort:begin-->") {
        let e = rest[b..].find("<!--cohort:end-->").expect("the end of the injected block") + b;
        out.push_str(&rest[..b]);
        rest = &rest[e + "<!--cohort:end-->".len()..];
    }
    out + rest
}

#[test]
fn personalize_hugo_site_adds_fragments_keys_variants_runtime_and_pages() {
    let dir = built_site(&[]);
    let root = dir.path();
    let before = tree(&root.join("public"));
    assert!(before.contains_key("index.html") && before.contains_key("products/trail-runner/index.html"));
    let (code, stdout, stderr) = personalize(root);
    assert_eq!(code, 0, "personalize failed:\n{stdout}\n{stderr}");
    let after = tree(&root.join("public"));

    // Slots: keys on the home page for both cohorts' heroes, each naming a fragment.
    let home = read(root, "index.html");
    let keys = slot_keys(&home);
    let names: Vec<&str> = keys.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["hero", "picks"]);
    assert_eq!(keys[0].1.keys().map(String::as_str).collect::<Vec<_>>(), ["kitchen", "outdoor"]);
    for (file, bytes) in &after {
        if !file.ends_with(".html") || file.starts_with("_cohort/") {
            continue;
        }
        for (slot, map) in slot_keys(&String::from_utf8_lossy(bytes)) {
            for (cohort, hash) in map {
                let fragment = format!("_cohort/f/{hash}.html");
                assert!(
                    after.contains_key(&fragment),
                    "{file}: slot {slot} names {fragment} for {cohort}, which is missing"
                );
            }
        }
    }
    let outdoor_hero = read(root, &format!("_cohort/f/{}.html", keys[0].1["outdoor"]));
    assert!(outdoor_hero.contains("Built for wet trails"), "{outdoor_hero}");
    // The default content is filled in, with the product URLs Hugo gave the products.
    assert!(home.contains("href=\"/products/trail-runner/\""), "{home}");
    // The product copy from the Hugo front matter's [params.cohort.outdoor].
    let product = read(root, "products/trail-runner/index.html");
    let copy = slot_keys(&product).into_iter().find(|(n, _)| n == "copy").expect("copy slot");
    assert_eq!(copy.1.keys().collect::<Vec<_>>(), ["outdoor"]);
    let fragment = read(root, &format!("_cohort/f/{}.html", copy.1["outdoor"]));
    assert!(fragment.contains("Grippy lugs for wet trails") && fragment.contains("Trail pick"), "{fragment}");
    // Its interests (outdoor, running, shoes), of which a page lists those some cohort counts.
    assert!(product.contains("\"i\":[\"outdoor\"]"), "page interests: {product}");

    // Variants for home and the category whose order changes, noindex, routed.
    for v in ["c/outdoor/index.html", "c/kitchen/index.html", "c/outdoor/categories/shoes/index.html"] {
        let html = read(root, v);
        assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"), "{v} is not noindex");
        assert!(html.contains("rel=\"canonical\""), "{v} has no canonical link");
    }
    assert!(read(root, "c/outdoor/index.html").contains("<h1 id=\"hero-title\">Built for wet trails</h1>"));
    assert!(!after.contains_key("c/outdoor/products/trail-runner/index.html"), "product pages get no variants");
    let redirects = read(root, "_redirects");
    assert!(redirects.contains("/ /c/outdoor/ 200! Cookie=cohort_outdoor"), "{redirects}");
    assert!(
        redirects.contains("/categories/shoes/ /c/outdoor/categories/shoes/ 200! Cookie=cohort_outdoor"),
        "{redirects}"
    );

    // The runtime and the pages.
    assert_eq!(after["cohort.js"], cohort::runtime::script().as_bytes());
    let headers = read(root, "_headers");
    let hugo_script =
        cohort::output::csp::inline_script_hashes("<script>document.documentElement.className = 'js';</script>");
    assert!(headers.contains(&hugo_script[0]), "the CSP lacks the hash of Hugo's inline script: {headers}");
    assert!(!headers.contains("unsafe-inline"));
    assert_eq!(read(root, ".well-known/gpc.json"), "{\"gpc\": true, \"lastUpdate\": \"2026-11-01\"}\n");
    let privacy = read(root, "privacy/index.html");
    assert!(privacy.contains("<h1>Privacy notice</h1>") && privacy.contains("cohort.interests"), "{privacy}");
    assert!(privacy.contains("loads nothing from other services"), "no third party declared: {privacy}");
    assert!(privacy.contains("<main id=\"main\" data-cohort-main>"), "the notice uses the Hugo layout: {privacy}");
    assert!(privacy.contains("<title>Privacy notice · Hugo Trail &amp; Table</title>"), "{privacy}");
    assert!(privacy.contains("<link rel=\"canonical\" href=\"https://shop.example.com/privacy/\">"));
    assert_eq!(privacy.matches("rel=\"canonical\"").count(), 1, "{privacy}");
    let prefs = read(root, "preferences/index.html");
    assert!(prefs.contains("id=\"cohort-prefs\"") && prefs.contains("<script src=\"/cohort.js\" defer></script>"));
    assert!(root.join("consent-records/ui").read_dir().map(|d| d.count()).unwrap_or(0) == 1);

    // Every file Hugo wrote is unchanged, except HTML pages: there only the slot elements
    // and the injected block differ.
    for (file, original) in &before {
        let now = &after[file];
        if !file.ends_with(".html") {
            assert_eq!(now, original, "{file} changed");
            continue;
        }
        let original = String::from_utf8_lossy(original).into_owned();
        let now = without_block(&String::from_utf8_lossy(now));
        let mut rest = now.as_str();
        let mut segments = Vec::new();
        let mut text = original.as_str();
        while let Some(i) = text.find("<div class=\"cohort-slot\" data-cohort-slot=\"") {
            let end = text[i..].find("</div>").map(|e| i + e + "</div>".len()).expect("slot end");
            segments.push((&text[..i], &text[i..end]));
            text = &text[end..];
        }
        for (before_slot, slot) in segments {
            assert!(rest.starts_with(before_slot), "{file}: the text before a slot changed");
            rest = &rest[before_slot.len()..];
            let open = slot.trim_end_matches("></div>");
            assert!(rest.starts_with(open), "{file}: the slot's start tag changed");
            // Skip the filled slot: up to the end of its element.
            let tag_end = rest.find('>').expect("tag end") + 1;
            let mut depth = 1;
            let mut at = tag_end;
            while depth > 0 {
                let next_open = rest[at..].find("<div").map(|o| at + o);
                let next_close = rest[at..].find("</div>").map(|c| at + c).expect("slot closes");
                match next_open {
                    Some(o) if o < next_close => {
                        depth += 1;
                        at = o + 4;
                    }
                    _ => {
                        depth -= 1;
                        at = next_close + 6;
                    }
                }
            }
            rest = &rest[at..];
        }
        assert_eq!(rest, text, "{file}: the text after the last slot changed");
    }
}

#[test]
fn personalize_twice_is_byte_identical_to_once() {
    // The site has its own _headers: personalize appends its block and keeps the site's lines.
    let dir = built_site(&[("static/_headers", "/css/*\n  Cache-Control: public, max-age=3600\n")]);
    let root = dir.path();
    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    let once = tree(&root.join("public"));
    let headers = String::from_utf8_lossy(&once["_headers"]).into_owned();
    assert!(headers.starts_with("/css/*\n  Cache-Control: public, max-age=3600\n"), "{headers}");
    assert!(headers.contains("Content-Security-Policy"), "{headers}");

    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 files written, 0 removed"), "{out}");
    let twice = tree(&root.join("public"));
    assert_eq!(once.keys().collect::<Vec<_>>(), twice.keys().collect::<Vec<_>>());
    for (file, bytes) in &once {
        assert!(bytes == &twice[file], "{file} differs after a second run");
    }

    // Hugo builds again over the personalized folder (as `hugo` does, without cleaning it),
    // then personalize: the same bytes again.
    hugo(root);
    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    let again = tree(&root.join("public"));
    assert_eq!(once.keys().collect::<Vec<_>>(), again.keys().collect::<Vec<_>>());
    for (file, bytes) in &once {
        assert!(bytes == &again[file], "{file} differs after hugo + personalize");
    }
}

#[test]
fn third_party_script_is_refused_with_file_and_origin_until_declared() {
    let widget = [
        ("layouts/shortcodes/reviews.html", "<script src=\"https://widgets.example.net/reviews.js\" defer></script>\n"),
        ("content/reviews.md", "+++\ntitle = \"Reviews\"\n+++\nWhat our customers say:\n\n{{< reviews >}}\n"),
    ];
    let dir = built_site(&widget);
    let root = dir.path();
    let before = tree(&root.join("public"));
    let (code, out, err) = personalize(root);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("error[privacy/third-party-origin] /reviews/index.html:"), "{err}");
    assert!(err.contains("loads https://widgets.example.net (script)"), "{err}");
    assert!(err.contains("[[privacy.third_parties]]"), "the report says how to declare it: {err}");
    assert!(err.contains("personalize refused the site"), "{err}");
    assert_eq!(tree(&root.join("public")), before, "a refused site is left exactly as it was");

    let mut toml = std::fs::read_to_string(root.join("shop.toml")).expect("shop.toml");
    toml.push_str(
        "\n[[privacy.third_parties]]\norigin = \"https://widgets.example.net\"\nname = \"Example widgets\"\npurpose = \"functional\"\nkinds = [\"script\"]\ndescription = \"Customer reviews on the reviews page\"\n",
    );
    std::fs::write(root.join("shop.toml"), toml).expect("write shop.toml");
    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    let privacy = read(root, "privacy/index.html");
    assert!(privacy.contains("https://widgets.example.net"), "the notice lists the origin");
    assert!(privacy.contains("Customer reviews on the reviews page"), "the notice gives its purpose");
    assert!(
        privacy.contains("loads content from other services only where listed below")
            && !privacy.contains("loads nothing from other services"),
        "the notice's summary does not deny the declared third party"
    );
    let headers = read(root, "_headers");
    assert!(headers.contains("script-src 'self' https://widgets.example.net"), "{headers}");
    // The theme's plain tag is rewritten so it waits for consent to its purpose (crate::gate).
    let reviews = read(root, "reviews/index.html");
    assert!(
        reviews.contains("<script type=\"text/plain\" data-cohort-purpose=\"functional\" src=\"https://widgets.example.net/reviews.js\" defer></script>"),
        "{reviews}"
    );
    assert!(reviews.contains("<script src=\"/cohort-gate.js\" defer></script>"), "{reviews}");
    assert!(root.join("public/cohort-gate.js").exists());
}

#[test]
fn a_misspelt_slot_is_reported_with_file_line_column_and_fix() {
    let dir = built_site(&[("content/oops.md", "+++\ntitle = \"Oops\"\n+++\nHello\n\n{{< cohort-slot \"pick\" >}}\n")]);
    let root = dir.path();
    let before = tree(&root.join("public"));
    let (code, out, err) = personalize(root);
    assert_eq!(code, 1, "{out}{err}");
    let place = format!("{}:", root.join("public/oops/index.html").display());
    assert!(err.contains(&place), "{err}");
    assert!(err.contains("unknown slot `pick`") && err.contains("did you mean `picks`?"), "{err}");
    let line = err.split(&place).nth(1).and_then(|r| r.split(':').next()).and_then(|l| l.parse::<usize>().ok());
    let html = String::from_utf8_lossy(&before["oops/index.html"]).into_owned();
    let expected = html.lines().position(|l| l.contains("data-cohort-slot=\"pick\"")).map(|i| i + 1);
    assert_eq!(line, expected, "{err}");
    assert_eq!(tree(&root.join("public")), before);
}

#[test]
fn a_product_without_price_is_reported_in_its_content_file() {
    let dir = built_site(&[(
        "content/products/no-price.md",
        "+++\ntitle = \"No Price\"\ncategories = [\"shoes\"]\n[params]\nsku = \"NP-1\"\nprice = 12.5\n+++\nBody\n",
    )]);
    let root = dir.path();
    let (code, out, err) = personalize(root);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("content/products/no-price.md:6:"), "{err}");
    assert!(err.contains("`price` must be a string") && err.contains("price = \"12.5\""), "{err}");
}

#[test]
fn library_slot_versions_match_the_fragments_the_build_writes() {
    // The library path of examples/embed.rs gives the same fragments as `cohort build`.
    let dir = copy_fixture("basic");
    let root = dir.path();
    let (code, out, err) = common::run(&["build", "--root", &root.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    let home = std::fs::read_to_string(root.join("public/index.html")).expect("home");
    let built: Vec<(String, BTreeMap<String, String>)> = slot_keys(&home);
    assert!(built.iter().any(|(_, k)| !k.is_empty()), "the fixture's home page has cohort keys");

    let options = cohort::build::BuildOptions { root: root.to_path_buf(), ..Default::default() };
    let prepared = cohort::build::load(&options).map_err(|e| e.to_string()).expect("the shop loads");
    let recs = cohort::build::recommendations(&prepared.shop, prepared.aggregates.as_ref());
    let renderer = cohort::render::Renderer::new(&prepared.shop, &prepared.theme, &recs).expect("renderer");
    let job = prepared.plan.jobs.iter().find(|j| j.kind == cohort::plan::PageKind::Home).expect("home job");
    let out = tempfile::tempdir().expect("temp");
    let mut all = Vec::new();
    for (name, keys) in &built {
        let v = renderer.slot_versions(job, name).expect("slot renders");
        let lib: BTreeMap<String, String> = v.cohorts.iter().map(|(c, h, _)| (c.clone(), h.clone())).collect();
        assert_eq!(&lib, keys, "slot {name}");
        all.push(v);
    }
    let n = cohort::personalize::write_fragments(out.path(), &all).expect("write");
    for (_, keys) in &built {
        for hash in keys.values() {
            let file = format!("_cohort/f/{hash}.html");
            let ours = std::fs::read(out.path().join(&file)).expect("written");
            assert_eq!(ours, std::fs::read(root.join("public").join(&file)).expect("built"), "{file}");
        }
    }
    assert!(n > 0);
}

#[test]
fn a_page_the_site_writes_over_a_created_one_is_the_sites_again() {
    // First run: /privacy/ is created in the site's layout. Then the merchant makes their own
    // privacy page with the documented shortcode and Hugo writes it over Cohort's.
    let dir = built_site(&[]);
    let root = dir.path();
    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    let manifest = read(root, "_cohort/manifest.json");
    assert!(manifest.contains("\"privacy/index.html\""), "{manifest}");
    std::fs::write(
        root.join("content/privacy.md"),
        "+++\ntitle = \"Privacy\"\n+++\nOur own words first.\n\n{{< cohort-page \"privacy\" >}}\n",
    )
    .expect("write");
    hugo(root);
    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    let privacy = read(root, "privacy/index.html");
    assert!(privacy.contains("Our own words first."), "the merchant's page is kept: {privacy}");
    assert!(privacy.contains("<div data-cohort-page=\"privacy\">"), "{privacy}");
    assert!(privacy.contains("<h1>Privacy notice</h1>"), "the notice fills the container");
    assert!(!read(root, "_cohort/manifest.json").contains("\"privacy/index.html\""), "no longer Cohort's file");
    // And again: the same bytes.
    let once = tree(&root.join("public"));
    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(tree(&root.join("public")), once);
}

#[test]
fn a_file_of_the_site_where_cohort_writes_is_never_overwritten() {
    let dir = built_site(&[("static/cohort.js", "console.log('the site\\'s own script');\n")]);
    let root = dir.path();
    let before = tree(&root.join("public"));
    let (code, out, err) = personalize(root);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains(&format!("{}", root.join("public/cohort.js").display())), "{err}");
    assert!(err.contains("belongs to the site"), "{err}");
    assert_eq!(tree(&root.join("public")), before, "nothing was written");
}

#[test]
fn without_products_glob_the_shop_s_own_products_are_used() {
    // The shop root is a separate folder with shop.toml and products/ in Cohort's format;
    // the product pages are the ones Hugo wrote at /products/SLUG/.
    let dir = built_site(&[]);
    let root = dir.path();
    let shop = tempfile::tempdir().expect("temp");
    std::fs::copy(root.join("shop.toml"), shop.path().join("shop.toml")).expect("copy shop.toml");
    std::fs::create_dir_all(shop.path().join("products")).expect("mkdir");
    let products = [
        ("trail-runner", "Trail Runner 2", "TR2-001", "89.00", "shoes", "[\"outdoor\", \"running\"]"),
        ("fern-pack", "Fern Pack 28", "FP-028", "120.00", "packs", "[\"outdoor\", \"hiking\"]"),
        ("hut-boot", "Hut Boot", "HB-100", "149.50", "shoes", "[\"winter\"]"),
        ("cast-iron-pan", "Cast Iron Pan", "CI-26", "59.00", "cookware", "[\"kitchen\", \"cookware\"]"),
        ("chef-knife", "Chef Knife", "CK-20", "74.00", "knives", "[\"kitchen\"]"),
        ("linen-apron", "Linen Apron", "LA-01", "35.00", "cookware", "[\"kitchen\"]"),
    ];
    for (slug, title, sku, price, category, tags) in products {
        let extra = if slug == "chef-knife" { "\n[cohort.kitchen]\nbadge = \"Sharpest in the drawer\"\n" } else { "" };
        std::fs::write(
            shop.path().join("products").join(format!("{slug}.md")),
            format!("+++\ntitle = \"{title}\"\nsku = \"{sku}\"\nprice = \"{price}\"\ncategory = \"{category}\"\ntags = {tags}\n{extra}+++\nBody.\n"),
        )
        .expect("write product");
    }
    let out = common::cohort()
        .arg("personalize")
        .arg("--site")
        .arg(root.join("public"))
        .arg("--root")
        .arg(shop.path())
        .output()
        .expect("cohort runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let knife = read(root, "products/chef-knife/index.html");
    let copy = slot_keys(&knife).into_iter().find(|(n, _)| n == "copy").expect("copy slot");
    assert_eq!(copy.1.keys().collect::<Vec<_>>(), ["kitchen"]);
    let fragment = read(root, &format!("_cohort/f/{}.html", copy.1["kitchen"]));
    assert!(fragment.contains("Sharpest in the drawer"), "{fragment}");
    assert!(shop.path().join("consent-records/ui").is_dir(), "the consent UI record is kept in the shop root");
}

#[test]
fn a_product_page_the_generator_left_behind_is_an_error_with_the_clean_build_fix() {
    let dir = built_site(&[]);
    let root = dir.path();
    let site = root.join("public");
    let kept = std::fs::read_dir(site.join("products"))
        .expect("products/")
        .filter_map(Result::ok)
        .map(|e| e.path().join("index.html"))
        .find(|p| p.is_file())
        .expect("a product page");
    // A product removed from content/ whose page an earlier `hugo` run left in public/.
    std::fs::create_dir_all(site.join("products/removed-lamp")).expect("mkdir");
    std::fs::copy(&kept, site.join("products/removed-lamp/index.html")).expect("copy");
    let before = tree(&site);
    let (code, out, err) = personalize(root);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains(&format!("{}:", site.join("products/removed-lamp/index.html").display())), "{err}");
    assert!(err.contains("not a product page") && err.contains("--cleanDestinationDir"), "{err}");
    assert_eq!(tree(&site), before, "the site is left as it was");
}
