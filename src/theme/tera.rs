//! The tera backend, for themes that say `engine = "tera"` in theme.toml. HTML templates
//! escape by default.

use super::engine::{Engine, TemplateError};
use tera::{Context, Tera};

pub struct TeraEngine {
    tera: Tera,
}

fn convert(e: &tera::Error) -> TemplateError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        message = format!("{message} ({inner})");
        source = inner.source();
    }
    TemplateError { template: None, line: None, message }
}

impl TeraEngine {
    pub fn new(templates: Vec<(String, String)>) -> Result<Self, TemplateError> {
        let mut tera = Tera::new();
        tera.add_raw_templates(templates).map_err(|e| convert(&e))?;
        Ok(TeraEngine { tera })
    }
}

impl Engine for TeraEngine {
    fn render(&self, name: &str, context: &minijinja::Value) -> Result<String, TemplateError> {
        let ctx = Context::from_serialize(context).map_err(|e| convert(&e))?;
        // Tera has no fuel: the page is bounded as it is written.
        let mut out = super::engine::Bounded::default();
        match self.tera.render_to(name, &ctx, &mut out) {
            Err(_) if out.over => Err(super::engine::too_large(name)),
            Err(e) => {
                let mut t = convert(&e);
                t.template = Some(name.to_string());
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
