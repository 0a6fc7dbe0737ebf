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

const ANALYTICS: &str = "[[privacy.third_parties]]\nname = \"Example Analytics\"\norigin = \"https://analytics.example\"\npurpose = \"analytics\"\nkinds = [\"script\"]\ndescription = \"Counts page views\"\nstores = [{ name = \"_ea\", kind = \"cookie\", lifetime = \"1 year\" }]\npolicy_url = \"https://analytics.example/privacy\"\n";
const MARKETING: &str = "[[privacy.third_parties]]\nname = \"Example Ads\"\norigin = \"https://ads.example\"\npurpose = \"marketing\"\nkinds = [\"script\", \"image\"]\ndescription = \"Measures which ads bring visitors\"\n";
const FUNCTIONAL: &str = "[[privacy.third_parties]]\nname = \"YouTube\"\norigin = \"https://www.youtube-nocookie.com\"\npurpose = \"functional\"\nkinds = [\"frame\"]\ndescription = \"Product videos\"\n";
const NECESSARY: &str = "[[privacy.third_parties]]\nname = \"PayCo\"\norigin = \"https://pay.example\"\npurpose = \"necessary\"\nkinds = [\"script\", \"frame\"]\ndescription = \"The checkout\"\nreason = \"Payments are taken on the PayCo checkout\"\n";

/// The shop built with these declarations: (privacy notice, preferences page, home page
/// followed by the banner it shows: the file its placeholder names).
fn notice_for(declarations: &str) -> (String, String, String) {
    let shop = if declarations.is_empty() { copy_fixture("basic") } else { shop_with(declarations) };
    let (code, out, err) = build(&shop);
    assert_eq!(code, 0, "{out}{err}");
    let page = |p: &str| read(&shop.path().join("public").join(p));
    let home = page("index.html");
    let (_, rest) = home.split_once(r#"data-cohort-banner=""#).expect("the banner's placeholder");
    let hash = rest.split('"').next().unwrap_or_default();
    let banner = page(&format!("_cohort/f/{hash}.html"));
    (page("privacy/index.html"), page("preferences/index.html"), format!("{home}{banner}"))
}

fn text(html: &str) -> String {
    let mut out = String::new();
    let mut tag = false;
    for c in html.chars() {
        match c {
            '<' => tag = true,
            '>' => {
                tag = false;
                out.push(' ');
            }
            _ if !tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_notice_says_none_when_nothing_is_declared() {
    let (privacy, prefs, home) = notice_for("");
    let (privacy, prefs, home) = (text(&privacy), text(&prefs), text(&home));
    assert!(privacy.contains("This shop does not track you. It has no analytics and no advertising."), "{privacy}");
    assert!(privacy.contains("It loads nothing from other services."), "{privacy}");
    assert!(privacy.contains("Analytics None. This shop runs no analytics."), "{privacy}");
    assert!(prefs.contains("this shop runs no analytics"), "{prefs}");
    assert!(home.contains("Nothing is stored until you choose") && home.contains("Accept Reject"), "{home}");
}

#[test]
fn the_notice_names_a_functional_provider_and_asks_consent_for_it() {
    let (privacy, prefs, home) = notice_for(FUNCTIONAL);
    let (privacy, prefs, home) = (text(&privacy), text(&prefs), text(&home));
    assert!(privacy.contains("This shop does not track you. It has no analytics and no advertising."), "{privacy}");
    assert!(
        privacy.contains("Functional (only with your consent)") && privacy.contains("Provided by YouTube"),
        "{privacy}"
    );
    assert!(privacy.contains("legal basis for personalization, functional is your consent"), "{privacy}");
    assert!(
        prefs.contains("Functional") && prefs.contains("YouTube") && prefs.contains("this shop runs no analytics"),
        "{prefs}"
    );
    assert!(
        home.contains("this shop also uses YouTube (functional)") && home.contains("Accept all Reject all"),
        "{home}"
    );
}

#[test]
fn the_notice_says_analytics_names_the_provider_and_the_legal_basis() {
    let (privacy_html, prefs_html, home) = notice_for(ANALYTICS);
    let (privacy, prefs, home) = (text(&privacy_html), text(&prefs_html), text(&home));
    assert!(privacy.contains("This shop uses analytics (Example Analytics), but only if you agree"), "{privacy}");
    assert!(!privacy.contains("no analytics"), "{privacy}");
    assert!(
        privacy.contains("legal basis for personalization, analytics is your consent (GDPR Article 6(1)(a)"),
        "{privacy}"
    );
    assert!(privacy.contains("_ea") && privacy.contains("1 year"), "what it stores and for how long: {privacy}");
    assert!(privacy_html.contains("href=\"https://analytics.example/privacy\""), "its policy link");
    assert!(prefs_html.contains("name=\"analytics\""), "a toggle for analytics");
    assert!(prefs.contains("Example Analytics") && prefs.contains("_ea (cookie, 1 year)"), "{prefs}");
    assert!(!prefs.contains("runs no analytics"), "{prefs}");
    assert!(home.contains("this shop also uses Example Analytics (analytics)"), "{home}");
}

#[test]
fn the_notice_says_advertising_when_marketing_is_declared() {
    let (privacy, prefs_html, home) = notice_for(MARKETING);
    let (privacy, home) = (text(&privacy), text(&home));
    assert!(privacy.contains("This shop uses advertising services (Example Ads), but only if you agree"), "{privacy}");
    assert!(privacy.contains("Marketing (only with your consent)"), "{privacy}");
    assert!(!privacy.contains("no advertising"), "{privacy}");
    assert!(privacy.contains("Analytics None."), "no analytics is still said: {privacy}");
    assert!(prefs_html.contains("name=\"marketing\"") && !prefs_html.contains("name=\"analytics\""));
    assert!(home.contains("Example Ads (marketing)"), "{home}");
}

#[test]
fn a_necessary_provider_is_listed_with_its_reason_and_asks_nothing() {
    let (privacy, prefs_html, home) = notice_for(NECESSARY);
    let (privacy, prefs, home) = (text(&privacy), text(&prefs_html), text(&home));
    assert!(
        privacy.contains(
            "Services the shop cannot work without (necessary) PayCo: Payments are taken on the PayCo checkout"
        ),
        "{privacy}"
    );
    assert!(privacy.contains("contract you enter when you buy (GDPR Article 6(1)(b))"), "{privacy}");
    assert!(privacy.contains("This shop does not track you."), "{privacy}");
    assert!(prefs.contains("Always on") && prefs.contains("PayCo"), "{prefs}");
    assert!(!prefs_html.contains("name=\"necessary\""), "no toggle for what cannot be refused");
    assert!(home.contains("Accept Reject") && !home.contains("Accept all"), "nothing extra to accept: {home}");
}

#[test]
fn changing_the_third_parties_or_their_purposes_changes_the_consent_ui_hash() {
    let hash = |decl: &str| {
        let (_, _, home) = notice_for(decl);
        let at = home.find("\"u\":\"").expect("the page config names the consent-UI hash") + 5;
        home[at..at + 64].to_string()
    };
    let none = hash("");
    let analytics = hash(ANALYTICS);
    let marketing = hash(&ANALYTICS.replace("purpose = \"analytics\"", "purpose = \"marketing\""));
    let two = hash(&format!("{ANALYTICS}\n{}", FUNCTIONAL));
    assert_ne!(none, analytics);
    assert_ne!(analytics, marketing, "a purpose change asks again");
    assert_ne!(analytics, two, "a new third party asks again");
}

#[test]
fn a_plain_tag_in_markdown_is_gated_by_the_build_and_its_inline_code_allowed_by_hash() {
    let shop = shop_with(ANALYTICS);
    let page = shop.path().join("products/enamel-mug.md");
    let mut md = read(&page);
    md.push_str("\n\n<script async src=\"https://analytics.example/a.js\"></script>\n<script>var ea = 'https://analytics.example';</script>\n");
    std::fs::write(&page, md).expect("write");
    let (code, out, err) = build(&shop);
    assert_eq!(code, 0, "{out}{err}");
    let html = read(&shop.path().join("public/products/enamel-mug/index.html"));
    assert!(html.contains("<script type=\"text/plain\" data-cohort-purpose=\"analytics\" async src=\"https://analytics.example/a.js\"></script>"), "{html}");
    assert!(html.contains("<script type=\"text/plain\" data-cohort-purpose=\"analytics\">var ea = 'https://analytics.example';</script>"), "{html}");
    assert!(html.contains("<script src=\"/cohort-gate.js\" defer></script>"), "{html}");
    assert!(shop.path().join("public/cohort-gate.js").exists());
    let other = read(&shop.path().join("public/index.html"));
    assert!(!other.contains("cohort-gate.js"), "a page without gated elements does not load the gating script");
    // sha256("var ea = 'https://analytics.example';"), as a browser computes it.
    use sha2::Digest;
    let digest = sha2::Sha256::digest(b"var ea = 'https://analytics.example';");
    let hash = format!("'sha256-{}'", cohort::output::csp::base64(&digest));
    assert!(directive(&csp(&shop), "script-src").contains(&hash), "the gated inline script is allowed: {}", csp(&shop));
}

#[test]
fn consent_mode_is_off_by_default_and_first_in_head_when_on() {
    let shop = shop_with(ANALYTICS);
    build(&shop);
    assert!(!read(&shop.path().join("public/index.html")).contains("cohort-consent-mode.js"));
    assert!(!shop.path().join("public/cohort-consent-mode.js").exists());
    let path = shop.path().join("shop.toml");
    let toml = read(&path).replace("[privacy]\n", "[privacy]\ngoogle_consent_mode = true\n");
    std::fs::write(&path, toml).expect("write");
    let (code, out, err) = build(&shop);
    assert_eq!(code, 0, "{out}{err}");
    let home = read(&shop.path().join("public/index.html"));
    let head = &home[home.find("<head").expect("head")..];
    let first_script = head.find("<script").expect("a script");
    assert!(head[first_script..].starts_with("<script src=\"/cohort-consent-mode.js\"></script>"), "{head}");
    let js = read(&shop.path().join("public/cohort-consent-mode.js"));
    assert!(js.contains("'consent','default'") && js.contains("'consent','update'"), "{js}");
}

#[test]
fn violation_reports_go_to_the_consent_endpoint_when_there_is_one() {
    let shop = shop_with(ANALYTICS);
    let path = shop.path().join("shop.toml");
    let toml =
        read(&path).replace("[privacy]\n", "[privacy]\nconsent_endpoint = \"https://consent.example.com/v1/\"\n");
    std::fs::write(&path, toml).expect("write");
    let (code, out, err) = build(&shop);
    assert_eq!(code, 0, "{out}{err}");
    let policy = csp(&shop);
    assert!(
        policy.ends_with("; report-uri https://consent.example.com/v1/csp-report; report-to cohort-csp"),
        "{policy}"
    );
    let headers = read(&shop.path().join("public/_headers"));
    assert!(
        headers.contains("  Reporting-Endpoints: cohort-csp=\"https://consent.example.com/v1/csp-report\"\n"),
        "{headers}"
    );

    let toml =
        read(&path).replace("consent_endpoint = \"https://consent.example.com/v1/\"\n", "consent_endpoint = \"\"\n");
    std::fs::write(&path, toml).expect("write");
    build(&shop);
    assert!(!csp(&shop).contains("report-"), "no endpoint, no reports");
    assert!(!read(&shop.path().join("public/_headers")).contains("Reporting-Endpoints"));
}

#[test]
fn check_refuses_a_third_party_without_a_purpose_and_warns_on_a_necessary_tracker() {
    let shop = shop_with("[[privacy.third_parties]]\norigin = \"https://widgets.example.net\"\nkinds = [\"script\"]\n");
    let (code, out, err) = run(&["check", "--root", shop.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("shop.toml") && all.contains("purpose"), "{all}");

    let shop = shop_with(
        "[[privacy.third_parties]]\nname = \"Tags\"\norigin = \"https://www.googletagmanager.com\"\npurpose = \"necessary\"\nkinds = [\"script\"]\nreason = \"We need it\"\n",
    );
    let (_, out, err) = run(&["check", "--root", shop.path().to_str().unwrap()]);
    let all = format!("{out}{err}");
    assert!(all.contains("privacy/necessary-third-party"), "{all}");
    assert!(all.contains("tag-manager host"), "{all}");
    assert!(all.contains("shop.toml:"), "it names the file and line: {all}");
}

#[test]
fn check_reports_a_marked_script_that_would_not_wait_for_consent() {
    let shop = shop_with(ANALYTICS);
    let page = shop.path().join("products/enamel-mug.md");
    let mut md = read(&page);
    md.push_str("\n\n<script data-cohort-purpose=\"analytics\" src=\"https://analytics.example/a.js\"></script>\n");
    std::fs::write(&page, md).expect("write");
    let (code, out, err) = run(&["check", "--root", shop.path().to_str().unwrap()]);
    let all = format!("{out}{err}");
    assert_eq!(code, 1, "{all}");
    assert!(all.contains("privacy/gated-element"), "{all}");
    assert!(all.contains("type=\"text/plain\""), "the fix says how: {all}");
}

#[test]
fn a_cohort_fragment_never_brings_in_an_ungated_third_party() {
    // A theme whose copy slot prints the product's description, which embeds a video.
    let shop = shop_with(FUNCTIONAL);
    let templates = shop.path().join("templates/slots");
    std::fs::create_dir_all(&templates).expect("mkdir");
    std::fs::write(
        templates.join("copy.html"),
        "<div class=\"product-copy\" data-sku=\"{{ product.sku }}\"><p class=\"summary\">{{ product.summary }}</p>{{ product.body | safe }}</div>\n",
    )
    .expect("write");
    let page = shop.path().join("products/hiking-boot/index.md");
    let mut md = read(&page);
    md.push_str("\n\n<iframe src=\"https://www.youtube-nocookie.com/embed/boot\" title=\"Boot video\"></iframe>\n");
    std::fs::write(&page, md).expect("write");
    let (code, out, err) = build(&shop);
    assert_eq!(code, 0, "{out}{err}");
    let mut fragments = 0;
    for entry in std::fs::read_dir(shop.path().join("public/_cohort/f")).expect("fragments").flatten() {
        let html = read(&entry.path());
        if html.contains("youtube-nocookie.com/embed/boot") {
            fragments += 1;
            assert!(html.contains("data-cohort-embed") && html.contains("<template><iframe"), "{html}");
            assert!(!html.contains("<script"), "a fragment gets no script: {html}");
        }
    }
    assert!(fragments > 0, "the cohort's copy fragment holds the video, gated");
    let product = read(&shop.path().join("public/products/hiking-boot/index.html"));
    assert!(
        !product.contains(
            "<iframe src=\"https://www.youtube-nocookie.com/embed/boot\" title=\"Boot video\"></iframe></div>"
        )
    );
    assert!(product.contains("cohort-gate.js"), "the page loads the gating script");
}

/// Builds `shop` with the default banner plus `element` at its end; returns the home page,
/// after checking the banner is in it (no placeholder for a fetched banner file).
fn home_with_banner_element(shop: &tempfile::TempDir, element: &str) -> String {
    let templates = shop.path().join("templates/partials");
    std::fs::create_dir_all(&templates).expect("mkdir");
    let banner = include_str!("../themes/default/templates/partials/consent-banner.html")
        .replace("</section>", &format!("{element}</section>"));
    std::fs::write(templates.join("consent-banner.html"), banner).expect("write");
    let (code, out, err) = build(shop);
    assert_eq!(code, 0, "{out}{err}");
    let home = read(&shop.path().join("public/index.html"));
    assert!(!home.contains("data-cohort-banner="), "no placeholder: the banner is in the page");
    assert!(home.contains(r#"<section id="cohort-banner""#), "{home}");
    home
}

#[test]
fn a_banner_that_embeds_a_declared_third_party_stays_in_the_page_and_is_gated() {
    // A theme whose banner shows a video from a provider that needs consent: a fetched banner
    // file would load it ungated, so the banner stays in the page, where the page's gate works.
    let shop = shop_with(FUNCTIONAL);
    let video = "<iframe src=\"https://www.youtube-nocookie.com/embed/welcome\" title=\"Welcome\"></iframe>";
    let home = home_with_banner_element(&shop, video);
    assert!(home.contains("youtube-nocookie.com/embed/welcome") && home.contains("<template><iframe"), "gated");
    assert!(!home.contains(&format!("{video}</section>")), "not as written");
    assert!(home.contains("cohort-gate.js"), "the page loads the gating script");
    for entry in std::fs::read_dir(shop.path().join("public/_cohort/f")).expect("fragments").flatten() {
        let html = read(&entry.path());
        assert!(!html.contains("embed/welcome"), "no fragment holds the banner's video: {html}");
    }
}

#[test]
fn a_banner_with_an_element_gated_by_hand_stays_in_the_page_with_the_gating_script() {
    let shop = copy_fixture("basic");
    let home = home_with_banner_element(
        &shop,
        "<img data-cohort-purpose=\"analytics\" data-cohort-src=\"https://pixel.example/p.gif\" alt=\"\">",
    );
    assert!(home.contains("data-cohort-src=\"https://pixel.example/p.gif\""), "{home}");
    assert!(home.contains("cohort-gate.js"), "the page loads the gating script that activates it");
}
