//! The template engine abstraction: a theme's templates are rendered by name with a JSON
//! context, whichever engine the theme chose. Both engines' errors become one
//! [`TemplateError`] placed in the template (line, column, the line's text), naming the
//! variable a lookup failed on with the closest known name, and pointing a tag that is
//! never closed at the tag that opened it.

use crate::diagnostics::{Diagnostic, line_col, suggest};

/// A template engine holding a theme's templates: minijinja ([`super::minijinja::MiniJinja`])
/// or tera ([`super::tera::TeraEngine`]). Shared across the build's threads, hence `Send + Sync`.
pub trait Engine: Send + Sync {
    /// Renders template `name` with `context` (a map; its keys become variables). Contexts
    /// are minijinja values because they share product cards between pages without
    /// copying; other engines serialize them.
    fn render(&self, name: &str, context: &minijinja::Value) -> Result<String, TemplateError>;
    /// Sets a variable every template sees (`site`).
    fn add_global(&mut self, name: &str, value: &serde_json::Value);
    /// Whether a template called `name` was loaded (so it can be rendered).
    fn has(&self, name: &str) -> bool;
}

/// A template problem, with the template and place where the engine knows them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemplateError {
    /// The template's name ("product.html"), when the engine says which one.
    pub template: Option<String>,
    /// 1-based line in the template.
    pub line: Option<usize>,
    /// 1-based column (in characters); 0 when the engine gave no position.
    pub column: usize,
    /// What went wrong, in the engine's words (with Cohort's additions, such as the
    /// tag that was never closed).
    pub message: String,
    /// The text of the template line the error points at.
    pub snippet: Option<String>,
    /// How to fix it, when Cohort knows more than the engine said.
    pub hint: Option<String>,
}

impl TemplateError {
    /// An error with only a message (and the template, when known).
    pub fn new(template: Option<String>, message: impl Into<String>) -> Self {
        TemplateError { template, line: None, column: 0, message: message.into(), snippet: None, hint: None }
    }

    /// Places the error at byte `offset` of the template's `source`.
    pub fn at(mut self, source: &str, offset: usize) -> Self {
        let (line, column) = line_col(source, offset);
        self.line = Some(line);
        self.column = column;
        self.snippet = source.lines().nth(line - 1).map(str::to_string);
        self
    }

    /// For a syntax error in `source`: when a block tag is never closed, the error is moved
    /// to that tag (the engine reports where it noticed, often a later `endblock`).
    pub fn point_at_unclosed(self, source: &str) -> Self {
        let Some(open) = unclosed_tag(source) else { return self };
        let noticed = match (self.line, &self.template) {
            (Some(l), _) => format!(" (the engine noticed at line {l}: {})", self.message),
            (None, _) => format!(" ({})", self.message),
        };
        let message = format!("`{{% {} %}}` is never closed{noticed}", open.keyword);
        let hint = format!("add `{{% end{} %}}` where the {} should end", open.keyword, open.keyword);
        let mut e = TemplateError { message, hint: Some(hint), ..self };
        e = e.at(source, open.offset);
        e
    }

    /// `origin` maps a template name to the file it came from.
    pub fn into_diagnostic(self, origin: &dyn Fn(&str) -> String) -> Diagnostic {
        let file = self.template.as_deref().map_or_else(|| "templates".to_string(), origin);
        let mut d = Diagnostic::new(file, self.message);
        if let Some(line) = self.line {
            d = d.at_line(line, self.column, self.snippet.as_deref());
        }
        d.hint(self.hint.unwrap_or_else(|| "fix the template; the message above says what the engine expected".into()))
    }
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(t) = &self.template {
            write!(f, "{t}")?;
            if let Some(l) = self.line {
                write!(f, ":{l}")?;
                if self.column > 0 {
                    write!(f, ":{}", self.column)?;
                }
            }
            write!(f, ": ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// A block tag that is opened and never closed: its keyword and byte offset.
struct Open<'a> {
    keyword: &'a str,
    offset: usize,
}

/// The tags that need an `end` tag (a `set` does only without `=`).
const BLOCK_TAGS: [&str; 9] = ["if", "for", "block", "macro", "call", "filter", "with", "autoescape", "set"];

/// The innermost block tag of `source` that is not closed where it should be: the one an
/// `end` tag of another kind meets, or the last one open at the end.
fn unclosed_tag(source: &str) -> Option<Open<'_>> {
    let mut stack: Vec<Open> = Vec::new();
    let mut rest = 0;
    while let Some(found) = source[rest..].find("{%") {
        // A comment before the tag may hold tags that do not count.
        if let Some(comment) = source[rest..rest + found].find("{#") {
            let from = rest + comment + 2;
            rest = source[from..].find("#}").map_or(source.len(), |e| from + e + 2);
            continue;
        }
        let start = rest + found;
        let inner_start = start + 2;
        let close = source[inner_start..].find("%}").map_or(source.len(), |c| inner_start + c);
        rest = (close + 2).min(source.len());
        let tag =
            source[inner_start..close].trim_matches(|c: char| c == '-' || c == '+' || c == '~' || c.is_whitespace());
        let keyword = tag.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
        if keyword == "raw" {
            match source[rest..].find("endraw") {
                Some(e) => rest += e,
                None => return Some(Open { keyword, offset: start }),
            }
            continue;
        }
        if let Some(name) = keyword.strip_prefix("end").filter(|n| BLOCK_TAGS.contains(n)) {
            match stack.last() {
                Some(top) if top.keyword == name => {
                    stack.pop();
                }
                Some(_) => return stack.pop(),
                None => return None,
            }
        } else if BLOCK_TAGS.contains(&keyword) && !(keyword == "set" && tag.contains('=')) {
            stack.push(Open { keyword, offset: start });
        }
    }
    stack.pop()
}

/// For an undefined `expr` such as `product.titel`: the closest known name for its last
/// part. `known` lists the names at the place the lookup failed when the engine or the
/// context can tell (the fields of `product`), else every name the context has.
pub fn did_you_mean(expr: &str, known: &[String]) -> Option<String> {
    let (parent, last) = match expr.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, expr),
    };
    let best = suggest(last, known.iter().map(String::as_str))?;
    Some(match parent {
        Some(p) => format!("did you mean `{p}.{best}`?"),
        None => format!("did you mean `{best}`?"),
    })
}

/// The keys of a context value down to `path` (`product` of `product.titel`); None when
/// the path does not lead to a map.
pub fn keys_at(context: &minijinja::Value, path: &str) -> Option<Vec<String>> {
    let mut value = context.clone();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        value = value.get_attr(part).ok().filter(|v| !v.is_undefined())?;
    }
    map_keys(&value)
}

fn map_keys(value: &minijinja::Value) -> Option<Vec<String>> {
    (value.kind() == minijinja::value::ValueKind::Map)
        .then(|| value.try_iter().map(|it| it.filter_map(|k| k.as_str().map(str::to_string)).collect()).ok())
        .flatten()
}

/// Every key of every map in `context`, three levels deep (first items of lists
/// included): the candidates for a name whose parent is a loop variable.
pub fn all_keys(context: &minijinja::Value) -> Vec<String> {
    fn walk(v: &minijinja::Value, depth: usize, out: &mut Vec<String>) {
        if depth == 0 {
            return;
        }
        match v.kind() {
            minijinja::value::ValueKind::Map => {
                for k in map_keys(v).unwrap_or_default() {
                    if let Ok(child) = v.get_attr(&k) {
                        walk(&child, depth - 1, out);
                    }
                    out.push(k);
                }
            }
            minijinja::value::ValueKind::Seq => {
                if let Ok(first) = v.get_item(&minijinja::Value::from(0)) {
                    walk(&first, depth, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(context, 4, &mut out);
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_tag_that_is_never_closed() {
        let src = "{% extends \"b\" %}\n{% block body %}\n{% if x %}\n<h1>{{ y }}</h1>\n{% endblock %}\n";
        let open = unclosed_tag(src).map(|o| (o.keyword, line_col(src, o.offset)));
        assert_eq!(open, Some(("if", (3, 1))));
        let fine = "{% for a in b %}{# {% if a %} #}{% if a %}{% set x = 1 %}{% endif %}{% endfor %}{% raw %}{% if %}{% endraw %}";
        assert!(unclosed_tag(fine).is_none());
        assert_eq!(unclosed_tag("{% for a in b %}\n{{ a }}").map(|o| o.keyword), Some("for"));
    }

    #[test]
    fn suggests_the_closest_field() {
        let known = vec!["title".to_string(), "sku".to_string()];
        assert_eq!(did_you_mean("product.titel", &known).as_deref(), Some("did you mean `product.title`?"));
        assert_eq!(did_you_mean("titel", &known).as_deref(), Some("did you mean `title`?"));
        assert_eq!(did_you_mean("product.colour", &known), None);
    }
}

/// The largest page (or slot) one template may render: far above any real page, low enough
/// that a runaway template (`{{ "a" * 100000000 }}`) fails fast instead of writing gigabytes.
pub const MAX_PAGE_BYTES: usize = 16 << 20;

/// The minijinja fuel of one render: one per instruction and per 64 bytes the template
/// allocates or writes (checked before a value is allocated), so about 64 MB at most. The
/// largest page of a generated 3,000-product shop uses about 2,500; a runaway loop or a
/// huge value (`"a" * 100000000`) runs out.
pub const FUEL: u64 = 1_000_000;

/// Where an engine writes a page: refuses to grow beyond [`MAX_PAGE_BYTES`].
#[derive(Default)]
pub struct Bounded {
    bytes: Vec<u8>,
    /// Whether a write was refused for the size.
    pub over: bool,
}

impl Bounded {
    /// The page written (engines write whole UTF-8 strings; anything else is replaced).
    pub fn into_string(self) -> String {
        String::from_utf8(self.bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_PAGE_BYTES {
            self.over = true;
            return Err(std::io::Error::other("the page is too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The error of a template whose output went over [`MAX_PAGE_BYTES`].
pub fn too_large(template: &str) -> TemplateError {
    TemplateError::new(
        Some(template.to_string()),
        format!(
            "the page it renders is larger than {} MiB, the most a page may have; look for a value \
             repeated or multiplied, or a loop that never ends",
            MAX_PAGE_BYTES >> 20
        ),
    )
}

/// The error of a minijinja template that used up its [`FUEL`].
pub fn out_of_fuel(template: &str, line: Option<usize>) -> TemplateError {
    let mut error = TemplateError::new(
        Some(template.to_string()),
        "the template did far more work than any page needs and was stopped; look for a value \
         repeated or multiplied into a huge one, or a loop over a huge range",
    );
    error.line = line;
    error
}
