//! The other generator's pages as personalize reads them: each HTML file's kind (home, a
//! product page in any language, a listing), its slots and what its policy must allow, and
//! the shell a created page (the privacy notice, the preferences page) is built in.

use super::{PageIn, SlotKey, site};
use crate::content::{Shop, slugify};
use crate::diagnostics::{Diagnostic, line_col};
use crate::output::csp;
use crate::plan::PageKind;
use std::collections::HashMap;
use std::path::Path;

/// Reads one HTML file: None when it is not a full page (no `<html>`, `<head>` or `<body>`).
pub(super) fn read_page(
    dir: &Path,
    file: &str,
    shop: &Shop,
    by_path: &HashMap<&str, usize>,
) -> Result<Option<PageIn>, Vec<Diagnostic>> {
    let shown = dir.join(file);
    let Ok(bytes) = std::fs::read(&shown) else {
        return Err(vec![Diagnostic::new(&shown, "cannot read the file").hint("check its permissions")]);
    };
    let Ok(text) = String::from_utf8(bytes) else { return Ok(None) };
    let lower_has = |tag: &str| text.as_bytes().windows(tag.len()).any(|w| w.eq_ignore_ascii_case(tag.as_bytes()));
    if !(lower_has("<html") || lower_has("<body") || lower_has("<head")) {
        return Ok(None);
    }
    let html = site::strip(&text);
    let path = match file.strip_suffix("index.html") {
        Some(p) if p.is_empty() || p.ends_with('/') => p.to_string(),
        _ => file.to_string(),
    };
    let kind = classify(&path, shop, by_path);
    let at = |e: site::MarkError| {
        let (line, col) = line_col(&html, e.offset);
        Diagnostic::new(&shown, e.message).at_line(line, col, html.lines().nth(line - 1)).hint(e.hint)
    };
    let (sources, findings) = csp::scan(&html);
    let mut errors: Vec<Diagnostic> = findings
        .into_iter()
        .map(|f| at(site::MarkError { offset: f.offset, message: f.message, hint: f.fix }))
        .collect();
    let mut slots = Vec::new();
    match site::find_marked(&html, "data-cohort-slot") {
        Ok(marked) => {
            for m in marked {
                match slot_key(&m, kind, &path, shop) {
                    Ok(key) => slots.push((m, key)),
                    Err((message, hint)) => errors.push(at(site::MarkError { offset: m.start, message, hint })),
                }
            }
        }
        Err(e) => errors.push(at(e)),
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Some(PageIn { file: file.to_string(), path, kind, html, slots, container: None, created: false, sources }))
}

/// The page kind of a site path: home, a product page (by its URL), a category or tag
/// listing (`categories/NAME/`, `tags/NAME/`, `.../page/N/`), 404, or any other page.
fn classify(path: &str, shop: &Shop, by_path: &HashMap<&str, usize>) -> PageKind {
    if path.is_empty() {
        return PageKind::Home;
    }
    if path == "404.html" {
        return PageKind::NotFound;
    }
    if let Some(&i) = by_path.get(path) {
        return PageKind::Product(i);
    }
    for (prefix, taxa, is_cat) in [("categories/", &shop.categories, true), ("tags/", &shop.tags, false)] {
        let Some(rest) = path.strip_prefix(prefix) else { continue };
        let mut parts = rest.trim_end_matches('/').split('/');
        let slug = parts.next().unwrap_or_default();
        let page = match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => Some(1),
            (Some("page"), Some(n), None) => n.parse().ok(),
            _ => None,
        };
        if let (Some(t), Some(n)) = (taxa.iter().position(|t| t.slug == slugify(slug)), page) {
            return if is_cat { PageKind::Category(t, n) } else { PageKind::Tag(t, n) };
        }
    }
    PageKind::Page(0)
}

/// Which data a marked slot shows: `hero` and `picks` anywhere, `copy` on a product page
/// (or any page, with `data-cohort-sku`), `grid` on a category or tag listing.
pub(super) fn slot_key(m: &site::Marked, kind: PageKind, path: &str, shop: &Shop) -> Result<SlotKey, (String, String)> {
    let name = m.value.as_str();
    let generic = match kind {
        PageKind::Home => PageKind::Home,
        _ => PageKind::Page(0),
    };
    match name {
        "hero" | "picks" => Ok(SlotKey { name: name.into(), kind: generic, path: String::new() }),
        "copy" => {
            let product = match m.attr("data-cohort-sku") {
                Some(sku) => shop.products.iter().position(|p| p.sku == sku).ok_or_else(|| {
                    (
                        format!("slot `copy` names SKU `{sku}`, which no product has"),
                        "check the sku in the product's front matter".to_string(),
                    )
                })?,
                None => match kind {
                    PageKind::Product(i) => i,
                    _ => {
                        return Err((
                            format!("slot `copy` on /{path}, which is not a product page"),
                            "use it in the product template, or name the product: data-cohort-sku=\"SKU\"; if the page is left over from a product you removed, the generator left it behind: rebuild into a clean folder (Hugo: `hugo --cleanDestinationDir`; Eleventy and Zola: delete the output folder first)".into(),
                        ));
                    }
                },
            };
            Ok(SlotKey { name: name.into(), kind: PageKind::Product(product), path: path.into() })
        }
        "grid" => match kind {
            PageKind::Category(..) | PageKind::Tag(..) => Ok(SlotKey { name: name.into(), kind, path: path.into() }),
            _ => Err((
                format!("slot `grid` on /{path}, which is not a category or tag listing"),
                "use it in the taxonomy term template (categories/NAME/ or tags/NAME/)".into(),
            )),
        },
        other => {
            let known: Vec<&str> = crate::cohorts::slots::SLOTS.iter().map(|(n, _)| *n).collect();
            let hint = match crate::diagnostics::suggest(other, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? The slots are: {}", known.join(", ")),
                None => format!("the slots are: {}", known.join(", ")),
            };
            Err((format!("unknown slot `{other}`"), hint))
        }
    }
}

/// A page for `content` in the site's own shell: the home page (else the first page) with
/// its own content replaced ([`site::content_region`]: its `data-cohort-main` element, its
/// `<main>`, or what lies between its header and footer), so the page keeps the site's
/// `<head>` styles, header, footer and `<html lang>`; else a minimal page.
pub(super) fn layout_page(pages: &[PageIn], shop: &Shop, title: &str, path: &str, content: &str) -> String {
    let s = &shop.site;
    let full_title = format!("{title} · {}", s.config.title);
    let mut candidates: Vec<&PageIn> = pages.iter().filter(|p| !p.created).collect();
    candidates.sort_by_key(|p| (!p.path.is_empty(), p.kind == PageKind::NotFound, p.file.clone()));
    for p in candidates {
        let Some(r) = site::content_region(&p.html) else { continue };
        // The shell without the other page's content (its slots' keys belong to that page).
        let inner = if r.wrap {
            format!("\n<main id=\"main\" class=\"cohort-page\">\n{content}\n</main>\n")
        } else {
            format!("\n{content}\n")
        };
        let body = format!("{}{inner}{}", &p.html[..r.start], &p.html[r.end..]);
        let body = site::drop_page_meta(&site::replace_title(&body, &crate::html::escape(&full_title)));
        let canonical = format!("<link rel=\"canonical\" href=\"{}\">\n", s.permalink(path));
        if let Some(with_head) = site::insert_in_head(&body, &canonical) {
            return with_head;
        }
    }
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n<link rel=\"canonical\" href=\"{canon}\">\n</head>\n<body>\n<main id=\"main\" class=\"cohort-page\">\n{content}\n</main>\n<p><a href=\"{home}\">{shop}</a></p>\n</body>\n</html>\n",
        lang = crate::html::escape(&s.config.language),
        t = crate::html::escape(&full_title),
        canon = s.permalink(path),
        home = s.url(""),
        shop = crate::html::escape(&s.config.title),
    )
}
