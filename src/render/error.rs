//! What stops a page from rendering, as a type: the build groups equal errors into one
//! with the pages they stopped, `cohort check` turns them into findings and the live-reload
//! overlay shows their place, without reading any of it back out of a message.

use crate::diagnostics::Diagnostic;
use crate::theme::engine::TemplateError;
use std::collections::BTreeMap;

/// The problem itself, the same for every page it stops.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RenderErrorKind {
    /// A template failed.
    Template {
        /// The template's file (the shop's override or the theme's).
        file: String,
        /// The engine's error, with its line, column and excerpt.
        error: TemplateError,
    },
    /// The price invariance guard stopped a cohort's version of a slot or of a whole page.
    Guard {
        /// The cohort whose version differs.
        cohort: String,
        /// The slot, or None for a full-page variant.
        slot: Option<String>,
        /// What differs.
        detail: String,
    },
    /// Anything else, e.g. a slot asked for on a page that has no data for it.
    Other(String),
}

/// One distinct problem found while rendering, and the pages it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    /// Boxed: rendering results carry it, and most of them are `Ok`.
    pub kind: Box<RenderErrorKind>,
    /// Site paths of the pages it stopped ("/products/a/"), sorted; empty when it concerns
    /// what every page shares (the consent banner, the product-page picks).
    pub pages: Vec<String>,
    /// The content file of the first page, when it has one.
    pub source: Option<String>,
}

impl RenderError {
    /// The error `kind`, on no page yet (see [`RenderError::on_page`]).
    pub fn new(kind: RenderErrorKind) -> Self {
        RenderError { kind: Box::new(kind), pages: Vec::new(), source: None }
    }

    /// The same error, found while rendering `page` (a site path without the leading `/`)
    /// from the content file `source` ("" for none).
    pub fn on_page(mut self, page: &str, source: &str) -> Self {
        self.pages = vec![format!("/{page}")];
        self.source = (!source.is_empty()).then(|| source.to_string());
        self
    }

    /// Equal errors as one, with all the pages they stopped; sorted by kind.
    pub fn merge(errors: Vec<RenderError>) -> Vec<RenderError> {
        let mut by_kind: BTreeMap<Box<RenderErrorKind>, RenderError> = BTreeMap::new();
        for e in errors {
            match by_kind.get_mut(&e.kind) {
                Some(seen) => {
                    let first = seen.pages.first().cloned();
                    seen.pages.extend(e.pages);
                    seen.pages.sort();
                    seen.pages.dedup();
                    if seen.pages.first() != first.as_ref() && e.source.is_some() {
                        seen.source = e.source;
                    }
                }
                None => {
                    by_kind.insert(e.kind.clone(), e);
                }
            }
        }
        by_kind.into_values().collect()
    }

    /// Where it was found: "while rendering /products/a/ from products/a.md" or
    /// "while rendering 20 pages, e.g. ...".
    pub fn pages_note(&self) -> String {
        let Some(first) = self.pages.first() else {
            return match self.kind.as_ref() {
                RenderErrorKind::Guard { .. } => "on every product page".to_string(),
                _ => "while rendering what every page shares".to_string(),
            };
        };
        let from = self.source.as_ref().map_or(String::new(), |s| format!(" from {s}"));
        match self.pages.len() {
            1 => format!("while rendering {first}{from}"),
            n => format!("while rendering {n} pages, e.g. {first}{from}"),
        }
    }

    /// The file to fix, its line and column (0 when unknown).
    pub fn place(&self) -> (String, usize, usize) {
        match self.kind.as_ref() {
            RenderErrorKind::Template { file, error } => (file.clone(), error.line.unwrap_or(0), error.column),
            RenderErrorKind::Guard { slot: Some(slot), .. } => (format!("templates/slots/{slot}.html"), 0, 0),
            _ => (String::new(), 0, 0),
        }
    }

    /// One line: what is wrong and where it was found.
    pub fn summary(&self) -> String {
        let what = match self.kind.as_ref() {
            RenderErrorKind::Template { error, .. } => error.message.clone(),
            RenderErrorKind::Guard { cohort, slot: Some(slot), detail } => format!(
                "the price invariance guard stopped the build: cohort `{cohort}`'s version of slot `{slot}`: {detail}"
            ),
            RenderErrorKind::Guard { cohort, slot: None, detail } => {
                format!(
                    "the price invariance guard stopped the build: cohort `{cohort}`'s variant of the page: {detail}"
                )
            }
            RenderErrorKind::Other(message) => message.clone(),
        };
        format!("{what} ({})", self.pages_note())
    }

    /// How to fix it.
    pub fn hint(&self) -> String {
        match self.kind.as_ref() {
            RenderErrorKind::Template { error, .. } => error
                .hint
                .clone()
                .unwrap_or_else(|| "fix the template; the message above says what the engine expected".into()),
            RenderErrorKind::Guard { slot: Some(slot), .. } => {
                format!("every cohort must see the same price, availability and SKU; check templates/slots/{slot}.html")
            }
            RenderErrorKind::Guard { .. } => {
                "every cohort must see the same price, availability and SKU; check the slot templates".into()
            }
            RenderErrorKind::Other(_) => "fix the template or the content it names".into(),
        }
    }
}

impl RenderError {
    /// The error as a diagnostic: place, message, the template line and the fix.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let (file, line, column) = self.place();
        let file = if file.is_empty() { "templates".to_string() } else { file };
        let d = Diagnostic::new(file, self.summary()).hint(self.hint());
        match self.kind.as_ref() {
            RenderErrorKind::Template { error, .. } => d.at_line(line, column, error.snippet.as_deref()),
            _ => d,
        }
    }
}

impl std::fmt::Display for RenderError {
    /// The error as `cohort build` prints it (after "error: "): place, message, the
    /// template line with a caret, and the fix.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.to_diagnostic().to_string();
        f.write_str(text.strip_prefix("error: ").unwrap_or(&text))
    }
}

impl std::error::Error for RenderError {}

/// So callers that report errors as text can use `?`.
impl From<RenderError> for String {
    fn from(e: RenderError) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_errors_become_one_with_their_pages() {
        let kind = RenderErrorKind::Other("boom".into());
        let errors = vec![
            RenderError::new(kind.clone()).on_page("products/b/", "products/b.md"),
            RenderError::new(kind.clone()).on_page("products/a/", "products/a.md"),
            RenderError::new(RenderErrorKind::Other("other".into())).on_page("x/", ""),
        ];
        let merged = RenderError::merge(errors);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].pages, vec!["/products/a/", "/products/b/"]);
        assert_eq!(merged[0].summary(), "boom (while rendering 2 pages, e.g. /products/a/ from products/a.md)");
    }
}
