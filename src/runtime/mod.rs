//! The browser runtime: `cohort.js`, the one definition of everything it stores on a
//! visitor's device, the per-page configuration it reads, and the consent-UI record.
//!
//! [`STORAGE`] is the single list of cookies and storage keys. The preferences page, the
//! privacy notice and `cohort check` read it, so a key cannot be added to the script without
//! being declared here (a test compares the script's keys with this list).
//!
//! The consent-UI hash is the sha256 of a record holding exactly what the visitor is shown:
//! the banner HTML, the preferences wording and the bytes of `cohort.js` as served. The
//! record is that file itself (`consent-records/ui/HASH.html`), so `sha256sum` proves it.

use crate::config::{Privacy, Site};
use crate::content::{Shop, slugify};
use crate::render::context::script_safe_json;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::OnceLock;

/// The runtime as written, with comments; [`script`] is what is served.
pub const SOURCE: &str = include_str!("cohort.js");

/// The served size budget of `cohort.js`, gzipped.
pub const GZIP_BUDGET: usize = 2048;

/// Views of pages matching a cohort's interests (summed over its interests) after which
/// the cohort is inferred on the device, when no cohort was chosen or arrived by campaign.
pub const INTEREST_THRESHOLD: u32 = 3;

/// Where something is kept on the visitor's device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Store {
    /// The browser's `localStorage` for the site's origin (serialized as `local_storage`);
    /// never sent to the server.
    LocalStorage,
    /// A first-party cookie (serialized as `cookie`), sent with each request to the site.
    Cookie,
}

/// How long an item lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Until withdrawal; asked again after `consent_max_age_days` or a new policy version.
    UntilReask,
    /// Until withdrawal or until personalization is turned off.
    UntilWithdrawal,
    /// `Max-Age` = `consent_max_age_days`.
    MaxAge,
}

/// One cookie or storage key the runtime may set.
#[derive(Debug, Clone, Copy)]
pub struct StorageItem {
    /// The key or cookie name; `ID` stands for a cohort id.
    pub name: &'static str,
    /// Whether it is a `localStorage` key or a cookie.
    pub store: Store,
    /// The purpose it serves: "necessary" (remembering the choice itself) or "personalization".
    pub purpose: &'static str,
    /// What it holds and when it is set, in plain words.
    pub what: &'static str,
    /// How long it is kept; [`StorageItem::lifetime_text`] words it with the shop's settings.
    pub lifetime: Lifetime,
}

/// Every cookie and storage key `cohort.js` uses. Nothing else is ever stored.
pub const STORAGE: [StorageItem; 3] = [
    StorageItem {
        name: "cohort.consent",
        store: Store::LocalStorage,
        purpose: "necessary",
        what: "Your privacy choice: the policy version, yes or no per purpose, the receipt number of your choice, the day you chose and, if you picked one on the preferences page, your cohort. Set only when you click Accept, Reject or Save.",
        lifetime: Lifetime::UntilReask,
    },
    StorageItem {
        name: "cohort.interests",
        store: Store::LocalStorage,
        purpose: "personalization",
        what: "How many pages of each interest (such as a category) you viewed, counted on this device only and never sent anywhere. Set only with your consent to personalization.",
        lifetime: Lifetime::UntilWithdrawal,
    },
    StorageItem {
        name: "cohort_ID",
        store: Store::Cookie,
        purpose: "personalization",
        what: "The value 1 under a name that says which cohort you belong to (for example cohort_kitchen), so the host can send the pages for that cohort. One at a time, set only with your consent to personalization.",
        lifetime: Lifetime::MaxAge,
    },
];

/// The declaration a cookie or storage key name falls under (`cohort_outdoor` → `cohort_ID`),
/// for checks that audit what a page stores.
pub fn declared(name: &str) -> Option<&'static StorageItem> {
    STORAGE.iter().find(|item| match item.name.strip_suffix("ID") {
        Some(prefix) => name.strip_prefix(prefix).is_some_and(|id| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }),
        None => item.name == name,
    })
}

/// The words of [`StorageItem::what`] that hold only for a shop that keeps receipts.
const RECEIPT_WORDS: &str = "the receipt number of your choice, ";

impl StorageItem {
    /// What it holds, as the privacy notice says it: a shop without a consent endpoint keeps
    /// no receipt, so its notice does not promise one.
    pub fn what_text(&self, privacy: &Privacy) -> String {
        if privacy.consent_endpoint.is_empty() { self.what.replace(RECEIPT_WORDS, "") } else { self.what.to_string() }
    }

    /// How long it is kept, in plain words for the privacy notice, with the shop's
    /// `consent_max_age_days` filled in.
    pub fn lifetime_text(&self, privacy: &Privacy) -> String {
        let days = privacy.consent_max_age_days;
        match self.lifetime {
            Lifetime::UntilReask => format!(
                "Until you withdraw; after {days} days or a change of this notice you are asked again and it is replaced"
            ),
            Lifetime::UntilWithdrawal => "Until you withdraw or turn personalization off".to_string(),
            Lifetime::MaxAge => format!("{days} days (Max-Age), or until you withdraw or turn personalization off"),
        }
    }
}

/// The storage table as templates see it (the privacy notice, the preferences page).
pub fn storage_context(privacy: &Privacy) -> serde_json::Value {
    serde_json::Value::Array(
        STORAGE
            .iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "store": s.store,
                    "store_label": match s.store { Store::LocalStorage => "Local storage", Store::Cookie => "Cookie" },
                    "purpose": s.purpose,
                    "what": s.what_text(privacy),
                    "lifetime": s.lifetime_text(privacy),
                })
            })
            .collect(),
    )
}

/// The gating script as written ([`gate_script`] is what is served as `/cohort-gate.js`).
pub const GATE_SOURCE: &str = include_str!("cohort-gate.js");

/// The Google Consent Mode v2 bridge as written (served as `/cohort-consent-mode.js`).
pub const CONSENT_MODE_SOURCE: &str = include_str!("cohort-consent-mode.js");

/// `cohort-gate.js` as served: only pages with gated elements load it.
pub fn gate_script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| minify(GATE_SOURCE))
}

/// `cohort-consent-mode.js` as served (only with `google_consent_mode`).
pub fn consent_mode_script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| minify(CONSENT_MODE_SOURCE))
}

/// The runtime files a site gets besides `cohort.js`: the gating script always (a theme
/// may gate by hand), the Consent Mode bridge when configured.
pub fn extra_scripts(privacy: &Privacy) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![(crate::gate::GATE_SCRIPT, gate_script())];
    if privacy.google_consent_mode {
        v.push((crate::gate::CONSENT_MODE_SCRIPT, consent_mode_script()));
    }
    v
}

/// `cohort.js` as served: [`SOURCE`] without comment lines and indentation.
pub fn script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| minify(SOURCE))
}

/// A deliberately small minifier for code written for it: drops lines that are only a
/// `//` comment, trims each line, and joins a line to the previous one without a newline
/// only where the previous one ends in `;`, `{`, `}`, `,` or `(` (so automatic semicolon
/// insertion never changes meaning). It does not touch anything inside a line.
pub fn minify(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if !out.is_empty() && !out.ends_with([';', '{', '}', ',', '(']) {
            out.push('\n');
        }
        out.push_str(line);
    }
    out.push('\n');
    out
}

/// Gzipped size of the served script (best compression, as a host's static gzip would).
pub fn gzipped_size() -> usize {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let ok = enc.write_all(script().as_bytes()).is_ok();
    match enc.finish() {
        Ok(bytes) if ok => bytes.len(),
        _ => usize::MAX,
    }
}

/// Interests of a page for on-device counting: slugs of its category and tags.
pub fn page_interests<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = names.into_iter().map(slugify).filter(|s| !s.is_empty()).collect();
    v.sort();
    v.dedup();
    v
}

/// The page's `<script type="application/json" id="cohort-config">` content: a data block,
/// never executed, escaped so it cannot close its element.
///
/// Keys are short because the script reads them: `v` policy version, `e` consent endpoint
/// ("" = no receipts), `m` consent_max_age_days, `g` honor_gpc, `b` the site's base path,
/// `u` the consent-UI hash, `t` the interest threshold, `i` this page's interests that some
/// cohort has, `c` the cohort list's URL below `b` ([`cohorts_file`], versioned by a hash of
/// its content; absent without cohorts), `q` the purposes of declared third parties that
/// need consent ([`consent_purposes`]).
///
/// The cohort list is the same on every page, so it is one file rather than a copy in each
/// page; `cohort.js` fetches it only once personalization is on, so before a choice nothing
/// is requested.
pub fn page_config(shop: &Shop, ui_hash: &str, interests: &[String]) -> String {
    PageConfig::new(shop, ui_hash).for_page(interests)
}

/// The purposes the visitor is asked about besides personalization: those of the declared
/// third parties that need consent, in the order of [`crate::config::Purpose::ALL`], each once.
pub fn consent_purposes(parties: &[crate::config::ThirdParty]) -> Vec<&'static str> {
    crate::config::Purpose::ALL
        .into_iter()
        .filter(|p| p.needs_consent() && parties.iter().any(|t| t.purpose == *p))
        .map(|p| p.as_str())
        .collect()
}

/// The site's cohorts as `cohort.js` reads them: a JSON array of `id`, `label`, `campaigns`
/// and `interests` (slugs), in the order of `shop.toml`.
pub fn cohorts_json(site: &Site) -> String {
    let cohorts: Vec<serde_json::Value> = site
        .config
        .cohorts
        .iter()
        .map(|c| {
            json!({
                "id": c.id.get_ref(),
                "label": c.label,
                "campaigns": c.campaigns,
                "interests": page_interests(c.interests.iter().map(String::as_str)),
            })
        })
        .collect();
    serde_json::Value::Array(cohorts).to_string() + "\n"
}

/// The cohort list file ([`crate::output::layout::COHORTS`] and [`cohorts_json`]), for a
/// site with cohorts; pages name it in their config key `c`.
pub fn cohorts_file(site: &Site) -> Option<(&'static str, String)> {
    (!site.config.cohorts.is_empty()).then(|| (crate::output::layout::COHORTS, cohorts_json(site)))
}

/// The config's `c`: the cohort list's path with the first 16 hex digits of its sha256 as
/// the query, so a browser never keeps a list from an earlier build.
fn cohorts_url(site: &Site) -> Option<String> {
    let (path, text) = cohorts_file(site)?;
    Some(format!("{path}?{}", &hex(&Sha256::digest(text.as_bytes()))[..16]))
}

/// [`page_config`] for many pages: everything but the page's interests is serialized once.
pub struct PageConfig {
    before: String,
    after: String,
    /// Interests some cohort has: only these are counted, so a page lists no others.
    counted: std::collections::BTreeSet<String>,
}

impl PageConfig {
    /// Serializes the site-wide part of the config once, for the consent UI whose hash is
    /// `ui_hash` ([`ConsentUi::hash`]).
    pub fn new(shop: &Shop, ui_hash: &str) -> PageConfig {
        const MARK: &str = "cohort-page-interests";
        let site: &Site = &shop.site;
        let p = &site.config.privacy;
        let counted =
            site.config.cohorts.iter().flat_map(|c| page_interests(c.interests.iter().map(String::as_str))).collect();
        let mut config = json!({
            "v": p.policy_version,
            "e": p.consent_endpoint.trim_end_matches('/'),
            "m": p.consent_max_age_days,
            "g": p.honor_gpc,
            "b": site.base_path,
            "u": ui_hash,
            "t": INTEREST_THRESHOLD,
            "i": MARK,
            "q": consent_purposes(&p.third_parties),
        });
        if let Some(url) = cohorts_url(site) {
            config["c"] = json!(url);
        }
        let text = script_safe_json(&config);
        // The key `"i":` comes once, and its value is the mark (other values that equal it
        // would be escaped differently or sit under another key).
        let needle = format!("\"i\":\"{MARK}\"");
        let (before, after) = match text.find(&needle) {
            Some(at) => (text[..at + 4].to_string(), text[at + needle.len()..].to_string()),
            None => (text, String::new()),
        };
        PageConfig { before, after, counted }
    }

    /// The config of a page with these interests (those no cohort has are left out).
    pub fn for_page(&self, interests: &[String]) -> String {
        let kept: Vec<&String> = interests.iter().filter(|i| self.counted.contains(*i)).collect();
        let list = script_safe_json(&json!(kept));
        let mut out = String::with_capacity(self.before.len() + list.len() + self.after.len());
        out.push_str(&self.before);
        out.push_str(&list);
        out.push_str(&self.after);
        out
    }
}

/// What the visitor is shown when asked for consent, and its hash.
#[derive(Debug, Clone, Default)]
pub struct ConsentUi {
    /// The banner, as the visitor sees it.
    pub banner: String,
    /// What every page carries where the theme puts the banner: a placeholder naming the
    /// banner's file ([`ConsentUi::banner_file`]), which `cohort.js` fetches only when the
    /// banner has to be shown; or the banner itself when it cannot be fetched (see
    /// [`ConsentUi::new`]).
    pub in_page: String,
    /// The consent controls and wording of the preferences page.
    pub choices: String,
    /// sha256 (hex) of [`ConsentUi::record`].
    pub hash: String,
    /// The record file: banner, preferences wording, cohort.js and cohort-gate.js, exactly as served.
    pub record: String,
}

impl ConsentUi {
    /// The record of this banner and preferences wording with the served `cohort.js` and
    /// `cohort-gate.js`, and its hash.
    ///
    /// The banner is the same on every page, so pages carry a placeholder
    /// (`<div id="cohort-banner" data-cohort-banner="HASH" hidden></div>`, about 70 bytes
    /// instead of about 1,100) and the banner is one long-cached file, the fragment
    /// `_cohort/f/HASH.html`. A banner that has an inline `<script>` or `<style>` (which
    /// would not run, or would need the page's CSP hashes, once fetched) or no
    /// `id="cohort-banner"` stays in the page, as does one the caller says must (`in_page`:
    /// one with an element the third-party gate changes, which only the gate of the page
    /// around it can make inert and activate).
    pub fn new(banner: String, choices: String, in_page: bool) -> ConsentUi {
        let lower = banner.to_ascii_lowercase();
        let fetchable = !in_page
            && lower.contains("id=\"cohort-banner\"")
            && !lower.contains("<script")
            && !lower.contains("<style");
        let in_page = if fetchable {
            format!(
                "<div id=\"cohort-banner\" data-cohort-banner=\"{}\" hidden></div>",
                crate::cohorts::fragment_hash(&banner)
            )
        } else {
            banner.clone()
        };
        let record = format!(
            "<!doctype html>\n<meta charset=\"utf-8\">\n<title>Consent UI record</title>\n<!-- Cohort consent UI record: the file name is the sha256 of this file's bytes. It holds the banner, the preferences wording, cohort.js and cohort-gate.js (HTML-escaped) exactly as the build served them. -->\n<h1>Banner</h1>\n{banner}\n<h1>Preferences</h1>\n{choices}\n<h1>cohort.js</h1>\n<pre>{}</pre>\n<h1>cohort-gate.js</h1>\n<pre>{}</pre>\n",
            html_escape(script()),
            html_escape(gate_script())
        );
        let hash = hex(&Sha256::digest(record.as_bytes()));
        ConsentUi { banner, in_page, choices, hash, record }
    }

    /// The banner's file (`_cohort/f/HASH.html`) and its bytes, when pages carry a placeholder
    /// for it rather than the banner itself.
    pub fn banner_file(&self) -> Option<(String, &str)> {
        (self.in_page != self.banner).then(|| {
            (crate::output::layout::fragment(&crate::cohorts::fragment_hash(&self.banner)), self.banner.as_str())
        })
    }

    /// Writes `ROOT/consent-records/ui/HASH.html` unless it exists; records are kept.
    pub fn save_record(&self, root: &Path) -> std::io::Result<()> {
        let dir = root.join("consent-records").join("ui");
        let path = dir.join(format!("{}.html", self.hash));
        if path.exists() {
            return Ok(());
        }
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{}.tmp", self.hash));
        std::fs::write(&tmp, self.record.as_bytes())?;
        std::fs::rename(&tmp, &path)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzipped_script_is_within_budget() {
        let size = gzipped_size();
        println!("cohort.js: {} bytes, {size} bytes gzipped (budget {GZIP_BUDGET})", script().len());
        assert!(size <= GZIP_BUDGET, "cohort.js is {size} bytes gzipped, over the {GZIP_BUDGET}-byte budget");
    }

    #[test]
    fn script_uses_only_declared_keys() {
        let s = script();
        for item in STORAGE {
            let needle = item.name.trim_end_matches("ID");
            assert!(s.contains(needle), "{} is declared but the script never uses it", item.name);
        }
        // Every string literal starting with "cohort." or "cohort_" must be declared.
        for (i, _) in s.match_indices("'cohort") {
            let rest = &s[i + 1..];
            let lit = &rest[..rest.find('\'').unwrap_or(rest.len())];
            if lit.starts_with("cohort.") || lit.starts_with("cohort_") {
                let declared = STORAGE.iter().any(|it| it.name == lit || it.name.trim_end_matches("ID") == lit);
                assert!(declared, "the script stores `{lit}`, which STORAGE does not declare");
            }
        }
    }

    #[test]
    fn script_has_no_eval_and_cannot_close_a_script_element() {
        let s = script();
        for bad in ["eval(", "new Function", "</script", "setTimeout('", "document.write"] {
            assert!(!s.contains(bad), "cohort.js contains {bad}");
        }
        // The only HTML it inserts is a fragment fetched from the site's own origin.
        assert_eq!(s.matches("innerHTML").count(), 1);
    }

    #[test]
    fn gate_and_consent_mode_scripts_store_nothing_and_eval_nothing() {
        for s in [gate_script(), consent_mode_script()] {
            for bad in [
                "eval(",
                "new Function",
                "</script",
                "setTimeout('",
                "document.write",
                "innerHTML",
                "setItem",
                "document.cookie",
                "fetch(",
            ] {
                assert!(!s.contains(bad), "a runtime script contains {bad}");
            }
        }
        // The gating script reads exactly the key cohort.js writes.
        assert!(gate_script().contains("'cohort.consent'"));
        assert!(script().contains("'cohort:'+n") && gate_script().contains("'cohort:consent'"));
        assert!(consent_mode_script().contains("'cohort:consent'"));
    }

    #[test]
    fn consent_purposes_follow_the_declarations() {
        use crate::config::{Purpose, ThirdParty};
        let t = |purpose| ThirdParty {
            name: String::new(),
            origin: "https://x.example".into(),
            purpose,
            kinds: vec![],
            description: String::new(),
            companions: vec![],
            stores: vec![],
            policy_url: String::new(),
            reason: String::new(),
        };
        assert!(consent_purposes(&[]).is_empty());
        assert!(consent_purposes(&[t(Purpose::Necessary)]).is_empty());
        assert_eq!(
            consent_purposes(&[t(Purpose::Marketing), t(Purpose::Functional), t(Purpose::Marketing)]),
            vec!["functional", "marketing"]
        );
    }

    #[test]
    fn declared_names() {
        assert_eq!(declared("cohort.consent").map(|i| i.store), Some(Store::LocalStorage));
        assert_eq!(declared("cohort_outdoor-2").map(|i| i.name), Some("cohort_ID"));
        assert!(declared("cohort_").is_none());
        assert!(declared("cohort_Outdoor").is_none());
        assert!(declared("_ga").is_none());
    }

    #[test]
    fn minify_keeps_statements_apart() {
        assert_eq!(minify("  // c\n a=1\n  b=2;\n c()\n"), "a=1\nb=2;c()\n");
    }

    #[test]
    fn record_hash_is_sha256_of_record() {
        let ui = ConsentUi::new("<section>b</section>".into(), "<form>c</form>".into(), false);
        assert_eq!(ui.hash, hex(&Sha256::digest(ui.record.as_bytes())));
        assert!(ui.record.contains("<section>b</section>") && ui.record.contains("<form>c</form>"));
        let other = ConsentUi::new("<section>B</section>".into(), "<form>c</form>".into(), false);
        assert_ne!(ui.hash, other.hash);
    }
}
