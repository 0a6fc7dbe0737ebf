//! `[checkout]` validated: the provider, the settings it needs (and none of another's), the
//! currency PayPal takes, Foxy's store domain and its secret from the environment.

use super::{Checkout, PROVIDERS, Provider, Secret};
use crate::config::CheckoutConfig;
use crate::content::money::Currency;
use crate::diagnostics::{Diagnostic, Diagnostics, suggest};
use toml::Spanned;

/// Currencies PayPal accepts (its list of supported currencies).
const PAYPAL_CURRENCIES: &str =
    "AUD BRL CAD CNY CZK DKK EUR HKD HUF ILS JPY MYR MXN TWD NZD NOK PHP PLN GBP SGD SEK CHF THB USD";

/// Validates `[checkout]`; `env` reads an environment variable (the Foxy secret). Every
/// problem is pushed to `diags`, placed by `at`.
pub fn resolve(
    cfg: &CheckoutConfig,
    currency: Currency,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<Checkout> {
    let provider = parse_provider(cfg, at, diags)?;
    let before = diags.len();
    require_provider_settings(cfg, provider, at, diags);
    refuse_other_providers_settings(cfg, provider, at, diags);
    if provider == Provider::PayPal {
        check_paypal_currency(cfg, currency, at, diags);
    }
    let store = setting(&cfg.store);
    let mut secret = Secret::default();
    if provider == Provider::Foxy {
        check_foxy_store(cfg, &store, at, diags);
        secret = read_foxy_secret(cfg, at, env, diags);
    }
    if diags.len() > before {
        return None;
    }
    let whole_amounts =
        (provider == Provider::PayPal && matches!(currency.code, "HUF" | "TWD")).then_some(currency.code);
    Some(Checkout {
        provider,
        business: setting(&cfg.business),
        store,
        public_api_key: setting(&cfg.public_api_key),
        whole_amounts,
        secret,
    })
}

/// A setting's text, trimmed; empty when it is not set.
fn setting(v: &Option<Spanned<String>>) -> String {
    v.as_ref().map(|s| s.get_ref().trim().to_string()).unwrap_or_default()
}

/// The provider `provider = "..."` names, or a diagnostic with the nearest name.
fn parse_provider(
    cfg: &CheckoutConfig,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
    diags: &mut Diagnostics,
) -> Option<Provider> {
    match cfg.provider.get_ref().as_str() {
        "paypal" => Some(Provider::PayPal),
        "foxy" => Some(Provider::Foxy),
        "snipcart" => Some(Provider::Snipcart),
        "links" => Some(Provider::Links),
        other => {
            let hint = match suggest(other, PROVIDERS) {
                Some(s) => format!("did you mean provider = \"{s}\"? The providers are: {}", PROVIDERS.join(", ")),
                None => format!("write one of: {}", PROVIDERS.join(", ")),
            };
            diags.push(at(cfg.provider.span(), format!("unknown checkout provider `{other}`")).hint(hint));
            None
        }
    }
}

/// Each setting the provider needs is there (with an example of where to find it).
fn require_provider_settings(
    cfg: &CheckoutConfig,
    provider: Provider,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
    diags: &mut Diagnostics,
) {
    let needed: &[(&str, &Option<Spanned<String>>, &str)] = match provider {
        Provider::PayPal => &[(
            "business",
            &cfg.business,
            "business = \"sales@shop.example.com\" (the PayPal account's email or merchant ID)",
        )],
        Provider::Foxy => &[
            ("store", &cfg.store, "store = \"yourstore.foxycart.com\" (Foxy admin: Settings, store domain)"),
            (
                "secret_env",
                &cfg.secret_env,
                "secret_env = \"FOXY_SECRET\", and set that variable to the store secret (Foxy admin: Advanced, store secret) when you build",
            ),
        ],
        Provider::Snipcart => &[(
            "public_api_key",
            &cfg.public_api_key,
            "public_api_key = \"...\" (Snipcart dashboard: Account, API keys, public test or live key)",
        )],
        Provider::Links => &[],
    };
    for (key, value, example) in needed {
        if setting(value).is_empty() {
            let span = value.as_ref().map_or(cfg.provider.span(), Spanned::span);
            diags.push(
                at(span, format!("[checkout] provider \"{}\" needs `{key}`", provider.name()))
                    .hint(format!("add {example}")),
            );
        }
    }
}

/// No setting of another provider is given.
fn refuse_other_providers_settings(
    cfg: &CheckoutConfig,
    provider: Provider,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
    diags: &mut Diagnostics,
) {
    let settings = [
        ("business", &cfg.business, Provider::PayPal),
        ("store", &cfg.store, Provider::Foxy),
        ("secret_env", &cfg.secret_env, Provider::Foxy),
        ("public_api_key", &cfg.public_api_key, Provider::Snipcart),
    ];
    for (key, value, owner) in settings {
        if let Some(v) = value
            && owner != provider
        {
            diags.push(
                at(
                    v.span(),
                    format!("`{key}` is a setting of provider \"{}\", not of \"{}\"", owner.name(), provider.name()),
                )
                .hint(format!("remove it, or set provider = \"{}\"", owner.name())),
            );
        }
    }
}

/// PayPal takes the shop's currency.
fn check_paypal_currency(
    cfg: &CheckoutConfig,
    currency: Currency,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
    diags: &mut Diagnostics,
) {
    if !PAYPAL_CURRENCIES.split_whitespace().any(|c| c == currency.code) {
        diags.push(
            at(cfg.provider.span(), format!("PayPal does not take the shop's currency {}", currency.code)).hint(
                format!(
                    "choose another provider, or a currency PayPal accepts: {}",
                    PAYPAL_CURRENCIES.split_whitespace().collect::<Vec<_>>().join(", ")
                ),
            ),
        );
    }
}

/// Foxy's `store` is a domain only.
fn check_foxy_store(
    cfg: &CheckoutConfig,
    store: &str,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
    diags: &mut Diagnostics,
) {
    if !store.is_empty()
        && !store.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && let Some(s) = &cfg.store
    {
        diags.push(
            at(s.span(), format!("`{store}` is not a store domain"))
                .hint("write the domain only, without https:// or a path, e.g. store = \"yourstore.foxycart.com\""),
        );
    }
}

/// The Foxy store secret, from the environment variable `secret_env` names.
fn read_foxy_secret(
    cfg: &CheckoutConfig,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Secret {
    let Some(var) = &cfg.secret_env else { return Secret::default() };
    let name = var.get_ref().trim();
    if !name.is_empty() && !name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
        diags.push(
            at(var.span(), format!("`{name}` is not an environment variable name"))
                .hint("name the variable, not the secret: capitals, digits and _, e.g. secret_env = \"FOXY_SECRET\""),
        );
    } else if !name.is_empty() {
        match env(name).filter(|s| !s.trim().is_empty()) {
            Some(s) => return Secret(s.trim().to_string()),
            None => diags.push(
                at(var.span(), format!("the environment variable {name} that holds the Foxy secret is not set"))
                    .hint(format!("set it when you build, e.g. `{name}=... cohort build` (Foxy admin: Advanced, store secret); it is never written to the output")),
            ),
        }
    }
    Secret::default()
}
