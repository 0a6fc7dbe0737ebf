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
