//! `[checkout]` and `[feeds]` as written in shop.toml: where the cart goes and which product
//! feeds the build writes. [`crate::checkout::resolve`] validates `[checkout]`.

use serde::Deserialize;
use toml::Spanned;

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
