//! Splits a content file into its TOML front matter (between `+++` lines) and its Markdown body.

use crate::diagnostics::Diagnostic;
use std::path::Path;

/// A content file cut in two; line numbers are 1-based lines of the file.
pub struct Split<'a> {
    pub front_matter: &'a str,
    /// The file line the front matter starts on (the line after the opening `+++`).
    pub front_matter_line: usize,
    pub body: &'a str,
}

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
