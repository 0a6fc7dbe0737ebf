//! The minijinja backend (the default theme's engine). HTML templates escape by default;
//! printing an undefined variable is an error (tests such as `{% if x %}` stay lenient).

use super::engine::{Engine, TemplateError, all_keys, did_you_mean, keys_at};
use minijinja::value::Serde;
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};
use std::collections::BTreeMap;

/// The minijinja [`Engine`]: HTML autoescaping, semi-strict undefined variables, and a
/// [`FUEL`](super::engine::FUEL) limit per render.
pub struct MiniJinja {
    env: Environment<'static>,
    /// Template name → its text, to place errors (line, column, excerpt).
    sources: BTreeMap<String, String>,
    /// The globals (`site`), for "did you mean" hints about them.
    globals: BTreeMap<String, Value>,
}

impl MiniJinja {
    /// Compiles `templates` (name, text); the first one that does not parse is the error,
    /// placed in its template.
    pub fn new(templates: Vec<(String, String)>) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_fuel(Some(super::engine::FUEL));
        env.set_formatter(html_formatter);
        env.add_function("render_card", crate::render::partial_cache::render_card);
        env.add_function("partial_cached", crate::render::partial_cache::partial_cached);
        env.add_function("picture", picture);
        let sources: BTreeMap<String, String> = templates.iter().cloned().collect();
        let mut engine = MiniJinja { env, sources, globals: BTreeMap::new() };
        for (name, source) in templates {
            if let Err(e) = engine.env.add_template_owned(name, source) {
                return Err(engine.convert(&e, None));
            }
        }
        Ok(engine)
    }

    /// The engine's error as a [`TemplateError`]: placed in the template, an unclosed tag
    /// pointed at, an undefined name given the closest known one in `context`.
    fn convert(&self, e: &minijinja::Error, context: Option<&Value>) -> TemplateError {
        let mut message = e.kind().to_string();
        if let Some(detail) = e.detail() {
            message = format!("{message}: {detail}");
        }
        let mut source = std::error::Error::source(e);
        while let Some(inner) = source {
            message = format!("{message} ({inner})");
            source = inner.source();
        }
        let mut t = TemplateError::new(e.name().map(str::to_string), message);
        t.line = e.line();
        let text = e.name().and_then(|n| self.sources.get(n));
        if let (Some(text), Some(range)) = (text, e.range()) {
            t = t.at(text, range.start);
        }
        match e.kind() {
            ErrorKind::SyntaxError => {
                if let Some(text) = text {
                    t = t.point_at_unclosed(text);
                }
            }
            ErrorKind::UndefinedError => {
                let expr = e.detail().and_then(|d| d.split('`').nth(1));
                if let (Some(expr), Some(context)) = (expr, context) {
                    t.hint = self.undefined_hint(expr, context);
                }
            }
            _ => {}
        }
        t
    }

    /// "did you mean `product.title`?" for `product.titel`, from the names the context
    /// (and the globals) have at that place, else anywhere.
    fn undefined_hint(&self, expr: &str, context: &Value) -> Option<String> {
        let globals = Value::from(self.globals.clone());
        let parent = expr.rsplit_once('.').map(|(p, _)| p);
        let known = match parent {
            Some(p) => keys_at(context, p).or_else(|| keys_at(&globals, p)),
            None => {
                let mut names = keys_at(context, "").unwrap_or_default();
                names.extend(self.globals.keys().cloned());
                Some(names)
            }
        };
        if let Some(hint) = known.as_deref().and_then(|names| did_you_mean(expr, names)) {
            return Some(hint);
        }
        let mut all = all_keys(context);
        all.extend(all_keys(&globals));
        did_you_mean(expr, &all).or_else(|| match (parent, known) {
            (Some(p), Some(names)) if !names.is_empty() => Some(format!("`{p}` has: {}", names.join(", "))),
            _ => None,
        })
    }
}

/// `picture(image, sizes=..., eager=..., class=..., alt=...)`: the image as a `<picture>`
/// element (`crate::images::picture_html`); an undefined or empty image gives nothing.
fn picture(image: Option<Value>, kwargs: minijinja::value::Kwargs) -> Result<Value, minijinja::Error> {
    let image = match image {
        Some(v) => Some(v),
        None => kwargs.get::<Option<Value>>("image")?,
    };
    let options = crate::images::PictureOptions {
        sizes: kwargs.get("sizes")?,
        eager: kwargs.get::<Option<bool>>("eager")?.unwrap_or(false),
        class: kwargs.get("class")?,
        alt: kwargs.get("alt")?,
    };
    kwargs.assert_all_used()?;
    let json = match image {
        Some(v) if !v.is_undefined() && !v.is_none() => serde_json::to_value(&v)
            .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, format!("picture: {e}")))?,
        _ => serde_json::Value::Null,
    };
    Ok(Value::from_safe_string(crate::images::picture_html(&json, &options)))
}

impl Engine for MiniJinja {
    fn render(&self, name: &str, context: &Value) -> Result<String, TemplateError> {
        let template = self.env.get_template(name).map_err(|e| self.convert(&e, None))?;
        let mut out = super::engine::Bounded::default();
        let rendered = template.render_captured_to(context, &mut out);
        match rendered {
            Err(_) if out.over => Err(super::engine::too_large(name)),
            Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => Err(super::engine::out_of_fuel(name, e.line())),
            Err(e) => Err(self.convert(&e, Some(context))),
            Ok(_) => Ok(out.into_string()),
        }
    }
    fn add_global(&mut self, name: &str, value: &serde_json::Value) {
        let value = Value::from(Serde(value));
        self.globals.insert(name.to_string(), value.clone());
        self.env.add_global(name.to_string(), value);
    }
    fn has(&self, name: &str) -> bool {
        self.env.get_template(name).is_ok()
    }
}

/// Escapes `& < > " '` in HTML templates (minijinja's own formatter also escapes `/`,
/// which makes every URL unreadable without adding safety). Safe strings pass as they are.
fn html_formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if value.is_safe() || !matches!(state.auto_escape(), minijinja::AutoEscape::Html) {
        return minijinja::escape_formatter(out, state, value);
    }
    if value.is_none() || value.is_undefined() {
        return minijinja::escape_formatter(out, state, value);
    }
    let owned;
    let text = match value.as_str() {
        Some(s) => s,
        None => {
            owned = value.to_string();
            &owned
        }
    };
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[last..i]).map_err(minijinja::Error::from)?;
        out.write_str(rep).map_err(minijinja::Error::from)?;
        last = i + 1;
    }
    out.write_str(&text[last..]).map_err(minijinja::Error::from)
}
