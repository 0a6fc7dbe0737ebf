//! Problems a merchant can act on: every diagnostic names a file, a line and a column, says
//! what is wrong and how to fix it, and is printed with the offending line underneath.
//!
//! Loading and validation collect diagnostics instead of stopping at the first one, so a
//! single run of `cohort build` reports everything that needs fixing.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// How serious a diagnostic is: an error stops the build, a warning is printed and the
/// build goes on.
/// (Boxed, so a diagnostic stays small enough to be returned as an error by value.)
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The shop cannot be built until it is fixed.
    #[default]
    Error,
    /// A probable mistake that still makes a valid shop, with the rule that reports it.
    Warning(Box<Rule>),
}

/// The `cohort check` rule behind a warning (docs/check.md), and the cohort it concerns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rule {
    /// The rule id, e.g. `content/near-duplicate-category`.
    pub id: &'static str,
    /// The cohort it is about, so shop.toml can acknowledge it.
    pub cohort: Option<String>,
}

impl Severity {
    /// "error" or "warning", as printed before a diagnostic.
    pub fn label(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning(_) => "warning",
        }
    }
}

/// One problem in a shop's files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The file, relative to the shop root where possible.
    pub file: PathBuf,
    /// 1-based line, 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// The text of the offending line, shown under the message.
    pub snippet: Option<String>,
    /// Error (the default) or warning.
    pub severity: Severity,
}

impl Diagnostic {
    /// An error in `file` (not yet placed at a line).
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            hint: None,
            snippet: None,
            severity: Severity::Error,
        }
    }

    /// The same problem as a warning reported by the `cohort check` rule `rule`.
    pub fn warning(mut self, rule: &'static str) -> Self {
        self.severity = Severity::Warning(Box::new(Rule { id: rule, cohort: None }));
        self
    }

    /// The warning concerns cohort `id` (for an error, nothing changes).
    pub fn for_cohort(mut self, id: impl Into<String>) -> Self {
        if let Severity::Warning(rule) = &mut self.severity {
            rule.cohort = Some(id.into());
        }
        self
    }

    /// The rule of a warning.
    pub fn rule(&self) -> Option<&Rule> {
        match &self.severity {
            Severity::Warning(rule) => Some(rule),
            Severity::Error => None,
        }
    }

    /// Places the diagnostic at a byte offset of `source`, whose first line is line
    /// `first_line` of the file (front matter starts on line 2 of a product file).
    pub fn at_offset(mut self, source: &str, offset: usize, first_line: usize) -> Self {
        let (line, column) = line_col(source, offset);
        self.line = line + first_line - 1;
        self.column = column;
        self.snippet = source.lines().nth(line - 1).map(str::to_string);
        self
    }

    /// Places the diagnostic at `line` and `column` (0: unknown), with the line's text.
    pub fn at_line(mut self, line: usize, column: usize, line_text: Option<&str>) -> Self {
        self.line = line;
        self.column = column;
        self.snippet = line_text.map(str::to_string);
        self
    }

    /// Adds how to fix it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity.label(), self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        write!(f, ": {}", cut_long(&self.message))?;
        if let Some(snippet) = &self.snippet {
            let number = self.line.to_string();
            let (snippet, column) = cut_long_at(snippet, self.column);
            write!(f, "\n {number} | {snippet}")?;
            if column > 0 {
                let pad: String = snippet
                    .chars()
                    .take(column.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n {} | {pad}^", " ".repeat(number.len()))?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = help: {}", cut_long(hint))?;
        }
        Ok(())
    }
}

/// A word (a run without spaces) longer than this many characters is cut in messages.
const LONG_WORD: usize = 120;
/// How many characters of a cut word are kept.
const KEPT: usize = 40;
/// An excerpt longer than this many characters is cut to a window around its column.
const LONG_LINE: usize = 240;

/// `text` with every overlong word cut, so that a huge value quoted in a message (a 1 MiB
/// field) is shown as `"aaaa…" (1048576 bytes)` rather than whole.
pub fn cut_long(text: &str) -> Cow<'_, str> {
    if text.len() <= LONG_WORD {
        return Cow::Borrowed(text);
    }
    Cow::Owned(cut_words(text, 0).0)
}

/// [`cut_long`] for an excerpt with a caret at 1-based character `column` (0: none): also
/// cuts a long line to a window around the column, and gives the caret's new column.
pub fn cut_long_at(text: &str, column: usize) -> (String, usize) {
    let (cut, column) = cut_words(text, column);
    window(cut, column)
}

/// `text` with every overlong word cut, and where the character at `column` went.
fn cut_words(text: &str, column: usize) -> (String, usize) {
    let mut out = String::with_capacity(text.len().min(4 * LONG_LINE));
    let (mut old_col, mut new_col) = (0, 0);
    let mut moved = 0;
    for (word, is_space) in words(text) {
        let chars = word.chars().count();
        let piece = if !is_space && chars > LONG_WORD { cut_word(word) } else { Cow::Borrowed(word) };
        let piece_chars = piece.chars().count();
        if column > old_col && column <= old_col + chars {
            // The caret is in this word: at the same place, or at the cut when beyond it.
            moved = new_col + (column - old_col).min(piece_chars.min(KEPT + 2));
        }
        old_col += chars;
        new_col += piece_chars;
        out.push_str(&piece);
    }
    if column > old_col {
        moved = new_col + (column - old_col);
    }
    (out, moved)
}

/// Splits `text` into runs of spaces and runs of everything else.
fn words(text: &str) -> impl Iterator<Item = (&str, bool)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let space = first.is_whitespace();
        let end = rest.find(|c: char| c.is_whitespace() != space).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(end);
        rest = tail;
        Some((word, space))
    })
}

/// `"aaaa…" (1048576 bytes)`: the start of a long word, with the length of the value (the
/// part between its quotes when it has them, the whole word otherwise).
fn cut_word(word: &str) -> Cow<'_, str> {
    let quoted = word.char_indices().find(|(_, c)| matches!(c, '"' | '`' | '\'')).and_then(|(open, q)| {
        let close = word.rfind(q).filter(|&c| c > open)?;
        Some((open + q.len_utf8(), close))
    });
    let (start, end) = quoted.unwrap_or((0, word.len()));
    let value = &word[start..end];
    let kept: String = value.chars().take(KEPT).collect();
    Cow::Owned(format!("{}{kept}…{} ({} bytes)", &word[..start], &word[end..], value.len()))
}

/// A line cut to a window of [`LONG_LINE`] characters around `column`, and the column in it.
fn window(line: String, column: usize) -> (String, usize) {
    let chars = line.chars().count();
    if chars <= LONG_LINE {
        return (line, column);
    }
    let half = LONG_LINE / 2;
    let start = column.saturating_sub(half).min(chars - LONG_LINE);
    let mut out: String = if start > 0 { "…".into() } else { String::new() };
    out.extend(line.chars().skip(start).take(LONG_LINE));
    if start + LONG_LINE < chars {
        out.push('…');
    }
    let column = if column == 0 { 0 } else { column - start + usize::from(start > 0) };
    (out, column)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

/// Every diagnostic from one run, sorted by file and position for stable output.
#[derive(Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Adds all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    /// Sorted by file and place, duplicates removed.
    pub fn sorted(mut self) -> Self {
        self.0.sort();
        self.0.dedup();
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}\n")?;
        }
        let n = self.0.len();
        write!(f, "{n} problem{} found; nothing was written.", if n == 1 { "" } else { "s" })
    }
}

/// The closest candidate to `word`, for "did you mean" hints (Levenshtein distance).
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

/// The edit distance between two words, in characters: insertions, deletions,
/// substitutions and swaps of two neighbours (`titel` is one edit from `title`).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && *ca == b[j - 1] && a[i - 1] == *cb {
                cur[j + 1] = cur[j + 1].min(before[j - 1] + 1);
            }
        }
        before = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// Shows `path` relative to `root` when it lies inside it.
pub fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_of_offsets() {
        let s = "ab\ncdé\nf";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 3), (2, 1));
        assert_eq!(line_col(s, 7), (2, 4));
        assert_eq!(line_col(s, 8), (3, 1));
    }

    #[test]
    fn long_values_are_cut_with_their_length() {
        let huge = "a".repeat(1 << 20);
        let message = format!("unknown availability `{huge}`");
        assert_eq!(cut_long(&message), format!("unknown availability `{}…` (1048576 bytes)", "a".repeat(KEPT)));
        assert_eq!(cut_long("short `value`"), "short `value`");
        let many = "word ".repeat(100);
        assert_eq!(cut_long(&many), many, "a long message of short words is kept whole");
        let line = format!("availability = \"{huge}\"");
        let (cut, column) = cut_long_at(&line, 16);
        assert_eq!(cut, format!("availability = \"{}…\" (1048576 bytes)", "a".repeat(KEPT)));
        assert_eq!(cut.chars().nth(column - 1), Some('"'), "the caret stays on the quote");
        let (_, column) = cut_long_at(&line, 1_000_000);
        assert!(column <= LONG_LINE + 2, "the caret stays inside the shown text: {column}");
        let spaced = "word ".repeat(10_000);
        let (cut, column) = cut_long_at(&spaced, 25_001);
        assert!(cut.chars().count() <= LONG_LINE + 2);
        assert_eq!(cut.chars().nth(column - 1), Some('w'), "{cut}");
    }

    #[test]
    fn suggestions_pick_the_nearest_key() {
        assert_eq!(suggest("titel", ["title", "tags", "sku"]), Some("title"));
        assert_eq!(suggest("colour", ["title", "tags", "sku"]), None);
        assert_eq!(edit_distance("titel", "title"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(suggest("titel", ["site", "title"]), Some("title"));
    }
}
