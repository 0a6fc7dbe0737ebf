//! The minijinja backend (the default theme's engine). HTML templates escape by default;
//! printing an undefined variable is an error (tests such as `{% if x %}` stay lenient).

use super::engine::{Engine, TemplateError};
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value};

pub struct MiniJinja {
    env: Environment<'static>,
}

fn convert(e: &minijinja::Error) -> TemplateError {
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message = format!("{message}: {detail}");
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        message = format!("{message} ({inner})");
        source = inner.source();
    }
    TemplateError { template: e.name().map(str::to_string), line: e.line(), message }
}

impl MiniJinja {
    pub fn new(templates: Vec<(String, String)>) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_fuel(Some(super::engine::FUEL));
        env.set_formatter(html_formatter);
        env.add_function("render_card", crate::render::card_cache::render_card);
        for (name, source) in templates {
            env.add_template_owned(name, source).map_err(|e| convert(&e))?;
        }
        Ok(MiniJinja { env })
    }
}

impl Engine for MiniJinja {
    fn render(&self, name: &str, context: &Value) -> Result<String, TemplateError> {
        let template = self.env.get_template(name).map_err(|e| convert(&e))?;
        let mut out = super::engine::Bounded::default();
        let rendered = template.render_captured_to(context, &mut out);
        match rendered {
            Err(_) if out.over => Err(super::engine::too_large(name)),
            Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => Err(super::engine::out_of_fuel(name, e.line())),
            Err(e) => Err(convert(&e)),
            Ok(_) => Ok(out.into_string()),
        }
    }
    fn add_global(&mut self, name: &str, value: &serde_json::Value) {
        self.env.add_global(name.to_string(), Value::from(Serde(value)));
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
