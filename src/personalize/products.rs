//! Products for plugin mode: read from another generator's content folder, or from the
//! shop's own `products/`. Front matter is read as Hugo and Zola read it: TOML between `+++`
//! lines, YAML between `---` lines (with `serde_yaml_ng`), or a JSON object at the top of
//! the file. Section files (`_index.md`) are listings, not products, and are skipped.
//! `[plugin.fields]` in shop.toml maps a theme's own field names (`actualPrice`,
//! `priceBefore`, ...) onto Cohort's; images may be a string, a list of strings or a list of
//! tables (`[[images]] image = "..."`), and are resolved as the generator resolves them: a
//! page resource of the bundle, else a file of the static root (`/` or relative), with the
//! `baseURL` sub-path taken off.
//!
//! Hugo keeps custom fields at the top level or under `[params]`, Zola under `[extra]`
//! (and its taxonomies under `[taxonomies]`); each field is looked up in those places, in
//! that order. Unknown keys are the other generator's business and are ignored. The
//! product's URL is taken from the other generator's output: `url` when the front matter
//! sets one, else the path Hugo and Zola derive from the file (`content/products/x.md` →
//! `/products/x/`), which must exist in the site folder.

use super::front::{Format, front_table, split_front};
use super::paths::{product_path, resolve_image, translations};
use crate::config::Site;
use crate::content::markdown;
use crate::content::product::{Availability, CohortCopy, Image, Product};
use crate::diagnostics::Diagnostic;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A product and the site path of its page in the other generator's output ("products/x/").
pub struct Found {
    /// The product, from the file's front matter (field names mapped by `[plugin.fields]`).
    pub product: Product,
    /// The site path of its page, relative to the site root with a trailing slash
    /// ("products/x/"); `PATH/index.html` exists in the site folder.
    pub path: String,
    /// The same product's page in the site's other languages ("fr/products/x/"): a
    /// multilingual Hugo site with a `contentDir` per language (`content/fr/products/x.md`)
    /// or with translations by file name (`content/products/x.fr.md`).
    pub translations: Vec<String>,
}

/// Every file matching `pattern` (`*` and `?` within a path segment, `**` across segments),
/// sorted. A pattern without wildcards names one file.
pub fn glob(pattern: &str) -> Vec<PathBuf> {
    let pattern = pattern.replace('\\', "/");
    let parts: Vec<&str> = pattern.split('/').collect();
    let first_wild = parts.iter().position(|p| p.contains(['*', '?'])).unwrap_or(parts.len());
    let base = parts[..first_wild].join("/");
    let base = if base.is_empty() && pattern.starts_with('/') {
        "/".to_string()
    } else if base.is_empty() {
        ".".to_string()
    } else {
        base
    };
    if first_wild == parts.len() {
        let p = PathBuf::from(&pattern);
        return if p.is_file() { vec![p] } else { Vec::new() };
    }
    let rest = parts[first_wild..].join("/");
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(&base)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            e.path()
                .strip_prefix(&base)
                .ok()
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .is_some_and(|r| wildcard(rest.as_bytes(), r.as_bytes()))
        })
        .map(|e| e.path().to_path_buf())
        .collect();
    found.sort();
    found
}

/// `*` and `?` stay within a segment, `**` (optionally followed by `/`) crosses them.
fn wildcard(p: &[u8], s: &[u8]) -> bool {
    if p.is_empty() {
        return s.is_empty();
    }
    if p.starts_with(b"**") {
        let rest = p[2..].strip_prefix(b"/").unwrap_or(&p[2..]);
        return (0..=s.len()).any(|i| (i == 0 || s[i - 1] == b'/') && wildcard(rest, &s[i..]));
    }
    match p[0] {
        b'*' => (0..=s.len()).take_while(|&i| i == 0 || s[i - 1] != b'/').any(|i| wildcard(&p[1..], &s[i..])),
        b'?' => !s.is_empty() && s[0] != b'/' && wildcard(&p[1..], &s[1..]),
        c => !s.is_empty() && s[0] == c && wildcard(&p[1..], &s[1..]),
    }
}

/// Reads every file; drafts are left out. Problems are collected, each with its place.
pub fn read_foreign(site: &Site, files: &[PathBuf], site_dir: &Path) -> (Vec<Found>, Vec<Diagnostic>) {
    let mut found = Vec::new();
    let mut diags = Vec::new();
    for file in files {
        // Section files (`_index.md`) are listings, not products.
        if file.file_stem().is_some_and(|s| s == "_index") {
            continue;
        }
        let text = match crate::content::read_text(file, file) {
            Ok(t) => t,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        match parse_foreign(site, file, &text, site_dir) {
            Ok(Some(f)) => found.push(f),
            Ok(None) => {}
            Err(ds) => diags.extend(ds),
        }
    }
    (found, diags)
}

/// The front matter table and where a key is looked up.
struct Fields<'a> {
    table: toml::Table,
    text: &'a str,
    first_line: usize,
    file: &'a Path,
    format: Format,
    map: &'a crate::config::FieldMap,
}

impl Fields<'_> {
    /// `key` at the top level, else under `[params]` (Hugo), `[extra]` (Zola) or, for
    /// taxonomies, `[taxonomies]` (Zola).
    /// `key` under the theme's name for it (`[plugin.fields]`), else under Cohort's.
    fn get(&self, key: &str) -> Option<&toml::Value> {
        self.lookup(self.name(key)).or_else(|| self.lookup(key))
    }

    fn lookup(&self, key: &str) -> Option<&toml::Value> {
        self.table.get(key).or_else(|| {
            ["params", "extra", "taxonomies"]
                .iter()
                .find_map(|t| self.table.get(*t).and_then(|v| v.as_table()).and_then(|t| t.get(key)))
        })
    }

    /// The theme's name for Cohort's field `key` (`[plugin.fields]`), else `key`.
    fn name<'k>(&'k self, key: &'k str) -> &'k str {
        self.mapped(key).filter(|m| self.lookup(m).is_some() || self.lookup(key).is_none()).unwrap_or(key)
    }

    fn mapped<'k>(&'k self, key: &'k str) -> Option<&'k str> {
        let m = self.map;
        match key {
            "price" => m.price.as_deref(),
            "compare_at_price" => m.compare_at_price.as_deref(),
            "sku" => m.sku.as_deref(),
            "images" => m.images.as_deref(),
            "category" => m.category.as_deref(),
            _ => None,
        }
    }

    /// `key = "value"` in the file's own syntax.
    fn assign(&self, key: &str, value: &str) -> String {
        let key = self.name(key);
        match self.format {
            Format::Toml => format!("{key} = \"{value}\""),
            Format::Yaml => format!("{key}: \"{value}\""),
            Format::Json => format!("\"{key}\": \"{value}\""),
        }
    }

    fn string(&self, key: &str) -> Result<Option<String>, Diagnostic> {
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self
                .at(key, format!("`{}` must be a string, not {}", self.name(key), other.type_str()))
                .hint(format!("write it in quotes: {}", self.assign(key, other.to_string().trim_matches('"'))))),
        }
    }

    /// Image paths: a string, a list of strings, or a list of tables whose `image_key` (or
    /// `image`, `src`, `url`, `path`, `file`) is the path.
    fn images(&self) -> Result<Vec<String>, Diagnostic> {
        let keys: Vec<&str> = match &self.map.image_key {
            Some(k) => vec![k.as_str()],
            None => vec!["image", "src", "url", "path", "file"],
        };
        let bad = || {
            self.at("images", format!("`{}` must be a path, a list of paths or a list of tables with a path", self.name("images")))
                .hint(format!("e.g. images = [\"lamp.jpg\"], or [[images]] {} = \"lamp.jpg\"; set [plugin.fields] image_key for another key", keys[0]))
        };
        match self.get("images") {
            None => Ok(Vec::new()),
            Some(toml::Value::String(s)) => Ok(vec![s.clone()]),
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    toml::Value::Table(t) => keys
                        .iter()
                        .find_map(|k| t.get(*k).and_then(toml::Value::as_str))
                        .map(str::to_string)
                        .ok_or_else(bad),
                    _ => Err(bad()),
                })
                .collect(),
            Some(_) => Err(bad()),
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, Diagnostic> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::String(s)) => Ok(vec![s.clone()]),
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        self.at(key, format!("`{key}` must be a list of strings"))
                            .hint(format!("e.g. {key} = [\"outdoor\", \"hiking\"]"))
                    })
                })
                .collect(),
            Some(other) => Err(self
                .at(key, format!("`{key}` must be a list of strings, not {}", other.type_str()))
                .hint(format!("e.g. {key} = [\"outdoor\", \"hiking\"]"))),
        }
    }

    /// A diagnostic at the line that sets `key` (else the front matter's first line).
    fn at(&self, key: &str, message: String) -> Diagnostic {
        let offset = key_offset(self.text, self.name(key));
        match offset {
            Some(o) => Diagnostic::new(self.file, message).at_offset(self.text, o, self.first_line),
            None => {
                Diagnostic::new(self.file, message).at_line(self.first_line.saturating_sub(1).max(1), 1, Some("+++"))
            }
        }
    }
}

/// The byte offset of `key = ...` (or `"key" = ...`) at the start of a line.
fn key_offset(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let unquoted = trimmed.strip_prefix('"').and_then(|t| t.strip_prefix(key)).and_then(|t| t.strip_prefix('"'));
        let rest = unquoted.or_else(|| trimmed.strip_prefix(key));
        if let Some(rest) = rest
            && (rest.trim_start().starts_with('=') || rest.starts_with(':'))
        {
            return Some(offset + indent);
        }
        offset += line.len();
    }
    None
}

/// One content file of another generator as a product; `Ok(None)` for a draft. The steps:
/// the front matter (`split_front`), the scalar fields (`read_head`), the taxonomies
/// (`read_taxonomies`), the page in the site folder (`page_path`) and the images
/// (`read_images`), every problem collected with its line.
pub fn parse_foreign(site: &Site, file: &Path, text: &str, site_dir: &Path) -> Result<Option<Found>, Vec<Diagnostic>> {
    let front = split_front(file, text).map_err(|d| vec![d])?;
    let table = front_table(file, &front).map_err(|d| vec![d])?;
    let map = &site.config.plugin.fields;
    let f = Fields { table, text: front.text, first_line: front.line, file, format: front.format, map };
    if matches!(f.get("draft"), Some(toml::Value::Boolean(true))) {
        return Ok(None);
    }
    let mut errors = Vec::new();
    let head = read_head(&f, site, &mut errors);
    let (category, tags) = read_taxonomies(&f, &mut errors);
    let date = match f.get("date") {
        Some(toml::Value::Datetime(d)) => d.date.map(|d| d.to_string()),
        Some(toml::Value::String(s)) if s.len() >= 10 && s.is_char_boundary(10) => Some(s[..10].to_string()),
        _ => None,
    };
    let weight = f.get("weight").and_then(toml::Value::as_integer).unwrap_or(0);
    let cohort_copy = cohort_tables(&f, &mut errors);
    let path = page_path(&f, &head, site_dir, &mut errors);
    let images = read_images(&f, &head.title, &path, site, site_dir, &mut errors);
    let Head { title, sku, price, compare_at, availability, summary, buy_url, .. } = head;
    let Some(price) = price.filter(|_| errors.is_empty()) else { return Err(errors) };
    let body = markdown::render(front.body);
    let slug = path.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
    let summary_given = summary.is_some();
    let summary = summary.unwrap_or_else(|| body.first_paragraph.clone());
    let product = Product {
        slug,
        source: file.to_path_buf(),
        bundle: None,
        title,
        sku,
        price,
        compare_at,
        category,
        tags,
        images,
        availability,
        date,
        summary,
        summary_given,
        buy_url,
        draft: false,
        weight,
        options: Vec::new(),
        variants: Vec::new(),
        cohort_copy,
        body_html: body.html,
        body_text: body.text,
        key_lines: BTreeMap::new(),
    };
    let translations = if path.is_empty() { Vec::new() } else { translations(file, &path, site_dir) };
    Ok(Some(Found { product, path, translations }))
}

/// Where Cohort's fields are, for the hints: Hugo's and Zola's places for custom fields.
const PLACE: &str = "(at the top of the front matter, under [params] for Hugo, or under [extra] for Zola)";

/// The product's scalar fields, as read (a missing required one recorded in `errors`).
struct Head {
    title: String,
    sku: String,
    price: Option<crate::content::money::Money>,
    compare_at: Option<crate::content::money::Money>,
    availability: Availability,
    summary: Option<String>,
    buy_url: Option<String>,
    url: Option<String>,
    slug: Option<String>,
}

/// Title, SKU, price, compare-at price, availability, summary and the page's URL fields. An
/// empty compare-at price (`priceBefore: ""`, as themes leave it) means none.
fn read_head(f: &Fields, site: &Site, errors: &mut Vec<Diagnostic>) -> Head {
    let title = take(errors, f.string("title"));
    let sku = take(errors, f.string("sku"));
    let price_text = take(errors, f.string("price"));
    let compare_text = take(errors, f.string("compare_at_price"));
    let availability_text = take(errors, f.string("availability"));
    let summary = take(errors, f.string("summary")).or_else(|| take(errors, f.string("description")));
    let buy_url = take(errors, f.string("buy_url"));
    let url = take(errors, f.string("url"));
    let slug = take(errors, f.string("slug"));
    let title = title.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| {
        errors.push(f.at("title", "the product has no title".into()).hint("add title = \"...\""));
        String::new()
    });
    let sku = sku.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| {
        errors.push(
            f.at("sku", "the product has no SKU".into())
                .hint(format!("add a unique stock-keeping unit, sku = \"TR2-001\" {PLACE}")),
        );
        String::new()
    });
    let price = read_price(f, site, price_text.as_deref(), errors);
    let compare_at = compare_text.filter(|c| !c.trim().is_empty()).and_then(|c| match site.currency.parse(&c) {
        Ok(m) => Some(m),
        Err(e) => {
            errors.push(
                f.at("compare_at_price", format!("bad compare_at_price \"{c}\": {}", e.message())).hint(e.hint()),
            );
            None
        }
    });
    let availability = match availability_text.as_deref() {
        None => Availability::InStock,
        Some(a) => Availability::parse(a).unwrap_or_else(|| {
            errors.push(
                f.at("availability", format!("unknown availability `{a}`"))
                    .hint(format!("use one of: {}", Availability::NAMES.join(", "))),
            );
            Availability::InStock
        }),
    };
    Head { title, sku, price, compare_at, availability, summary, buy_url, url, slug }
}

/// The price, parsed in the shop currency; None with the problem recorded.
fn read_price(
    f: &Fields,
    site: &Site,
    text: Option<&str>,
    errors: &mut Vec<Diagnostic>,
) -> Option<crate::content::money::Money> {
    let price = match text {
        Some(p) => site
            .currency
            .parse(p)
            .map_err(|e| f.at("price", format!("bad price \"{p}\": {}", e.message())).hint(e.hint())),
        None => Err(match f.get("price") {
            Some(_) => f.at("price", "the price must be a string".into()),
            None => f.at("price", "the product has no price".into()),
        }
        .hint(format!(
            "write the price as a decimal string in the shop currency, {} {PLACE}",
            f.assign("price", "89.00")
        ))),
    };
    match price {
        Ok(p) => Some(p),
        Err(d) => {
            // A number was already reported by `string`.
            if !(f.get("price").is_some() && text.is_none()) {
                errors.push(d);
            }
            None
        }
    }
}

/// The category (the mapped field, `category`, else the first of `categories`) and the tags.
fn read_taxonomies(f: &Fields, errors: &mut Vec<Diagnostic>) -> (String, Vec<String>) {
    let categories = f.strings("categories").unwrap_or_else(|d| {
        errors.push(d);
        Vec::new()
    });
    let category = match take(errors, f.string("category")).or_else(|| categories.first().cloned()) {
        Some(c) if !crate::content::slugify(&c).is_empty() => c,
        _ => {
            errors.push(
                f.at("categories", "the product has no category".into())
                    .hint("add categories = [\"shoes\"] (the first one is the product's category), or name the theme's field in [plugin.fields] category"),
            );
            String::new()
        }
    };
    let tags = f.strings("tags").unwrap_or_else(|d| {
        errors.push(d);
        Vec::new()
    });
    (category, tags)
}

/// The site path of the product's page ([`product_path`]); empty with the problem recorded.
fn page_path(f: &Fields, head: &Head, site_dir: &Path, errors: &mut Vec<Diagnostic>) -> String {
    match product_path(f.file, head.url.as_deref(), head.slug.as_deref(), site_dir) {
        Ok(p) => p,
        Err(tried) => {
            let d = match head.url {
                Some(_) => f.at("url", format!("the site folder has no page at /{}", tried.join(", /"))),
                None => Diagnostic::new(
                    f.file,
                    format!("no page for this product in the site folder (looked for /{})", tried.join(", /")),
                ),
            };
            errors.push(d.hint(
                "build the site first (hugo / zola build), pass its output folder with --site, or set url = \"/products/NAME/\" in the front matter",
            ));
            String::new()
        }
    }
}

/// The product's own images (other origins' are left out), resolved as the generator does.
fn read_images(
    f: &Fields,
    title: &str,
    path: &str,
    site: &Site,
    site_dir: &Path,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Image> {
    f.images()
        .unwrap_or_else(|d| {
            errors.push(d);
            Vec::new()
        })
        .into_iter()
        .filter(|i| !i.contains("://") && !i.starts_with("//"))
        .map(|i| {
            let site_path = resolve_image(&i, path, site_dir, &site.base_path);
            Image { path: site_path, alt: title.to_string(), alt_given: false, source: PathBuf::new() }
        })
        .collect()
}

/// The value, or None with the problem recorded.
fn take(errors: &mut Vec<Diagnostic>, r: Result<Option<String>, Diagnostic>) -> Option<String> {
    r.unwrap_or_else(|d| {
        errors.push(d);
        None
    })
}

/// `[cohort.ID]` tables (top level, `[params.cohort.ID]` or `[extra.cohort.ID]`): only
/// summary, badge and hero_image; never a price.
fn cohort_tables(f: &Fields, errors: &mut Vec<Diagnostic>) -> BTreeMap<String, CohortCopy> {
    let mut out = BTreeMap::new();
    let Some(toml::Value::Table(t)) = f.get("cohort") else { return out };
    for (id, v) in t {
        let Some(table) = v.as_table() else {
            errors.push(
                f.at("cohort", format!("`cohort.{id}` must be a table"))
                    .hint(format!("write [cohort.{id}] with summary, badge or hero_image")),
            );
            continue;
        };
        let mut copy = CohortCopy::default();
        for (k, v) in table {
            let value = v.as_str().map(str::to_string);
            match (k.as_str(), value) {
                ("summary", Some(s)) => copy.summary = Some(s),
                ("badge", Some(s)) => copy.badge = Some(s),
                ("hero_image", Some(s)) => copy.hero_image = Some(s),
                ("price" | "compare_at_price" | "sku" | "availability" | "category", _) => errors.push(
                    f.at(k, format!("[cohort.{id}] sets `{k}`: every cohort must see the same price, SKU, availability and category"))
                        .hint(format!("remove `{k}` from [cohort.{id}]; a cohort may change only summary, badge and hero_image")),
                ),
                _ => errors.push(
                    f.at(k, format!("unknown key `{k}` in [cohort.{id}]"))
                        .hint("a cohort table may set only summary, badge and hero_image (strings)"),
                ),
            }
        }
        out.insert(id.clone(), copy);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard(b"*.md", b"a.md"));
        assert!(!wildcard(b"*.md", b"x/a.md"));
        assert!(wildcard(b"**/*.md", b"x/y/a.md"));
        assert!(wildcard(b"**/*.md", b"a.md"));
        assert!(wildcard(b"p?.md", b"p1.md"));
        assert!(!wildcard(b"*.md", b"a.toml"));
    }

    #[test]
    fn key_lines() {
        let fm = "title = \"x\"\n[params]\n  price = 3\n";
        assert_eq!(key_offset(fm, "price"), Some(fm.find("price").unwrap_or(0)));
        assert_eq!(key_offset(fm, "sku"), None);
    }
}
