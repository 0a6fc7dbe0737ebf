//! Splits a content file into its TOML front matter (between `+++` lines) and its Markdown body.

use crate::diagnostics::Diagnostic;
use std::path::Path;

/// A content file cut in two; line numbers are 1-based lines of the file.
pub struct Split<'a> {
    /// The TOML between the `+++` lines.
    pub front_matter: &'a str,
    /// The file line the front matter starts on (the line after the opening `+++`).
    pub front_matter_line: usize,
    /// The Markdown after the closing `+++`.
    pub body: &'a str,
}

/// Cuts `text` (the file `file`) at its `+++` lines; a file without them, or with YAML
/// front matter, is a diagnostic with a fix.
pub fn split<'a>(file: &Path, text: &'a str) -> Result<Split<'a>, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line_end = text.find('\n').unwrap_or(text.len());
    if text[..first_line_end].trim_end() != "+++" {
        let first = text.lines().next().unwrap_or("");
        let hint = if first.trim() == "---" {
            "Cohort reads TOML front matter between `+++` lines, not YAML between `---`"
        } else {
            "start the file with a line `+++`, then the TOML front matter, then a closing `+++`"
        };
        return Err(Diagnostic::new(file, "the file does not start with `+++` front matter")
            .at_line(1, 1, Some(first))
            .hint(hint));
    }
    let fm_start = (first_line_end + 1).min(text.len());
    let mut offset = fm_start;
    for line in text[fm_start..].split_inclusive('\n') {
        if line.trim_end() == "+++" {
            let body_start = offset + line.len();
            return Ok(Split {
                front_matter: &text[fm_start..offset],
                front_matter_line: 2,
                body: &text[body_start..],
            });
        }
        offset += line.len();
    }
    Err(Diagnostic::new(file, "the front matter is never closed")
        .at_line(1, 1, Some("+++"))
        .hint("Did you forget the closing `+++` after the front matter?"))
}

/// A front matter field read leniently: `None` when absent, `Some(Err(message))` when its
/// value has the wrong type. Reading every field this way lets one run report every wrong
/// field of a file instead of stopping at the first.
pub type Field<T> = Option<Result<T, String>>;

/// `deserialize_with` for a [`Field`]: a value of the wrong type becomes `Some(Err)`.
pub fn lenient<'de, D, T>(deserializer: D) -> Result<Field<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Ok(Some(T::deserialize(deserializer).map_err(|e| e.to_string().lines().next().unwrap_or_default().to_string())))
}

/// A key of a front matter: its name, whether it must be given, and an example line that
/// fits it (shown in hints).
pub struct Key {
    /// The key.
    pub name: &'static str,
    /// Whether a file without it is refused.
    pub required: bool,
    /// A line that fits it, e.g. `price = "89.00"`.
    pub example: &'static str,
}

/// The keys of one front matter, in their file order, with the byte span of each name.
pub struct Keys<'a> {
    file: &'a Path,
    source: &'a str,
    first_line: usize,
    spans: Vec<(String, std::ops::Range<usize>)>,
}

impl<'a> Keys<'a> {
    /// Reads the top-level keys of `source` (front matter starting on file line
    /// `first_line`) and the front matter deserialized as `T`, from one parse of the TOML
    /// (it used to be parsed twice, once for the keys and once for the values). A syntax
    /// error, or a value `T` refuses, is the one diagnostic then.
    pub fn parse<T: serde::Deserialize<'a>>(
        file: &'a Path,
        source: &'a str,
        first_line: usize,
    ) -> Result<(Keys<'a>, T), Diagnostic> {
        let fail = |e: toml::de::Error| crate::config::toml_diagnostic(file, source, first_line, &e);
        let table = toml::de::DeTable::parse(source).map_err(fail)?;
        let mut spans: Vec<(String, std::ops::Range<usize>)> =
            table.get_ref().keys().map(|k| (k.get_ref().to_string(), k.span())).collect();
        spans.sort_by_key(|(_, span)| span.start);
        let value = T::deserialize(toml::de::Deserializer::from(table)).map_err(fail)?;
        Ok((Keys { file, source, first_line, spans }, value))
    }

    /// A diagnostic placed at `key` (at the top of the front matter when it is absent).
    pub fn at(&self, key: &str, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::new(self.file, message);
        match self.spans.iter().find(|(k, _)| k == key) {
            Some((_, span)) => d.at_offset(self.source, span.start, self.first_line),
            None => d.at_line(self.first_line, 0, None),
        }
    }

    /// One diagnostic for every key not in `known` and every required key that is missing.
    pub fn check(&self, known: &[Key]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (name, _) in &self.spans {
            if known.iter().any(|k| k.name == name) {
                continue;
            }
            let names = known.iter().map(|k| k.name);
            let hint = match crate::diagnostics::suggest(name, names.clone()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("remove it; the known keys are: {}", names.collect::<Vec<_>>().join(", ")),
            };
            out.push(self.at(name, format!("unknown field `{name}`")).hint(hint));
        }
        for key in known.iter().filter(|k| k.required) {
            if !self.spans.iter().any(|(k, _)| k == key.name) {
                out.push(
                    self.at(key.name, format!("missing field `{}`", key.name))
                        .hint(format!("add it, e.g. {}", key.example)),
                );
            }
        }
        out
    }

    /// The value of `field` when present and of the right type; a wrong type is pushed to
    /// `errors` (placed at the key, with the example of `key`).
    pub fn take<T>(&self, field: Field<T>, key: &Key, errors: &mut Vec<Diagnostic>) -> Option<T> {
        match field? {
            Ok(v) => Some(v),
            Err(message) => {
                let message = message.strip_prefix("invalid type: ").unwrap_or(&message);
                errors.push(
                    self.at(key.name, format!("`{}` has the wrong type: {message}", key.name))
                        .hint(format!("write it like this: {}", key.example)),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter_and_body() {
        let s = split(Path::new("a.md"), "+++\ntitle = \"x\"\n+++\nHello\n").map_err(|d| d.message);
        let s = s.as_ref().map(|s| (s.front_matter, s.body));
        assert_eq!(s, Ok(("title = \"x\"\n", "Hello\n")));
    }

    #[test]
    fn refuses_unclosed_and_yaml() {
        assert!(split(Path::new("a.md"), "+++\ntitle = 1\n").is_err());
        assert!(split(Path::new("a.md"), "---\ntitle: x\n---\n").is_err());
    }
}
