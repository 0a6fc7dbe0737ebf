//! What `cohort check` reports: findings (rule, severity, place, fix), the report that
//! sorts and counts them, and the findings made from what loading and building returned
//! (warnings, typed render and build errors, read from their structure).

use super::Locator;
use crate::build::BuildError;
use crate::content::Shop;
use crate::render::{RenderError, RenderErrorKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the check (unless acknowledged).
    Error,
    /// Reported; does not fail the check.
    Warning,
}

impl Severity {
    /// "error" or "warning".
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
    /// Error or warning.
    pub severity: Severity,
    /// Stable rule id, e.g. `content/broken-link` (see docs/check.md).
    pub rule: &'static str,
    /// The file to fix, relative to the shop root; a built file is shown as `/PATH` (the
    /// path inside the build).
    pub file: String,
    /// 1-based line, 0 when the finding concerns the whole file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
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
    /// A finding of `severity` for `rule` at `file`:`line`, with its message and fix.
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
    /// An error finding (add the fix with [`Finding::fix`]).
    pub fn error(rule: &'static str, file: impl Into<String>, line: usize, msg: impl Into<String>) -> Finding {
        Finding::new(Severity::Error, rule, file, line, msg, String::new())
    }
    /// A warning finding.
    pub fn warning(rule: &'static str, file: impl Into<String>, line: usize, msg: impl Into<String>) -> Finding {
        Finding::new(Severity::Warning, rule, file, line, msg, String::new())
    }
    /// Sets how to fix it.
    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = cut(fix.into());
        self
    }
    /// Notes the built page it was seen on.
    pub fn on_page(mut self, page: &str) -> Finding {
        self.page = Some(page.to_string());
        self
    }
    /// Notes the cohort it concerns (for acknowledgements).
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
    /// Every finding, sorted.
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
    /// Errors not acknowledged.
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }
    /// Warnings not acknowledged.
    pub fn warnings(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Warning && f.acknowledged.is_none()).count()
    }
    /// Findings shop.toml acknowledges with a reason.
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

/// The warnings found while loading (those `cohort build` prints) as findings; an unmatched
/// interest of a cohort that matches no product at all is left to `ethics/cohort-no-products`.
pub(super) fn load_warnings(shop: &Shop, findings: &[Finding]) -> Vec<Finding> {
    let no_products =
        |id: &str| findings.iter().any(|f| f.rule == "ethics/cohort-no-products" && f.cohort.as_deref() == Some(id));
    shop.warnings
        .iter()
        .filter_map(|w| w.rule().map(|rule| (w, rule)))
        .filter(|(_, rule)| rule.cohort.as_deref().is_none_or(|id| !no_products(id)))
        .map(|(w, rule)| {
            let f = Finding::warning(rule.id, w.file.display().to_string(), w.line, &w.message)
                .fix(w.hint.as_deref().unwrap_or_default());
            match &rule.cohort {
                Some(id) => f.for_cohort(id),
                None => f,
            }
        })
        .collect()
}

/// Marks findings about a cohort that shop.toml acknowledges with a reason.
pub(super) fn acknowledge(shop: &Shop, findings: &mut [Finding]) {
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
pub(super) fn build_error_findings(e: &BuildError, locator: Option<&Locator>) -> Vec<Finding> {
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
        BuildError::Io(e) => vec![
            Finding::error("content/invalid", e.path.display().to_string(), 0, e.to_string())
                .fix("make the file or folder readable (and the temporary folder writable) and retry"),
        ],
        BuildError::Internal(message) => vec![
            Finding::error("content/invalid", "(build)", 0, format!("internal error in Cohort: {message}"))
                .fix("this is a bug in Cohort; please report it with the shop that shows it"),
        ],
    }
}
