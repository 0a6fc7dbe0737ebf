//! Themes: templates, static files and the engine that renders them.
//!
//! A theme is a folder with `theme.toml` (naming its engine), `templates/` and `static/`.
//! Built-in themes are embedded in the binary ([`builtin`]); a shop can bring its own in
//! `themes/NAME/`, and override any template by name in its own `templates/`.

pub mod builtin;
pub mod engine;
pub mod minijinja;
pub mod tera;

use crate::diagnostics::{Diagnostic, Diagnostics};
use engine::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a theme file comes from: inside the binary, or a file on disk.
#[derive(Debug, Clone)]
pub enum Source {
    /// The bytes of a built-in theme's file, compiled into the binary.
    Embedded(&'static [u8]),
    /// A file of a local theme (`themes/NAME/`) or of the shop's `templates/` or `static/`.
    File(PathBuf),
}

impl Source {
    /// The file's bytes: borrowed when embedded, read from disk (now) otherwise.
    pub fn bytes(&self) -> std::io::Result<std::borrow::Cow<'static, [u8]>> {
        match self {
            Source::Embedded(b) => Ok(std::borrow::Cow::Borrowed(b)),
            Source::File(p) => std::fs::read(p).map(std::borrow::Cow::Owned),
        }
    }
    /// The file on disk, for watch mode and messages; None when embedded.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::File(p) => Some(p),
            Source::Embedded(_) => None,
        }
    }
}

/// A theme's `theme.toml`, as read (unknown keys are an error).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeToml {
    /// The theme's name; it becomes [`Theme::name`].
    pub name: String,
    /// A short description of the theme; informational only, the build does not read it.
    #[serde(default)]
    pub description: String,
    /// "minijinja" (default) or "tera".
    #[serde(default = "default_engine")]
    pub engine: String,
    /// Cohort slots per page kind, e.g. `home = ["hero", "picks"]` (see `cohorts::slots`).
    #[serde(default)]
    pub slots: BTreeMap<String, Vec<String>>,
}

fn default_engine() -> String {
    "minijinja".into()
}

/// A loaded theme: its templates compiled by its engine, and its static files, with the
/// shop's own `templates/` and `static/` over the theme's.
pub struct Theme {
    /// The name `theme.toml` gives; templates see it as `site.theme`, messages use it.
    pub name: String,
    /// The engine theme.toml names ("minijinja" or "tera").
    pub engine_name: String,
    /// Cohort slots per page kind, from theme.toml.
    pub slots: BTreeMap<String, Vec<String>>,
    /// The engine holding every template (shop overrides included), ready to render.
    pub engine: Box<dyn Engine>,
    /// Template name → where it came from (theme or shop override).
    pub templates: BTreeMap<String, Source>,
    /// Site path → file, theme static files first, then the shop's `static/` over them.
    pub static_files: BTreeMap<String, Source>,
    /// Template name → a hash of its text and the templates it names (`extends`, `include`,
    /// `import`, `from`); None when it names one through a variable.
    pub template_uses: BTreeMap<String, (u64, Option<Vec<String>>)>,
}

/// The template names the build renders; a theme must provide each.
pub const REQUIRED_TEMPLATES: [&str; 5] = ["index.html", "product.html", "list.html", "page.html", "404.html"];

impl Theme {
    /// Loads the theme named in shop.toml: `ROOT/themes/NAME/` if present, else built-in.
    pub fn load(root: &Path, name: &str) -> Result<Theme, Diagnostics> {
        let local = root.join("themes").join(name);
        let mut files: BTreeMap<String, Source> =
            if local.join("theme.toml").is_file() { walk(&local) } else { builtin::files(name) };
        if files.is_empty() {
            let mut available: Vec<String> = builtin::names();
            if let Ok(entries) = std::fs::read_dir(root.join("themes")) {
                available.extend(entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()));
            }
            let d = Diagnostic::new("shop.toml", format!("there is no theme `{name}`"))
                .hint(format!("available themes: {}; or create themes/{name}/theme.toml", available.join(", ")));
            return Err(Diagnostics(vec![d]));
        }
        let theme_file = format!("themes/{name}/theme.toml");
        let meta: ThemeToml = match files.remove("theme.toml").map(|s| s.bytes()) {
            Some(Ok(bytes)) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                toml::from_str(&text).map_err(|e| {
                    Diagnostics(vec![crate::config::toml_diagnostic(Path::new(&theme_file), &text, 1, &e)])
                })?
            }
            _ => {
                return Err(Diagnostics(vec![
                    Diagnostic::new(&theme_file, "the theme has no readable theme.toml")
                        .hint("add theme.toml with name = \"...\" and engine = \"minijinja\" or \"tera\""),
                ]));
            }
        };
        let mut templates = BTreeMap::new();
        let mut static_files = BTreeMap::new();
        for (path, source) in files {
            if let Some(t) = path.strip_prefix("templates/") {
                templates.insert(t.to_string(), source);
            } else if let Some(s) = path.strip_prefix("static/") {
                static_files.insert(s.to_string(), source);
            }
        }
        for (path, source) in walk(&root.join("templates")) {
            templates.insert(path, source);
        }
        for (path, source) in walk(&root.join("static")) {
            static_files.insert(path, source);
        }
        let mut sources: Vec<(String, String)> = Vec::new();
        let mut diags = Diagnostics::default();
        for (name, source) in &templates {
            let shown = source.path().map_or_else(
                || format!("themes/{}/templates/{name}", meta.name),
                |p| crate::diagnostics::relative(root, p).display().to_string(),
            );
            match source.bytes().map(|b| String::from_utf8(b.into_owned())) {
                Ok(Ok(text)) => sources.push((name.clone(), text)),
                Ok(Err(_)) => {
                    diags.push(Diagnostic::new(shown, "the template is not valid UTF-8").hint("save it as UTF-8"))
                }
                Err(e) => diags.push(Diagnostic::new(shown, format!("cannot read the template: {e}"))),
            }
        }
        for required in REQUIRED_TEMPLATES {
            if !templates.contains_key(required) {
                diags.push(
                    Diagnostic::new(format!("themes/{name}"), format!("the theme has no template `{required}`"))
                        .hint(format!("add templates/{required} to the theme or to the shop")),
                );
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let uses: BTreeMap<String, (u64, Option<Vec<String>>)> = sources
            .iter()
            .map(|(name, text)| {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                text.hash(&mut h);
                (name.clone(), (h.finish(), template_references(text)))
            })
            .collect();
        let origin = |n: &str| -> String {
            templates.get(n).and_then(Source::path).map_or_else(
                || format!("themes/{}/templates/{n}", meta.name),
                |p| crate::diagnostics::relative(root, p).display().to_string(),
            )
        };
        let engine: Box<dyn Engine> = match meta.engine.as_str() {
            "minijinja" => Box::new(
                self::minijinja::MiniJinja::new(sources).map_err(|e| Diagnostics(vec![e.into_diagnostic(&origin)]))?,
            ),
            "tera" => Box::new(
                self::tera::TeraEngine::new(sources).map_err(|e| Diagnostics(vec![e.into_diagnostic(&origin)]))?,
            ),
            other => {
                return Err(Diagnostics(vec![
                    Diagnostic::new(&theme_file, format!("unknown template engine `{other}`"))
                        .hint("use engine = \"minijinja\" or engine = \"tera\""),
                ]));
            }
        };
        if let Err(d) = crate::cohorts::slots::validate(&meta.slots, &theme_file, |n| templates.contains_key(n)) {
            return Err(Diagnostics(vec![d]));
        }
        let template_uses = uses;
        Ok(Theme {
            name: meta.name,
            engine_name: meta.engine,
            slots: meta.slots,
            engine,
            templates,
            static_files,
            template_uses,
        })
    }

    /// The file template `name` comes from, relative to the shop `root` (the shop's
    /// override, a local theme's file, or the built-in theme's path).
    pub fn template_file(&self, root: &Path, name: &str) -> String {
        self.templates.get(name).and_then(Source::path).map_or_else(
            || format!("themes/{}/templates/{name}", self.name),
            |p| crate::diagnostics::relative(root, p).display().to_string(),
        )
    }

    /// A hash of everything `roots` render with: their texts and those of every template
    /// they name, transitively. None when one of them names a template through a variable
    /// (then any template change may concern it).
    pub fn templates_hash(&self, roots: &[&str]) -> Option<u64> {
        use std::hash::{Hash, Hasher};
        let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        let mut todo: Vec<&str> = roots.to_vec();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        while let Some(name) = todo.pop() {
            if !seen.insert(name) {
                continue;
            }
            match self.template_uses.get(name) {
                Some((hash, Some(names))) => {
                    (name, hash).hash(&mut hasher);
                    todo.extend(names.iter().map(String::as_str));
                }
                Some((_, None)) => return None,
                // A name no template has: an engine error if it is ever rendered.
                None => (name, 0u64).hash(&mut hasher),
            }
        }
        Some(hasher.finish())
    }
}

/// The templates a template's text names literally in `extends`, `include`, `import` and
/// `from` tags (and the card partial, when it calls `render_card`; the first argument of
/// `partial_cached`); None when one is named through a variable or an expression.
pub fn template_references(text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    if text.contains("render_card") {
        out.push(crate::render::partial_cache::TEMPLATE.to_string());
    }
    for (at, _) in text.match_indices("partial_cached(") {
        let args = text[at + "partial_cached(".len()..].trim_start();
        let end = args.find([',', ')']).unwrap_or(args.len());
        out.push(literal(args[..end].trim_end())?);
    }
    let mut rest = text;
    while let Some(open) = rest.find("{%") {
        let after = &rest[open + 2..];
        let close = after.find("%}").unwrap_or(after.len());
        let tag = after[..close].trim_matches(|c: char| c == '-' || c == '+' || c == '~' || c.is_whitespace());
        rest = &after[close..];
        let (keyword, args) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        if !matches!(keyword, "extends" | "include" | "import" | "from") {
            continue;
        }
        let args = args.trim_start();
        let list = if keyword == "include" && args.starts_with('[') {
            let end = args.find(']')?;
            args[1..end].split(',').map(str::trim).filter(|a| !a.is_empty()).map(literal).collect::<Option<Vec<_>>>()?
        } else {
            vec![literal(args.split_whitespace().next().unwrap_or(""))?]
        };
        out.extend(list);
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// The text of a quoted string literal token, None for anything else.
fn literal(token: &str) -> Option<String> {
    let quote = token.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = token.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote)).then(|| inner.to_string())
}

/// Every file below `dir`, keyed by its path relative to `dir` with `/` separators.
/// Hidden files (editor swap files, .DS_Store) are left out.
fn walk(dir: &Path) -> BTreeMap<String, Source> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(dir).ok()?.to_string_lossy().replace('\\', "/");
            Some((rel, Source::File(e.path().to_path_buf())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::template_references;

    #[test]
    fn references_are_the_literal_template_names() {
        let text = "{% extends \"base.html\" %}{%- include 'partials/card.html' -%}\n{% include [\"a.html\", 'b.html'] ignore missing %}{% import \"macros.html\" as m %}{% from \"forms.html\" import field %}{% if x %}{{ y }}{% endif %}";
        assert_eq!(
            template_references(text),
            Some(
                vec!["a.html", "b.html", "base.html", "forms.html", "macros.html", "partials/card.html"]
                    .into_iter()
                    .map(String::from)
                    .collect()
            )
        );
        let grid = "<div>{% for item in products %}{{ render_card(item) }}{% endfor %}</div>";
        assert_eq!(template_references(grid), Some(vec!["partials/card.html".to_string()]));
        let menu = "{{ partial_cached( 'partials/nav.html' , current=page.url) }}{{ partial_cached(\"x.html\") }}";
        assert_eq!(template_references(menu), Some(vec!["partials/nav.html".to_string(), "x.html".to_string()]));
    }

    #[test]
    fn a_template_named_by_a_variable_is_unknown() {
        assert_eq!(template_references("{% include item.template %}"), None);
        assert_eq!(template_references("{% extends layout ~ \".html\" %}"), None);
        assert_eq!(template_references("{% include [\"a.html\", other] %}"), None);
        assert_eq!(template_references("{{ partial_cached(name, a=1) }}"), None);
        assert_eq!(template_references("no tags here"), Some(vec![]));
    }
}
