//! `cohort check`: content, ethics and privacy audits of a shop's sources and of a fresh
//! build of it, written into a temporary folder (the shop's output folder is never touched).
//!
//! The runner loads the shop once, runs the source rules, builds with the real build code
//! ([`crate::build::write_site`]), scans every built file once in parallel ([`Built`]), and
//! hands that scan to the rule modules: [`content`] (links, images, product data),
//! [`ethics`] (what cohorts target, price invariance between cohorts) and [`privacy`]
//! (origins, CSP, storage, the privacy notice). Each finding names a rule id, a severity,
//! the source file and line it comes from where that can be found (a template, a product
//! file, shop.toml), else the built file, and how to fix it. A shop that fails to load is
//! reported the same way, as `content/invalid` findings.

pub mod content;
pub mod ethics;
mod locate;
pub mod privacy;
mod report;
pub mod scan;

pub use locate::Locator;
pub use report::{Finding, Report, Severity};
use report::{acknowledge, build_error_findings, load_warnings};

use crate::build::BuildOptions;
use crate::content::Shop;
use crate::html::{origin_of, percent_decode_lossy};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Runs every check on the shop at `root`.
pub fn run(root: &Path) -> Report {
    let options = BuildOptions { root: root.to_path_buf(), progress: false, ..BuildOptions::default() };
    let prepared = match crate::build::load(&options) {
        Ok(p) => p,
        Err(e) => return Report::finish(build_error_findings(&e, None)),
    };
    let shop = &prepared.shop;
    let theme = &prepared.theme;
    let locator = Locator::new(shop, theme);
    let mut findings = content::sources(shop);
    findings.extend(image_locations(shop));
    findings.extend(ethics::cohorts(shop, &locator));
    let loaded = load_warnings(shop, &findings);
    findings.extend(loaded);
    let temp = match tempfile::Builder::new().prefix("cohort-check-").tempdir() {
        Ok(t) => t,
        Err(e) => {
            findings.push(
                Finding::error("content/invalid", "(build)", 0, format!("cannot create a temporary folder: {e}"))
                    .fix("make the system's temporary folder writable (or set TMPDIR)"),
            );
            return Report::finish(findings);
        }
    };
    let out = temp.path().join("site");
    match crate::build::write_site(&prepared, &out, false) {
        Err(e) => findings.extend(build_error_findings(&e, Some(&locator))),
        Ok(_) => {
            let mut locator = locator;
            locator.keep_copied_statics(&out);
            let built = Built::scan(&out);
            let ctx = Ctx::new(shop, &locator, &built);
            findings.extend(content::links(&ctx));
            findings.extend(ethics::variants(&ctx));
            findings.extend(privacy::audit(&ctx));
        }
    }
    acknowledge(shop, &mut findings);
    Report::finish(findings)
}

/// `privacy/image-location`: source images whose EXIF data holds a GPS position. The
/// published copies carry no metadata at all; the sources may still be shared (a public
/// repository, a backup).
fn image_locations(shop: &Shop) -> Vec<Finding> {
    shop.images
        .with_location()
        .into_iter()
        .map(|file| {
            Finding::warning(
                "privacy/image-location",
                file.display().to_string(),
                0,
                "this image carries a GPS position (where it was taken) in its EXIF data; the published copies are stripped of it, but the source file still holds it",
            )
            .fix("remove the location from the source (e.g. `exiftool -gps:all= FILE`), above all if the shop's sources are shared")
        })
        .collect()
}

/// What a reference in a page does: navigate (a link) or load something into the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// A link (`<a href>`).
    Link,
    /// Loaded by the browser: what it is ("stylesheet", "image", "script", "frame", ...).
    Load(&'static str),
    /// A form target: loaded on submit, but a server endpoint rather than a built file.
    Submit,
}

/// A reference from a built file to a URL.
#[derive(Debug, Clone)]
pub struct Ref {
    /// 1-based line in the built file.
    pub line: usize,
    /// The URL as written.
    pub url: String,
    /// What the reference does.
    pub kind: RefKind,
}

/// An executable inline `<script>`.
#[derive(Debug, Clone)]
pub struct InlineScript {
    /// 1-based line of the `<script>` tag.
    pub line: usize,
    /// `'sha256-…'` as a CSP would list it.
    pub hash: String,
    /// The script's first line, to show.
    pub first_line: String,
    /// What the script does.
    pub js: JsFacts,
}

/// A product as a page states it: SKU, price, availability (from `data-*` attributes).
#[derive(Debug, Clone)]
pub struct Priced {
    /// 1-based line of the element.
    pub line: usize,
    /// `data-sku`.
    pub sku: String,
    /// `data-price`.
    pub price: Option<String>,
    /// `data-availability`.
    pub availability: Option<String>,
}

/// What a script does that the privacy rules care about.
#[derive(Debug, Clone, Default)]
pub struct JsFacts {
    /// (line, API) for each use of document.cookie, localStorage, sessionStorage, indexedDB.
    pub storage: Vec<(usize, &'static str)>,
    /// (line, key) for each storage key or cookie name it sets or reads.
    pub keys: Vec<(usize, String)>,
    /// (line, URL) for each absolute URL in a string.
    pub urls: Vec<(usize, String)>,
}

/// One scanned file of the build.
#[derive(Debug, Default)]
pub struct FileScan {
    /// The file, relative to the build.
    pub file: String,
    /// The `id`s it defines (fragment targets).
    pub ids: HashSet<String>,
    /// What it refers to.
    pub refs: Vec<Ref>,
    /// Its executable inline scripts.
    pub scripts: Vec<InlineScript>,
    /// The products it states prices for.
    pub priced: Vec<Priced>,
    /// For a JavaScript file.
    pub js: Option<JsFacts>,
}

/// A build, scanned once: every file's path and what each HTML, CSS and JS file refers to.
pub struct Built {
    /// The build folder.
    pub dir: PathBuf,
    /// Every file, relative to `dir`.
    pub files: HashSet<String>,
    /// The HTML, CSS and JS files, scanned.
    pub scans: Vec<FileScan>,
    /// Index into `scans` by file.
    pub by_file: HashMap<String, usize>,
}

impl Built {
    /// Scans every file under `dir` (in parallel).
    pub fn scan(dir: &Path) -> Built {
        let mut paths: Vec<String> = walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| Some(e.path().strip_prefix(dir).ok()?.to_string_lossy().replace('\\', "/")))
            .collect();
        paths.sort();
        let scans: Vec<FileScan> = paths
            .par_iter()
            .filter(|p| p.ends_with(".html") || p.ends_with(".css") || p.ends_with(".js"))
            .filter_map(|p| {
                let text = std::fs::read_to_string(dir.join(p)).ok()?;
                Some(scan_file(p, &text))
            })
            .collect();
        let by_file = scans.iter().enumerate().map(|(i, s)| (s.file.clone(), i)).collect();
        Built { dir: dir.to_path_buf(), files: paths.into_iter().collect(), scans, by_file }
    }

    /// The text of a built file.
    pub fn read(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(file)).ok()
    }
}

const LOADING_RELS: [&str; 10] = [
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "preconnect",
    "dns-prefetch",
    "icon",
    "apple-touch-icon",
    "manifest",
    "mask-icon",
];

fn scan_file(file: &str, text: &str) -> FileScan {
    let mut s = FileScan { file: file.to_string(), ..FileScan::default() };
    if file.ends_with(".css") {
        for (line, url) in scan::css_urls(text) {
            s.refs.push(Ref { line, url, kind: RefKind::Load("stylesheet url()") });
        }
        return s;
    }
    if file.ends_with(".js") {
        s.js = Some(js_facts(text, 0));
        return s;
    }
    scan::html(text, |item| match item {
        scan::Item::Tag { name, attrs, line } => {
            let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
            if let Some(id) = get("id") {
                s.ids.insert(id.to_string());
            }
            if name == "a"
                && let Some(n) = get("name")
            {
                s.ids.insert(n.to_string());
            }
            if let Some(sku) = get("data-sku") {
                s.priced.push(Priced {
                    line,
                    sku: sku.to_string(),
                    price: get("data-price").map(str::to_string),
                    availability: get("data-availability").map(str::to_string),
                });
            }
            for (attr, value) in &attrs {
                let kind = match (attr.as_str(), name.as_str()) {
                    ("href", "a" | "area") => RefKind::Link,
                    ("href", "link") => {
                        let rel = get("rel").unwrap_or("").to_ascii_lowercase();
                        match rel.split_whitespace().find_map(|r| LOADING_RELS.iter().find(|l| **l == r)) {
                            Some(what) => RefKind::Load(what),
                            None => RefKind::Link,
                        }
                    }
                    ("src", "img" | "source" | "input") | ("poster", _) => RefKind::Load("image"),
                    ("src", "script") => RefKind::Load("script"),
                    ("src", "iframe" | "frame") => RefKind::Load("frame"),
                    ("src", "video" | "audio" | "track" | "embed") => RefKind::Load("media"),
                    ("src", _) => RefKind::Load("resource"),
                    ("data", "object") => RefKind::Load("object"),
                    ("action", "form") | ("formaction", _) => RefKind::Submit,
                    ("srcset", _) => {
                        for candidate in value.split(',') {
                            if let Some(url) = candidate.split_whitespace().next() {
                                s.refs.push(Ref { line, url: url.to_string(), kind: RefKind::Load("image") });
                            }
                        }
                        continue;
                    }
                    ("style", _) => {
                        for (_, url) in scan::css_urls(value) {
                            s.refs.push(Ref { line, url, kind: RefKind::Load("style url()") });
                        }
                        continue;
                    }
                    _ => continue,
                };
                s.refs.push(Ref { line, url: value.clone(), kind });
            }
        }
        scan::Item::Style { body, line } => {
            for (l, url) in scan::css_urls(body) {
                s.refs.push(Ref { line: line + l - 1, url, kind: RefKind::Load("style url()") });
            }
        }
        scan::Item::Script { attrs, body, line } => {
            let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
            if let Some(src) = get("src") {
                s.refs.push(Ref { line, url: src.to_string(), kind: RefKind::Load("script") });
                return;
            }
            if !crate::html::is_executable_type(get("type")) {
                return;
            }
            use sha2::Digest;
            let digest = sha2::Sha256::digest(body.as_bytes());
            s.scripts.push(InlineScript {
                line,
                hash: format!("'sha256-{}'", base64(&digest)),
                first_line: body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_string(),
                js: js_facts(body, line - 1),
            });
        }
    });
    s
}

const STORAGE_APIS: [&str; 4] = ["document.cookie", "localStorage", "sessionStorage", "indexedDB"];

/// Storage use, storage keys and absolute URLs of a script; lines shifted by `offset`.
fn js_facts(source: &str, offset: usize) -> JsFacts {
    let js = scan::js(source);
    let mut facts = JsFacts::default();
    for (line, code) in &js.code_lines {
        for api in STORAGE_APIS {
            if code.contains(api) {
                facts.storage.push((line + offset, api));
            }
        }
    }
    for (line, lit) in &js.literals {
        let lower = lit.to_ascii_lowercase();
        let absolute = lower.starts_with("http://") || lower.starts_with("https://");
        let protocol_relative = lower.starts_with("//") && lower[2..].starts_with(|c: char| c.is_ascii_alphanumeric());
        if (absolute || protocol_relative) && !lower.starts_with("http://www.w3.org/") {
            facts.urls.push((line + offset, lit.clone()));
        }
    }
    let touches_storage = !facts.storage.is_empty() || js.code_lines.iter().any(|(_, c)| c.contains(".cookie"));
    if !touches_storage {
        return facts;
    }
    // Identifiers assigned a namespaced literal (`K='cohort.consent'`).
    let mut named: HashMap<String, (usize, String)> = HashMap::new();
    for (line, code) in &js.code_lines {
        for (at, _) in code.match_indices('=') {
            let value = code[at + 1..].trim_start();
            let before = code[..at].trim_end();
            if before.ends_with(['=', '!', '<', '>', '+', '-', '*', '/']) || value.starts_with('=') {
                continue;
            }
            let ident: String = before
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if let Some(lit) = js.literal_at(value) {
                if before.ends_with(".cookie") {
                    let name = lit.split('=').next().unwrap_or("").trim();
                    if key_shaped(name) {
                        facts.keys.push((line + offset, name.to_string()));
                    }
                } else if !ident.is_empty() && key_shaped(lit) && lit.contains(['.', '_']) {
                    named.insert(ident, (line + offset, lit.to_string()));
                }
            }
        }
    }
    for (line, code) in &js.code_lines {
        for call in ["setItem(", "getItem(", "removeItem("] {
            for (at, _) in code.match_indices(call) {
                let arg = code[at + call.len()..].trim_start();
                if let Some(lit) = js.literal_at(arg)
                    && key_shaped(lit)
                {
                    facts.keys.push((line + offset, lit.to_string()));
                }
            }
        }
        for (ident, (l, lit)) in &named {
            let used = [format!("({ident})"), format!("({ident},"), format!(",{ident})"), format!("[{ident}]")]
                .iter()
                .any(|p| code.contains(p.as_str()));
            if used {
                facts.keys.push((*l, lit.clone()));
            }
        }
    }
    facts.keys.sort();
    facts.keys.dedup();
    facts
}

fn key_shaped(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && s.chars().any(|c| c.is_ascii_alphabetic())
}

pub use crate::output::csp::base64;

/// Where a URL in a built file points.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// A file of this site (relative path inside the build, as it would be served) and a
    /// fragment, if any.
    Internal {
        /// The file, relative to the build.
        file: String,
        /// The `#fragment`, if any.
        fragment: Option<String>,
    },
    /// Another origin (`https://host`).
    External(String),
    /// mailto:, data:, javascript: and other schemes; nothing to check.
    Other,
}

/// The shared context of the rules that read the build.
pub struct Ctx<'a> {
    /// The shop.
    pub shop: &'a Shop,
    /// From built output back to sources.
    pub locator: &'a Locator,
    /// The scanned build.
    pub built: &'a Built,
    /// `https://host` of base_url.
    pub origin: String,
}

impl<'a> Ctx<'a> {
    /// The context of one check run.
    pub fn new(shop: &'a Shop, locator: &'a Locator, built: &'a Built) -> Ctx<'a> {
        let origin = origin_of(shop.site.base_url.trim()).unwrap_or_default();
        Ctx { shop, locator, built, origin }
    }

    /// Resolves `url` as the browser would on built file `from`.
    pub fn target(&self, from: &str, url: &str) -> Target {
        let url = url.trim();
        if url.is_empty() {
            return Target::Other;
        }
        if let Some(fragment) = url.strip_prefix('#') {
            if fragment.is_empty() || from.starts_with("_cohort/") {
                return Target::Other;
            }
            return Target::Internal { file: from.to_string(), fragment: Some(percent_decode_lossy(fragment)) };
        }
        let lower = url.to_ascii_lowercase();
        let absolute = if lower.starts_with("//") { format!("https:{url}") } else { url.to_string() };
        let path = if let Some(origin) = origin_of(&absolute) {
            if origin != self.origin {
                return Target::External(origin);
            }
            let after = &absolute[absolute.find("://").map_or(0, |i| i + 3)..];
            after.find(['/', '?', '#']).map_or("/".to_string(), |i| after[i..].to_string())
        } else if lower.split(['/', '?', '#']).next().is_some_and(|s| s.contains(':')) {
            return Target::Other;
        } else if url.starts_with('/') {
            url.to_string()
        } else {
            let dir = from.rfind('/').map_or("", |i| &from[..=i]);
            format!("{}{dir}{url}", self.shop.site.base_path)
        };
        let (path, fragment) = match path.split_once('#') {
            Some((p, f)) => (p.to_string(), Some(percent_decode_lossy(f)).filter(|f| !f.is_empty())),
            None => (path, None),
        };
        let path = path.split('?').next().unwrap_or("").to_string();
        let base = &self.shop.site.base_path;
        let Some(rel) =
            path.strip_prefix(base.as_str()).or_else(|| (path.clone() + "/").strip_prefix(base.as_str()).map(|_| ""))
        else {
            return Target::Internal { file: path.trim_start_matches('/').to_string(), fragment };
        };
        let mut parts: Vec<String> = Vec::new();
        for part in percent_decode_lossy(rel).split('/') {
            match part {
                "." => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p.to_string()),
            }
        }
        let rel = parts.join("/");
        let file = if rel.is_empty() || rel.ends_with('/') {
            format!("{rel}index.html")
        } else if self.built.files.contains(&rel) {
            rel
        } else {
            format!("{rel}/index.html")
        };
        Target::Internal { file, fragment }
    }

    /// The origins a page may load from: its own, the consent endpoint's, declared third parties.
    pub fn allowed_origins(&self) -> HashSet<String> {
        let privacy = &self.shop.site.config.privacy;
        let mut set: HashSet<String> = privacy
            .third_parties
            .iter()
            .flat_map(|t| t.origins().filter_map(|o| origin_of(o.trim())).collect::<Vec<_>>())
            .collect();
        set.insert(self.origin.clone());
        if let Some(o) = origin_of(privacy.consent_endpoint.trim()) {
            set.insert(o);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keys_are_found_through_names_and_calls() {
        let f = js_facts(
            "var K='cohort.consent',Q='a b';\nlocalStorage.setItem(K,1);get(K);\nd.cookie='cohort_'+k+'=1';\nsessionStorage.getItem(\"x.y\")",
            0,
        );
        let keys: Vec<&str> = f.keys.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(keys, vec!["cohort.consent", "cohort_", "x.y"]);
        assert_eq!(f.storage, vec![(2, "localStorage"), (4, "sessionStorage")]);
    }
}
