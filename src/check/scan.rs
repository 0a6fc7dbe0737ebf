//! Small, forgiving scanners for what `cohort check` reads in a build: HTML start tags with
//! their attributes, `<script>` and `<style>` bodies, CSS `url()`/`@import`, and JavaScript
//! string literals with comments skipped. They never fail: malformed input yields fewer
//! items, not an error. No regular expressions: the build can hold tens of thousands of
//! pages and each is read once, in parallel.

/// One thing found in an HTML document.
pub enum Item<'a> {
    /// A start tag: lower-case name, attributes (names lower-case, values decoded), line.
    Tag { name: String, attrs: Vec<(String, String)>, line: usize },
    /// A `<script>` element: its attributes, its raw body and the line the body starts on.
    Script { attrs: Vec<(String, String)>, body: &'a str, line: usize },
    /// A `<style>` element's raw body and the line it starts on.
    Style { body: &'a str, line: usize },
}

/// Counts lines forward through a text, so that asking for increasing offsets is linear.
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl Lines<'_> {
    fn line_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        if offset > self.at {
            self.line += self.text[self.at..offset].iter().filter(|&&b| b == b'\n').count();
            self.at = offset;
        }
        self.line
    }
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Calls `f` for every start tag, script and style element of `html`, in order.
pub fn html(html: &str, mut f: impl FnMut(Item)) {
    let b = html.as_bytes();
    let mut lines = Lines { text: b, at: 0, line: 1 };
    let mut i = 0;
    while let Some(rel) = html.get(i..).and_then(|s| s.find('<')) {
        let start = i + rel;
        let rest = &html[start..];
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(html.len(), |e| start + e + 3);
            continue;
        }
        if rest.starts_with("</") || rest.starts_with("<!") || rest.starts_with("<?") {
            i = rest.find('>').map_or(html.len(), |e| start + e + 1);
            continue;
        }
        let name_end = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).map_or(rest.len(), |e| e + 1);
        if name_end == 1 {
            i = start + 1;
            continue;
        }
        let name = rest[1..name_end].to_ascii_lowercase();
        let attr_start = start + name_end;
        let tag_end = end_of_tag(html, attr_start);
        let attrs = attributes(&html[attr_start..tag_end]);
        let line = lines.line_at(start);
        i = (tag_end + 1).min(html.len());
        if name == "script" || name == "style" {
            let close = format!("</{name}");
            let body_end = find_ascii_ci(html, i, &close).unwrap_or(html.len());
            let body = &html[i..body_end];
            let body_line = lines.line_at(i);
            if name == "script" {
                f(Item::Script { attrs, body, line: body_line });
            } else {
                f(Item::Style { body, line: body_line });
            }
            i = body_end;
        } else {
            f(Item::Tag { name, attrs, line });
        }
    }
}

/// The offset of the `>` closing a start tag whose attributes begin at `from`, minding quotes.
pub(crate) fn end_of_tag(html: &str, from: usize) -> usize {
    let b = html.as_bytes();
    let mut quote = 0u8;
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            quote = c;
        } else if c == b'>' {
            return i;
        }
        i += 1;
    }
    b.len()
}

/// Case-insensitive search for an ASCII needle from `from`.
fn find_ascii_ci(hay: &str, from: usize, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() || from >= h.len() {
        return None;
    }
    (from..=h.len().saturating_sub(n.len())).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Attribute names (lower case) and decoded values of a start tag's inside.
pub fn attributes(s: &str) -> Vec<(String, String)> {
    crate::output::csp::parse_attrs(s).into_iter().map(|(name, value)| (name, decode_entities(&value))).collect()
}

/// Decodes the character references template engines write (`&amp;`, `&#x2f;`, `&#39;` ...).
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';').filter(|&e| e <= 10);
        let decoded = semi.and_then(|e| {
            let entity = &after[..e];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let num = entity.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replaces `/* ... */` comments with spaces (keeping newlines, so lines stay right).
fn blank_css_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        let end = rest[start + 2..].find("*/").map_or(rest.len(), |e| start + 2 + e + 2);
        out.extend(rest[start..end].chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// URLs a stylesheet loads (`url(...)` and `@import "..."`), each with its 1-based line.
pub fn css_urls(css: &str) -> Vec<(usize, String)> {
    let text = blank_css_comments(css);
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for (at, _) in lower.match_indices("url(") {
        let inner = &text[at + 4..];
        let end = inner.find(')').unwrap_or(inner.len());
        let url = inner[..end].trim().trim_matches(['"', '\'']).trim();
        if !url.is_empty() {
            out.push((line_of(&text, at), url.to_string()));
        }
    }
    for (at, _) in lower.match_indices("@import") {
        let inner = text[at + 7..].trim_start();
        if let Some(q) = inner.chars().next().filter(|c| *c == '"' || *c == '\'')
            && let Some(end) = inner[1..].find(q)
        {
            out.push((line_of(&text, at), inner[1..1 + end].to_string()));
        }
    }
    out
}

/// A JavaScript source split into its string literals (with lines) and its code with
/// comments and strings removed (for looking up identifiers such as `localStorage`).
pub struct Js {
    pub literals: Vec<(usize, String)>,
    /// Code outside strings and comments, one entry per line: (line, text).
    pub code_lines: Vec<(usize, String)>,
}

/// Splits JavaScript into string literals and code. Regular expression literals are not
/// recognized; a quote inside one may confuse the split of the rest of that line only.
pub fn js(source: &str) -> Js {
    let chars: Vec<char> = source.chars().collect();
    let mut literals = Vec::new();
    let mut code_lines: Vec<(usize, String)> = vec![(1, String::new())];
    let mut line = 1;
    let mut i = 0;
    let push_code = |code_lines: &mut Vec<(usize, String)>, c: char, line: usize| {
        if c == '\n' {
            code_lines.push((line + 1, String::new()));
        } else if let Some(last) = code_lines.last_mut() {
            last.1.push(c);
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    push_code(&mut code_lines, '\n', line);
                    line += 1;
                }
                i += 1;
            }
            i += 2;
            continue;
        }
        if c == '"' || c == '\'' || c == '`' {
            let start_line = line;
            let mut lit = String::new();
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    lit.push(chars[i + 1]);
                    i += 2;
                    continue;
                }
                if chars[i] == '\n' {
                    if c != '`' {
                        break;
                    }
                    push_code(&mut code_lines, '\n', line);
                    line += 1;
                }
                lit.push(chars[i]);
                i += 1;
            }
            i += 1;
            // Keep a marker in the code so `x='lit'` and `f('lit')` stay recognizable.
            if let Some(last) = code_lines.last_mut() {
                last.1.push_str(&format!("\u{1}{}\u{1}", literals.len()));
            }
            literals.push((start_line, lit));
            continue;
        }
        push_code(&mut code_lines, c, line);
        if c == '\n' {
            line += 1;
        }
        i += 1;
    }
    Js { literals, code_lines }
}

impl Js {
    /// The literal a code marker (`\u{1}N\u{1}`) at the start of `s` stands for.
    pub fn literal_at(&self, s: &str) -> Option<&str> {
        let rest = s.strip_prefix('\u{1}')?;
        let end = rest.find('\u{1}')?;
        let n: usize = rest[..end].parse().ok()?;
        self.literals.get(n).map(|(_, l)| l.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_attributes_and_lines() {
        let page = "<p>\n<a href=\"&#x2f;x&#x2f;\" class=a>x</a><!-- <img src=no> -->\n<script>var a = '<b>';</script><img src='/i.png'>";
        let mut seen = Vec::new();
        html(page, |item| match item {
            Item::Tag { name, attrs, line } => seen.push(format!("{name}@{line}:{attrs:?}")),
            Item::Script { body, line, .. } => seen.push(format!("script@{line}:{body}")),
            Item::Style { .. } => {}
        });
        assert_eq!(
            seen,
            vec![
                "p@1:[]",
                "a@2:[(\"href\", \"/x/\"), (\"class\", \"a\")]",
                "script@3:var a = '<b>';",
                "img@3:[(\"src\", \"/i.png\")]"
            ]
        );
    }

    #[test]
    fn css_urls_skip_comments() {
        let css = "/* url(a.png) */\nbody{background:url( \"b.png\" )}\n@import 'c.css';";
        assert_eq!(css_urls(css), vec![(2, "b.png".to_string()), (3, "c.css".to_string())]);
    }

    #[test]
    fn js_literals_and_code() {
        let j = js("// fetch('https://a.example')\nvar K='cohort.consent'; /* x */ fetch(\"https://b.example/x\")");
        assert_eq!(j.literals, vec![(2, "cohort.consent".to_string()), (2, "https://b.example/x".to_string())]);
        assert!(j.code_lines.iter().any(|(l, c)| *l == 2 && c.contains("var K=\u{1}0\u{1}")));
    }

    #[test]
    fn entities() {
        assert_eq!(decode_entities("a&amp;b&#39;c&#x2F;&bogus;"), "a&b'c/&bogus;");
    }
}
