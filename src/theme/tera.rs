//! The tera backend, for themes that say `engine = "tera"` in theme.toml. HTML templates
//! escape by default.

use super::engine::{Engine, TemplateError, did_you_mean};
use std::collections::BTreeMap;
use tera::{Context, ErrorKind, Tera};

/// The tera [`Engine`], for themes whose theme.toml says `engine = "tera"`.
pub struct TeraEngine {
    tera: Tera,
    /// Template name → its text, to place errors (line, column, excerpt).
    sources: BTreeMap<String, String>,
}

impl TeraEngine {
    /// Parses `templates` (name, text) together; when tera rejects them, the error is
    /// placed in the template it names.
    pub fn new(templates: Vec<(String, String)>) -> Result<Self, TemplateError> {
        let sources: BTreeMap<String, String> = templates.iter().cloned().collect();
        let mut tera = Tera::new();
        tera.register_function("picture", picture);
        let mut engine = TeraEngine { tera, sources };
        if let Err(e) = engine.tera.add_raw_templates(templates) {
            return Err(engine.convert(&e));
        }
        Ok(engine)
    }

    /// The engine's error as a [`TemplateError`]: placed in the template, an unclosed tag
    /// pointed at, an undefined name given the closest of the names tera lists.
    fn convert(&self, e: &tera::Error) -> TemplateError {
        let report = match e.kind() {
            ErrorKind::SyntaxError(r) | ErrorKind::RenderingError(r) => {
                Some((r, matches!(e.kind(), ErrorKind::SyntaxError(_))))
            }
            _ => None,
        };
        let Some((report, syntax)) = report else {
            let mut message = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                message = format!("{message} ({inner})");
                source = inner.source();
            }
            return TemplateError::new(None, message);
        };
        let name = report.filename().to_string();
        let (head, available) = match report.message().split_once(". Available ") {
            Some((head, list)) => (head, list.split_once(": ").map(|(_, names)| names)),
            None => (report.message(), None),
        };
        let text = self.sources.get(&name);
        let start = report.span().range.start;
        let mut t = TemplateError::new(Some(name), head.trim_end_matches('.'));
        t.line = Some(report.span().start_line);
        if let Some(text) = text {
            t = t.at(text, start);
            if syntax {
                t = t.point_at_unclosed(text);
            }
        }
        if let (Some(names), Some(text)) = (available, text) {
            let names: Vec<String> = names.split(", ").map(str::to_string).collect();
            let expr = expression_before(text, report.span().range.end);
            t.message = format!("{} (`{expr}`)", t.message);
            t.hint =
                did_you_mean(&expr, &names).or_else(|| Some(format!("the names known here are: {}", names.join(", "))));
        }
        t
    }
}

/// The dotted name that ends at byte `end` of `text` (`product.titel`).
fn expression_before(text: &str, end: usize) -> String {
    let before = text.get(..end).unwrap_or("");
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '.')
        .last()
        .map_or(before.len(), |(i, _)| i);
    before[start..].to_string()
}

/// `picture(image=..., sizes=..., eager=..., class=..., alt=...)`: the image as a
/// `<picture>` element (`crate::images::picture_html`); a missing image gives nothing.
fn picture(kwargs: tera::Kwargs, _: &tera::State) -> tera::TeraResult<tera::Value> {
    let image: Option<tera::Value> = kwargs.get("image")?;
    let options = crate::images::PictureOptions {
        sizes: kwargs.get("sizes")?,
        eager: kwargs.get::<bool>("eager")?.unwrap_or(false),
        class: kwargs.get("class")?,
        alt: kwargs.get("alt")?,
    };
    let json = image.and_then(|v| serde_json::to_value(&v).ok()).unwrap_or(serde_json::Value::Null);
    Ok(tera::Value::safe_string(&crate::images::picture_html(&json, &options)))
}

impl Engine for TeraEngine {
    fn render(&self, name: &str, context: &minijinja::Value) -> Result<String, TemplateError> {
        let ctx = Context::from_serialize(context).map_err(|e| self.convert(&e))?;
        // Tera has no fuel: the page is bounded as it is written.
        let mut out = super::engine::Bounded::default();
        match self.tera.render_to(name, &ctx, &mut out) {
            Err(_) if out.over => Err(super::engine::too_large(name)),
            Err(e) => {
                let mut t = self.convert(&e);
                t.template.get_or_insert_with(|| name.to_string());
                Err(t)
            }
            Ok(()) => Ok(out.into_string()),
        }
    }
    fn add_global(&mut self, name: &str, value: &serde_json::Value) {
        self.tera.global_context().insert(name.to_string(), value);
    }
    fn has(&self, name: &str) -> bool {
        self.tera.contains_template(name)
    }
}
