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
pub mod privacy;
pub mod scan;

use crate::build::{BuildError, BuildOptions};
use crate::content::Shop;
use crate::render::{RenderError, RenderErrorKind};
use crate::theme::Theme;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found by `cohort check`.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable rule id, e.g. `content/broken-link` (see docs/check.md).
    pub rule: &'static str,
    /// The file to fix, relative to the shop root; a built file is shown as `/PATH` (the
    /// path inside the build).
    pub file: String,
    /// 1-based line, 0 when the finding concerns the whole file.
    pub line: usize,
    pub message: String,
    pub fix: String,
    /// The merchant's reason, when shop.toml acknowledges this finding; it then does not
    /// fail the check.
    pub acknowledged: Option<String>,
    /// The built page the finding was seen on (for grouping; not part of the output).
    #[serde(skip)]
    pub page: Option<String>,
    /// The cohort the finding is about (for acknowledgements).
    #[serde(skip)]
    pub cohort: Option<String>,
}

/// A message with its overlong values cut (see [`crate::diagnostics::cut_long`]).
fn cut(text: String) -> String {
    match crate::diagnostics::cut_long(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(cut) => cut,
    }
}

impl Finding {
    pub fn new(
        severity: Severity,
        rule: &'static str,
        file: impl Into<String>,
        line: usize,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            severity,
            rule,
            file: file.into(),
            line,
            message: cut(message.into()),
            fix: cut(fix.into()),
            acknowledged: None,
            page: None,
            cohort: None,
        }
    }
    pub fn error(rule: &'static str, file: impl Into<String>, line: usize, msg: impl Into<String>) -> Finding {
        Finding::new(Severity::Error, rule, file, line, msg, String::new())
    }
    pub fn warning(rule: &'static str, file: impl Into<String>, line: usize, msg: impl Into<String>) -> Finding {
        Finding::new(Severity::Warning, rule, file, line, msg, String::new())
    }
    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = cut(fix.into());
        self
    }
    pub fn on_page(mut self, page: &str) -> Finding {
        self.page = Some(page.to_string());
        self
    }
    pub fn for_cohort(mut self, id: &str) -> Finding {
        self.cohort = Some(id.to_string());
        self
    }
    /// Whether it fails the check.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error && self.acknowledged.is_none()
    }
}

/// Everything `cohort check` found, sorted by file, line and rule.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    errors: usize,
    warnings: usize,
    acknowledged: usize,
    findings: &'a [Finding],
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Warning && f.acknowledged.is_none()).count()
    }
    pub fn acknowledged(&self) -> usize {
        self.findings.iter().filter(|f| f.acknowledged.is_some()).count()
    }

    /// One finding per line: `error[rule] file:line: message — fix: ...`, then a summary.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let place = if f.line > 0 { format!("{}:{}", f.file, f.line) } else { f.file.clone() };
            match &f.acknowledged {
                Some(reason) => out.push_str(&format!(
                    "acknowledged[{}] {place}: {} — acknowledged in shop.toml: {reason}\n",
                    f.rule, f.message
                )),
                None => out.push_str(&format!(
                    "{}[{}] {place}: {} — fix: {}\n",
                    f.severity.name(),
                    f.rule,
                    f.message,
                    f.fix
                )),
            }
        }
        let (e, w, a) = (self.errors(), self.warnings(), self.acknowledged());
        out.push_str(&format!(
            "{e} error{}, {w} warning{}{}\n",
            if e == 1 { "" } else { "s" },
            if w == 1 { "" } else { "s" },
            if a > 0 { format!(", {a} acknowledged") } else { String::new() }
        ));
        out
    }

    /// The stable machine-readable form (schemas/check-output.schema.json).
    pub fn json(&self) -> String {
        let report = JsonReport {
            version: 1,
            errors: self.errors(),
            warnings: self.warnings(),
            acknowledged: self.acknowledged(),
            findings: &self.findings,
        };
        serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".into()) + "\n"
    }

    /// Groups findings that point at the same place for the same reason (a broken link in a
    /// template shows on every page), then sorts.
    pub fn finish(mut findings: Vec<Finding>) -> Report {
        // Findings located in a built page (no source found) group by rule and message
        // alone: the same generated link on every page is one finding.
        findings.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        let mut groups: BTreeMap<(String, usize, &'static str, String), (Finding, usize)> = BTreeMap::new();
        for f in findings.drain(..) {
            let in_page = f.page.as_ref().is_some_and(|p| f.file == format!("/{p}"));
            let key = if in_page {
                (String::new(), 0, f.rule, f.message.clone())
            } else {
                (f.file.clone(), f.line, f.rule, f.message.clone())
            };
            groups.entry(key).and_modify(|(_, n)| *n += 1).or_insert((f, 1));
        }
        let mut findings: Vec<Finding> = groups
            .into_values()
            .map(|(mut f, n)| {
                let in_page = f.page.as_ref().is_some_and(|p| f.file == format!("/{p}"));
                if in_page && n > 1 {
                    f.message = format!("{} (and on {} more page{})", f.message, n - 1, if n == 2 { "" } else { "s" });
                } else if let Some(page) = &f.page
                    && !in_page
                {
                    let shown = format!("/{}", page.strip_suffix("index.html").unwrap_or(page));
                    f.message = if n > 1 {
                        format!("{} (on {shown} and {} more page{})", f.message, n - 1, if n == 2 { "" } else { "s" })
                    } else {
                        format!("{} (on {shown})", f.message)
                    };
                }
                f
            })
            .collect();
        findings.sort_by(|a, b| (&a.file, a.line, a.rule, &a.message).cmp(&(&b.file, b.line, b.rule, &b.message)));
        Report { findings }
    }
}

/// A temporary folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("cohort-check-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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
    let temp = match TempDir::new() {
        Ok(t) => t,
        Err(e) => {
            findings.push(
                Finding::error("content/invalid", "(build)", 0, format!("cannot create a temporary folder: {e}"))
                    .fix("make the system's temporary folder writable (or set TMPDIR)"),
            );
            return Report::finish(findings);
        }
    };
    let out = temp.0.join("site");
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

/// The warnings found while loading (those `cohort build` prints) as findings; an unmatched
/// interest of a cohort that matches no product at all is left to `ethics/cohort-no-products`.
fn load_warnings(shop: &Shop, findings: &[Finding]) -> Vec<Finding> {
    let no_products =
        |id: &str| findings.iter().any(|f| f.rule == "ethics/cohort-no-products" && f.cohort.as_deref() == Some(id));
    shop.warnings
        .iter()
        .filter(|w| w.cohort.as_deref().is_none_or(|id| !no_products(id)))
        .map(|w| {
            let f = Finding::warning(w.rule, w.file.display().to_string(), w.line, &w.message).fix(&w.hint);
            match &w.cohort {
                Some(id) => f.for_cohort(id),
                None => f,
            }
        })
        .collect()
}

/// Marks findings about a cohort that shop.toml acknowledges with a reason.
fn acknowledge(shop: &Shop, findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        let Some(id) = &f.cohort else { continue };
        let Some(cohort) = shop.site.config.cohorts.iter().find(|c| c.id.get_ref() == id) else { continue };
        if let Some(ack) = cohort.acknowledge.iter().find(|a| a.rule == f.rule) {
            if ack.reason.trim().is_empty() {
                f.message.push_str(" (acknowledged without a reason, which does not count)");
            } else {
                f.acknowledged = Some(ack.reason.trim().to_string());
            }
        }
    }
}

/// A rendering error as a finding: a guard failure points at the slot template's price,
/// availability or SKU attribute; a template error at its place in the template.
fn render_finding(e: &RenderError, locator: Option<&Locator>) -> Finding {
    match e.kind.as_ref() {
        RenderErrorKind::Guard { slot, .. } => {
            let (file, line) = match (slot, locator) {
                (Some(slot), Some(l)) => {
                    let t = format!("slots/{slot}.html");
                    let line = ["data-price", "data-availability", "data-sku"]
                        .iter()
                        .find_map(|n| l.template_line(&t, n))
                        .unwrap_or(0);
                    (l.template_display(&t), line)
                }
                _ => ("templates/slots".to_string(), 0),
            };
            Finding::error("ethics/cohort-price-difference", file, line, e.summary()).fix(
                "show every cohort the same price, availability and SKU: take them from the product, never from the cohort",
            )
        }
        RenderErrorKind::Template { file, error } => {
            Finding::error("content/invalid", file.clone(), error.line.unwrap_or(0), e.summary()).fix(e.hint())
        }
        RenderErrorKind::Other(_) => Finding::error("content/invalid", "(build)", 0, e.summary())
            .fix("fix the template or the content it names; `cohort build` shows the full error"),
    }
}

/// A shop that does not load or build, as findings.
fn build_error_findings(e: &BuildError, locator: Option<&Locator>) -> Vec<Finding> {
    match e {
        BuildError::Invalid(diags) => diags
            .0
            .iter()
            .map(|d| {
                Finding::error("content/invalid", d.file.display().to_string(), d.line, &d.message).fix(
                    d.hint
                        .clone()
                        .unwrap_or_else(|| "correct the file; `cohort build` shows the offending line".into()),
                )
            })
            .collect(),
        BuildError::Render(errors) => errors.iter().map(|e| render_finding(e, locator)).collect(),
        BuildError::Io(msg) => vec![
            Finding::error("content/invalid", "(build)", 0, msg.clone())
                .fix("make the temporary folder writable and retry"),
        ],
    }
}

/// Maps something seen in the build back to the source file and line that put it there.
pub struct Locator {
    root: PathBuf,
    /// (shown name, text): the shop's overrides first, then the theme's templates.
    templates: Vec<(String, String, String)>,
    shop_toml: String,
    /// Site path of a static file → its source, as shown.
    statics: HashMap<String, String>,
    /// Output page → its source file (products and pages).
    page_sources: HashMap<String, PathBuf>,
}

impl Locator {
    pub fn new(shop: &Shop, theme: &Theme) -> Locator {
        let root = shop.root.clone();
        let shown = |name: &str, source: &crate::theme::Source, dir: &str| -> String {
            source.path().map_or_else(
                || format!("themes/{}/{dir}/{name}", theme.name),
                |p| crate::diagnostics::relative(&root, p).display().to_string().replace('\\', "/"),
            )
        };
        let mut templates: Vec<(String, String, String)> = theme
            .templates
            .iter()
            .filter_map(|(name, source)| {
                let text = String::from_utf8(source.bytes().ok()?.into_owned()).ok()?;
                Some((shown(name, source, "templates"), name.clone(), text))
            })
            .collect();
        templates.sort_by_key(|(display, _, _)| !display.starts_with("templates/"));
        let statics = theme.static_files.iter().map(|(path, s)| (path.clone(), shown(path, s, "static"))).collect();
        let mut page_sources = HashMap::new();
        for p in &shop.products {
            page_sources.insert(format!("products/{}/index.html", p.slug), p.source.clone());
        }
        for p in &shop.pages {
            page_sources.insert(format!("pages/{}/index.html", p.slug), p.source.clone());
        }
        let shop_toml = std::fs::read_to_string(root.join("shop.toml")).unwrap_or_default();
        Locator { root, templates, shop_toml, statics, page_sources }
    }

    /// How a template is shown: `templates/NAME` for a shop override, else the theme's path.
    pub fn template_display(&self, name: &str) -> String {
        self.templates
            .iter()
            .find(|(_, n, _)| n == name)
            .map_or_else(|| format!("templates/{name}"), |(d, _, _)| d.clone())
    }

    /// The line of template `name` that contains `needle`.
    pub fn template_line(&self, name: &str, needle: &str) -> Option<usize> {
        let (_, _, text) = self.templates.iter().find(|(_, n, _)| n == name)?;
        text.find(needle).map(|at| scan::line_of(text, at))
    }

    pub fn shop_toml(&self) -> &str {
        &self.shop_toml
    }

    /// Forgets static files the build replaced with its own (the runtime writes `cohort.js`
    /// over a shop's file of that name), so findings there do not blame the shop's file.
    fn keep_copied_statics(&mut self, out: &Path) {
        let root = self.root.clone();
        self.statics.retain(|path, shown| {
            if !(path.ends_with(".js") || path.ends_with(".css") || path.ends_with(".html")) {
                return true;
            }
            // An embedded theme file has no path under the root; reading it fails and it stays.
            match (std::fs::read(root.join(shown.as_str())), std::fs::read(out.join(path))) {
                (Ok(a), Ok(b)) => a == b,
                _ => true,
            }
        });
    }

    /// The source of a static file copied to `file` in the build, if it is one.
    pub fn static_source(&self, file: &str) -> Option<&str> {
        self.statics.get(file).map(String::as_str)
    }

    /// The source file and line behind `needle`, seen on line `line` of built file `file`:
    /// the static file it was copied from, the product or page file it came from, a
    /// template or shop.toml containing it; else the built file itself.
    pub fn locate(&self, file: &str, line: usize, needle: &str) -> (String, usize) {
        if let Some(source) = self.statics.get(file) {
            return (source.clone(), line);
        }
        let needle = needle.trim();
        let tail = needle.rsplit('/').next().filter(|t| t.len() >= 4 && *t != needle);
        let find = |text: &str| -> Option<usize> {
            if needle.is_empty() {
                return None;
            }
            text.find(needle).map(|at| scan::line_of(text, at))
        };
        if let Some(source) = self.page_sources.get(file)
            && let Ok(text) = std::fs::read_to_string(self.root.join(source))
            && let Some(l) = find(&text)
        {
            return (source.display().to_string().replace('\\', "/"), l);
        }
        for (display, _, text) in &self.templates {
            if let Some(l) = find(text) {
                return (display.clone(), l);
            }
        }
        if let Some(l) = find(&self.shop_toml) {
            return ("shop.toml".into(), l);
        }
        if let Some(tail) = tail
            && let Some(at) = self.shop_toml.find(tail)
        {
            return ("shop.toml".into(), scan::line_of(&self.shop_toml, at));
        }
        (format!("/{file}"), line)
    }
}

/// What a reference in a page does: navigate (a link) or load something into the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Link,
    /// Loaded by the browser: what it is ("stylesheet", "image", "script", "frame", ...).
    Load(&'static str),
    /// A form target: loaded on submit, but a server endpoint rather than a built file.
    Submit,
}

#[derive(Debug, Clone)]
pub struct Ref {
    pub line: usize,
    pub url: String,
    pub kind: RefKind,
}

/// An executable inline `<script>`.
#[derive(Debug, Clone)]
pub struct InlineScript {
    pub line: usize,
    /// `'sha256-…'` as a CSP would list it.
    pub hash: String,
    pub first_line: String,
    pub js: JsFacts,
}

/// A product as a page states it: SKU, price, availability (from `data-*` attributes).
#[derive(Debug, Clone)]
pub struct Priced {
    pub line: usize,
    pub sku: String,
    pub price: Option<String>,
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
    pub file: String,
    pub ids: HashSet<String>,
    pub refs: Vec<Ref>,
    pub scripts: Vec<InlineScript>,
    pub priced: Vec<Priced>,
    /// For a JavaScript file.
    pub js: Option<JsFacts>,
}

/// A build, scanned once: every file's path and what each HTML, CSS and JS file refers to.
pub struct Built {
    pub dir: PathBuf,
    pub files: HashSet<String>,
    pub scans: Vec<FileScan>,
    /// Index into `scans` by file.
    pub by_file: HashMap<String, usize>,
}

impl Built {
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
            if !is_executable(get("type")) {
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

/// Whether a `<script type=...>` runs (data blocks such as JSON and JSON-LD do not).
fn is_executable(kind: Option<&str>) -> bool {
    match kind.map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase()) {
        None => true,
        Some(t) => {
            t.is_empty()
                || t == "module"
                || t == "text/javascript"
                || t == "application/javascript"
                || t == "application/ecmascript"
                || t == "text/ecmascript"
        }
    }
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
    Internal { file: String, fragment: Option<String> },
    /// Another origin (`https://host`).
    External(String),
    /// mailto:, data:, javascript: and other schemes; nothing to check.
    Other,
}

/// The shared context of the rules that read the build.
pub struct Ctx<'a> {
    pub shop: &'a Shop,
    pub locator: &'a Locator,
    pub built: &'a Built,
    /// `https://host` of base_url.
    pub origin: String,
}

impl<'a> Ctx<'a> {
    pub fn new(shop: &'a Shop, locator: &'a Locator, built: &'a Built) -> Ctx<'a> {
        let origin = origin_of(&shop.site.base_url).unwrap_or_default();
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
            return Target::Internal { file: from.to_string(), fragment: Some(percent_decode(fragment)) };
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
            Some((p, f)) => (p.to_string(), Some(percent_decode(f)).filter(|f| !f.is_empty())),
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
        for part in percent_decode(rel).split('/') {
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
        let mut set: HashSet<String> =
            privacy.third_parties.iter().flat_map(|t| t.origins().filter_map(origin_of).collect::<Vec<_>>()).collect();
        set.insert(self.origin.clone());
        if let Some(o) = origin_of(&privacy.consent_endpoint) {
            set.insert(o);
        }
        set
    }
}

/// `scheme://host[:port]` of an absolute http(s) URL, lower case; None otherwise.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%zz%2"), "a b%zz%2");
    }
}
