//! The Content-Security-Policy of a personalized site (SPEC section 6): inline `<style>`
//! blocks and `style` attributes keep applying through their hashes, what no hash can allow
//! (event handlers, `javascript:` URLs) is refused with page, line and fix, and no
//! response's policy exceeds 4 KiB however many pages carry their own inline script. The
//! Hugo fixture is built with the real `hugo`; the real binary runs on it.

mod common;
mod personalize_support;

use common::tree;
use personalize_support::{built_site, personalize, read};

/// The `Content-Security-Policy` value of the `/*` rule of `_headers`.
fn header_policy(headers: &str) -> String {
    let block = headers.split("# cohort personalize: begin").last().unwrap_or(headers);
    block
        .lines()
        .find_map(|l| l.trim().strip_prefix("Content-Security-Policy: "))
        .expect("_headers sets a Content-Security-Policy")
        .to_string()
}

/// The content of a page's `<meta http-equiv="Content-Security-Policy">`, if any.
fn meta_policy(html: &str) -> Option<String> {
    let i = html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"")?;
    let rest = &html[i + "<meta http-equiv=\"Content-Security-Policy\" content=\"".len()..];
    Some(rest[..rest.find('"')?].replace("&quot;", "\"").replace("&amp;", "&"))
}

/// The sources of one directive of a policy.
fn directive(policy: &str, name: &str) -> Vec<String> {
    policy
        .split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).filter(|r| r.starts_with(' ')))
        .map(|r| r.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

#[test]
fn inline_styles_and_style_attributes_are_allowed_by_their_hashes() {
    let dir = built_site(&[
        (
            "layouts/shortcodes/styled.html",
            "<style>.lamp{color:#a40}</style><p class=\"lamp\" style=\"display:none\">Sold out</p><span style=\"color: red\">x</span>\n",
        ),
        ("content/styled.md", "+++\ntitle = \"Styled\"\n+++\n{{< styled >}}\n"),
    ]);
    let root = dir.path();
    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    let policy = header_policy(&read(root, "_headers"));
    assert!(policy.len() <= 4096, "{} bytes", policy.len());
    assert!(!policy.contains("'unsafe-inline'"), "{policy}");
    let style = directive(&policy, "style-src");
    assert_eq!(style[..2], ["'self'", "'unsafe-hashes'"], "{policy}");
    for text in [".lamp{color:#a40}", "display:none", "color: red"] {
        let hash = format!("'sha256-{}'", base64_sha256(text.as_bytes()));
        assert!(style.contains(&hash), "{text}: {hash} missing from style-src {style:?}");
    }
    // The page itself is unchanged apart from what personalize injects: no meta policy when
    // the site-wide one fits in the header.
    assert!(meta_policy(&read(root, "styled/index.html")).is_none());
}

#[test]
fn event_handlers_and_javascript_urls_are_refused_with_page_line_and_fix() {
    let dir = built_site(&[
        (
            "layouts/shortcodes/handlers.html",
            "<p>Buy</p>\n<button type=\"button\" onclick=\"addToCart()\">Add</button>\n<a href=\"javascript:void(0)\">Menu</a>\n",
        ),
        ("content/handlers.md", "+++\ntitle = \"Handlers\"\n+++\n{{< handlers >}}\n"),
    ]);
    let root = dir.path();
    let before = tree(&root.join("public"));
    let (code, out, err) = personalize(root);
    assert_eq!(code, 1, "{out}{err}");
    let page = read(root, "handlers/index.html");
    let line_of = |needle: &str| page[..page.find(needle).expect(needle)].matches('\n').count() + 1;
    let onclick = format!("handlers/index.html:{}:", line_of("onclick"));
    let js = format!("handlers/index.html:{}:", line_of("href=\"javascript"));
    assert!(err.contains(&onclick), "the handler's line {onclick}: {err}");
    assert!(err.contains("inline event handler `onclick` on <button>"), "{err}");
    assert!(err.contains("addEventListener(\"click\""), "the fix: {err}");
    assert!(err.contains(&js), "the javascript: URL's line {js}: {err}");
    assert!(err.contains("<button type=\"button\">"), "the fix: {err}");
    assert_eq!(tree(&root.join("public")), before, "a refused site is left exactly as it was");
}

#[test]
fn a_thousand_pages_with_their_own_inline_script_each_get_a_policy_under_4_kib() {
    let mut extra: Vec<(String, String)> = vec![(
        "layouts/shortcodes/note.html".into(),
        "<script>document.documentElement.dataset.note = \"{{ .Get 0 }}\";</script>\n".into(),
    )];
    for i in 0..1000 {
        extra.push((
            format!("content/notes/n{i}.md"),
            format!("+++\ntitle = \"Note {i}\"\n+++\n{{{{< note \"{i}\" >}}}}\n"),
        ));
    }
    let refs: Vec<(&str, &str)> = extra.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let dir = built_site(&refs);
    let root = dir.path();
    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    let headers = read(root, "_headers");
    let header = header_policy(&headers);
    assert!(header.len() <= 4096, "the header policy is {} bytes", header.len());
    assert!(directive(&header, "frame-ancestors") == ["'none'"], "{header}");
    assert!(directive(&header, "script-src").is_empty(), "the header blocks no hash a page allows: {header}");
    let mut checked = 0;
    for (file, bytes) in tree(&root.join("public")) {
        if !file.ends_with(".html") || file.starts_with("_cohort/") {
            continue;
        }
        let html = String::from_utf8(bytes).expect("utf-8");
        if !html.contains("<head") {
            continue;
        }
        let policy = meta_policy(&html).unwrap_or_else(|| panic!("{file}: no meta policy"));
        assert!(policy.len() + header.len() <= 4096, "{file}: {} bytes", policy.len() + header.len());
        // At the top of the head, before any script.
        let meta_at = html.find("http-equiv=\"Content-Security-Policy\"").unwrap_or(usize::MAX);
        assert!(html.find("<script").is_none_or(|s| s > meta_at), "{file}: a script before the policy");
        for script in scripts(&html) {
            let hash = format!("'sha256-{}'", base64_sha256(script.as_bytes()));
            assert!(directive(&policy, "script-src").contains(&hash), "{file}: {script:?} not allowed");
        }
        checked += 1;
    }
    assert!(checked >= 1000, "{checked} pages checked");
    // A second run changes nothing.
    let once = tree(&root.join("public"));
    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(tree(&root.join("public")), once);
}

#[test]
fn a_font_css_host_without_its_font_file_host_gets_the_companion_suggested() {
    let dir = built_site(&[]);
    let root = dir.path();
    let mut toml = std::fs::read_to_string(root.join("shop.toml")).expect("shop.toml");
    toml.push_str("\n[[privacy.third_parties]]\norigin = \"https://fonts.googleapis.com\"\nname = \"Google Fonts\"\npurpose = \"functional\"\nkinds = [\"style\"]\ndescription = \"The shop's typeface\"\n");
    std::fs::write(root.join("shop.toml"), toml).expect("write shop.toml");
    let (code, out, err) = personalize(root);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("warning: shop.toml: third party https://fonts.googleapis.com"), "{err}");
    assert!(err.contains("companions = [\"https://fonts.gstatic.com\"]"), "{err}");
}

/// The inline executable scripts of a page (no `src`, no data `type`).
fn scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<script") {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e + 1);
        let tag = &rest[i..tag_end];
        let close = rest[tag_end..].find("</script>").map_or(rest.len(), |e| tag_end + e);
        if !tag.contains("src=") && !tag.contains("type=") {
            out.push(&rest[tag_end..close]);
        }
        rest = &rest[close..];
    }
    out
}

fn base64_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in digest.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
