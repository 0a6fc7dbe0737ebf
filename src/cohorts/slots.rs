//! Slots: the regions of a page that change with the cohort.
//!
//! A theme declares its slots per page kind in theme.toml (`[slots] home = ["hero", "picks"]`)
//! and provides `templates/slots/NAME.html` for each. The page template prints
//! `{{ slots.NAME | safe }}`, which becomes
//! `<div data-cohort-slot="NAME" data-cohort-keys='{"outdoor":"HASH"}'>default</div>`.
//!
//! Each slot name stands for one piece of cohort-dependent data, given to its template:
//!
//! | slot    | kinds            | variable   | what a cohort changes                          |
//! |---------|------------------|------------|------------------------------------------------|
//! | `hero`  | home             | `hero`     | the cohort's `hero` from shop.toml             |
//! | `picks` | home, product    | `picks`    | products matching the cohort's interests       |
//! | `copy`  | product          | `product`  | the product's `[cohort.ID]` summary and badge  |
//! | `grid`  | category, tag    | `products` | the listing with the cohort's interests first  |
//!
//! When a cohort's data for a slot equals the default's, the cohort sees the default and
//! is left out of the keys; nothing is rendered for it. A slot's output should therefore
//! depend on the cohort only through that data (it also receives `cohort` for wording).

use crate::diagnostics::Diagnostic;
use std::collections::BTreeMap;

/// Slot names and the page kinds each may appear on.
pub const SLOTS: [(&str, &[&str]); 4] =
    [("hero", &["home"]), ("picks", &["home", "product"]), ("copy", &["product"]), ("grid", &["category", "tag"])];

/// Checks a theme's `[slots]` table: known kinds and names, and a template for each.
pub fn validate(
    slots: &BTreeMap<String, Vec<String>>,
    theme_file: &str,
    has_template: impl Fn(&str) -> bool,
) -> Result<(), Diagnostic> {
    for (kind, names) in slots {
        for name in names {
            let Some((_, kinds)) = SLOTS.iter().find(|(n, _)| n == name) else {
                let known: Vec<&str> = SLOTS.iter().map(|(n, _)| *n).collect();
                return Err(Diagnostic::new(theme_file, format!("unknown slot `{name}` in [slots]"))
                    .hint(format!("the slots are: {}", known.join(", "))));
            };
            if !kinds.contains(&kind.as_str()) {
                return Err(Diagnostic::new(theme_file, format!("slot `{name}` cannot be used on `{kind}` pages"))
                    .hint(format!("`{name}` works on: {}", kinds.join(", "))));
            }
            if !has_template(&format!("slots/{name}.html")) {
                return Err(Diagnostic::new(theme_file, format!("slot `{name}` has no template"))
                    .hint(format!("add templates/slots/{name}.html")));
            }
        }
    }
    Ok(())
}

/// The wrapper around a slot's content. `keys` are (cohort id, fragment hash), sorted;
/// `shown` names the cohort whose content is inline (on a full-page variant).
pub fn wrap(name: &str, keys: &[(String, String)], content: &str, shown: Option<&str>) -> String {
    let keys_json: Vec<String> = keys.iter().map(|(c, h)| format!("\"{c}\":\"{h}\"")).collect();
    let shown_attr = shown.map(|c| format!(" data-cohort-shown=\"{c}\"")).unwrap_or_default();
    format!(
        "<div class=\"cohort-slot\" data-cohort-slot=\"{name}\" data-cohort-keys='{{{}}}'{shown_attr}>{content}</div>",
        keys_json.join(",")
    )
}
