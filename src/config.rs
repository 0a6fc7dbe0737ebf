//! `shop.toml`: the site configuration, its defaults and its validation.
//!
//! Deserialization refuses unknown keys (with a "did you mean" hint); [`Config::load`] then
//! checks what serde cannot (currency codes, URLs, cohort ids) and reports every problem.

use crate::content::money::Currency;
use crate::diagnostics::{Diagnostic, Diagnostics, suggest};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;
use toml::Spanned;

#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub title: String,
    pub base_url: Spanned<String>,
    #[serde(default = "default_language")]
    pub language: String,
    pub currency: Spanned<String>,
    #[serde(default = "default_theme")]
    pub theme: String,
    /// Shown on the home page and in its meta description.
    #[serde(default)]
    pub description: String,
    /// The shop's icon: a file under `static/` (SVG, PNG or ICO). Empty: the theme's own
    /// `favicon.svg`.
    #[serde(default)]
    pub favicon: String,
    /// Products per listing page.
    #[serde(default = "default_paginate_by")]
    pub paginate_by: Spanned<usize>,
    /// The home page hero everyone sees before a cohort is chosen.
    #[serde(default)]
    pub hero: Option<Hero>,
    #[serde(default)]
    pub privacy: Privacy,
    #[serde(default)]
    pub recommendations: Recommendations,
    #[serde(default)]
    pub personalization: Personalization,
    #[serde(default)]
    pub cohorts: Vec<CohortConfig>,
    /// Settings of `cohort check`.
    #[serde(default)]
    pub check: CheckConfig,
    /// Product feeds the build writes.
    #[serde(default)]
    pub feeds: Feeds,
    /// `[checkout]`: a cart on the device handed to a hosted checkout.
    #[serde(default)]
    pub checkout: Option<CheckoutConfig>,
    /// Plugin mode (`cohort personalize`): how to read another generator's product files.
    #[serde(default)]
    pub plugin: Plugin,
    /// How the build resizes and encodes images.
    #[serde(default)]
    pub images: ImagesConfig,
}

/// `[plugin]`: settings of `cohort personalize`.
#[derive(Debug, Clone, Hash, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plugin {
    /// `[plugin.fields]`: the theme's names for the product fields Cohort reads.
    #[serde(default)]
    pub fields: FieldMap,
}

/// The front matter field names a theme uses, where they differ from Cohort's (each looked
/// up at the top level, under `params` (Hugo) and under `extra` (Zola)).
#[derive(Debug, Clone, Hash, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    /// The price field, e.g. `actualPrice`.
    #[serde(default)]
    pub price: Option<String>,
    /// The compare-at (was) price field, e.g. `priceBefore`.
    #[serde(default)]
    pub compare_at_price: Option<String>,
    /// The SKU field, e.g. `productID`.
    #[serde(default)]
    pub sku: Option<String>,
    /// The images field: a string, a list of strings or a list of tables.
    #[serde(default)]
    pub images: Option<String>,
    /// In a list of image tables, the key holding the path (default: the first of `image`,
    /// `src`, `url`, `path`, `file`).
    #[serde(default)]
    pub image_key: Option<String>,
    /// The category field (a string or a list whose first entry is the category).
    #[serde(default)]
    pub category: Option<String>,
}

/// `[images]`: the widths, quality and formats every JPEG, PNG and WebP image of the shop is
/// published in (see `crate::images`).
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagesConfig {
    /// Widths in pixels to publish each image at (never wider than the image itself).
    #[serde(default = "default_image_widths")]
    pub widths: Spanned<Vec<u32>>,
    /// Lossy encoding quality, 1 to 100.
    #[serde(default = "default_image_quality")]
    pub quality: Spanned<u8>,
    /// `webp` and/or `original` (the source's own format, the fallback for old browsers).
    #[serde(default = "default_image_formats")]
    pub formats: Vec<Spanned<String>>,
    /// The `sizes` attribute templates get when they do not give their own.
    #[serde(default = "default_image_sizes")]
    pub sizes: String,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            widths: default_image_widths(),
            quality: default_image_quality(),
            formats: default_image_formats(),
            sizes: default_image_sizes(),
        }
    }
}

/// The formats `[images] formats` may name.
pub const IMAGE_FORMATS: &[&str] = &["webp", "original"];

fn default_image_widths() -> Spanned<Vec<u32>> {
    Spanned::new(0..0, vec![320, 640, 960, 1280, 1920])
}
fn default_image_quality() -> Spanned<u8> {
    Spanned::new(0..0, 80)
}
fn default_image_formats() -> Vec<Spanned<String>> {
    IMAGE_FORMATS.iter().map(|f| Spanned::new(0..0, f.to_string())).collect()
}
fn default_image_sizes() -> String {
    "(min-width: 72rem) 35rem, (min-width: 48rem) 50vw, 100vw".into()
}

/// `[feeds]`: product feeds for shopping services, off unless asked for.
#[derive(Debug, Clone, Hash, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feeds {
    /// Write `/feeds/google.xml`, a Google Merchant Center product feed.
    #[serde(default)]
    pub google: bool,
    /// The feed's `g:brand` for every product; the shop's title when not set.
    #[serde(default)]
    pub brand: Option<String>,
}

/// `[checkout]` as written in shop.toml (validated by [`crate::checkout::resolve`]).
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutConfig {
    /// `paypal`, `foxy`, `snipcart` or `links`.
    pub provider: Spanned<String>,
    /// PayPal: the account's email address or merchant ID that receives the payments.
    #[serde(default)]
    pub business: Option<Spanned<String>>,
    /// Foxy: the store's domain, e.g. `fernflint.foxycart.com`.
    #[serde(default)]
    pub store: Option<Spanned<String>>,
    /// Foxy: the name of the environment variable that holds the store's secret (HMAC key).
    #[serde(default)]
    pub secret_env: Option<Spanned<String>>,
    /// Snipcart: the public API key.
    #[serde(default)]
    pub public_api_key: Option<Spanned<String>>,
}

/// `[check]`: the merchant's additions to `cohort check`.
#[derive(Debug, Clone, Hash, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    /// Words (or stems ending in `*`) that `ethics/special-category` also looks for.
    #[serde(default)]
    pub extra_sensitive_words: Vec<String>,
}

/// A finding of `cohort check` the merchant has looked at and accepts, with the reason.
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone, Hash, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Hero {
    pub title: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Hash, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Privacy {
    #[serde(default = "default_policy_version")]
    pub policy_version: String,
    #[serde(default)]
    pub controller: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default = "default_consent_endpoint")]
    pub consent_endpoint: String,
    #[serde(default = "default_max_age")]
    pub consent_max_age_days: u32,
    #[serde(default = "yes")]
    pub honor_gpc: bool,
    #[serde(default)]
    pub third_parties: Vec<ThirdParty>,
    /// Google Consent Mode v2 bridge: every page calls `gtag('consent', 'default', ...)` with
    /// every signal denied before any tag runs, and `update` after each choice. Off by default.
    #[serde(default)]
    pub google_consent_mode: bool,
}

impl Default for Privacy {
    fn default() -> Self {
        Privacy {
            policy_version: default_policy_version(),
            controller: String::new(),
            contact: String::new(),
            consent_endpoint: default_consent_endpoint(),
            consent_max_age_days: default_max_age(),
            honor_gpc: true,
            third_parties: Vec::new(),
            google_consent_mode: false,
        }
    }
}

/// Another origin a page may load from, declared and explained: what it is for (its
/// purpose, which decides whether it needs consent), what it loads (its kinds, which decide
/// its CSP directives), and what it keeps on a visitor's device.
#[derive(Debug, Clone, Hash, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThirdParty {
    /// The provider's name as visitors know it ("YouTube"); default: the origin's host.
    #[serde(default)]
    pub name: String,
    /// Scheme and host, e.g. `https://www.youtube-nocookie.com`.
    pub origin: String,
    /// Why the shop loads it; every purpose but `necessary` needs the visitor's consent.
    pub purpose: Purpose,
    /// What it loads: its CSP directives.
    #[serde(default)]
    pub kinds: Vec<LoadKind>,
    /// What it does for the shop, in the visitor's words ("Product videos").
    #[serde(default)]
    pub description: String,
    /// More origins it needs (a font CSS host's font-file host), with the same purpose and kinds.
    #[serde(default)]
    pub companions: Vec<String>,
    /// What it keeps on the device and for how long.
    #[serde(default)]
    pub stores: Vec<StoredItem>,
    /// Its own privacy policy.
    #[serde(default)]
    pub policy_url: String,
    /// Why the shop cannot work without it: required when the purpose is `necessary`.
    #[serde(default)]
    pub reason: String,
}

impl ThirdParty {
    /// The name to show: `name`, or the origin's host.
    pub fn display_name(&self) -> &str {
        if !self.name.trim().is_empty() {
            return self.name.trim();
        }
        let rest = self.origin.split_once("://").map_or(self.origin.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }

    /// The origin and its companions.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.origin.as_str()).chain(self.companions.iter().map(String::as_str))
    }
}

/// Why a shop loads a third party. Only `necessary` loads without consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// The shop cannot work without it (a payment provider's checkout); needs a `reason`.
    Necessary,
    /// A feature the visitor asked for (a video, a map).
    Functional,
    /// Measuring visits.
    Analytics,
    /// Advertising and remarketing.
    Marketing,
}

impl Purpose {
    /// Every purpose, in the order the preferences page lists them.
    pub const ALL: [Purpose; 4] = [Purpose::Necessary, Purpose::Functional, Purpose::Analytics, Purpose::Marketing];

    /// Its name in shop.toml and in `data-cohort-purpose`.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Necessary => "necessary",
            Purpose::Functional => "functional",
            Purpose::Analytics => "analytics",
            Purpose::Marketing => "marketing",
        }
    }

    /// Whether loading it needs the visitor's consent.
    pub fn needs_consent(self) -> bool {
        self != Purpose::Necessary
    }
}

/// What a third party loads; each kind is one Content-Security-Policy directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadKind {
    /// `script-src`
    Script,
    /// `style-src`
    Style,
    /// `font-src`
    Font,
    /// `frame-src`
    Frame,
    /// `img-src`
    Image,
    /// `connect-src`
    Connect,
}

impl LoadKind {
    /// Its name in shop.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            LoadKind::Script => "script",
            LoadKind::Style => "style",
            LoadKind::Font => "font",
            LoadKind::Frame => "frame",
            LoadKind::Image => "image",
            LoadKind::Connect => "connect",
        }
    }

    /// The CSP directive it needs.
    pub fn directive(self) -> &'static str {
        match self {
            LoadKind::Script => "script-src",
            LoadKind::Style => "style-src",
            LoadKind::Font => "font-src",
            LoadKind::Frame => "frame-src",
            LoadKind::Image => "img-src",
            LoadKind::Connect => "connect-src",
        }
    }
}

/// One thing a third party keeps on the device: `{ name = "_ga", lifetime = "2 years" }`.
#[derive(Debug, Clone, Hash, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StoredItem {
    /// The cookie or storage key.
    pub name: String,
    /// `cookie` (default) or `localStorage`, `sessionStorage`, `indexedDB`.
    #[serde(default = "default_stored_kind")]
    pub kind: String,
    /// How long it stays, in words ("2 years", "session").
    pub lifetime: String,
}

fn default_stored_kind() -> String {
    "cookie".to_string()
}

#[derive(Debug, Clone, Hash, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Recommendations {
    #[serde(default = "four")]
    pub related: usize,
    #[serde(default = "four")]
    pub bought_together: usize,
    #[serde(default = "eight")]
    pub picks: usize,
}

impl Default for Recommendations {
    fn default() -> Self {
        Recommendations { related: 4, bought_together: 4, picks: 8 }
    }
}

#[derive(Debug, Clone, Hash, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Personalization {
    /// Page kinds that also get full-page variants under `/c/COHORT/`.
    #[serde(default = "default_page_variants")]
    pub page_variants: Vec<Spanned<String>>,
}

impl Default for Personalization {
    fn default() -> Self {
        Personalization { page_variants: default_page_variants() }
    }
}

/// The page kinds a full-page variant can be made of.
pub const VARIANT_KINDS: [&str; 2] = ["home", "category"];

#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortConfig {
    pub id: Spanned<String>,
    pub label: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub interests: Vec<String>,
    #[serde(default)]
    pub campaigns: Vec<String>,
    #[serde(default)]
    pub hero: Option<Hero>,
    /// `cohort check` findings about this cohort that the merchant accepts, with a reason.
    #[serde(default)]
    pub acknowledge: Vec<Acknowledgement>,
}

fn default_language() -> String {
    "en".into()
}
fn default_theme() -> String {
    "default".into()
}
fn default_paginate_by() -> Spanned<usize> {
    Spanned::new(0..0, 24)
}
fn default_policy_version() -> String {
    "1".into()
}
fn default_consent_endpoint() -> String {
    "/v1".into()
}
fn default_max_age() -> u32 {
    180
}
fn yes() -> bool {
    true
}
fn four() -> usize {
    4
}
fn eight() -> usize {
    8
}
fn default_page_variants() -> Vec<Spanned<String>> {
    VARIANT_KINDS.iter().map(|k| Spanned::new(0..0, k.to_string())).collect()
}

/// The configuration after validation, with derived values.
#[derive(Debug, Clone, Hash)]
pub struct Site {
    pub config: Config,
    pub currency: Currency,
    /// `base_url` without a trailing slash (`"https://shop.example.com"`).
    pub base_url: String,
    /// The path part of `base_url`, always ending in `/` ("/" or "/shop/").
    pub base_path: String,
    /// `[checkout]` after validation (with the Foxy secret read from the environment).
    pub checkout: Option<crate::checkout::Checkout>,
}

impl Site {
    /// An absolute URL for a site path such as "products/x/" (no leading slash).
    pub fn permalink(&self, path: &str) -> String {
        let origin_end = self.base_url.len() - (self.base_path.len() - 1);
        format!("{}{}{}", &self.base_url[..origin_end], self.base_path, path)
    }
    /// A root-relative URL for a site path ("products/x/" → "/products/x/").
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_path, path)
    }
    pub fn page_variant_kinds(&self) -> impl Iterator<Item = &str> {
        self.config.personalization.page_variants.iter().map(|s| s.get_ref().as_str())
    }
}

/// Turns a TOML error into a diagnostic, adding a "did you mean" hint for unknown keys.
/// `first_line` is the file line where `source` starts.
pub fn toml_diagnostic(file: &Path, source: &str, first_line: usize, err: &toml::de::Error) -> Diagnostic {
    let message = err.message().trim().to_string();
    let mut d = Diagnostic::new(file, first_message_line(&message));
    if let Some(span) = err.span() {
        d = d.at_offset(source, span.start, first_line);
    } else {
        d.line = first_line;
    }
    if let Some(hint) = d.snippet.as_deref().and_then(crate::content::money::unquoted_comma_hint) {
        return d.hint(hint);
    }
    if let Some(hint) = unknown_field_hint(&message) {
        d = d.hint(hint);
    } else if message.contains("invalid type") && message.contains("expected a string") {
        d = d.hint("put the value in double quotes, e.g. price = \"89.00\"");
    } else if let Some(field) = message.split("missing field `").nth(1).and_then(|r| r.split('`').next()) {
        d = d.hint(format!("add it, e.g. {field} = \"...\""));
    }
    d
}

/// `ROOT/shop.toml` does not exist: name the folder and say how to get a shop there.
fn no_shop_here(root: &Path, file: &Path) -> Diagnostic {
    let shown = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let folder = std::path::absolute(shown).unwrap_or_else(|_| shown.to_path_buf());
    let what = if folder.is_dir() { "has no shop.toml" } else { "does not exist" };
    let empty = std::fs::read_dir(&folder).map_or(true, |mut entries| entries.next().is_none());
    let hint = if empty {
        format!(
            "create a shop there with `cohort init {}`, or pass --root with the folder that holds shop.toml",
            shown.display()
        )
    } else {
        "pass --root with the folder that holds shop.toml, or start a shop in a new folder with `cohort init my-shop`"
            .to_string()
    };
    Diagnostic::new(file, format!("cannot read it: the folder {} {what}", folder.display())).hint(hint)
}

fn first_message_line(message: &str) -> String {
    let first = message.lines().next().unwrap_or("invalid TOML");
    // "unknown field `x`, expected one of ..." : the hint carries the list.
    match first.split_once(", expected one of") {
        Some((head, _)) if first.starts_with("unknown field") => head.to_string(),
        _ => first.to_string(),
    }
}

/// serde says "unknown field `titel`, expected one of `title`, `sku`"; suggest the nearest.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match suggest(field, candidates.iter().copied()) {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None => Some(format!("remove it; the known keys are: {}", candidates.join(", "))),
    }
}

impl Config {
    /// Reads and validates `ROOT/shop.toml`.
    pub fn load(root: &Path, base_url_override: Option<&str>) -> Result<Site, Diagnostics> {
        let path = root.join("shop.toml");
        let file = Path::new("shop.toml");
        let mut diags = Diagnostics::default();
        if std::fs::symlink_metadata(&path).is_err() {
            diags.push(no_shop_here(root, file));
            return Err(diags);
        }
        let source = match crate::content::read_text(&path, file) {
            Ok(s) => s,
            Err(d) => {
                diags.push(d);
                return Err(diags);
            }
        };
        let mut config: Config = match toml::from_str(&source) {
            Ok(c) => c,
            Err(e) => {
                diags.push(toml_diagnostic(file, &source, 1, &e));
                return Err(diags);
            }
        };
        let at =
            |span: std::ops::Range<usize>, msg: String| Diagnostic::new(file, msg).at_offset(&source, span.start, 1);

        let currency = match Currency::from_code(config.currency.get_ref()) {
            Some(c) => c,
            None => {
                let upper = config.currency.get_ref().to_ascii_uppercase();
                let hint = match Currency::from_code(&upper) {
                    Some(c) => format!("write it in capitals: currency = \"{}\"", c.code),
                    None => "use a three-letter ISO 4217 code such as \"EUR\", \"USD\" or \"JPY\"".into(),
                };
                diags.push(
                    at(config.currency.span(), format!("unknown currency `{}`", config.currency.get_ref())).hint(hint),
                );
                Currency { code: "EUR", digits: 2 }
            }
        };
        if let Some(url) = base_url_override {
            config.base_url = Spanned::new(config.base_url.span(), url.to_string());
        }
        let raw_url = config.base_url.get_ref().trim().to_string();
        let (base_url, base_path) = match split_base_url(&raw_url) {
            Some(parts) => parts,
            None => {
                diags.push(
                    at(config.base_url.span(), format!("`{raw_url}` is not an absolute http(s) URL"))
                        .hint("write the address the shop will live at, e.g. base_url = \"https://shop.example.com\""),
                );
                ("http://localhost".into(), "/".into())
            }
        };
        if *config.paginate_by.get_ref() == 0 {
            diags.push(
                at(config.paginate_by.span(), "paginate_by must be at least 1".into()).hint("e.g. paginate_by = 24"),
            );
        }
        validate_images(&config.images, &mut diags, &at);
        for kind in &config.personalization.page_variants {
            if !VARIANT_KINDS.contains(&kind.get_ref().as_str()) {
                let mut d = at(kind.span(), format!("`{}` is not a page kind that can have variants", kind.get_ref()));
                d = d.hint(match suggest(kind.get_ref(), VARIANT_KINDS) {
                    Some(s) => format!("did you mean \"{s}\"? The kinds are: {}", VARIANT_KINDS.join(", ")),
                    None => format!("the kinds are: {}", VARIANT_KINDS.join(", ")),
                });
                diags.push(d);
            }
        }
        let mut seen = BTreeSet::new();
        for cohort in &config.cohorts {
            let id = cohort.id.get_ref();
            if !valid_cohort_id(id) {
                diags.push(
                    at(cohort.id.span(), format!("cohort id `{id}` may only use a-z, 0-9 and -"))
                        .hint(format!("e.g. id = \"{}\"", crate::content::slugify(id))),
                );
            }
            if !seen.insert(id.clone()) {
                diags.push(
                    at(cohort.id.span(), format!("cohort id `{id}` is defined twice"))
                        .hint("give each cohort its own id"),
                );
            }
        }
        let policy_version = &config.privacy.policy_version;
        if !crate::consent::api::is_policy_version(policy_version) {
            let shown: String = policy_version.chars().take(40).collect();
            diags.push(
                Diagnostic::new(file, format!("[privacy] policy_version `{shown}` is not a policy version")).hint(
                    format!("write {}, e.g. policy_version = \"2026-11-01\"", crate::consent::api::POLICY_VERSION_RULE),
                ),
            );
        }
        for tp in &config.privacy.third_parties {
            for origin in tp.origins() {
                if split_base_url(origin).is_none_or(|(_, p)| p != "/") {
                    diags.push(
                        Diagnostic::new(file, format!("third-party origin `{origin}` is not an origin"))
                            .hint("write scheme and host only, e.g. origin = \"https://www.youtube-nocookie.com\""),
                    );
                }
            }
            if tp.kinds.is_empty() {
                diags
                    .push(Diagnostic::new(file, format!("third party `{}` does not say what it loads", tp.origin)).hint(
                    "add its kinds, each one of script, style, font, frame, image, connect, e.g. kinds = [\"frame\"]",
                ));
            }
            if tp.purpose == Purpose::Necessary && tp.reason.trim().is_empty() {
                diags.push(
                    Diagnostic::new(
                        file,
                        format!("third party `{}` is declared necessary without a reason", tp.origin),
                    )
                    .hint("say why the shop cannot work without it (the privacy notice prints it): reason = \"...\", or choose purpose = \"functional\", \"analytics\" or \"marketing\""),
                );
            }
        }
        let mut checkout = None;
        if let Some(cfg) = &config.checkout {
            let env = |name: &str| std::env::var(name).ok();
            checkout = crate::checkout::resolve(cfg, currency, &at, &env, &mut diags);
        }
        if let Some(tp) = checkout.as_ref().and_then(crate::checkout::Checkout::third_party)
            && !config.privacy.third_parties.iter().any(|t| t.origins().any(|o| o == tp.origin))
        {
            config.privacy.third_parties.push(tp);
        }
        if diags.is_empty() { Ok(Site { config, currency, base_url, base_path, checkout }) } else { Err(diags) }
    }
}

pub fn valid_cohort_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// "https://x.com/shop/" → ("https://x.com/shop", "/shop/"); None if not http(s).
fn split_base_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '?' || c == '#' || c == '"' || c == '<') {
        return None;
    }
    if path.contains(['?', '#', '"', '<', '>', ' ']) {
        return None;
    }
    let path = format!("/{}/", path.trim_matches('/')).replace("//", "/");
    let base = url.trim_end_matches('/').to_string();
    Some((base, path))
}

/// `[images]`: widths between 16 and 8192, quality 1 to 100, known formats, at least one.
fn validate_images(
    images: &ImagesConfig,
    diags: &mut Diagnostics,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
) {
    let widths = images.widths.get_ref();
    if widths.is_empty() || widths.iter().any(|w| !(16..=8192).contains(w)) {
        diags.push(
            at(images.widths.span(), "[images] widths must list widths between 16 and 8192 pixels".into())
                .hint("e.g. widths = [320, 640, 960, 1280, 1920]"),
        );
    }
    if !(1..=100).contains(images.quality.get_ref()) {
        diags.push(
            at(images.quality.span(), "[images] quality must be between 1 and 100".into()).hint("e.g. quality = 80"),
        );
    }
    for f in &images.formats {
        if !IMAGE_FORMATS.contains(&f.get_ref().as_str()) {
            let hint = match suggest(f.get_ref(), IMAGE_FORMATS.iter().copied()) {
                Some(s) => format!("did you mean \"{s}\"? The formats are: {}", IMAGE_FORMATS.join(", ")),
                None => format!("the formats are: {}", IMAGE_FORMATS.join(", ")),
            };
            diags.push(at(f.span(), format!("`{}` is not an image format Cohort writes", f.get_ref())).hint(hint));
        }
    }
    if images.formats.is_empty() {
        diags.push(
            Diagnostic::new("shop.toml", "[images] formats is empty: images would not be published")
                .hint("formats = [\"webp\", \"original\"]"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_split_into_origin_and_path() {
        assert_eq!(split_base_url("https://a.com"), Some(("https://a.com".into(), "/".into())));
        assert_eq!(split_base_url("https://a.com/shop/"), Some(("https://a.com/shop".into(), "/shop/".into())));
        assert_eq!(split_base_url("ftp://a.com"), None);
    }

    #[test]
    fn a_policy_version_the_consent_server_would_refuse_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let shop = "title = \"T\"\nbase_url = \"https://a.com\"\ncurrency = \"EUR\"\n[privacy]\n";
        std::fs::write(dir.path().join("shop.toml"), format!("{shop}policy_version = \"Nov 2026\"\n")).unwrap();
        let Err(diags) = Config::load(dir.path(), None) else { panic!("Nov 2026 was accepted") };
        let text = format!("{diags}");
        assert!(text.contains("policy_version `Nov 2026`") && text.contains("2026-11-01"), "{text}");
        std::fs::write(dir.path().join("shop.toml"), format!("{shop}policy_version = \"2026-11-01\"\n")).unwrap();
        assert!(Config::load(dir.path(), None).is_ok());
    }

    #[test]
    fn unknown_field_hints_suggest() {
        let hint = unknown_field_hint("unknown field `titel`, expected one of `title`, `sku`");
        assert_eq!(hint.as_deref(), Some("did you mean `title`?"));
    }
}
