//! The themes compiled into the binary from the repository's `themes/` folder.

use super::Source;
use std::collections::BTreeMap;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/builtin_themes.rs"));
}

/// Files of the built-in theme `name`, keyed by path inside the theme.
pub fn files(name: &str) -> BTreeMap<String, Source> {
    let prefix = format!("{name}/");
    generated::FILES
        .iter()
        .filter_map(|(path, bytes)| path.strip_prefix(&prefix).map(|p| (p.to_string(), Source::Embedded(bytes))))
        .collect()
}

/// Names of the built-in themes.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = generated::FILES
        .iter()
        .filter_map(|(path, _)| path.strip_suffix("/theme.toml"))
        .filter(|n| !n.contains('/'))
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}
