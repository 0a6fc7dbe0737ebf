//! Reading and marking another generator's HTML with a small scanner: it finds elements
//! carrying a marker attribute (`data-cohort-slot`, `data-cohort-page`, `data-cohort-main`)
//! and their end tags, and it adds or removes exactly what `personalize` injects. Nothing
//! outside a marked element's content, its start tag's `data-cohort-keys` attribute and the
//! injected block is ever changed, so the other generator's bytes stay as they were.

use crate::html::parse_attrs;

/// The comments around everything injected into a page (the banner, the page's
/// configuration and `cohort.js`); a re-run removes them before injecting again.
pub const BEGIN: &str = "<!--cohort:begin-->";
/// The comment that closes the injected block opened by [`BEGIN`].
pub const END: &str = "<!--cohort:end-->";

/// An element carrying a marker attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marked {
    /// The marker attribute's value (the slot name, the page name).
    pub value: String,
    /// The element's tag name, lower case ("div", "section").
    pub tag: String,
    /// Byte offset of the `<` of the start tag.
    pub start: usize,
    /// Byte offset just after the start tag's `>`: where the content begins.
    pub inner_start: usize,
    /// Byte offset of the `<` of the end tag: where the content ends.
    pub inner_end: usize,
    /// Byte offset just after the end tag's `>`.
    pub end: usize,
    /// The start tag's attributes (names lower case).
    pub attrs: Vec<(String, String)>,
}

impl Marked {
    /// The value of the start tag's attribute `name` (lower case), if it has one.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A problem with a marked element, at a byte offset of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkError {
    /// Byte offset of the `<` of the offending start tag.
    pub offset: usize,
    /// What is wrong with the element (it cannot hold content, it is never closed).
    pub message: String,
    /// How to fix it in the template that writes the element.
    pub hint: String,
}

use crate::html::{Token, VOID};

/// One tag of the page.
struct Tag {
    start: usize,
    end: usize,
    name: String,
    closing: bool,
    self_closing: bool,
    attrs_text: (usize, usize),
}

/// The tags of `html` in order, from the one tokenizer ([`crate::html`]): comments,
/// doctypes and raw text (script, style) are skipped.
fn tags(html: &str) -> Vec<Tag> {
    crate::html::tokens(html)
        .into_iter()
        .filter_map(|t| match t {
            Token::Start(t) => Some(Tag {
                start: t.start,
                end: t.end,
                self_closing: t.self_closing,
                attrs_text: (t.attrs_at, t.attrs_at + t.attrs_text.len()),
                name: t.name,
                closing: false,
            }),
            Token::End { name, start, end } => {
                Some(Tag { start, end, name, closing: true, self_closing: false, attrs_text: (end - 1, end - 1) })
            }
            Token::Raw { .. } => None,
        })
        .collect()
}

/// Case-insensitive find of an ASCII needle.
fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    hay.as_bytes().windows(n).position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The outermost elements of `html` whose start tag carries attribute `attr`.
pub fn find_marked(html: &str, attr: &str) -> Result<Vec<Marked>, MarkError> {
    if !html.contains(attr) {
        return Ok(Vec::new());
    }
    let all = tags(html);
    let mut out = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let t = &all[i];
        i += 1;
        if t.closing || !html[t.attrs_text.0..t.attrs_text.1].contains(attr) {
            continue;
        }
        let attrs = parse_attrs(html[t.attrs_text.0..t.attrs_text.1].trim_end_matches('/'));
        let Some(value) = attrs.iter().find(|(n, _)| n == attr).map(|(_, v)| v.clone()) else { continue };
        if VOID.contains(&t.name.as_str()) || t.self_closing {
            return Err(MarkError {
                offset: t.start,
                message: format!("<{}> with {attr}=\"{value}\" cannot hold content", t.name),
                hint: format!("mark a container instead: <div {attr}=\"{value}\"></div>"),
            });
        }
        // The matching end tag: same name, same depth.
        let mut depth = 1;
        let mut close = None;
        while i < all.len() {
            let u = &all[i];
            i += 1;
            if u.name != t.name || u.self_closing {
                continue;
            }
            if u.closing {
                depth -= 1;
                if depth == 0 {
                    close = Some((u.start, u.end));
                    break;
                }
            } else {
                depth += 1;
            }
        }
        let Some((inner_end, end)) = close else {
            return Err(MarkError {
                offset: t.start,
                message: format!("<{}> with {attr}=\"{value}\" is never closed", t.name),
                hint: format!("close it with </{}> in the template that writes it", t.name),
            });
        };
        out.push(Marked { value, tag: t.name.clone(), start: t.start, inner_start: t.end, inner_end, end, attrs });
    }
    Ok(out)
}

/// The page as the other generator wrote it: the injected block and the `data-cohort-keys`
/// attributes personalize added are removed (slot contents stay; they are replaced anyway).
pub fn strip(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(b) = rest.find(BEGIN) {
        let Some(e) = rest[b..].find(END) else { break };
        out.push_str(&rest[..b]);
        rest = &rest[b + e + END.len()..];
        // The gating script crate::gate adds before `</body>`, just after the end block.
        if let Some(after) = rest.strip_prefix("<script src=\"")
            && let Some((src, tail)) = after.split_once("\" defer></script>\n")
            && src.ends_with(crate::gate::GATE_SCRIPT)
            && !src.contains(['"', '<', '>'])
        {
            rest = tail;
        }
    }
    out.push_str(rest);
    if !out.contains(KEYS) {
        return out;
    }
    let mut cleaned = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(k) = rest.find(KEYS) {
        let value_start = k + KEYS.len();
        let Some(e) = rest[value_start..].find('\'') else { break };
        cleaned.push_str(&rest[..k]);
        rest = &rest[value_start + e + 1..];
    }
    cleaned.push_str(rest);
    cleaned
}

/// What personalize appends to a marked start tag.
const KEYS: &str = " data-cohort-keys='";

/// The start tag of `m` in `html` with `extra` (attributes, each with a leading space) added
/// before its `>`.
pub fn start_tag_with(html: &str, m: &Marked, extra: &str) -> String {
    let tag = &html[m.start..m.inner_start];
    let body = tag.strip_suffix('>').unwrap_or(tag);
    format!("{body}{extra}>")
}

/// The keys attribute for a slot: `data-cohort-keys='{"outdoor":"HASH"}'`, as the build writes it.
pub fn keys_attr(keys: &[(String, String)]) -> String {
    let json: Vec<String> = keys.iter().map(|(c, h)| format!("\"{c}\":\"{h}\"")).collect();
    format!("{KEYS}{{{}}}'", json.join(","))
}

/// Inserts `block` where the page's body ends (before `</body>`, else `</html>`, else at the end).
pub fn inject(html: &str, block: &str) -> String {
    let at = rfind_ci(html, "</body").or_else(|| rfind_ci(html, "</html")).unwrap_or(html.len());
    let mut out = String::with_capacity(html.len() + block.len());
    out.push_str(&html[..at]);
    out.push_str(block);
    out.push_str(&html[at..]);
    out
}

/// Inserts `text` just after the `<body>` start tag (before the injected end block when the
/// page has no `<body>` tag).
pub fn inject_top(html: &str, text: &str) -> String {
    let body = crate::html::tokens(html).into_iter().find_map(|t| match t {
        Token::Start(t) if t.name == "body" => Some(t.end),
        _ => None,
    });
    let at = body.or_else(|| html.find(BEGIN)).unwrap_or(html.len());
    format!("{}{text}{}", &html[..at], &html[at..])
}

/// Inserts `text` before `</head>`; None when the page has none.
pub fn insert_in_head(html: &str, text: &str) -> Option<String> {
    let at = find_ci(html, "</head")?;
    Some(format!("{}{text}{}", &html[..at], &html[at..]))
}

fn rfind_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    hay.as_bytes().windows(n).rposition(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Whether the page's head already has an element matching `needle` (case-insensitive),
/// e.g. `rel="canonical"`.
pub fn head_has(html: &str, needle: &str) -> bool {
    let head_end = find_ci(html, "</head").unwrap_or(html.len());
    find_ci(&html[..head_end], needle).is_some()
}

/// Replaces the text of `<title>` (the first one), if there is one.
pub fn replace_title(html: &str, title: &str) -> String {
    let Some(open) = find_ci(html, "<title") else { return html.to_string() };
    let Some(gt) = html[open..].find('>').map(|g| open + g + 1) else { return html.to_string() };
    let Some(close) = find_ci(&html[gt..], "</title").map(|c| gt + c) else { return html.to_string() };
    format!("{}{title}{}", &html[..gt], &html[close..])
}

/// Removes the head's `<link rel="canonical">` and `<meta name="description">` elements
/// (for a page built from another page's layout).
pub fn drop_page_meta(html: &str) -> String {
    let head_end = find_ci(html, "</head").unwrap_or(0);
    let mut cut = Vec::new();
    for t in tags(&html[..head_end]) {
        if t.closing || !(t.name == "link" || t.name == "meta") {
            continue;
        }
        let attrs = parse_attrs(html[t.attrs_text.0..t.attrs_text.1].trim_end_matches('/'));
        let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.to_ascii_lowercase());
        let drop = (t.name == "link" && get("rel").as_deref() == Some("canonical"))
            || (t.name == "meta" && get("name").as_deref() == Some("description"));
        if drop {
            let mut end = t.end;
            if html[end..].starts_with('\n') {
                end += 1;
            }
            cut.push((t.start, end));
        }
    }
    let mut out = html.to_string();
    for (s, e) in cut.into_iter().rev() {
        out.replace_range(s..e, "");
    }
    out
}

/// Where a page's own content is, for building another page in its shell: the content of
/// its `data-cohort-main` element, else of its first `<main>` element, else what lies between
/// its header and its footer (the last `<header>` or `<nav>` before the first `<footer>`
/// among the body's children, looking inside a single wrapper element). `wrap` says the
/// region has no element of its own, so the new content needs a `<main>` around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Byte offset where the content to replace begins.
    pub start: usize,
    /// Byte offset just after the content to replace (`start..end` is the region).
    pub end: usize,
    /// The region is not an element's content, so new content needs a `<main>` around it.
    pub wrap: bool,
}

/// The [`Region`] of the page's own content, if it has one.
pub fn content_region(html: &str) -> Option<Region> {
    if let Ok(marks) = find_marked(html, "data-cohort-main")
        && let Some(m) = marks.first()
    {
        return Some(Region { start: m.inner_start, end: m.inner_end, wrap: false });
    }
    let all = tags(html);
    let elements = elements(&all);
    if let Some(&(open, close)) = elements.iter().find(|(o, _)| all[*o].name == "main") {
        return Some(Region { start: all[open].end, end: all[close].start, wrap: false });
    }
    let body = elements.iter().find(|(o, _)| all[*o].name == "body")?;
    let mut parent = *body;
    loop {
        // The parent's children: each next element that starts after the previous one ends.
        let mut children: Vec<(usize, usize)> = Vec::new();
        let mut k = elements.partition_point(|e| e.0 <= parent.0);
        while let Some(&child) = elements.get(k).filter(|e| e.0 < parent.1) {
            if !matches!(all[child.0].name.as_str(), "script" | "noscript" | "template" | "style") {
                children.push(child);
            }
            k = elements.partition_point(|e| e.0 <= child.1);
        }
        let footer = children.iter().position(|(o, _)| all[*o].name == "footer");
        let header = children[..footer.unwrap_or(0)]
            .iter()
            .rposition(|(o, _)| matches!(all[*o].name.as_str(), "header" | "nav"));
        if let (Some(h), Some(f)) = (header, footer) {
            return Some(Region { start: all[children[h].1].end, end: all[children[f].0].start, wrap: true });
        }
        match children.as_slice() {
            [only] => parent = *only,
            _ => return None,
        }
    }
}

/// Each element with an end tag, as (start tag, end tag) indexes into `all`, in order of
/// their start tags.
fn elements(all: &[Tag]) -> Vec<(usize, usize)> {
    let mut open: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for (i, t) in all.iter().enumerate() {
        if t.self_closing || VOID.contains(&t.name.as_str()) {
            continue;
        }
        if !t.closing {
            open.push(i);
            continue;
        }
        // Close the nearest open element of that name (and any left open inside it).
        if let Some(k) = open.iter().rposition(|&o| all[o].name == t.name) {
            out.push((open[k], i));
            open.truncate(k);
        }
    }
    out.sort_unstable();
    out
}

/// The content of the first `<main>` element (what a theme's page adds to its layout);
/// the whole text when there is none.
pub fn main_content(html: &str) -> &str {
    let all = tags(html);
    let Some(open) = all.iter().find(|t| !t.closing && t.name == "main") else { return html };
    let Some(close) = all.iter().rev().find(|t| t.closing && t.name == "main" && t.start > open.end) else {
        return html;
    };
    &html[open.end..close.start]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_marked_elements_and_their_end() {
        let html = "<body><!-- <div data-cohort-slot=\"x\"> --><script>var s='<div data-cohort-slot=\"y\">'</script>\
<div class=a data-cohort-slot=\"picks\"><div>in</div><p>x</p></div><section data-cohort-slot='hero'></section></body>";
        let found = find_marked(html, "data-cohort-slot").map_err(|e| e.message);
        let found = found.unwrap_or_default();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].value, "picks");
        assert_eq!(&html[found[0].inner_start..found[0].inner_end], "<div>in</div><p>x</p>");
        assert_eq!(found[1].value, "hero");
        assert_eq!(&html[found[1].start..found[1].end], "<section data-cohort-slot='hero'></section>");
    }

    #[test]
    fn refuses_void_and_unclosed() {
        assert!(find_marked("<img data-cohort-slot=\"x\">", "data-cohort-slot").is_err());
        assert!(find_marked("<div data-cohort-slot=\"x\"><div></div>", "data-cohort-slot").is_err());
    }

    #[test]
    fn strip_undoes_injection_and_keys() {
        let original = "<html><body><div data-cohort-slot=\"picks\">a</div></body></html>";
        let found = find_marked(original, "data-cohort-slot").unwrap_or_default();
        let tag = start_tag_with(original, &found[0], &keys_attr(&[("x".into(), "ab".into())]));
        let marked = format!("<html><body>{tag}a</div></body></html>");
        let injected = inject(&marked, &format!("{BEGIN}<script src=\"/cohort.js\"></script>{END}"));
        assert!(injected.contains("data-cohort-keys='{\"x\":\"ab\"}'"));
        assert_eq!(strip(&injected), original);
        // With the gating script crate::gate adds after the block: gone too.
        let gated = injected.replace("</body>", "<script src=\"/cohort-gate.js\" defer></script>\n</body>");
        assert_eq!(strip(&gated), original);
    }

    #[test]
    fn content_regions() {
        let main = "<html><body><header>h</header><main id=m><p>x</p></main><footer>f</footer></body></html>";
        let r = content_region(main).unwrap_or(Region { start: 0, end: 0, wrap: true });
        assert_eq!((&main[r.start..r.end], r.wrap), ("<p>x</p>", false));
        let sections = "<html><body><div class=pre></div><header><nav>n</nav></header><section>a</section><section>b</section><footer>f</footer><div id=cart></div><script>x</script></body></html>";
        let r = content_region(sections).unwrap_or(Region { start: 0, end: 0, wrap: false });
        assert_eq!((&sections[r.start..r.end], r.wrap), ("<section>a</section><section>b</section>", true));
        let wrapped = "<body><div class=wrap><nav>n</nav><div>c<br></div><footer>f</footer></div></body>";
        let r = content_region(wrapped).unwrap_or(Region { start: 0, end: 0, wrap: false });
        assert_eq!(&wrapped[r.start..r.end], "<div>c<br></div>");
        assert_eq!(content_region("<body><div>only</div></body>"), None);
    }

    #[test]
    fn head_edits() {
        let page = "<html><head><title>Home</title><link rel=\"canonical\" href=\"/\">\n<meta name=description content=x></head><main id=m><p>hi</p></main></html>";
        assert_eq!(main_content(page), "<p>hi</p>");
        let p = drop_page_meta(&replace_title(page, "Privacy"));
        assert_eq!(p, "<html><head><title>Privacy</title></head><main id=m><p>hi</p></main></html>");
    }
}
