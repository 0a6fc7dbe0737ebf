//! `shop.toml`: the site configuration, its defaults and its validation.
//!
//! Deserialization refuses unknown keys (with a "did you mean" hint); [`Config::load`] then
//! checks what serde cannot (currency codes, URLs, cohort ids) and reports every problem.
//! One submodule per group of sections: `privacy` (consent and third parties), `cohorts`
//! (cohorts, personalization, recommendations, the hero), `images`, `checkout` (with
//! `[feeds]`) and `plugin`; every type is re-exported here, as `crate::config::X`.

mod checkout;
mod cohorts;
mod images;
mod plugin;
mod privacy;

pub use checkout::{CheckoutConfig, Feeds};
pub use cohorts::{
    Acknowledgement, CohortConfig, Hero, Personalization, Recommendations, VARIANT_KINDS, valid_cohort_id,
};
pub use images::{IMAGE_FORMATS, ImagesConfig};
pub use plugin::{FieldMap, Plugin};
pub use privacy::{LoadKind, Privacy, Purpose, StoredItem, ThirdParty};

use crate::content::money::Currency;
use crate::diagnostics::{Diagnostic, Diagnostics, suggest};
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// `shop.toml` as written (before validation; see [`Site`] for the validated form).
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The shop's name.
    pub title: String,
    /// The address the shop lives at, e.g. `https://shop.example.com/` (a path is allowed).
    pub base_url: Spanned<String>,
    /// The pages' language (`<html lang>`), `en` by default.
    #[serde(default = "default_language")]
    pub language: String,
    /// The ISO 4217 code prices are in, e.g. `EUR`.
    pub currency: Spanned<String>,
    /// The theme: a built-in name or a folder under `themes/`; `default` by default.
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
    /// Consent, the privacy notice and the declared third parties.
    #[serde(default)]
    pub privacy: Privacy,
    /// How many products each recommendation list shows.
    #[serde(default)]
    pub recommendations: Recommendations,
    /// Which pages get whole-page variants.
    #[serde(default)]
    pub personalization: Personalization,
    /// The cohorts, in the order the switcher lists them.
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

/// `[check]`: the merchant's additions to `cohort check`.
#[derive(Debug, Clone, Hash, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    /// Words (or stems ending in `*`) that `ethics/special-category` also looks for.
    #[serde(default)]
    pub extra_sensitive_words: Vec<String>,
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

/// The configuration after validation, with derived values.
#[derive(Debug, Clone, Hash)]
pub struct Site {
    /// shop.toml as written (with the checkout's third party added when it had none).
    pub config: Config,
    /// The shop's currency.
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
    /// The page kinds that get whole-page variants (`[personalization] page_variants`).
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

/// Places a diagnostic at a byte span of shop.toml.
type At<'a> = &'a dyn Fn(std::ops::Range<usize>, String) -> Diagnostic;

impl Config {
    /// Reads and validates `ROOT/shop.toml`.
    pub fn load(root: &Path, base_url_override: Option<&str>) -> Result<Site, Diagnostics> {
        let file = Path::new("shop.toml");
        let source = read_shop_toml(root, file)?;
        let mut config: Config =
            toml::from_str(&source).map_err(|e| Diagnostics(vec![toml_diagnostic(file, &source, 1, &e)]))?;
        let mut diags = Diagnostics::default();
        let at =
            |span: std::ops::Range<usize>, msg: String| Diagnostic::new(file, msg).at_offset(&source, span.start, 1);
        let currency = resolve_currency(&config.currency, &mut diags, &at);
        if let Some(url) = base_url_override {
            config.base_url = Spanned::new(config.base_url.span(), url.to_string());
        }
        let (base_url, base_path) = resolve_base_url(&config.base_url, &mut diags, &at);
        if *config.paginate_by.get_ref() == 0 {
            diags.push(
                at(config.paginate_by.span(), "paginate_by must be at least 1".into()).hint("e.g. paginate_by = 24"),
            );
        }
        images::validate_images(&config.images, &mut diags, &at);
        cohorts::validate_page_variants(&config.personalization, &mut diags, &at);
        cohorts::validate_cohort_ids(&config.cohorts, &mut diags, &at);
        privacy::validate_policy_version(&config.privacy, file, &mut diags);
        privacy::validate_third_parties(&config.privacy, file, &mut diags);
        let checkout = resolve_checkout(&mut config, currency, &mut diags, &at);
        if diags.is_empty() { Ok(Site { config, currency, base_url, base_path, checkout }) } else { Err(diags) }
    }
}

/// The text of `ROOT/shop.toml`, or why there is none.
fn read_shop_toml(root: &Path, file: &Path) -> Result<String, Diagnostics> {
    if std::fs::symlink_metadata(root.join("shop.toml")).is_err() {
        return Err(Diagnostics(vec![no_shop_here(root, file)]));
    }
    crate::content::read_text(&root.join("shop.toml"), file).map_err(|d| Diagnostics(vec![d]))
}

/// The currency `currency` names (EUR, with a diagnostic, when it names none).
fn resolve_currency(currency: &Spanned<String>, diags: &mut Diagnostics, at: At) -> Currency {
    if let Some(c) = Currency::from_code(currency.get_ref()) {
        return c;
    }
    let upper = currency.get_ref().to_ascii_uppercase();
    let hint = match Currency::from_code(&upper) {
        Some(c) => format!("write it in capitals: currency = \"{}\"", c.code),
        None => "use a three-letter ISO 4217 code such as \"EUR\", \"USD\" or \"JPY\"".into(),
    };
    diags.push(at(currency.span(), format!("unknown currency `{}`", currency.get_ref())).hint(hint));
    Currency { code: "EUR", digits: 2 }
}

/// `base_url` split into the origin-and-path without a trailing slash and the path
/// (placeholders, with a diagnostic, when it is not an absolute http(s) URL).
fn resolve_base_url(base_url: &Spanned<String>, diags: &mut Diagnostics, at: At) -> (String, String) {
    let raw_url = base_url.get_ref().trim().to_string();
    split_base_url(&raw_url).unwrap_or_else(|| {
        diags.push(
            at(base_url.span(), format!("`{raw_url}` is not an absolute http(s) URL"))
                .hint("write the address the shop will live at, e.g. base_url = \"https://shop.example.com\""),
        );
        ("http://localhost".into(), "/".into())
    })
}

/// `[checkout]` validated, and the provider's third party declared when shop.toml has none.
fn resolve_checkout(
    config: &mut Config,
    currency: Currency,
    diags: &mut Diagnostics,
    at: At,
) -> Option<crate::checkout::Checkout> {
    let env = |name: &str| std::env::var(name).ok();
    let checkout = crate::checkout::resolve(config.checkout.as_ref()?, currency, at, &env, diags);
    if let Some(tp) = checkout.as_ref().and_then(crate::checkout::Checkout::third_party)
        && !config.privacy.third_parties.iter().any(|t| t.origins().any(|o| o == tp.origin))
    {
        config.privacy.third_parties.push(tp);
    }
    checkout
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
