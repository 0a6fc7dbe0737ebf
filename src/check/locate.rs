//! From what a build shows back to the source that put it there: a template line, a product
//! file, shop.toml, a static file.

use crate::content::Shop;
use crate::theme::Theme;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Maps something seen in the build back to the source file and line that put it there.
pub struct Locator {
    root: PathBuf,
    /// (shown name, text): the shop's overrides first, then the theme's templates.
    templates: Vec<(String, String, String)>,
    shop_toml: String,
    /// Site path of a static file → its source, as shown.
    statics: HashMap<String, String>,
    /// Output page → its source file (products and pages).
    page_sources: HashMap<String, PathBuf>,
}

impl Locator {
    /// A locator for `shop` built with `theme`.
    pub fn new(shop: &Shop, theme: &Theme) -> Locator {
        let root = shop.root.clone();
        let shown = |name: &str, source: &crate::theme::Source, dir: &str| -> String {
            source.path().map_or_else(
                || format!("themes/{}/{dir}/{name}", theme.name),
                |p| crate::diagnostics::relative(&root, p).display().to_string().replace('\\', "/"),
            )
        };
        let mut templates: Vec<(String, String, String)> = theme
            .templates
            .iter()
            .filter_map(|(name, source)| {
                let text = String::from_utf8(source.bytes().ok()?.into_owned()).ok()?;
                Some((shown(name, source, "templates"), name.clone(), text))
            })
            .collect();
        templates.sort_by_key(|(display, _, _)| !display.starts_with("templates/"));
        let statics = theme.static_files.iter().map(|(path, s)| (path.clone(), shown(path, s, "static"))).collect();
        let mut page_sources = HashMap::new();
        for p in &shop.products {
            page_sources.insert(format!("products/{}/index.html", p.slug), p.source.clone());
        }
        for p in &shop.pages {
            page_sources.insert(format!("pages/{}/index.html", p.slug), p.source.clone());
        }
        let shop_toml = std::fs::read_to_string(root.join("shop.toml")).unwrap_or_default();
        Locator { root, templates, shop_toml, statics, page_sources }
    }

    /// How a template is shown: `templates/NAME` for a shop override, else the theme's path.
    pub fn template_display(&self, name: &str) -> String {
        self.templates
            .iter()
            .find(|(_, n, _)| n == name)
            .map_or_else(|| format!("templates/{name}"), |(d, _, _)| d.clone())
    }

    /// The line of template `name` that contains `needle`.
    pub fn template_line(&self, name: &str, needle: &str) -> Option<usize> {
        let (_, _, text) = self.templates.iter().find(|(_, n, _)| n == name)?;
        text.find(needle).map(|at| crate::html::line_of(text, at))
    }

    /// The text of shop.toml.
    pub fn shop_toml(&self) -> &str {
        &self.shop_toml
    }

    /// Forgets static files the build replaced with its own (the runtime writes `cohort.js`
    /// over a shop's file of that name), so findings there do not blame the shop's file.
    pub(super) fn keep_copied_statics(&mut self, out: &Path) {
        let root = self.root.clone();
        self.statics.retain(|path, shown| {
            if !(path.ends_with(".js") || path.ends_with(".css") || path.ends_with(".html")) {
                return true;
            }
            // An embedded theme file has no path under the root; reading it fails and it stays.
            match (std::fs::read(root.join(shown.as_str())), std::fs::read(out.join(path))) {
                (Ok(a), Ok(b)) => a == b,
                _ => true,
            }
        });
    }

    /// The source of a static file copied to `file` in the build, if it is one.
    pub fn static_source(&self, file: &str) -> Option<&str> {
        self.statics.get(file).map(String::as_str)
    }

    /// The source file and line behind `needle`, seen on line `line` of built file `file`:
    /// the static file it was copied from, the product or page file it came from, a
    /// template or shop.toml containing it; else the built file itself.
    pub fn locate(&self, file: &str, line: usize, needle: &str) -> (String, usize) {
        if let Some(source) = self.statics.get(file) {
            return (source.clone(), line);
        }
        let needle = needle.trim();
        let tail = needle.rsplit('/').next().filter(|t| t.len() >= 4 && *t != needle);
        let find = |text: &str| -> Option<usize> {
            if needle.is_empty() {
                return None;
            }
            text.find(needle).map(|at| crate::html::line_of(text, at))
        };
        if let Some(source) = self.page_sources.get(file)
            && let Ok(text) = std::fs::read_to_string(self.root.join(source))
            && let Some(l) = find(&text)
        {
            return (source.display().to_string().replace('\\', "/"), l);
        }
        for (display, _, text) in &self.templates {
            if let Some(l) = find(text) {
                return (display.clone(), l);
            }
        }
        if let Some(l) = find(&self.shop_toml) {
            return ("shop.toml".into(), l);
        }
        if let Some(tail) = tail
            && let Some(at) = self.shop_toml.find(tail)
        {
            return ("shop.toml".into(), crate::html::line_of(&self.shop_toml, at));
        }
        (format!("/{file}"), line)
    }
}
