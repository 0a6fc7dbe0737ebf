//! Front matter as Hugo and Zola read it: TOML between `+++` lines, YAML between `---` lines
//! (read with `serde_yaml_ng`, the maintained continuation of `serde_yaml`: small, and its
//! errors carry line and column), or a JSON object at the top of the file. YAML and JSON
//! become the same TOML table the rest of plugin mode reads.

use crate::config::toml_diagnostic;
use crate::diagnostics::Diagnostic;
use std::path::Path;

/// The front matter formats Hugo and Zola read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Toml,
    Yaml,
    Json,
}

/// A file's front matter, where it starts (1-based line) and the body after it.
pub(super) struct Front<'a> {
    pub format: Format,
    pub text: &'a str,
    pub line: usize,
    pub body: &'a str,
}

/// Splits `text` into front matter and body, whichever of the three formats it uses.
pub(super) fn split_front<'a>(file: &Path, text: &'a str) -> Result<Front<'a>, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or("").trim_end();
    if first == "+++" {
        let s = crate::content::front_matter::split(file, text)?;
        return Ok(Front { format: Format::Toml, text: s.front_matter, line: s.front_matter_line, body: s.body });
    }
    if first == "---" {
        let start = text.find('\n').map_or(text.len(), |i| i + 1);
        let mut off = start;
        for line in text[start..].split_inclusive('\n') {
            if matches!(line.trim_end(), "---" | "...") {
                let body = &text[off + line.len()..];
                return Ok(Front { format: Format::Yaml, text: &text[start..off], line: 2, body });
            }
            off += line.len();
        }
        return Err(Diagnostic::new(file, "the YAML front matter is never closed")
            .at_line(1, 1, Some("---"))
            .hint("close it with a line `---` after the last field"));
    }
    let lead = text.len() - text.trim_start().len();
    if text[lead..].starts_with('{') {
        let mut values = serde_json::Deserializer::from_str(&text[lead..]).into_iter::<serde_json::Value>();
        return match values.next() {
            Some(Ok(_)) => {
                let end = lead + values.byte_offset();
                Ok(Front { format: Format::Json, text: &text[..end], line: 1, body: &text[end..] })
            }
            Some(Err(e)) => Err(Diagnostic::new(file, format!("the JSON front matter does not parse: {e}"))
                .at_line(e.line().max(1), e.column().max(1), text.lines().nth(e.line().saturating_sub(1)))
                .hint("the front matter is one JSON object { \"title\": \"...\", ... } at the top of the file")),
            None => Err(Diagnostic::new(file, "the file has no front matter")),
        };
    }
    Err(Diagnostic::new(file, "the file does not start with front matter").at_line(1, 1, Some(first)).hint(
        "start it with TOML between `+++` lines, YAML between `---` lines, or a JSON object { ... }, as Hugo and Zola read them",
    ))
}

/// The front matter as a table of fields (YAML and JSON converted; null values dropped).
pub(super) fn front_table(file: &Path, front: &Front) -> Result<toml::Table, Diagnostic> {
    let value: serde_json::Value = match front.format {
        Format::Toml => {
            return toml::from_str(front.text).map_err(|e| toml_diagnostic(file, front.text, front.line, &e));
        }
        Format::Yaml => serde_yaml_ng::from_str(front.text).map_err(|e| {
            let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            Diagnostic::new(file, format!("the YAML front matter does not parse: {e}"))
                .at_line(front.line + line - 1, col, front.text.lines().nth(line.saturating_sub(1)))
                .hint("check the indentation and quote values that contain `: ` or start with a special character")
        })?,
        Format::Json => serde_json::from_str(front.text).map_err(|e| {
            Diagnostic::new(file, format!("the JSON front matter does not parse: {e}")).at_line(
                e.line().max(1),
                e.column().max(1),
                None,
            )
        })?,
    };
    let value = match drop_nulls(value) {
        serde_json::Value::Null => return Ok(toml::Table::new()),
        v @ serde_json::Value::Object(_) => v,
        _ => {
            return Err(Diagnostic::new(file, "the front matter is not a set of fields")
                .at_line(front.line, 1, None)
                .hint("write `key: value` lines (YAML) or a JSON object"));
        }
    };
    use serde::Deserialize;
    toml::Table::deserialize(value).map_err(|e| {
        Diagnostic::new(file, format!("the front matter cannot be read: {e}")).at_line(front.line, 1, None)
    })
}

/// The value without nulls (TOML has none; an empty YAML field means "not set").
fn drop_nulls(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, drop_nulls(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().filter(|v| !v.is_null()).map(drop_nulls).collect()),
        other => other,
    }
}
