//! `cohort build` keeps what it wrote in `.cohort-cache/build/` and renders again only the
//! pages whose inputs changed. Whatever happened in between (edits of every kind, output
//! files edited, replaced or deleted by hand), the output is byte for byte what a fresh
//! build of the same files writes into an empty folder, and a price edit in a catalog of
//! 60 products renders a handful of pages, not all of them.

mod common;
use common::*;
use std::path::Path;

const CATEGORIES: [&str; 4] = ["kitchen", "outerwear", "shoes", "camping"];

fn product(i: usize, price: &str, category: &str, tags: &str) -> String {
    format!(
        "+++\ntitle = \"Item {i:03}\"\nsku = \"IT-{i:03}\"\nprice = \"{price}\"\ncategory = \"{category}\"\ntags = [{tags}]\ndate = 2026-0{}-1{}\nsummary = \"About item {i:03}.\"\n+++\nItem {i:03}, described in words of its own: {}.\n",
        1 + i % 8,
        i % 10,
        ["steel and ash", "waxed cotton", "recycled wool", "cast iron", "ripstop nylon"][i % 5]
    )
}

fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// A shop of the basic fixture with 60 generated products.
fn catalog() -> tempfile::TempDir {
    let shop = copy_fixture("basic");
    for i in 0..60 {
        let tags = format!("\"t{}\", \"outdoor\"", i % 6);
        let text = product(i, &format!("{}.00", 10 + i), CATEGORIES[i % 4], &tags);
        std::fs::write(shop.path().join(format!("products/item-{i:03}.md")), text).unwrap();
    }
    shop
}

/// Builds `root` into `root/public` (keeping the cache); returns (rendered, unchanged) from
/// the summary line (unchanged is 0 when the line names none).
fn build_kept(root: &Path) -> (usize, usize) {
    let out = root.join("public");
    let o = cohort().args(["build", "--root", root.to_str().unwrap(), "-o", out.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "build failed: {stderr}");
    let line = stderr.lines().find(|l| l.starts_with("Built ")).unwrap_or_else(|| panic!("no summary: {stderr}"));
    let pages: usize = line.split(": ").nth(1).and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    match line.split_once(" rendered, ") {
        Some((head, tail)) => {
            let rendered = head.rsplit('(').next().and_then(|n| n.parse().ok()).unwrap();
            let unchanged: usize = tail.split(' ').next().and_then(|n| n.parse().ok()).unwrap();
            assert_eq!(rendered + unchanged, pages, "{line}");
            (rendered, unchanged)
        }
        None => (pages, 0),
    }
}

/// The output of `root` built incrementally equals a fresh build of a copy of it (without
/// its cache) into a new folder.
fn assert_as_fresh(root: &Path, step: &str) -> (usize, usize) {
    let counts = build_kept(root);
    let fresh = tempfile::tempdir().unwrap();
    copy_dir(root, fresh.path());
    let _ = std::fs::remove_dir_all(fresh.path().join(".cohort-cache/build"));
    let _ = std::fs::remove_dir_all(fresh.path().join("public"));
    let _ = std::fs::remove_dir_all(fresh.path().join(".public.cohort-old"));
    let out = fresh.path().join("site");
    build_ok(fresh.path(), &out);
    let (kept, expected) = (tree(&root.join("public")), tree(&out));
    if kept != expected {
        let missing: Vec<_> = expected.keys().filter(|k| !kept.contains_key(*k)).collect();
        let extra: Vec<_> = kept.keys().filter(|k| !expected.contains_key(*k)).collect();
        let differ: Vec<_> = expected.keys().filter(|k| kept.get(*k).is_some_and(|v| v != &expected[*k])).collect();
        panic!(
            "after {step}: the output differs from a fresh build\nmissing: {missing:?}\nextra: {extra:?}\ndiffer: {differ:?}"
        );
    }
    counts
}

#[test]
fn a_rebuild_renders_only_what_changed_and_equals_a_fresh_build() {
    let shop = catalog();
    let root = shop.path();
    let (first, unchanged) = build_kept(root);
    assert_eq!(unchanged, 0, "the first build renders everything");
    assert!(root.join(".cohort-cache/build/pages.json").is_file(), "the build keeps its records");
    let (rendered, unchanged) = assert_as_fresh(root, "nothing changed");
    assert_eq!((rendered, unchanged), (0, first), "nothing changed: nothing renders");

    // A price: the product's page, the listings and blocks that show its card, the cart
    // page and the home page, not the catalog.
    edit(root, "products/item-017.md", "price = \"27.00\"", "price = \"29.50\"");
    let (rendered, _) = assert_as_fresh(root, "a price");
    eprintln!("a price edit rendered {rendered} of {first} pages");
    assert!(rendered > 0 && rendered * 4 < first, "a price edit rendered {rendered} of {first} pages");

    let steps: [(&str, &dyn Fn()); 10] = [
        ("a summary", &|| edit(root, "products/item-023.md", "About item 023.", "About item 023, edited.")),
        ("a title", &|| edit(root, "products/item-031.md", "title = \"Item 031\"", "title = \"Item 031 Deluxe\"")),
        ("tags", &|| edit(root, "products/item-005.md", "\"t5\", \"outdoor\"", "\"t2\"")),
        ("a category", &|| edit(root, "products/item-040.md", "category = \"kitchen\"", "category = \"shoes\"")),
        ("a new product", &|| {
            std::fs::write(root.join("products/item-900.md"), product(900, "12.00", "camping", "\"t1\"")).unwrap()
        }),
        ("a deletion", &|| std::fs::remove_file(root.join("products/item-012.md")).unwrap()),
        ("a rename", &|| {
            std::fs::rename(root.join("products/item-013.md"), root.join("products/item-013b.md")).unwrap()
        }),
        ("a template", &|| {
            let theme = repo().join("themes/default/templates/product.html");
            let text = std::fs::read_to_string(theme).unwrap();
            std::fs::create_dir_all(root.join("templates")).unwrap();
            let edited = text.replacen("{% block content %}", "{% block content %}<p>Edited.</p>", 1);
            std::fs::write(root.join("templates/product.html"), edited).unwrap();
        }),
        ("shop.toml", &|| edit(root, "shop.toml", "A small shop for the integration tests.", "A small shop, rebuilt.")),
        ("a draft published", &|| edit(root, "products/secret-prototype.md", "draft = true", "draft = false")),
    ];
    for (step, change) in steps {
        change();
        assert_as_fresh(root, step);
    }
}

#[test]
fn output_files_edited_replaced_or_deleted_by_hand_are_written_again() {
    let shop = catalog();
    let root = shop.path();
    build_kept(root);
    build_kept(root);
    let public = root.join("public");
    // Appended to in place (the file is a hard link shared with the kept previous output).
    let page = public.join("products/item-001/index.html");
    let mut text = std::fs::read_to_string(&page).unwrap();
    text.push_str("<!-- edited by hand -->");
    std::fs::write(&page, &text).unwrap();
    // Replaced by another file.
    let variant = walkdir::WalkDir::new(public.join("c"))
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_name() == "index.html")
        .expect("a cohort variant")
        .into_path();
    std::fs::remove_file(&variant).unwrap();
    std::fs::write(&variant, "replaced").unwrap();
    // Deleted: a fragment and a whole folder of listings.
    let fragment = std::fs::read_dir(public.join("_cohort/f")).unwrap().next().unwrap().unwrap().path();
    std::fs::remove_file(&fragment).unwrap();
    std::fs::remove_dir_all(public.join("tags")).unwrap();
    let (rendered, unchanged) = assert_as_fresh(root, "output files changed by hand");
    assert!(rendered >= 4 && unchanged > 0, "{rendered} rendered, {unchanged} unchanged");
    let (rendered, _) = assert_as_fresh(root, "the build after the repair");
    assert_eq!(rendered, 0, "the repaired output is kept as it is");
}

#[test]
fn another_output_folder_or_a_deleted_cache_renders_everything() {
    let shop = catalog();
    let root = shop.path();
    let (first, _) = build_kept(root);
    let other = root.join("elsewhere");
    let o = cohort().args(["build", "--root", root.to_str().unwrap(), "-o", other.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && !stderr.contains("unchanged since"), "{stderr}");
    // The records are now those of the other folder: the first output renders again.
    assert_eq!(build_kept(root), (first, 0), "records of another folder are not used");
    assert_eq!(build_kept(root), (0, first));
    std::fs::remove_dir_all(root.join(".cohort-cache")).unwrap();
    assert_eq!(assert_as_fresh(root, "the cache deleted"), (first, 0));
}

#[test]
fn damaged_or_hostile_records_are_ignored_never_followed() {
    let shop = catalog();
    let root = shop.path();
    let (first, _) = build_kept(root);
    build_kept(root);
    let pages = root.join(".cohort-cache/build/pages.json");
    // Paths that leave the output, an empty part and a NUL, where a page's file is named.
    let text = std::fs::read_to_string(&pages).unwrap();
    let hostile = text
        .replacen("\"products/item-001/index.html\"", "\"../../outside.html\"", 1)
        .replacen("\"products/item-002/index.html\"", "\"products//index.html\"", 1)
        .replacen("\"products/item-003/index.html\"", "\"products/item-003/\\u0000.html\"", 1);
    assert_ne!(hostile, text, "the records name those pages");
    std::fs::write(&pages, hostile).unwrap();
    let (rendered, unchanged) = assert_as_fresh(root, "hostile records");
    assert_eq!((rendered, unchanged), (3, first - 3), "the three pages render again, nothing else");
    assert!(!root.parent().unwrap().join("outside.html").exists() && !root.join("outside.html").exists());
    // Not JSON at all, then cut in half: a full build, no error.
    std::fs::write(&pages, "not json {").unwrap();
    assert_eq!(assert_as_fresh(root, "garbage records"), (first, 0));
    let text = std::fs::read_to_string(&pages).unwrap();
    std::fs::write(&pages, &text[..text.len() / 2]).unwrap();
    std::fs::write(root.join(".cohort-cache/build/recommendations.json"), "\u{0}\u{1}").unwrap();
    assert_eq!(assert_as_fresh(root, "truncated records"), (first, 0));
}
