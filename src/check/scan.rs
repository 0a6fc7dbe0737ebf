//! Small, forgiving scanners for what `cohort check` reads in a build: HTML start tags with
//! their attributes, `<script>` and `<style>` bodies, CSS `url()`/`@import`, and JavaScript
//! string literals with comments skipped. They never fail: malformed input yields fewer
//! items, not an error. No regular expressions: the build can hold tens of thousands of
//! pages and each is read once, in parallel. HTML is read with the one tokenizer of
//! [`crate::html`]; this module turns its tokens into what the rules look at.

use crate::html::{self, Token, line_of};

/// One thing found in an HTML document.
pub enum Item<'a> {
    /// A start tag: lower-case name, attributes (names lower-case, values decoded), line.
    Tag {
        /// The element's name.
        name: String,
        /// Its attributes.
        attrs: Vec<(String, String)>,
        /// The line of its `<`.
        line: usize,
    },
    /// A `<script>` element: its attributes, its raw body and the line the body starts on.
    Script {
        /// Its attributes.
        attrs: Vec<(String, String)>,
        /// Its text up to `</script`.
        body: &'a str,
        /// The line its text starts on.
        line: usize,
    },
    /// A `<style>` element's raw body and the line it starts on.
    Style {
        /// Its text up to `</style`.
        body: &'a str,
        /// The line its text starts on.
        line: usize,
    },
}

/// Calls `f` for every start tag, script and style element of `page`, in order, as the
/// tokenizer of [`crate::html`] reads them.
pub fn html(page: &str, mut f: impl FnMut(Item)) {
    let mut lines = html::Lines::new(page);
    // A `<script>`'s attributes until its text comes.
    let mut script_attrs = None;
    for token in html::tokens(page) {
        match token {
            Token::Start(tag) => {
                let attrs = attributes(tag.attrs_text);
                match tag.name.as_str() {
                    "script" => script_attrs = Some(attrs),
                    "style" => {}
                    _ => f(Item::Tag { line: lines.line_at(tag.start), name: tag.name, attrs }),
                }
            }
            Token::Raw { element, text, start } => {
                let line = lines.line_at(start);
                match element.as_str() {
                    "script" => f(Item::Script { attrs: script_attrs.take().unwrap_or_default(), body: text, line }),
                    "style" => f(Item::Style { body: text, line }),
                    _ => {}
                }
            }
            Token::End { .. } => {}
        }
    }
}

/// Attribute names (lower case) and decoded values of a start tag's inside.
pub fn attributes(s: &str) -> Vec<(String, String)> {
    html::parse_attrs(s).into_iter().map(|(name, value)| (name, html::decode_entities(&value))).collect()
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
    /// Every string literal, with the line it starts on, escapes resolved.
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
}
