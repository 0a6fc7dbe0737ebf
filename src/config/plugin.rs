//! `[plugin]`: how `cohort personalize` reads another generator's product files.

use serde::Deserialize;

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
