//! Markdown to HTML with pulldown-cmark: tables, footnotes, strikethrough, task lists and
//! heading ids (generated from the heading text, like Zola's), plus the plain text used for
//! summaries and recommendations.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};
use std::collections::BTreeSet;

/// A Markdown body as HTML and as plain text.
pub struct Rendered {
    /// The HTML.
    pub html: String,
    /// All text, without markup, for similarity and search.
    pub text: String,
    /// The text of the first paragraph, the fallback summary.
    pub first_paragraph: String,
}

/// Renders `markdown` (tables, footnotes, strikethrough, task lists, heading ids).
pub fn render(markdown: &str) -> Rendered {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION;
    let mut events: Vec<Event> = Parser::new_ext(markdown, options).collect();
    let mut text = String::new();
    let mut first_paragraph = String::new();
    let mut paragraph_depth = 0usize;
    let mut first_done = false;
    let mut used_ids = BTreeSet::new();
    let mut heading_start: Option<usize> = None;
    for i in 0..events.len() {
        match &events[i] {
            Event::Start(Tag::Heading { .. }) => heading_start = Some(i),
            Event::End(TagEnd::Heading(_)) => {
                if let Some(start) = heading_start.take() {
                    let title: String = events[start + 1..i]
                        .iter()
                        .filter_map(|e| match e {
                            Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                            _ => None,
                        })
                        .collect();
                    if let Event::Start(Tag::Heading { id, .. }) = &mut events[start] {
                        let base = match id {
                            Some(explicit) => explicit.to_string(),
                            None => super::slugify(&title),
                        };
                        let mut candidate = if base.is_empty() { "section".to_string() } else { base };
                        let mut n = 1;
                        while used_ids.contains(&candidate) {
                            candidate =
                                format!("{}-{n}", candidate.trim_end_matches(char::is_numeric).trim_end_matches('-'));
                            n += 1;
                        }
                        used_ids.insert(candidate.clone());
                        *id = Some(CowStr::from(candidate));
                    }
                }
            }
            Event::Start(Tag::Paragraph) => paragraph_depth += 1,
            Event::End(TagEnd::Paragraph) => {
                paragraph_depth = paragraph_depth.saturating_sub(1);
                if !first_paragraph.is_empty() {
                    first_done = true;
                }
                text.push('\n');
            }
            Event::Text(t) | Event::Code(t) => {
                text.push_str(t);
                if paragraph_depth > 0 && !first_done && heading_start.is_none() {
                    first_paragraph.push_str(t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                text.push(' ');
                if paragraph_depth > 0 && !first_done {
                    first_paragraph.push(' ');
                }
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter().map(demote_h1));
    Rendered { html: out, text, first_paragraph: first_paragraph.trim().to_string() }
}

/// The page title is the only `<h1>`; a `# Heading` in the body becomes an `<h2>`.
fn demote_h1(event: Event) -> Event {
    match event {
        Event::Start(Tag::Heading { level: HeadingLevel::H1, id, classes, attrs }) => {
            Event::Start(Tag::Heading { level: HeadingLevel::H2, id, classes, attrs })
        }
        Event::End(TagEnd::Heading(HeadingLevel::H1)) => Event::End(TagEnd::Heading(HeadingLevel::H2)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_unique_ids_and_first_paragraph_is_kept() {
        let r = render("Intro *text* here.\n\n## Care & use\n\nMore.\n\n## Care & use\n");
        assert!(r.html.contains("<h2 id=\"care-use\">"), "{}", r.html);
        assert!(r.html.contains("<h2 id=\"care-use-1\">"), "{}", r.html);
        assert_eq!(r.first_paragraph, "Intro text here.");
    }

    #[test]
    fn extensions_are_on() {
        let r = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~\n\n- [x] done\n");
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("<del>old</del>"));
        assert!(r.html.contains("checkbox"));
    }
}
