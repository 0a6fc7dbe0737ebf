//! One HTML tokenizer for everything that reads pages: the CSP (inline scripts, styles,
//! `style` attributes, event handlers, `javascript:` URLs), personalize's marked elements and
//! the privacy scan. It follows the HTML tokenizer where real sites depend on it (comments,
//! doctypes, raw text in `<script>` and `<style>`, RCDATA in `<textarea>` and `<title>`,
//! quoted attribute values containing `>`), keeps byte offsets into the source so callers can
//! edit pages in place and report line and column, and never allocates the page again.
//!
//! Beside the tokenizer live the small text helpers every reader and writer of pages shares,
//! so that each exists once: [`escape`] and [`decode_entities`], [`is_executable_type`] (which
//! `<script>`s run), [`origin_of`] and [`percent_decode`] for URLs in attributes, [`hex`] for
//! hashes in file names and attributes, and [`Lines`]/[`line_of`]/[`line_col`] for positions.

/// Elements without an end tag.
pub(crate) const VOID: [&str; 14] =
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param"];
/// Elements whose content is text up to their end tag.
pub(crate) const RAW: [&str; 4] = ["script", "style", "textarea", "title"];

/// One token of a page. Offsets are byte offsets into the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// A start tag: `<` at `start`, just after `>` at `end`.
    Start(Tag<'a>),
    /// An end tag `</name>`.
    End { name: String, start: usize, end: usize },
    /// The content of a raw text element (`script`, `style`, `textarea`, `title`).
    Raw { element: String, text: &'a str, start: usize },
}

/// A start tag and its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag<'a> {
    /// Lower case.
    pub name: String,
    pub start: usize,
    pub end: usize,
    pub self_closing: bool,
    /// The text between the name and `>`.
    pub attrs_text: &'a str,
    /// Offset of `attrs_text` in the source.
    pub attrs_at: usize,
}

impl<'a> Tag<'a> {
    /// Attributes: lower-case name, raw value, offset of the name in the source.
    pub(crate) fn attrs(&self) -> Vec<Attr<'a>> {
        parse_attrs_at(self.attrs_text.trim_end_matches('/'), self.attrs_at)
    }
}

/// An attribute of a start tag, its value as written (entities not decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attr<'a> {
    pub name: String,
    pub raw: &'a str,
    pub at: usize,
}

impl Attr<'_> {
    /// The value with character references decoded.
    pub(crate) fn value(&self) -> String {
        decode_entities(self.raw)
    }
}

/// The tokens of `html` in order (comments, doctypes and text between tags are skipped).
pub(crate) fn tokens(html: &str) -> Vec<Token<'_>> {
    Tokens::new(html).collect()
}

/// The tokens of a page one at a time, as [`tokens`] lists them, for readers that look at
/// each once (the CSP's inline-script hashes of every page a build writes).
pub(crate) struct Tokens<'a> {
    html: &'a str,
    /// Where the next token is looked for.
    at: usize,
    /// The raw text element just opened, whose text is the next token.
    raw: Option<String>,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(html: &'a str) -> Tokens<'a> {
        Tokens { html, at: 0, raw: None }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let html = self.html;
        let b = html.as_bytes();
        if let Some(element) = self.raw.take() {
            let i = self.at;
            let close = find_ci(html, i, &format!("</{element}")).unwrap_or(html.len());
            self.at = close;
            return Some(Token::Raw { element, text: &html[i..close], start: i });
        }
        while let Some(rel) = memchr::memchr(b'<', b.get(self.at..)?) {
            let lt = self.at + rel;
            let rest = &html[lt..];
            if let Some(comment) = rest.strip_prefix("<!--") {
                self.at = comment.find("-->").map_or(html.len(), |e| lt + 4 + e + 3);
                continue;
            }
            if rest.starts_with("<!") || rest.starts_with("<?") {
                self.at = rest.find('>').map_or(html.len(), |e| lt + e + 1);
                continue;
            }
            let closing = rest.starts_with("</");
            let name_start = lt + if closing { 2 } else { 1 };
            if !b.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
                self.at = lt + 1;
                continue;
            }
            let mut j = name_start;
            while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'/' && b[j] != b'>' {
                j += 1;
            }
            let name = html[name_start..j].to_ascii_lowercase();
            let k = end_of_tag(html, j);
            if k >= b.len() {
                self.at = b.len();
                return None;
            }
            self.at = k + 1;
            if closing {
                return Some(Token::End { name, start: lt, end: k + 1 });
            }
            let self_closing = k > j && b[k - 1] == b'/';
            if RAW.contains(&name.as_str()) {
                self.raw = Some(name.clone());
            }
            return Some(Token::Start(Tag {
                name,
                start: lt,
                end: k + 1,
                self_closing,
                attrs_text: &html[j..k],
                attrs_at: j,
            }));
        }
        self.at = b.len();
        None
    }
}

/// Every `<script` start tag written in `html`, wherever it is (in a comment or another
/// element's raw text too): a superset of the script start tags [`tokens`] yields, each
/// with the same attributes, for a quick "could this page have one that ..." before a
/// full pass.
pub(crate) fn script_tags_anywhere(html: &str) -> impl Iterator<Item = Tag<'_>> {
    let b = html.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(lt) = find_ci(html, from, "<script") {
            let j = lt + "<script".len();
            from = j;
            if b.get(j).is_some_and(|&c| !c.is_ascii_whitespace() && c != b'/' && c != b'>') {
                continue;
            }
            let k = end_of_tag(html, j);
            if k >= b.len() {
                return None;
            }
            let self_closing = k > j && b[k - 1] == b'/';
            return Some(Tag {
                name: "script".into(),
                start: lt,
                end: k + 1,
                self_closing,
                attrs_text: &html[j..k],
                attrs_at: j,
            });
        }
        None
    })
}

/// The index of the end tag that closes the start tag `tokens[open]` (same name, same
/// depth); None for a void or self-closing element, or when the page never closes it.
pub(crate) fn matching_end(tokens: &[Token], open: usize) -> Option<usize> {
    let Some(Token::Start(tag)) = tokens.get(open) else { return None };
    if tag.self_closing || VOID.contains(&tag.name.as_str()) {
        return None;
    }
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open + 1) {
        match t {
            Token::Start(t) if t.name == tag.name && !t.self_closing => depth += 1,
            Token::End { name, .. } if *name == tag.name => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return Some(k),
            },
            _ => {}
        }
    }
    None
}

/// The offset of the `>` that ends a tag whose name ends at `from` (quotes respected);
/// `html.len()` when there is none.
pub(crate) fn end_of_tag(html: &str, from: usize) -> usize {
    let b = html.as_bytes();
    let mut i = from;
    let mut quote = 0u8;
    // A quote only opens a value right after `=` (and optional spaces).
    let mut after_eq = false;
    while i < b.len() {
        let c = b[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'>' {
            return i;
        } else if (c == b'"' || c == b'\'') && after_eq {
            quote = c;
        }
        if quote == 0 && !c.is_ascii_whitespace() {
            after_eq = c == b'=';
        }
        i += 1;
    }
    b.len()
}

/// Case-insensitive find of an ASCII `needle` in `hay` at or after `from`.
pub(crate) fn find_ci(hay: &str, from: usize, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    let first = n.first()?.to_ascii_lowercase();
    let b = hay.as_bytes();
    let rest = b.get(from..)?;
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), rest)
        .map(|i| from + i)
        .find(|&i| b.get(i..i + n.len()).is_some_and(|w| w.eq_ignore_ascii_case(n)))
}

/// Attribute names (lower case) and raw values of a start tag's inside.
pub fn parse_attrs(s: &str) -> Vec<(String, String)> {
    parse_attrs_at(s, 0).into_iter().map(|a| (a.name, a.raw.to_string())).collect()
}

fn parse_attrs_at(s: &str, base: usize) -> Vec<Attr<'_>> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        if start == i {
            // A stray `=`: skip it.
            if i < b.len() {
                i += 1;
                continue;
            }
            break;
        }
        let name = s[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut raw = "";
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                i = vs;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                raw = &s[vs..i.min(b.len())];
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                raw = &s[vs..i];
            }
        }
        out.push(Attr { name, raw, at: base + start });
    }
    out
}

/// Decodes the character references that matter in attribute values: the named ones HTML
/// writers emit (`&amp; &lt; &gt; &quot; &apos; &#39; &nbsp;`) and numeric ones.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let ch = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                n if n.starts_with("#x") || n.starts_with("#X") => {
                    u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32)
                }
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            ch.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes text for an HTML attribute value or element content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub use crate::diagnostics::line_col;

/// 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    Lines::new(text).line_at(offset)
}

/// Counts lines forward through a text, so that asking for increasing offsets is linear.
pub struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    /// A counter at the start of `text` (line 1).
    pub fn new(text: &'a str) -> Lines<'a> {
        Lines { text: text.as_bytes(), at: 0, line: 1 }
    }

    /// The 1-based line of byte `offset`; offsets before the last one asked give that line.
    pub fn line_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        if offset > self.at {
            self.line += memchr::memchr_iter(b'\n', &self.text[self.at..offset]).count();
            self.at = offset;
        }
        self.line
    }
}

/// Whether a `<script>` whose `type` attribute is `ty` (None: no attribute) runs: classic
/// and module scripts do, data blocks such as JSON, JSON-LD and `text/plain` do not.
pub fn is_executable_type(ty: Option<&str>) -> bool {
    let Some(t) = ty else { return true };
    let t = t.trim().to_ascii_lowercase();
    let t = t.split(';').next().unwrap_or("").trim();
    matches!(
        t,
        "" | "module" | "text/javascript" | "application/javascript" | "application/ecmascript" | "text/ecmascript"
    )
}

/// The origin (`scheme://host[:port]`, lower case) of an absolute http(s) URL; None for a
/// path or another scheme.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// Decodes `%XX` escapes; None when a `%` is not followed by two hex digits.
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(hex_byte(bytes.get(i + 1..i + 3)?)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Decodes `%XX` escapes, keeping a `%` that starts no escape as it is (for reading URLs
/// out of pages, which may be malformed), invalid UTF-8 replaced.
pub fn percent_decode_lossy(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b.get(i + 1..i + 3).and_then(hex_byte)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte two ASCII hex digits stand for.
fn hex_byte(digits: &[u8]) -> Option<u8> {
    u8::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// Lower-case hex of `bytes` (digests in file names, signatures, tokens).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_skip_comments_and_keep_raw_text() {
        let html = "<!doctype html><!-- <b> --><p title='a>b' class=x>t</p><script>if(a<b)x('</p>')</script><STYLE>p{}</STYLE>";
        let t = tokens(html);
        let names: Vec<String> = t
            .iter()
            .map(|t| match t {
                Token::Start(s) => s.name.clone(),
                Token::End { name, .. } => format!("/{name}"),
                Token::Raw { text, .. } => format!("raw:{text}"),
            })
            .collect();
        assert_eq!(names, ["p", "/p", "script", "raw:if(a<b)x('</p>')", "/script", "style", "raw:p{}", "/style"]);
        let Token::Start(p) = &t[0] else { panic!("a start tag") };
        let attrs = p.attrs();
        assert_eq!(attrs[0].name, "title");
        assert_eq!(attrs[0].raw, "a>b");
        assert_eq!(&html[attrs[1].at..attrs[1].at + 5], "class");
    }

    #[test]
    fn end_tags_match_at_the_same_depth() {
        let html = "<div a><div>x</div><br><div/></div><p>";
        let t = tokens(html);
        let end = matching_end(&t, 0).unwrap_or_default();
        assert!(matches!(&t[end], Token::End { start, .. } if *start == 29), "{t:?}");
        assert_eq!(matching_end(&t, 3), None, "a void element has no end tag");
        assert_eq!(matching_end(&t, t.len() - 1), None, "an unclosed element has none either");
    }

    #[test]
    fn entities_and_positions() {
        assert_eq!(decode_entities("a&amp;b&#39;c&#x41;&bogus;"), "a&b'cA&bogus;");
        assert_eq!(escape("<a href=\"x\">"), "&lt;a href=&quot;x&quot;&gt;");
        assert_eq!(line_col("ab\ncdé\nx", 7), (2, 4));
        assert_eq!(find_ci("xx</SCRIPT>", 0, "</script"), Some(2));
        assert_eq!(line_of("a\nb\nc", 4), 3);
        let mut lines = Lines::new("a\nb\nc");
        assert_eq!((lines.line_at(0), lines.line_at(2), lines.line_at(4)), (1, 2, 3));
    }

    #[test]
    fn script_types_urls_and_hex() {
        assert!(is_executable_type(None) && is_executable_type(Some(" Module ")));
        assert!(is_executable_type(Some("text/javascript; charset=utf-8")));
        assert!(!is_executable_type(Some("application/ld+json")) && !is_executable_type(Some("text/plain")));
        assert_eq!(origin_of("HTTPS://A.example:8080/x?y").as_deref(), Some("https://a.example:8080"));
        assert_eq!(origin_of("/path"), None);
        assert_eq!(origin_of("ftp://a.example"), None);
        assert_eq!(percent_decode("a%20b").as_deref(), Some(&b"a b"[..]));
        assert_eq!(percent_decode("a%2"), None);
        assert_eq!(percent_decode_lossy("a%20b%zz%2"), "a b%zz%2");
        assert_eq!(hex(&[0, 15, 16, 255]), "000f10ff");
    }
}
