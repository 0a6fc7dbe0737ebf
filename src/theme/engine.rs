//! The template engine abstraction: a theme's templates are rendered by name with a JSON
//! context, whichever engine the theme chose.

use crate::diagnostics::Diagnostic;

pub trait Engine: Send + Sync {
    /// Renders template `name` with `context` (a map; its keys become variables). Contexts
    /// are minijinja values because they share product cards between pages without
    /// copying; other engines serialize them.
    fn render(&self, name: &str, context: &minijinja::Value) -> Result<String, TemplateError>;
    /// Sets a variable every template sees (`site`).
    fn add_global(&mut self, name: &str, value: &serde_json::Value);
    fn has(&self, name: &str) -> bool;
}

/// A template problem, with the template and line where the engine knows them.
#[derive(Debug, Clone)]
pub struct TemplateError {
    pub template: Option<String>,
    pub line: Option<usize>,
    pub message: String,
}

impl TemplateError {
    /// `origin` maps a template name to the file it came from.
    pub fn into_diagnostic(self, origin: &dyn Fn(&str) -> String) -> Diagnostic {
        let file = self.template.as_deref().map_or_else(|| "templates".to_string(), origin);
        let mut d = Diagnostic::new(file, self.message);
        if let Some(line) = self.line {
            d = d.at_line(line, 0, None);
        }
        d.hint("fix the template; the message above says what the engine expected")
    }
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(t) = &self.template {
            write!(f, "{t}")?;
            if let Some(l) = self.line {
                write!(f, ":{l}")?;
            }
            write!(f, ": ")?;
        }
        f.write_str(&self.message)
    }
}

/// The largest page (or slot) one template may render: far above any real page, low enough
/// that a runaway template (`{{ "a" * 100000000 }}`) fails fast instead of writing gigabytes.
pub const MAX_PAGE_BYTES: usize = 16 << 20;

/// The minijinja fuel of one render: one per instruction and per 64 bytes the template
/// allocates or writes (checked before a value is allocated), so about 64 MB at most. The
/// largest page of a generated 3,000-product shop uses about 2,500; a runaway loop or a
/// huge value (`"a" * 100000000`) runs out.
pub const FUEL: u64 = 1_000_000;

/// Where an engine writes a page: refuses to grow beyond [`MAX_PAGE_BYTES`].
#[derive(Default)]
pub struct Bounded {
    bytes: Vec<u8>,
    /// Whether a write was refused for the size.
    pub over: bool,
}

impl Bounded {
    /// The page written (engines write whole UTF-8 strings; anything else is replaced).
    pub fn into_string(self) -> String {
        String::from_utf8(self.bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_PAGE_BYTES {
            self.over = true;
            return Err(std::io::Error::other("the page is too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The error of a template whose output went over [`MAX_PAGE_BYTES`].
pub fn too_large(template: &str) -> TemplateError {
    TemplateError {
        template: Some(template.to_string()),
        line: None,
        message: format!(
            "the page it renders is larger than {} MiB, the most a page may have; look for a value \
             repeated or multiplied, or a loop that never ends",
            MAX_PAGE_BYTES >> 20
        ),
    }
}

/// The error of a minijinja template that used up its [`FUEL`].
pub fn out_of_fuel(template: &str, line: Option<usize>) -> TemplateError {
    TemplateError {
        template: Some(template.to_string()),
        line,
        message: "the template did far more work than any page needs and was stopped; look for a \
                  value repeated or multiplied into a huge one, or a loop over a huge range"
            .to_string(),
    }
}
