//! A product file: its front matter fields, their validation, and the typed [`Product`].

use super::front_matter::{Field, Key, Keys, lenient};
use super::markdown;
use super::money::Money;
use super::variant::{self, RawVariant, Variant};
use crate::config::Site;
use crate::diagnostics::{Diagnostic, suggest};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

mod availability;

pub use availability::Availability;

/// A product image.
#[derive(Debug, Clone, Hash)]
pub struct Image {
    /// Site path of the image, e.g. "images/boot.png" or "products/boot/photo.png".
    pub path: String,
    /// Its alt text.
    pub alt: String,
    /// Whether the merchant wrote the alt text (otherwise it is the product title).
    pub alt_given: bool,
    /// The file under the shop root.
    pub source: PathBuf,
}

/// Copy a cohort sees instead of the default (only these keys; never price or stock).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct CohortCopy {
    /// The cohort's summary.
    pub summary: Option<String>,
    /// The cohort's badge (templates get it as `product.badge`).
    pub badge: Option<String>,
    /// The cohort's `hero_image` (a site path).
    pub hero_image: Option<String>,
}

/// A product file, parsed and checked.
#[derive(Debug, Clone, Hash)]
pub struct Product {
    /// Its path segment (`products/SLUG/`).
    pub slug: String,
    /// The Markdown file, relative to the shop root.
    pub source: PathBuf,
    /// For a bundle (`products/NAME/index.md`), its folder relative to the root.
    pub bundle: Option<PathBuf>,
    /// The title.
    pub title: String,
    /// The SKU, unique in the shop.
    pub sku: String,
    /// The price (a variant may have its own).
    pub price: Money,
    /// The was-price (`compare_at_price`).
    pub compare_at: Option<Money>,
    /// The category.
    pub category: String,
    /// The tags.
    pub tags: Vec<String>,
    /// The images, the first one the main image.
    pub images: Vec<Image>,
    /// Whether it can be bought.
    pub availability: Availability,
    /// `date`, as written (listings show newest first at the same weight).
    pub date: Option<String>,
    /// `summary`, or the body's first paragraph.
    pub summary: String,
    /// Whether the merchant wrote `summary`.
    pub summary_given: bool,
    /// A plain link to a hosted checkout.
    pub buy_url: Option<String>,
    /// Left out of the build unless `--drafts`.
    pub draft: bool,
    /// Listing order: lower first (0 by default).
    pub weight: i64,
    /// `[options]`: each choice (size, colour ...) and its values, in file order.
    pub options: Vec<(String, Vec<String>)>,
    /// `[[variants]]`: combinations of the options with their own SKU and price; empty for
    /// a product sold as one item.
    pub variants: Vec<Variant>,
    /// `[cohort.ID]`: copy each cohort sees instead of the default.
    pub cohort_copy: BTreeMap<String, CohortCopy>,
    /// The body, rendered.
    pub body_html: String,
    /// The body as plain text (for recommendations).
    pub body_text: String,
    /// Line in the source of each front matter key, for later checks that point at it.
    pub key_lines: BTreeMap<String, usize>,
}

/// The front matter as written; every field is read leniently (see [`Field`]) so that one
/// run reports every problem of the file. Unknown and missing keys are found by
/// [`PRODUCT_KEYS`].
#[derive(Deserialize)]
struct RawProduct {
    #[serde(default, deserialize_with = "lenient")]
    title: Field<String>,
    #[serde(default, deserialize_with = "lenient")]
    sku: Field<Spanned<String>>,
    #[serde(default, deserialize_with = "lenient")]
    price: Field<Spanned<toml::Value>>,
    #[serde(default, deserialize_with = "lenient")]
    compare_at_price: Field<Spanned<toml::Value>>,
    #[serde(default, deserialize_with = "lenient")]
    category: Field<Spanned<String>>,
    #[serde(default, deserialize_with = "lenient")]
    tags: Field<Vec<String>>,
    #[serde(default, deserialize_with = "lenient")]
    images: Field<Vec<Spanned<ImageSpec>>>,
    #[serde(default, deserialize_with = "lenient")]
    availability: Field<Spanned<String>>,
    #[serde(default, deserialize_with = "lenient")]
    date: Field<Spanned<toml::value::Datetime>>,
    #[serde(default, deserialize_with = "lenient")]
    summary: Field<String>,
    #[serde(default, deserialize_with = "lenient")]
    buy_url: Field<Spanned<String>>,
    #[serde(default, deserialize_with = "lenient")]
    draft: Field<bool>,
    #[serde(default, deserialize_with = "lenient")]
    weight: Field<i64>,
    #[serde(default, deserialize_with = "lenient")]
    slug: Field<Spanned<String>>,
    #[serde(default, deserialize_with = "lenient")]
    options: Field<toml::Table>,
    #[serde(default, deserialize_with = "lenient")]
    variants: Field<Vec<RawVariant>>,
    #[serde(default, deserialize_with = "lenient")]
    cohort: Field<CohortTables>,
}

type CohortTables = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<toml::Value>>>;

const fn key(name: &'static str, required: bool, example: &'static str) -> Key {
    Key { name, required, example }
}

/// Every key a product's front matter may have, with an example that fits it.
pub const PRODUCT_KEYS: [Key; 17] = [
    key("title", true, "title = \"Trail Runner 2\""),
    key("sku", true, "sku = \"TR2-001\""),
    key("price", true, "price = \"89.00\""),
    key("compare_at_price", false, "compare_at_price = \"109.00\""),
    key("category", true, "category = \"shoes\""),
    key("tags", false, "tags = [\"outdoor\", \"running\"]"),
    key("images", false, "images = [\"boot.png\"]"),
    key("availability", false, "availability = \"in_stock\""),
    key("date", false, "date = 2026-10-01"),
    key("summary", false, "summary = \"Light, waterproof, made to last.\""),
    key("buy_url", false, "buy_url = \"https://buy.stripe.com/...\""),
    key("draft", false, "draft = true"),
    key("weight", false, "weight = 10"),
    key("slug", false, "slug = \"trail-runner-2\""),
    key("options", false, "options = { size = [\"S\", \"M\", \"L\"] }"),
    key("variants", false, "[[variants]] then sku = \"TR2-001-41\" and options = { size = \"41\" }"),
    key("cohort", false, "[cohort.outdoor] then summary = \"...\""),
];

/// The entry of [`PRODUCT_KEYS`] for `name`.
fn product_key(name: &str) -> &'static Key {
    PRODUCT_KEYS.iter().find(|k| k.name == name).unwrap_or(&PRODUCT_KEYS[0])
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ImageSpec {
    Path(String),
    Full { src: String, alt: Option<String> },
}

const COHORT_KEYS: [&str; 3] = ["summary", "badge", "hero_image"];
const INVARIANT_KEYS: [&str; 6] = ["price", "compare_at_price", "sku", "availability", "category", "variants"];

/// Where a product's front matter is: for placing diagnostics and resolving images.
struct Place<'a> {
    root: &'a Path,
    rel: &'a Path,
    bundle: Option<&'a Path>,
    /// The front matter text and the file line it starts on.
    fm: &'a str,
    line0: usize,
}

impl Place<'_> {
    /// A diagnostic at byte `span.start` of the front matter.
    fn at(&self, span: std::ops::Range<usize>, message: String) -> Diagnostic {
        Diagnostic::new(self.rel, message).at_offset(self.fm, span.start, self.line0)
    }
}

/// Parses one product file. `rel` is the path relative to the shop root, `bundle` the
/// bundle folder if the file is `products/NAME/index.md`.
pub fn parse(
    site: &Site,
    root: &Path,
    rel: &Path,
    bundle: Option<&Path>,
    text: &str,
) -> Result<Product, Vec<Diagnostic>> {
    let split = super::front_matter::split(rel, text).map_err(|d| vec![d])?;
    let (fm, line0) = (split.front_matter, split.front_matter_line);
    let (keys, raw): (Keys, RawProduct) = Keys::parse(rel, fm, line0).map_err(|d| vec![d])?;
    let place = Place { root, rel, bundle, fm, line0 };
    let mut errors = keys.check(&PRODUCT_KEYS);
    let e = &mut errors;
    let title = keys.take(raw.title, product_key("title"), e);
    let sku = keys.take(raw.sku, product_key("sku"), e);
    let raw_price = keys.take(raw.price, product_key("price"), e);
    let raw_compare = keys.take(raw.compare_at_price, product_key("compare_at_price"), e);
    let category = keys.take(raw.category, product_key("category"), e);
    let tags = keys.take(raw.tags, product_key("tags"), e).unwrap_or_default();
    let image_specs = keys.take(raw.images, product_key("images"), e).unwrap_or_default();
    let raw_availability = keys.take(raw.availability, product_key("availability"), e);
    let raw_date = keys.take(raw.date, product_key("date"), e);
    let raw_summary = keys.take(raw.summary, product_key("summary"), e);
    let raw_buy_url = keys.take(raw.buy_url, product_key("buy_url"), e);
    let draft = keys.take(raw.draft, product_key("draft"), e).unwrap_or(false);
    let weight = keys.take(raw.weight, product_key("weight"), e).unwrap_or(0);
    let raw_slug = keys.take(raw.slug, product_key("slug"), e);
    let raw_options = keys.take(raw.options, product_key("options"), e).unwrap_or_default();
    let raw_variants = keys.take(raw.variants, product_key("variants"), e).unwrap_or_default();
    let raw_cohort = keys.take(raw.cohort, product_key("cohort"), e).unwrap_or_default();

    let price = raw_price.as_ref().and_then(|p| money(site, &place, p, "price", e));
    let compare_at = raw_compare.as_ref().and_then(|p| money(site, &place, p, "compare_at_price", e));
    check_texts(&place, &keys, title.as_deref(), sku.as_ref(), category.as_ref(), e);
    let availability = availability(&place, raw_availability.as_ref(), e);
    let date = raw_date.as_ref().and_then(|d| match d.get_ref().date {
        Some(date) => Some(date.to_string()),
        None => {
            e.push(place.at(d.span(), "the date has no day".into()).hint("write a date such as date = 2026-10-01"));
            None
        }
    });
    let slug = slug(&place, raw_slug.as_ref(), e);
    let buy_url = raw_buy_url.as_ref().map(|u| buy_url(&place, u, e));
    let images = images(&place, &image_specs, &slug, title.as_deref().unwrap_or_default(), e);
    let options = options(&place, &raw_options, e);
    let defaults = variant::Defaults {
        options: &options,
        price,
        compare_at,
        availability,
        buy_url: buy_url.as_deref(),
        product_sku: sku.as_ref().map_or("", |s| s.get_ref().trim()),
    };
    let variants = variant::parse_all(site, rel, fm, line0, &raw_variants, &defaults, e);
    let cohort_copy = cohort_copy(site, &place, &raw_cohort, &slug, e);

    let rendered = markdown::render(split.body);
    let summary_given = raw_summary.as_deref().is_some_and(|s| !s.trim().is_empty());
    let summary = if summary_given { raw_summary.unwrap_or_default() } else { rendered.first_paragraph.clone() };
    let key_lines = fm
        .lines()
        .enumerate()
        .filter_map(|(i, l)| l.split_once('=').map(|(k, _)| (k.trim().to_string(), i + line0)))
        .filter(|(k, _)| !k.starts_with('#') && !k.contains(' '))
        .collect();

    match (title, sku, price, category, availability, errors.is_empty()) {
        (Some(title), Some(sku), Some(price), Some(category), Some(availability), true) => Ok(Product {
            slug,
            source: rel.to_path_buf(),
            bundle: bundle.map(Path::to_path_buf),
            title,
            sku: sku.into_inner().trim().to_string(),
            price,
            compare_at,
            category: category.into_inner().trim().to_string(),
            tags: tags.into_iter().map(|t| t.trim().to_string()).filter(|t| !super::slugify(t).is_empty()).collect(),
            images,
            availability,
            date,
            summary,
            summary_given,
            buy_url,
            draft,
            weight,
            options,
            variants,
            cohort_copy,
            body_html: rendered.html,
            body_text: rendered.text,
            key_lines,
        }),
        _ => Err(errors),
    }
}

/// A price field as money, or its error pushed to `errors`.
fn money(
    site: &Site,
    place: &Place,
    value: &Spanned<toml::Value>,
    key: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Money> {
    match parse_price(site, value, key) {
        Ok(m) => Some(m),
        Err((msg, hint)) => {
            errors.push(place.at(value.span(), msg).hint(hint));
            None
        }
    }
}

/// The title, SKU and category, when given, must say something.
fn check_texts(
    place: &Place,
    keys: &Keys,
    title: Option<&str>,
    sku: Option<&Spanned<String>>,
    category: Option<&Spanned<String>>,
    errors: &mut Vec<Diagnostic>,
) {
    if let Some(sku) = sku.filter(|s| s.get_ref().trim().is_empty()) {
        errors.push(
            place
                .at(sku.span(), "the SKU is empty".into())
                .hint("give every product a unique stock-keeping unit, e.g. sku = \"TR2-001\""),
        );
    }
    if title.is_some_and(|t| t.trim().is_empty()) {
        errors.push(keys.at("title", "the title is empty").hint("e.g. title = \"Trail Runner 2\""));
    }
    if let Some(c) = category.filter(|c| super::slugify(c.get_ref()).is_empty()) {
        errors
            .push(place.at(c.span(), "the category has no letters or digits".into()).hint("e.g. category = \"shoes\""));
    }
}

/// The availability (in stock when not given); None after an error.
fn availability(place: &Place, raw: Option<&Spanned<String>>, errors: &mut Vec<Diagnostic>) -> Option<Availability> {
    let Some(a) = raw else { return Some(Availability::InStock) };
    let parsed = Availability::parse(a.get_ref());
    if parsed.is_none() {
        let hint = match suggest(a.get_ref(), Availability::NAMES) {
            Some(s) => format!("did you mean \"{s}\"? Use one of: {}", Availability::NAMES.join(", ")),
            None => format!("use one of: {}", Availability::NAMES.join(", ")),
        };
        errors.push(place.at(a.span(), format!("unknown availability `{}`", a.get_ref())).hint(hint));
    }
    parsed
}

/// The slug given, or the one the file (or bundle folder) name gives.
fn slug(place: &Place, raw: Option<&Spanned<String>>, errors: &mut Vec<Diagnostic>) -> String {
    let slug = match raw {
        Some(s) => {
            if s.get_ref().is_empty() || super::slugify(s.get_ref()) != *s.get_ref() {
                errors.push(place.at(s.span(), format!("`{}` is not a valid slug", s.get_ref())).hint(format!(
                    "use lowercase letters, digits and dashes, e.g. slug = \"{}\"",
                    super::slugify(s.get_ref())
                )));
            }
            s.get_ref().clone()
        }
        None => {
            let stem = match place.bundle {
                Some(dir) => dir.file_name(),
                None => place.rel.file_stem(),
            };
            super::slugify(&stem.map(|s| s.to_string_lossy().into_owned()).unwrap_or_default())
        }
    };
    if slug.is_empty() {
        errors.push(
            Diagnostic::new(place.rel, "the file name gives an empty slug")
                .hint("rename the file, or set slug = \"my-product\""),
        );
    }
    slug
}

/// The checkout link, trimmed; an error when it is not a web address.
fn buy_url(place: &Place, raw: &Spanned<String>, errors: &mut Vec<Diagnostic>) -> String {
    let v = raw.get_ref().trim();
    if !(v.starts_with("https://") || v.starts_with("http://")) || v.contains(['"', '<', '>', ' ']) {
        errors.push(
            place
                .at(raw.span(), format!("`{v}` is not a web address"))
                .hint("buy_url is a plain link to a hosted checkout, e.g. \"https://buy.stripe.com/...\""),
        );
    }
    v.to_string()
}

/// The images that exist; an error for each one that does not.
fn images(
    place: &Place,
    specs: &[Spanned<ImageSpec>],
    slug: &str,
    title: &str,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Image> {
    let mut images = Vec::new();
    for spec in specs {
        let (src, alt) = match spec.get_ref() {
            ImageSpec::Path(p) => (p.as_str(), None),
            ImageSpec::Full { src, alt } => (src.as_str(), alt.clone()),
        };
        match resolve_image(place.root, place.bundle, slug, src) {
            Ok((path, source)) => images.push(Image {
                path,
                alt_given: alt.as_deref().is_some_and(|a| !a.trim().is_empty()),
                alt: alt.filter(|a| !a.trim().is_empty()).unwrap_or_else(|| title.to_string()),
                source,
            }),
            Err((msg, hint)) => errors.push(place.at(spec.span(), msg).hint(hint)),
        }
    }
    images
}

/// The `[options]` table: each a non-empty list of strings.
fn options(place: &Place, raw: &toml::Table, errors: &mut Vec<Diagnostic>) -> Vec<(String, Vec<String>)> {
    let mut options = Vec::new();
    for (name, values) in raw {
        match values.as_array().map(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<Vec<_>>>()) {
            Some(Some(list)) if !list.is_empty() => options.push((name.clone(), list)),
            _ => errors.push(
                Diagnostic::new(place.rel, format!("option `{name}` must be a list of strings"))
                    .at_line(line_of_key(place.fm, name).map_or(place.line0, |l| l + place.line0 - 1), 1, None)
                    .hint(format!("e.g. {name} = [\"S\", \"M\", \"L\"]")),
            ),
        }
    }
    options
}

/// The `[cohort.ID]` tables: copy for cohorts shop.toml defines, never price or stock.
fn cohort_copy(
    site: &Site,
    place: &Place,
    raw: &CohortTables,
    slug: &str,
    errors: &mut Vec<Diagnostic>,
) -> BTreeMap<String, CohortCopy> {
    let at = |span: std::ops::Range<usize>, msg: String| place.at(span, msg);
    let cohort_ids: Vec<&str> = site.config.cohorts.iter().map(|c| c.id.get_ref().as_str()).collect();
    let mut cohort_copy = BTreeMap::new();
    for (id, table) in raw {
        if !cohort_ids.contains(&id.get_ref().as_str()) {
            let hint = match suggest(id.get_ref(), cohort_ids.iter().copied()) {
                Some(s) => format!("did you mean [cohort.{s}]? Cohorts are defined by [[cohorts]] in shop.toml"),
                None if cohort_ids.is_empty() => {
                    "shop.toml defines no cohorts; add a [[cohorts]] table there first".into()
                }
                None => format!("the cohorts in shop.toml are: {}", cohort_ids.join(", ")),
            };
            errors.push(at(id.span(), format!("there is no cohort `{}`", id.get_ref())).hint(hint));
            continue;
        }
        let mut copy = CohortCopy::default();
        for (key, value) in table {
            let k = key.get_ref().as_str();
            if INVARIANT_KEYS.contains(&k) {
                errors.push(
                    at(key.span(), format!("cohort `{}` cannot change `{k}`", id.get_ref())).hint(
                        "every cohort sees the same price, SKU, availability and category: checkout providers and shoppers must \
                         get one price whatever page they saw. A cohort may only set summary, badge and hero_image",
                    ),
                );
                continue;
            }
            let Some(text) = value.get_ref().as_str() else {
                if COHORT_KEYS.contains(&k) {
                    errors
                        .push(at(value.span(), format!("`{k}` must be a string")).hint(format!("e.g. {k} = \"...\"")));
                } else {
                    errors.push(unknown_cohort_key(&at, key));
                }
                continue;
            };
            match k {
                "summary" => copy.summary = Some(text.to_string()),
                "badge" => copy.badge = Some(text.to_string()),
                "hero_image" => match resolve_image(place.root, place.bundle, slug, text) {
                    Ok((path, _)) => copy.hero_image = Some(path),
                    Err((msg, hint)) => errors.push(at(value.span(), msg).hint(hint)),
                },
                _ => errors.push(unknown_cohort_key(&at, key)),
            }
        }
        cohort_copy.insert(id.get_ref().clone(), copy);
    }
    cohort_copy
}

fn unknown_cohort_key(at: &impl Fn(std::ops::Range<usize>, String) -> Diagnostic, key: &Spanned<String>) -> Diagnostic {
    let hint = match suggest(key.get_ref(), COHORT_KEYS) {
        Some(s) => {
            format!("did you mean `{s}`? A cohort may set only summary, badge and hero_image")
        }
        None => "a cohort may set only summary, badge and hero_image".into(),
    };
    at(key.span(), format!("unknown key `{}` in a cohort table", key.get_ref())).hint(hint)
}

fn parse_price(site: &Site, value: &Spanned<toml::Value>, key: &str) -> Result<Money, (String, String)> {
    match value.get_ref() {
        toml::Value::String(s) => {
            site.currency.parse(s).map_err(|e| (format!("bad {key} \"{s}\": {}", e.message()), e.hint()))
        }
        other => {
            let shown = other.to_string();
            Err((
                format!("{key} must be a string, not {}", other.type_str()),
                format!("write it in quotes so no rounding can creep in: {key} = \"{shown}\""),
            ))
        }
    }
}

/// Finds an image: beside the bundle's index.md, or under `static/images/` for a flat
/// product, or (starting with `/`) under `static/`. Returns its site path and source file.
fn resolve_image(
    root: &Path,
    bundle: Option<&Path>,
    slug: &str,
    src: &str,
) -> Result<(String, PathBuf), (String, String)> {
    if src.contains("://") || src.starts_with("//") {
        return Err((
            format!("image `{src}` is on another site"),
            "copy the image into the shop (static/images/ or the product's folder): pages load nothing from other origins".into(),
        ));
    }
    if src.is_empty() || src.split(['/', '\\']).any(|part| part == "..") || src.contains('\0') {
        return Err((
            format!("`{src}` is not an image path inside the shop"),
            "use a file name such as \"boot.png\"".into(),
        ));
    }
    let (path, source) = if let Some(abs) = src.strip_prefix('/') {
        (abs.to_string(), root.join("static").join(abs))
    } else if let Some(dir) = bundle {
        (format!("products/{slug}/{src}"), root.join(dir).join(src))
    } else {
        (format!("images/{src}"), root.join("static/images").join(src))
    };
    if !source.is_file() {
        let looked = crate::diagnostics::relative(root, &source);
        return Err((
            format!("image `{src}` does not exist (looked for {})", looked.display()),
            if bundle.is_some() {
                "put the image beside index.md in the product's folder, or fix the name".into()
            } else {
                "put the image in static/images/, or fix the name".into()
            },
        ));
    }
    Ok((path, source))
}

/// The 1-based line (within `source`) where `key = ` is written.
fn line_of_key(source: &str, key: &str) -> Option<usize> {
    source.lines().position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == key)).map(|i| i + 1)
}
