//! The reference book in docs/ cannot drift from the code: every subcommand and every flag
//! the real binary's `--help` lists, and every shop.toml key the config structs in
//! src/config/ accept, must be named somewhere in docs/*.md.

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};

/// Every docs/*.md page, concatenated.
fn book() -> String {
    let mut pages: Vec<_> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 5, "docs/ holds the book: {pages:?}");
    pages.iter().map(|p| read(p)).collect::<Vec<_>>().join("\n")
}

fn help(args: &[&str]) -> String {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, 0, "cohort {args:?}: {stderr}");
    stdout
}

/// The subcommands listed under "Commands:" in `cohort --help`.
fn subcommands() -> Vec<String> {
    let text = help(&["--help"]);
    let list = text.split("Commands:").nth(1).and_then(|t| t.split("\n\n").next()).unwrap_or("");
    list.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// The flags in a `--help` text: each option line starts with `-x, --long` or `--long`.
fn flags(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in help.lines() {
        let line = line.trim_start();
        if !line.starts_with('-') {
            continue;
        }
        for word in line.split([' ', ',']).take_while(|w| w.starts_with('-') || w.is_empty()) {
            let flag = word.split(['=', '<']).next().unwrap_or("");
            if flag.len() > 1 && !matches!(flag, "-h" | "--help" | "-V" | "--version") {
                out.push(flag.to_string());
            }
        }
    }
    out
}

/// Whether `word` occurs in `text` with no letter, digit, `-` or `_` directly on either side.
fn has_token(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[test]
fn every_subcommand_and_flag_is_in_the_reference() {
    let book = book();
    let commands = subcommands();
    assert!(commands.len() >= 8, "the subcommands parsed from --help: {commands:?}");
    let mut missing = Vec::new();
    for cmd in &commands {
        if !book.contains(&format!("cohort {cmd}")) {
            missing.push(format!("the command `cohort {cmd}`"));
        }
        let flags = flags(&help(&[cmd, "--help"]));
        for flag in flags {
            if !has_token(&book, &flag) {
                missing.push(format!("`cohort {cmd} {flag}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not documented in docs/ (add them to docs/commands.md or the command's page):\n  {}",
        missing.join("\n  ")
    );
}

/// `struct NAME { fields }` of src/config/ that serde deserializes: field name (after any
/// `rename`) and the name of the struct it holds, if it holds one of these structs.
fn config_structs() -> BTreeMap<String, Vec<(String, String)>> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("src/config"))
        .expect("src/config/ exists")
        .map(|e| e.expect("a readable entry of src/config/").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    let src: String = files.iter().map(|p| read(p) + "\n").collect();
    let mut structs = BTreeMap::new();
    let mut lines = src.lines().peekable();
    let mut derives_deserialize = false;
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t.starts_with("#[derive(") {
            derives_deserialize = t.contains("Deserialize");
            continue;
        }
        let Some(name) = t.strip_prefix("pub struct ").and_then(|r| r.strip_suffix(" {")) else {
            continue;
        };
        if !std::mem::take(&mut derives_deserialize) {
            continue;
        }
        let (mut fields, mut rename, mut skip) = (Vec::new(), None, false);
        for line in lines.by_ref() {
            let t = line.trim();
            if t == "}" {
                break;
            }
            if t.starts_with("#[serde(") {
                skip |= t.contains("skip") && !t.contains("skip_serializing_if");
                if let Some(r) = t.split("rename = \"").nth(1).and_then(|r| r.split('"').next()) {
                    rename = Some(r.to_string());
                }
                continue;
            }
            let Some((field, ty)) = t.strip_prefix("pub ").and_then(|r| r.split_once(':')) else {
                continue;
            };
            if !std::mem::take(&mut skip) {
                let inner = ty.trim().trim_end_matches(',').replace(['<', '>'], " ");
                let key = rename.take().unwrap_or_else(|| field.trim().to_string());
                fields.push((key, inner));
            }
            rename = None;
        }
        structs.insert(name.to_string(), fields);
    }
    structs
}

/// Every key path shop.toml accepts, walking from `Config`: `title`, `privacy.contact`,
/// `cohorts.hero.title` ...
fn shop_toml_keys() -> BTreeSet<String> {
    let structs = config_structs();
    let mut keys = BTreeSet::new();
    let mut todo = vec![(String::new(), "Config".to_string())];
    while let Some((prefix, name)) = todo.pop() {
        for (key, ty) in structs.get(&name).map(Vec::as_slice).unwrap_or_default() {
            let path = format!("{prefix}{key}");
            if let Some(inner) = ty.split_whitespace().find(|w| structs.contains_key(*w)) {
                todo.push((format!("{path}."), inner.to_string()));
            }
            keys.insert(path);
        }
    }
    keys
}

/// The key paths of a TOML document (tables, arrays of tables and inline tables walked).
fn toml_keys(prefix: &str, v: &toml::Value, out: &mut BTreeSet<String>) {
    let tables: Vec<&toml::Table> = match v {
        toml::Value::Table(t) => vec![t],
        toml::Value::Array(a) => a.iter().filter_map(toml::Value::as_table).collect(),
        _ => Vec::new(),
    };
    for t in tables {
        for (k, v) in t {
            let path = format!("{prefix}{k}");
            toml_keys(&format!("{path}."), v, out);
            out.insert(path);
        }
    }
}

#[test]
fn the_config_walk_finds_every_key_of_real_shop_files() {
    let keys = shop_toml_keys();
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("shop");
    let (code, _, stderr) = run(&["init", shop.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    for file in [shop.join("shop.toml"), repo().join("example-shop/shop.toml")] {
        let doc: toml::Value = toml::from_str(&read(&file)).expect("a shop.toml that builds parses");
        let mut seen = BTreeSet::new();
        toml_keys("", &doc, &mut seen);
        let unknown: Vec<_> = seen.difference(&keys).collect();
        assert!(unknown.is_empty(), "{}: keys the src/config/ walk missed: {unknown:?}", file.display());
    }
}

#[test]
fn every_shop_toml_key_is_in_the_reference() {
    let book = book();
    let keys = shop_toml_keys();
    assert!(keys.len() >= 20, "the keys parsed from src/config/: {keys:?}");
    let missing: Vec<_> = keys
        .iter()
        .filter(|path| {
            let key = path.rsplit('.').next().unwrap_or(path);
            let forms = [format!("{key} ="), format!("`{key}`"), format!("[{path}]"), format!("[[{path}]]")];
            !forms.iter().any(|f| book.contains(f.as_str()))
        })
        .collect();
    assert!(missing.is_empty(), "shop.toml keys not documented in docs/ (add them to docs/shop.md): {missing:?}");
}

/// The keys of a JSON object, and of the objects in it (one level down, `parent.key`).
fn json_keys(v: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (k, v) in v.as_object().into_iter().flatten() {
        out.insert(k.clone());
        let inner = match v {
            serde_json::Value::Array(a) => a.first(),
            other => Some(other),
        };
        for (k2, _) in inner.and_then(serde_json::Value::as_object).into_iter().flatten() {
            out.insert(format!("{k}.{k2}"));
        }
    }
    out
}

#[test]
fn every_site_and_card_variable_is_in_the_theme_reference() {
    let themes = read(&repo().join("docs/themes.md"));
    let options = cohort::build::BuildOptions {
        root: repo().join("example-shop"),
        output: None,
        base_url: None,
        drafts: false,
        jobs: 1,
        progress: false,
        allow_empty: false,
        exit_after: false,
    };
    let Ok(prepared) = cohort::build::load(&options) else { panic!("the example shop loads") };
    let shop = &prepared.shop;
    let site = cohort::render::context::site(shop, "default");
    let card = cohort::render::context::card_json(shop, &shop.products[0]);
    let mut keys: Vec<String> = json_keys(&site).into_iter().map(|k| format!("site.{k}")).collect();
    keys.extend(json_keys(&card).into_iter().map(|k| format!("card.{k}")));
    assert!(keys.len() > 30, "the context keys: {keys:?}");
    let missing: Vec<_> =
        keys.iter().filter(|k| !themes.contains(&format!("`{}`", k.rsplit('.').next().unwrap_or(k)))).collect();
    assert!(missing.is_empty(), "template variables not in docs/themes.md: {missing:?}");
}
