//! `[privacy]` and `[[privacy.third_parties]]`: the consent settings, the third parties a shop
//! declares (purpose, what they load, what they store) and the checks on them.

use crate::diagnostics::{Diagnostic, Diagnostics};
use serde::Deserialize;
use std::path::Path;

/// `[privacy]`: who answers for the shop's data, where consent is recorded, and every third
/// party a page may load from.
#[derive(Debug, Clone, Hash, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Privacy {
    /// The version of the privacy notice a consent is given to; a new version asks again.
    #[serde(default = "default_policy_version")]
    pub policy_version: String,
    /// The data controller the privacy notice names.
    #[serde(default)]
    pub controller: String,
    /// How visitors reach the controller (an email address or a page).
    #[serde(default)]
    pub contact: String,
    /// Where `cohort.js` records consent (the consent API; `/v1` by default).
    #[serde(default = "default_consent_endpoint")]
    pub consent_endpoint: String,
    /// Days after which a choice is asked again.
    #[serde(default = "default_max_age")]
    pub consent_max_age_days: u32,
    /// Whether a Global Privacy Control signal starts every optional purpose off.
    #[serde(default = "yes")]
    pub honor_gpc: bool,
    /// `[[privacy.third_parties]]`: every other origin a page may load from.
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

/// `policy_version` must be one the consent server accepts.
pub(super) fn validate_policy_version(privacy: &Privacy, file: &Path, diags: &mut Diagnostics) {
    let policy_version = &privacy.policy_version;
    if !crate::consent::api::is_policy_version(policy_version) {
        let shown: String = policy_version.chars().take(40).collect();
        diags.push(
            Diagnostic::new(file, format!("[privacy] policy_version `{shown}` is not a policy version")).hint(format!(
                "write {}, e.g. policy_version = \"2026-11-01\"",
                crate::consent::api::POLICY_VERSION_RULE
            )),
        );
    }
}

/// Every third party names origins, says what it loads, and gives a reason when necessary.
pub(super) fn validate_third_parties(privacy: &Privacy, file: &Path, diags: &mut Diagnostics) {
    for tp in &privacy.third_parties {
        for origin in tp.origins() {
            if super::split_base_url(origin).is_none_or(|(_, p)| p != "/") {
                diags.push(
                    Diagnostic::new(file, format!("third-party origin `{origin}` is not an origin"))
                        .hint("write scheme and host only, e.g. origin = \"https://www.youtube-nocookie.com\""),
                );
            }
        }
        if tp.kinds.is_empty() {
            diags.push(Diagnostic::new(file, format!("third party `{}` does not say what it loads", tp.origin)).hint(
                "add its kinds, each one of script, style, font, frame, image, connect, e.g. kinds = [\"frame\"]",
            ));
        }
        if tp.purpose == Purpose::Necessary && tp.reason.trim().is_empty() {
            diags.push(
                Diagnostic::new(file, format!("third party `{}` is declared necessary without a reason", tp.origin))
                    .hint("say why the shop cannot work without it (the privacy notice prints it): reason = \"...\", or choose purpose = \"functional\", \"analytics\" or \"marketing\""),
            );
        }
    }
}
