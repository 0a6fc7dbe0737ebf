//! Safe on hostile trees: a symbolic link where personalize writes (`_headers`,
//! `_redirects`, `c/`, `_cohort/`, `privacy/`) makes it refuse, and a linked page or folder is
//! skipped with a message; in every case no byte outside the site folder changes.

mod common;
mod personalize_support;

use common::tree;
use personalize_support::{built_site, personalize};
use std::path::Path;

/// A folder outside the site with a file and a page a link can point at.
fn outside() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("victim.txt"), "keep me\n").expect("write");
    std::fs::write(dir.path().join("page.html"), "<!doctype html><html><head><title>x</title></head><body><div data-cohort-slot=\"picks\"></div></body></html>\n").expect("write");
    std::fs::create_dir_all(dir.path().join("folder")).expect("mkdir");
    std::fs::write(dir.path().join("folder/index.html"), "<!doctype html><html><head></head><body>x</body></html>\n")
        .expect("write");
    dir
}

fn link(target: &Path, at: &Path) {
    if at.exists() || at.symlink_metadata().is_ok() {
        if at.is_dir() {
            std::fs::remove_dir_all(at).expect("rm");
        } else {
            std::fs::remove_file(at).expect("rm");
        }
    }
    std::os::unix::fs::symlink(target, at).expect("symlink");
}

#[test]
fn a_link_where_personalize_writes_is_refused_and_nothing_outside_changes() {
    for name in ["_headers", "_redirects", "c", "_cohort", "privacy"] {
        let dir = built_site(&[]);
        let out = outside();
        let site = dir.path().join("public");
        let target = if name.starts_with('_') && !name.starts_with("_cohort") {
            out.path().join("victim.txt")
        } else {
            out.path().join("folder")
        };
        link(&target, &site.join(name));
        let before_out = tree(out.path());
        let before_site = tree(&site);
        let (code, stdout, err) = personalize(dir.path());
        assert_eq!(code, 1, "{name}: {stdout}{err}");
        assert!(err.contains("symbolic link") && err.contains(&format!("public/{name}")), "{name}: {err}");
        assert_eq!(tree(out.path()), before_out, "{name}: a byte outside the site changed");
        assert_eq!(tree(&site), before_site, "{name}: the refused site changed");
    }
}

#[test]
fn a_linked_page_or_folder_is_skipped_with_a_message() {
    let dir = built_site(&[]);
    let out = outside();
    let site = dir.path().join("public");
    std::fs::create_dir_all(site.join("linked")).expect("mkdir");
    link(&out.path().join("page.html"), &site.join("linked/index.html"));
    link(&out.path().join("folder"), &site.join("elsewhere"));
    let before_out = tree(out.path());
    let (code, stdout, err) = personalize(dir.path());
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(err.contains("warning: linked/index.html: a symbolic link; skipped"), "{err}");
    assert!(err.contains("warning: elsewhere: a symbolic link; skipped"), "{err}");
    assert_eq!(tree(out.path()), before_out, "a byte outside the site changed");
    assert!(site.join("cohort.js").is_file(), "the rest of the site is personalized");
}
